// The libraries workflows get (style.md, "Limits and sandbox"): opened one
// by one, with io, ffi, debug, jit, dofile, loadfile, loadlib and the C
// loaders out of reach, and os reduced to the clock and the environment.
#include "lua/internal.h"
#include "services/env_overlay.h"

#include <initializer_list>

namespace orch {

namespace {

void open_lib(lua_State* L, const char* name, lua_CFunction fn) {
    lua_pushcfunction(L, fn);
    lua_pushstring(L, name);
    lua_call(L, 1, 0);
}

// t[k] = nil for each key, t at the top of the stack
// os.getenv(name) -> the value | nil: the environment as .env last gave it
// (services/env_overlay.h), not only as it was at start-up
int l_getenv(lua_State* L) {
    auto v = env_get(luaL_checkstring(L, 1));
    if (!v) return 0;
    lua_pushlstring(L, v->data(), v->size());
    return 1;
}

void drop_fields(lua_State* L, std::initializer_list<const char*> keys) {
    for (const char* k : keys) {
        lua_pushnil(L);
        lua_setfield(L, -2, k);
    }
}

}  // namespace

void sandbox(lua_State* L) {
    open_lib(L, "", luaopen_base);
    open_lib(L, LUA_LOADLIBNAME, luaopen_package);
    open_lib(L, LUA_TABLIBNAME, luaopen_table);
    open_lib(L, LUA_STRLIBNAME, luaopen_string);
    open_lib(L, LUA_MATHLIBNAME, luaopen_math);
    open_lib(L, LUA_BITLIBNAME, luaopen_bit);
    open_lib(L, LUA_JITLIBNAME, luaopen_jit);  // sets the JIT up; the host drives it with luaJIT_setmode
    open_lib(L, LUA_OSLIBNAME, luaopen_os);
    // os: only the clock and the environment
    lua_getglobal(L, "os");
    lua_newtable(L);
    for (const char* k : {"time", "clock", "date", "difftime"}) {
        lua_getfield(L, -2, k);
        lua_setfield(L, -2, k);
    }
    lua_pushcfunction(L, l_getenv);  // what a reload of .env set, too
    lua_setfield(L, -2, "getenv");
    lua_setglobal(L, "os");
    lua_pop(L, 1);
    // debug is never opened (the error handler uses luaL_traceback, which needs
    // no library).
    // jit goes too: jit.on() would compile loops, and compiled code never
    // calls the runaway hook.
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    drop_fields(L, {"debug", "jit", "dofile", "loadfile"});
    lua_pop(L, 1);
    lua_getglobal(L, "package");
    lua_pushstring(L, "");
    lua_setfield(L, -2, "cpath");
    drop_fields(L, {"loadlib"});
    lua_getfield(L, -1, "loaded");
    drop_fields(L, {"io", "debug", "ffi", "jit", "jit.opt"});
    lua_getglobal(L, "os");  // package.loaded.os -> the reduced os
    lua_setfield(L, -2, "os");
    lua_pop(L, 1);  // loaded
    lua_getfield(L, -1, "preload");
    drop_fields(L, {"ffi", "jit.util", "jit.profile"});
    lua_pop(L, 1);
    // keep the preload and Lua-file searchers, drop the C ones
    lua_getfield(L, -1, "loaders");
    lua_pushnil(L);
    lua_rawseti(L, -2, 4);
    lua_pushnil(L);
    lua_rawseti(L, -2, 3);
    lua_pop(L, 2);  // loaders, package
}

}  // namespace orch
