// orch.exec{cmd={...}, cwd=, timeout=, stdin=, env={K=V}, max_output=}
//   -> {ok=, code=, signal=, stdout=, stderr=, timed_out=, truncated=} | nil, err  [yields]
// Cancelled (orch.cancel): nil, {code="cancelled", reason=, result=<that table>}.
// Other processes (git, tests, linters) through the host, so they are timed
// out and killed as a tree like agents are.
#include "lua/internal.h"

#include "services/process_run.h"

namespace orch {

namespace {

struct Captured {
    std::string out;
    size_t max = 8u << 20;
    bool truncated = false;
};

void push_outcome(lua_State* co, const RunOutcome& o, const Captured& cap) {
    lua_createtable(co, 0, 8);
    if (o.signal) {
        lua_pushinteger(co, o.signal);
        lua_setfield(co, -2, "signal");
    } else {
        lua_pushinteger(co, o.exit_code);
        lua_setfield(co, -2, "code");
    }
    lua_pushlstring(co, cap.out.data(), cap.out.size());
    lua_setfield(co, -2, "stdout");
    lua_pushlstring(co, o.stderr_tail.data(), o.stderr_tail.size());
    lua_setfield(co, -2, "stderr");
    lua_pushboolean(co, o.timed_out);
    lua_setfield(co, -2, "timed_out");
    lua_pushboolean(co, cap.truncated);
    lua_setfield(co, -2, "truncated");
    lua_pushboolean(co, !o.signal && o.exit_code == 0 && !o.timed_out && !o.cancelled);
    lua_setfield(co, -2, "ok");
}

int l_exec(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    SpawnSpec spec;
    lua_getfield(L, 1, "cmd");
    if (!lua_istable(L, -1)) return luaL_error(L, "orch.exec: cmd must be a list of strings, e.g. {'git', 'status'}");
    int n = static_cast<int>(lua_objlen(L, -1));
    for (int i = 1; i <= n; ++i) {
        lua_rawgeti(L, -1, i);
        if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
            return luaL_error(L, "orch.exec: cmd[%d] must be a string", i);
        spec.argv.emplace_back(lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (spec.argv.empty()) return luaL_error(L, "orch.exec: cmd must not be empty");
    App& app = app_of(L);
    spec.cwd = app.path_from_root(opt_string(L, 1, "cwd", app.root));
    lua_getfield(L, 1, "env");
    if (lua_istable(L, -1)) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            if (lua_type(L, -2) == LUA_TSTRING && (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER))
                spec.env_extra.push_back(std::string(lua_tostring(L, -2)) + "=" + lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    RunLimits lim;
    lim.timeout = opt_number(L, 1, "timeout", 600);
    if (lim.timeout < 0) return luaL_error(L, "orch.exec: timeout must be >= 0");
    std::string input = opt_string(L, 1, "stdin");
    auto cap = std::make_shared<Captured>();
    cap->max = static_cast<size_t>(opt_number(L, 1, "max_output", 8.0 * 1024 * 1024));
    Task& t = require_task(L, "orch.exec");
    VmState& vm = vm_of(L);
    int id = t.id;
    std::string tag = app.next_agent_tag("exec");
    std::shared_ptr<ProcessRun> run;
    std::string err;
    try {
        run = ProcessRun::start(
            app.loop, app.reaper, spec, input, lim, tag,
            [cap](const char* p, size_t len) {
                if (cap->out.size() + len > cap->max) {
                    cap->truncated = true;
                    len = cap->max > cap->out.size() ? cap->max - cap->out.size() : 0;
                }
                cap->out.append(p, len);
            },
            nullptr,
            [&vm, id, cap](const RunOutcome& o) {
                resume_task(vm, id, [&](lua_State* co) {
                    if (o.cancelled) push_cancelled(co, o.cancel_reason);
                    push_outcome(co, o, *cap);
                    if (!o.cancelled) return 1;
                    lua_setfield(co, -2, "result");  // what it had done before it was stopped
                    return 2;
                });
            });
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) return return_error(L, "spawn_failed", "orch.exec: " + err);
    return yield_waiting(L, t, [run](const std::string& reason) { run->cancel(reason); });
}

const luaL_Reg k_exec_functions[] = {
    {"exec", l_exec},
    {nullptr, nullptr},
};

}  // namespace

void register_exec_api(lua_State* L) { luaL_register(L, nullptr, k_exec_functions); }

}  // namespace orch
