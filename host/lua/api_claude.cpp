// orch.raw_run_claude{binary=, prompt=, cwd=, ...} -> result  [yields]
// The option defaults (from config) are applied by orch.run_claude in
// scripts/orch/init.lua; this checks types, starts the agent and waits.
#include "lua/internal.h"
#include "lua/value.h"

#include "services/claude.h"
#include "services/journal.h"

#include <nlohmann/json.hpp>

namespace orch {

namespace {

// A string or a list of strings, joined with commas.
std::string tool_list(lua_State* L, int t, const char* key) {
    lua_getfield(L, t, key);
    std::string out;
    if (lua_type(L, -1) == LUA_TSTRING) out = lua_tostring(L, -1);
    else if (lua_istable(L, -1)) {
        int n = static_cast<int>(lua_objlen(L, -1));
        for (int i = 1; i <= n; ++i) {
            lua_rawgeti(L, -1, i);
            if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "orch.run_claude: %s[%d] must be a string", key, i);
            if (!out.empty()) out += ",";
            out += lua_tostring(L, -1);
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "orch.run_claude: %s must be a string or a list of strings", key);
    }
    lua_pop(L, 1);
    return out;
}

std::vector<std::string> string_list(lua_State* L, int t, const char* key) {
    std::vector<std::string> out;
    lua_getfield(L, t, key);
    if (lua_istable(L, -1)) {
        int n = static_cast<int>(lua_objlen(L, -1));
        for (int i = 1; i <= n; ++i) {
            lua_rawgeti(L, -1, i);
            if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "orch.run_claude: %s[%d] must be a string", key, i);
            out.emplace_back(lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "orch.run_claude: %s must be a list of strings", key);
    }
    lua_pop(L, 1);
    return out;
}

ClaudeOptions read_options(lua_State* L, App& app) {
    ClaudeOptions o;
    o.binary = opt_string(L, 1, "binary", "claude");
    // a bare name not on PATH may be the project's own install (App::find_program)
    if (o.binary.find('/') == std::string::npos && find_executable(o.binary).empty())
        if (std::string exe = app.find_program(o.binary); !exe.empty()) o.binary = exe;
    o.prompt = opt_string(L, 1, "prompt");
    if (o.prompt.empty()) luaL_error(L, "orch.run_claude: prompt must be a non-empty string");
    o.cwd = app.path_from_root(opt_string(L, 1, "cwd", app.root));
    o.model = opt_string(L, 1, "model");
    o.permission_mode = opt_string(L, 1, "permission_mode");
    o.append_system_prompt = opt_string(L, 1, "append_system_prompt");
    o.resume = opt_string(L, 1, "resume");
    o.allowed_tools = tool_list(L, 1, "allowed_tools");
    o.disallowed_tools = tool_list(L, 1, "disallowed_tools");
    o.extra_args = string_list(L, 1, "extra_args");
    o.event_types = string_list(L, 1, "event_types");
    lua_getfield(L, 1, "env");
    if (lua_istable(L, -1)) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            if (lua_type(L, -2) == LUA_TSTRING && (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER))
                o.env.push_back(std::string(lua_tostring(L, -2)) + "=" + lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    std::string log = opt_string(L, 1, "log_path");
    o.log_path = log.empty() ? "" : app.path_from_root(log);
    o.timeout = opt_number(L, 1, "timeout", 0);
    if (o.timeout < 0) luaL_error(L, "orch.run_claude: timeout must be >= 0");
    o.stall_timeout = opt_number(L, 1, "stall_timeout", 0);
    if (!(o.stall_timeout >= 0)) luaL_error(L, "orch.run_claude: stall_timeout must be >= 0");
    o.kill_grace = opt_number(L, 1, "kill_grace", 3);
    o.max_turns = static_cast<int>(opt_number(L, 1, "max_turns", 0));
    double nice = opt_number(L, 1, "nice", 0);
    if (!(nice >= 0 && nice <= 19) || nice != static_cast<int>(nice))
        luaL_error(L, "orch.run_claude: nice must be a whole number 0..19");
    o.nice = static_cast<int>(nice);
    o.max_log_bytes = static_cast<long long>(opt_number(L, 1, "max_log_bytes", 64.0 * 1024 * 1024));
    o.agent_tag = app.next_agent_tag("claude");
    return o;
}

// on_event(ev) -> nil | "violation reason". Runs on the loop thread while the
// task waits; errors are logged and ignored.
std::string call_on_event(VmState& vm, int fn_ref, const nlohmann::json& ev) {
    lua_State* L = vm.L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, fn_ref);
    push_json(L, ev);
    std::string out;
    if (call_protected(vm, 1, 1, "run_claude on_event")) {
        if (lua_type(L, -1) == LUA_TSTRING) out = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    return out;
}

// orch.raw_run_claude(opts) -> result table | nil, err (cancelled: err.result is the run's)  [yields]
int l_raw_run_claude(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    VmState& vm = vm_of(L);
    App& app = vm.app;
    ClaudeOptions opts = read_options(L, app);
    Task& t = require_task(L, "orch.run_claude");
    int fn_ref = LUA_NOREF;
    lua_getfield(L, 1, "on_event");
    if (lua_isfunction(L, -1)) fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    else lua_pop(L, 1);
    int id = t.id;
    ClaudeRun::EventFn on_event;
    if (fn_ref != LUA_NOREF)
        on_event = [&vm, fn_ref](const nlohmann::json& ev) { return call_on_event(vm, fn_ref, ev); };
    std::shared_ptr<ClaudeRun> run;
    std::string err;
    try {
        run = ClaudeRun::start(app.loop, app.reaper, opts, on_event, [&vm, id, fn_ref](nlohmann::json r) {
            if (fn_ref != LUA_NOREF) luaL_unref(vm.L, LUA_REGISTRYINDEX, fn_ref);
            resume_task(vm, id, [&r](lua_State* co) {
                if (!r.value("cancelled", false)) {
                    push_json(co, r);
                    return 1;
                }
                push_cancelled(co, r.value("cancel_reason", std::string()));
                push_json(co, r);
                lua_setfield(co, -2, "result");  // cost, tokens, session of the stopped run
                return 2;
            });
        });
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) {
        if (fn_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, fn_ref);
        // Not started: the same result shape, so workflows handle one thing.
        nlohmann::json r{{"ok", false}, {"error", "cannot start claude: " + err}, {"exit_code", nullptr},
                         {"cost_usd", 0}, {"tokens", 0}, {"spawn_failed", true}};
        push_json(L, r);
        return 1;
    }
    return yield_waiting(L, t, [run](const std::string& reason) { run->cancel(reason); });
}

const luaL_Reg k_claude_functions[] = {
    {"raw_run_claude", l_raw_run_claude},
    {nullptr, nullptr},
};

}  // namespace

void register_claude_api(lua_State* L) { luaL_register(L, nullptr, k_claude_functions); }

}  // namespace orch
