// Commands between processes, over the approvals service
// (services/approvals.h): orch.push_command queues pause, skip, resume, ...
// for a session (a row in the commands table, which wakes the hosts that
// watch it at once); the process that watches that session dispatches each
// to orch.on("command", fn) handlers.
#include "lua/internal.h"
#include "lua/value.h"

#include "services/approvals.h"

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

const luaL_Reg k_command_functions[] = {
    {"watch_session", l_watch_session},
    {"unwatch_session", l_unwatch_session},
    {"push_command", l_push_command},
    {nullptr, nullptr},
};

}  // namespace

void register_command_api(lua_State* L) { luaL_register(L, nullptr, k_command_functions); }

}  // namespace orch
