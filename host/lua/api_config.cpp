// orch.reload_config() -> changed keys | nil, err: the configuration picked
// up again without a restart when .env or the config file changed
// (services/config_files.h tells, from a stat of each), built by the same
// scripts/orch/config.lua code as at start and put into orch.config in place.
#include "lua/internal.h"
#include "lua/value.h"

#include "services/journal.h"

#include <nlohmann/json.hpp>

namespace orch {

namespace {

// The reload failed: the old config stays; the error is kept (and logged
// once) until either file changes again.
int reload_failed(lua_State* L, App& app, const std::string& msg) {
    app.config_files.last_error = "config not reloaded, the old one stays in force: " + msg;
    if (app.journal) app.journal->log("warn", app.config_files.last_error);
    return return_error(L, "bad_config", app.config_files.last_error);
}

// What the new config means to the host's own parts that keep a copy.
void apply_to_host(lua_State* L, App& app, const nlohmann::json& host_cfg) {
    app.config() = host_cfg;
    auto log = app.config().value("log", nlohmann::json::object());
    if (app.journal) app.journal->set_file_level(log.value("level", std::string("info")));
    install_runaway_hook(L, app.config().value("lua", nlohmann::json::object()).value("max_run_seconds", 30.0));
}

int l_reload_config(lua_State* L) {
    App& app = app_of(L);
    ConfigFiles& cf = app.config_files;
    if (!cf.ready() || !cf.changed()) {
        if (!cf.last_error.empty()) return return_error(L, "bad_config", cf.last_error);
        lua_newtable(L);
        return 1;
    }
    cf.mark_seen();
    cf.last_error.clear();
    DotenvPlan plan;
    std::string bad_env;
    try {
        plan = cf.plan_dotenv();
    } catch (const std::exception& e) {
        bad_env = e.what();
    }
    if (!bad_env.empty()) return reload_failed(L, app, bad_env);
    int top = lua_gettop(L);
    lua_getglobal(L, "require");
    lua_pushstring(L, "orch.config");
    if (lua_pcall(L, 1, 1, 0) != 0) return reload_failed(L, app, lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    int module = lua_gettop(L);
    // config.rebuild(path, root, overrides, must_exist, guard) -> cfg | nil, message
    lua_getfield(L, module, "rebuild");
    lua_pushstring(L, cf.config_path().c_str());
    lua_pushstring(L, app.root.c_str());
    lua_createtable(L, 0, static_cast<int>(plan.changes.size()));
    for (auto& [name, value] : plan.changes) {
        if (value) lua_pushlstring(L, value->data(), value->size());
        else lua_pushboolean(L, 0);
        lua_setfield(L, -2, name.c_str());
    }
    lua_pushboolean(L, cf.config_must_exist());
    lua_pushcfunction(L, config_guard);
    std::string err;
    if (lua_pcall(L, 5, 2, 0) != 0) err = lua_tostring(L, -1) ? lua_tostring(L, -1) : "error";
    else if (lua_isnil(L, -2)) err = lua_tostring(L, -1) ? lua_tostring(L, -1) : "error";
    nlohmann::json host_cfg;
    if (err.empty()) {
        lua_pop(L, 1);
        try {
            host_cfg = host_config_sections(L, -1);
        } catch (const std::exception& e) {
            err = e.what();
        }
    }
    if (!err.empty()) {
        lua_settop(L, top);
        install_runaway_hook(L, app.config().value("lua", nlohmann::json::object()).value("max_run_seconds", 30.0));
        return reload_failed(L, app, err);  // the guard left the runaway hook off: on again above
    }
    // config.update(orch.config, new) -> the changed keys
    int fresh = lua_gettop(L);
    lua_getfield(L, module, "update");
    lua_getglobal(L, "orch");
    lua_getfield(L, -1, "config");
    lua_remove(L, -2);
    lua_pushvalue(L, fresh);
    if (lua_pcall(L, 2, 1, 0) != 0) {
        std::string msg = lua_tostring(L, -1) ? lua_tostring(L, -1) : "error";
        lua_settop(L, top);
        return luaL_error(L, "orch.reload_config: %s", msg.c_str());
    }
    cf.apply(plan);
    apply_to_host(L, app, host_cfg);
    std::string keys;
    int n = static_cast<int>(lua_objlen(L, -1));
    for (int i = 1; i <= n; ++i) {
        lua_rawgeti(L, -1, i);
        keys += (keys.empty() ? "" : ", ") + std::string(lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
        lua_pop(L, 1);
    }
    std::string vars;
    for (auto& [name, value] : plan.changes) vars += (vars.empty() ? "" : ", ") + name + (value ? "" : " (unset)");
    if (app.journal)
        app.journal->log("info", "config reloaded: " + (keys.empty() ? std::string("no value changed") : keys) +
                                     (vars.empty() ? "" : "; .env: " + vars));
    return 1;
}

const luaL_Reg k_config_functions[] = {
    {"reload_config", l_reload_config},
    {nullptr, nullptr},
};

}  // namespace

void register_config_api(lua_State* L) { luaL_register(L, nullptr, k_config_functions); }

}  // namespace orch
