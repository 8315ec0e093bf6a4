#include "lua/text_source.h"

#include <new>
#include <string>

namespace orch {

namespace {

constexpr const char* k_text_mt = "orch.text";

int l_text_gc(lua_State* L) {
    static_cast<TextWriter*>(luaL_checkudata(L, 1, k_text_mt))->~TextWriter();
    return 0;
}

// tostring(text): the whole string (a failure raises, as the binding would have)
int l_text_tostring(lua_State* L) {
    auto* w = static_cast<TextWriter*>(luaL_checkudata(L, 1, k_text_mt));
    std::string text, err;
    try {
        (*w)([&](std::string_view piece) { text += piece; });
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) return luaL_error(L, "%s", err.c_str());
    lua_pushlstring(L, text.data(), text.size());
    return 1;
}

}  // namespace

void push_text_source(lua_State* L, TextWriter write) {
    new (lua_newuserdata(L, sizeof(TextWriter))) TextWriter(std::move(write));
    if (luaL_newmetatable(L, k_text_mt)) {
        lua_pushcfunction(L, l_text_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_text_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_setmetatable(L, -2);
}

const TextWriter* to_text_source(lua_State* L, int idx) {
    void* p = lua_touserdata(L, idx);
    if (!p || !lua_getmetatable(L, idx)) return nullptr;
    luaL_getmetatable(L, k_text_mt);
    bool same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same ? static_cast<const TextWriter*>(p) : nullptr;
}

}  // namespace orch
