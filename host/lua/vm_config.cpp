// The configuration's way in: scripts/orch/config.lua's load() (defaults,
// workflows/config.lua, the environment, validation), then the sections the
// host reads converted to App::config.
#include "lua/vm.h"

#include "lua/internal.h"
#include "lua/value.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace orch {

using json = nlohmann::json;

namespace {

// The config sections C++ reads (App::config): grep app.config() before adding one.
constexpr const char* k_host_config_keys[] = {"claude", "control", "inbox", "log", "lua", "notify", "paths", "server"};

}  // namespace

// guard(fn, seconds) -> fn(): config.lua runs the user's config file through
// this, under the runaway hook, so a config that never returns is stopped;
// the host's own Lua around it (defaults, merge, validation) runs without the
// hook, which costs every instruction it runs.
int config_guard(lua_State* L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    double limit = luaL_optnumber(L, 2, 30);
    lua_settop(L, 1);
    install_runaway_hook(L, limit);
    int rc = lua_pcall(L, 0, 1, 0);
    install_runaway_hook(L, 0);
    if (rc != 0) return lua_error(L);
    return 1;
}

json host_config_sections(lua_State* L, int idx) {
    idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
    json host_cfg = json::object();
    for (const char* key : k_host_config_keys) {
        lua_getfield(L, idx, key);
        if (!lua_isnil(L, -1)) host_cfg[key] = to_json(L, -1, std::string("config.") + key);
        lua_pop(L, 1);
    }
    return host_cfg;
}

void Vm::load_config(const std::string& config_file, bool must_exist) {
    lua_State* L = st_->L;
    GcPause pause(L);  // start-up makes little garbage; a GC cycle here cost more than it saved
    lua_getglobal(L, "require");
    lua_pushstring(L, "orch.config");
    std::string err;
    if (!call_protected(*st_, 1, 1, "loading scripts/orch/config.lua", &err)) throw std::runtime_error(err);
    lua_getfield(L, -1, "load");
    lua_remove(L, -2);
    lua_pushstring(L, config_file.c_str());
    lua_pushstring(L, st_->app.root.c_str());
    lua_pushnil(L);
    lua_pushboolean(L, must_exist);
    lua_pushcfunction(L, config_guard);
    install_runaway_hook(L, 0);
    if (lua_pcall(L, 5, 2, 0) != 0) {
        std::string msg = lua_tostring(L, -1) ? lua_tostring(L, -1) : "error";
        lua_pop(L, 1);
        throw std::runtime_error(msg);
    }
    if (lua_isnil(L, -2)) {
        std::string msg = luaL_checkstring(L, -1);
        lua_pop(L, 2);
        throw std::runtime_error(msg);
    }
    lua_pop(L, 1);
    // Only the sections the host reads cross (converting the whole table was
    // ~0.1 M instructions of every start); Lua keeps all of it as orch.config
    // and config_json() gives it whole.
    st_->app.config() = host_config_sections(L, -1);
    auto lua_cfg = st_->app.config().value("lua", json::object());
    // Compiled traces never call hooks, so with the JIT on an endless loop
    // cannot be stopped; workflows wait far more than they compute, so the
    // interpreter is the default and the JIT an opt-in (lua.jit = true).
    if (lua_cfg.value("jit", false)) luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_ON);
    double limit = lua_cfg.value("max_run_seconds", 30.0);
    install_runaway_hook(L, limit);
    lua_getglobal(L, "orch");
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "config");
    lua_pushstring(L, config_file.c_str());  // what an agent's hook command loads again
    lua_setfield(L, -2, "config_file");
    lua_pop(L, 2);
}

json Vm::config_json() {
    lua_State* L = st_->L;
    lua_getglobal(L, "orch");
    lua_getfield(L, -1, "config");
    json out;
    try {
        out = to_json(L, -1, "config");
    } catch (...) {
        lua_pop(L, 2);
        throw;
    }
    lua_pop(L, 2);
    return out;
}

}  // namespace orch
