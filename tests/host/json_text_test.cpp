// json_text writes what to_json + dump writes, byte for byte, on every shape
// the session row can hold, and refuses (for to_json to name) what it cannot.
#include "lua/json_text.h"
#include "lua/value.h"

#include <doctest/doctest.h>
#include <lua.hpp>
#include <nlohmann/json.hpp>
#include <string>

using namespace orch;
using json = nlohmann::json;

namespace {

struct Lua {
    lua_State* L = luaL_newstate();
    Lua() {
        luaL_openlibs(L);
        install_json_support(L);
        lua_newtable(L);  // orch, with orch.json
        register_json_api(L);
        lua_setglobal(L, "orch");
    }
    ~Lua() { lua_close(L); }
    void eval(const std::string& expr) {  // pushes the value of expr
        std::string code = "return " + expr;
        REQUIRE_MESSAGE(luaL_loadstring(L, code.c_str()) == 0, lua_tostring(L, -1));
        REQUIRE_MESSAGE(lua_pcall(L, 0, 1, 0) == 0, lua_tostring(L, -1));
    }
};

// the text json_text writes for expr, and the one to_json's DOM dumps to
void same(const std::string& expr) {
    Lua s;
    s.eval(expr);
    std::string text;
    REQUIRE_MESSAGE(json_text(s.L, -1, text), expr);
    CHECK_MESSAGE(text == to_json(s.L, -1, "value").dump(), expr);
    if (lua_istable(s.L, -1) && text[0] == '{') {  // the members, one by one, in the same order
        std::vector<std::pair<std::string, std::string>> members;
        REQUIRE(json_members(s.L, -1, members));
        std::string joined = "{";
        for (const auto& m : members) joined += (joined.size() > 1 ? "," : "") + m.second;
        CHECK_MESSAGE(joined + "}" == text, expr);
    }
}

bool refused(const std::string& expr) {
    Lua s;
    s.eval(expr);
    std::string text;
    std::vector<std::pair<std::string, std::string>> members;
    return !json_text(s.L, -1, text) && !(lua_istable(s.L, -1) && json_members(s.L, -1, members));
}

}  // namespace

TEST_CASE("json_text: the text to_json's DOM dumps to") {
    same("{}");
    same("orch.json.array({})");
    same("{ b = 1, a = 2, c = { z = true, y = false } }");
    same("{ 1, 2, 3 }");
    same("{ 'x', { k = orch.json.null }, orch.json.null }");
    same("orch.json.array({ [1] = 'a', [3] = 'c' })");  // a marked list's hole is null
    same("{ n = 0, m = -0.0, big = 9007199254740991, bigger = 9007199254740993, neg = -42 }");
    same("{ f = 0.1, g = 1.5e-7, h = 1e20, i = 123456.789, j = 0.0001, k = -2.5, l = 1e300, m = 5e-324 }");
    same("{ t = 1796411392.21585, u = 1.0 / 3 }");
    same("{ s = 'quote \" back \\\\ slash / nl \\n tab \\t cr \\r bs \\b ff \\f' }");
    same("{ c = '\\1\\2\\31\\127 del', e = 'é ⚠️ 👨‍👩‍👧 中文', ['ké'] = 1, ['A'] = 1, ['a'] = 2, ['_'] = 3 }");
    same("{ summary = { counts = { completed = 3, done = 3 }, agents = { { id = '2', cost_usd = 0.25 } } } }");
    same("{ list = { { a = 1 }, { b = { 1, { 2, { 3 } } } } } }");
}

TEST_CASE("json_text: what it cannot write is to_json's to convert (and name)") {
    CHECK(refused("{ [1] = 'a', x = 'b' }"));      // a number key in an object
    CHECK(refused("{ x = 0/0 }"));                 // NaN
    CHECK(refused("{ x = 1/0 }"));                 // infinity
    CHECK(refused("{ f = print }"));               // a function
    CHECK(refused("{ s = 'bad \\255 byte' }"));    // not UTF-8 (to_json's dump refuses it)
    CHECK(refused("{ s = '\\237\\160\\128' }"));   // a surrogate, encoded
    CHECK(refused("{ s = '\\192\\128' }"));        // an overlong encoding
    CHECK(refused("(function() local t = {} t.me = t return { t = t } end)()"));  // a cycle
}
