// Commands between processes, over the approvals service
// (services/approvals.h): orch.push_command queues pause, skip, resume, ...
// for a session (a row in the commands table, which wakes the hosts that
// watch it at once); the process that watches that session dispatches each
// to orch.on("command", fn) handlers. orch.host_running says whether such
// another process is alive.
#include "lua/internal.h"
#include "lua/value.h"

#include "services/approvals.h"
#include "services/run_lock.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

namespace orch {

using json = nlohmann::json;

namespace {

// orch.watch_session(id | "*"): take this session's commands ("*": every
// session's) -- pause, resume, skip, answer... sent by other processes --
// and dispatch them to orch.on("command", fn) handlers, which see
// cmd.session. Several sessions may be watched at once (serve).
int l_watch_session(lua_State* L) {
    std::string id = luaL_checkstring(L, 1);
    App& app = vm_of(L).app;
    if (id != "*") app.control_session = id;
    if (app.store) approvals_of(L, "orch.watch_session").watch(id);  // no database: no other process to hear
    return 0;
}

// orch.push_command(session_id, command [, args [, by]]) -> id
// Queues a command (pause, skip, resume, ...) for the session's workflow, in
// this process or another; its orch.on("command") handler gets it at once.
int l_push_command(lua_State* L) {
    std::string session = luaL_checkstring(L, 1);
    std::string command = luaL_checkstring(L, 2);
    json args = lua_isnoneornil(L, 3) ? json::object() : to_json(L, 3, "orch.push_command: args");
    std::string by = luaL_optstring(L, 4, "lua");
    Approvals& svc = approvals_of(L, "orch.push_command");
    long long id = 0;
    std::string err;
    try {
        id = svc.push_command(session, command, args.dump(), by);
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) return luaL_error(L, "orch.push_command: %s", err.c_str());
    lua_pushnumber(L, static_cast<double>(id));
    return 1;
}

// orch.unwatch_session(id): stop taking that session's commands
int l_unwatch_session(lua_State* L) {
    std::string id = luaL_checkstring(L, 1);
    App& app = vm_of(L).app;
    if (app.control_session == id) app.control_session.clear();
    if (app.store) approvals_of(L, "orch.unwatch_session").unwatch(id);
    return 0;
}

// orch.host_running() -> boolean [, pid]
// Whether another live host (`orch-host run` or `serve`, in another process)
// holds this state's run lock: commands for its sessions go through
// orch.push_command and the approvals table. This process's own lock does not
// count. pid: that host's process id (the lock's note), the pid its
// sessions store.
int l_host_running(lua_State* L) {
    VmState& vm = vm_of(L);
    std::string err;
    bool held = false;
    long pid = 0;
    try {
        RunLock probe(run_lock_path(vm.app.state_db_path()));
        held = probe.held_by_other();
        std::string note = held ? probe.holder() : std::string();
        if (note.compare(0, 4, "pid ") == 0) pid = strtol(note.c_str() + 4, nullptr, 10);
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) return luaL_error(L, "orch.host_running: %s", err.c_str());
    lua_pushboolean(L, held);
    if (!held || pid <= 0) return 1;
    lua_pushnumber(L, static_cast<lua_Number>(pid));
    return 2;
}

const luaL_Reg k_command_functions[] = {
    {"watch_session", l_watch_session},
    {"unwatch_session", l_unwatch_session},
    {"push_command", l_push_command},
    {"host_running", l_host_running},
    {nullptr, nullptr},
};

}  // namespace

void register_command_api(lua_State* L) { luaL_register(L, nullptr, k_command_functions); }

}  // namespace orch
