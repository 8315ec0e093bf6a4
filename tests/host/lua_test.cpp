// What this LuaJIT build does with errors crossing C++ (style.md "Measured
// here"), and the one JSON converter.
#include "lua/value.h"
#include "services/json_depth.h"

#include <doctest/doctest.h>
#include <lua.hpp>
#include <nlohmann/json.hpp>
#include <stdexcept>

using namespace orch;
using json = nlohmann::json;

namespace {

int destructed = 0;
struct Guard {
    ~Guard() { ++destructed; }
};

int raises_lua_error(lua_State* L) {
    Guard g;
    return luaL_error(L, "boom %d", 7);
}

int throws_cpp(lua_State* L) {
    throw std::runtime_error("lost message");
}

struct State {
    lua_State* L = luaL_newstate();
    State() {
        luaL_openlibs(L);
        install_json_support(L);
    }
    ~State() { lua_close(L); }
};

}  // namespace

TEST_CASE("luajit: luaL_error inside C++ runs destructors (external unwinding)") {
    State s;
    destructed = 0;
    lua_pushcfunction(s.L, raises_lua_error);
    CHECK(lua_pcall(s.L, 0, 0, 0) != 0);
    CHECK(std::string(lua_tostring(s.L, -1)) == "boom 7");
    CHECK(destructed == 1);
}

TEST_CASE("luajit: a C++ exception escaping a lua_CFunction loses its message") {
    // This is why every api_*.cpp catches and re-raises with luaL_error.
    State s;
    lua_pushcfunction(s.L, throws_cpp);
    CHECK(lua_pcall(s.L, 0, 0, 0) != 0);
    std::string msg = lua_tostring(s.L, -1) ? lua_tostring(s.L, -1) : "";
    CHECK(msg.find("lost message") == std::string::npos);
}

TEST_CASE("value: JSON round-trips through Lua, arrays stay arrays") {
    State s;
    json in = json::parse(R"({"a":[1,2,{"b":"x"}],"empty":[],"obj":{},"n":1.5,"t":true,"s":"é"})");
    push_json(s.L, in);
    json out = to_json(s.L, -1, "value");
    CHECK(out["a"] == in["a"]);
    CHECK(out["empty"].is_array());
    CHECK(out["n"] == 1.5);
    CHECK(out["t"] == true);
    CHECK(out["s"] == "é");
}

TEST_CASE("value: null members are dropped, nulls in arrays kept") {
    State s;
    push_json(s.L, json::parse(R"({"gone":null,"list":[1,null,3]})"));
    json out = to_json(s.L, -1, "value");
    CHECK_FALSE(out.contains("gone"));
    CHECK(out["list"] == json::parse("[1,null,3]"));
}

TEST_CASE("value: unsupported values name the field") {
    State s;
    luaL_dostring(s.L, "return {a = {b = function() end}}");
    CHECK_THROWS_WITH_AS(to_json(s.L, -1, "value"), doctest::Contains("value.a.b"), ConvertError);
    lua_pop(s.L, 1);
    luaL_dostring(s.L, "return {list = {1, {x = {0/0}}}}");
    CHECK_THROWS_WITH_AS(to_json(s.L, -1, "value"), doctest::Contains("value.list[2].x[1]: NaN"), ConvertError);
    lua_pop(s.L, 1);
    luaL_dostring(s.L, "local t = {} t.self = t return t");
    CHECK_THROWS_WITH_AS(to_json(s.L, -1, "value"), doctest::Contains("cycle"), ConvertError);
}

TEST_CASE("value: nesting is bounded both ways, without recursion a caller controls") {
    State s;
    std::string deep = std::string(8000, '[') + std::string(8000, ']');
    CHECK(json_too_deep(deep));
    CHECK(json_too_deep(std::string(4000, '{').append("\"a\":1")));  // unclosed counts too
    std::string ok = std::string(k_max_json_depth, '[') + std::string(k_max_json_depth, ']');
    CHECK_FALSE(json_too_deep(ok));
    CHECK_FALSE(json_too_deep("[\"" + std::string(5000, '[') + "\"]"));  // brackets in a string
    CHECK_FALSE(json_too_deep("[\"\\\"" + std::string(5000, '{') + "\"]"));  // after an escaped quote

    // a table nested deeper than the bound is an error naming the value, not a C stack overflow
    luaL_dostring(s.L, "local t = {} local c = t for i = 1, 100000 do c.x = {} c = c.x end return t");
    CHECK_THROWS_WITH_AS(to_json(s.L, -1, "value"), doctest::Contains("nested deeper than 256"), ConvertError);
    lua_pop(s.L, 1);

    // the deepest text that is let in converts to Lua and back
    json j = json::parse(ok);
    int top = lua_gettop(s.L);
    push_json(s.L, j);
    CHECK(lua_gettop(s.L) == top + 1);
    CHECK(to_json(s.L, -1, "value") == j);
}
