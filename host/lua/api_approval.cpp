// Decisions from people, over the approvals service (services/approvals.h):
// orch.await_approval waits for approve / skip / pause / answer from the
// terminal, another process, orch.resolve_approval or an answer file. These
// functions check arguments, call the service and push its results; the
// waiting task is resumed on a later loop turn (wake_task), never inside
// orch.resolve_approval.
#include "lua/internal.h"
#include "lua/value.h"

#include "services/approvals.h"
#include "services/store.h"

#include <nlohmann/json.hpp>

namespace orch {

using json = nlohmann::json;

Approvals& approvals_of(lua_State* L, const char* fname) {
    VmState& vm = vm_of(L);
    App& app = vm.app;
    if (!app.store) luaL_error(L, "%s: the state database is not open", fname);
    if (!vm.approvals) {
        double every = app.config().value("control", json::object()).value("poll_interval", 2.0);
        vm.approvals = std::make_shared<Approvals>(app.loop, *app.store, app.journal.get(), every);
        // a command becomes a task per orch.on("command") handler
        vm.approvals->on_command([&vm](const json& cmd) { dispatch_handlers(vm, "command", cmd); });
    }
    return *vm.approvals;
}

namespace {

Approvals::Request read_request(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    return {opt_string(L, 1, "session"), opt_string(L, 1, "task"), opt_string(L, 1, "kind", "approval"),
            opt_string(L, 1, "prompt")};
}

// orch.await_approval{session=, task=, kind="approval"|"question", prompt=,
//   timeout=, terminal=, answer_file=} -> {action=, text=, by=, channel=, at=, id=} | nil, err  [yields]
// action: approve | skip | pause | answer | timeout. Cancelled: nil, {code="cancelled"}.
// id: the request's (orch.open_approval's, when it opened it first).
int l_await_approval(lua_State* L) {
    Approvals::Request r = read_request(L);
    Approvals::WaitOptions w;
    w.timeout = opt_number(L, 1, "timeout", 0);
    if (w.timeout < 0) return luaL_error(L, "orch.await_approval: timeout must be >= 0");
    VmState& vm = vm_of(L);
    w.terminal = opt_bool(L, 1, "terminal", vm.app.interactive);
    w.answer_file = opt_string(L, 1, "answer_file");
    if (!w.answer_file.empty()) w.answer_file = vm.app.path_from_root(w.answer_file);
    Task& t = require_task(L, "orch.await_approval");
    Approvals& svc = approvals_of(L, "orch.await_approval");
    int task = t.id;
    long long id = 0;
    std::optional<json> given;
    std::string err;
    try {
        given = svc.await(r, w, [&vm, task](const json& d) {
            wake_task(vm, task, [d](lua_State* co) {
                push_json(co, d);
                return 1;
            });
        }, &id);
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) return luaL_error(L, "orch.await_approval: %s", err.c_str());
    if (given) {  // given while no host waited
        push_json(L, *given);
        return 1;
    }
    return yield_waiting(L, t, [&vm, &svc, task, id](const std::string& reason) {
        // the host's own stop (cancel_all("interrupted")) leaves the request
        // pending: answerable while the host is down, as after a kill -9
        if (reason == "interrupted")
            svc.release(id);
        else
            svc.withdraw(id, reason);
        wake_task(vm, task, [reason](lua_State* co) { return push_cancelled(co, reason); });
    });
}

// orch.open_approval{session=, task=, kind=, prompt=} -> request id
// The pending request orch.await_approval with these fields then waits on
// (a withdrawn one of the same fields reopened, its id kept), so a
// notification can name it first.
int l_open_approval(lua_State* L) {
    Approvals::Request r = read_request(L);
    Approvals& svc = approvals_of(L, "orch.open_approval");
    long long id = 0;
    std::string err;
    try {
        id = svc.open(r);
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) return luaL_error(L, "orch.open_approval: %s", err.c_str());
    lua_pushnumber(L, static_cast<lua_Number>(id));
    return 1;
}

// orch.get_approval(id) -> row | nil: the request, whatever its status
// (pending, resolved, expired, withdrawn), with its session_id, task_id,
// kind, prompt, action, text, by, channel, created_at, resolved_at
int l_get_approval(lua_State* L) {
    long long id = static_cast<long long>(luaL_checknumber(L, 1));
    Approvals& svc = approvals_of(L, "orch.get_approval");
    std::optional<json> row;
    std::string err;
    try {
        row = svc.get(id);
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) return luaL_error(L, "orch.get_approval: %s", err.c_str());
    if (row) push_json(L, *row);
    else lua_pushnil(L);
    return 1;
}

// orch.recorded_decision{session=, task=, kind=, prompt=} -> {action=, text=, by=, id=} | nil
// The decision orch.await_approval with these fields would return at once
// (given while no host waited); nothing is taken.
int l_recorded_decision(lua_State* L) {
    Approvals::Request r = read_request(L);
    Approvals& svc = approvals_of(L, "orch.recorded_decision");
    std::optional<json> d;
    std::string err;
    try {
        d = svc.recorded(r);
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) return luaL_error(L, "orch.recorded_decision: %s", err.c_str());
    if (d) push_json(L, *d);
    else lua_pushnil(L);
    return 1;
}

// orch.resolve_approval(id | session_id, action, text, by [, channel]) -> true | false
// (false: nothing pending, or someone else resolved it first). The waiting
// task gets the decision on a later loop turn.
int l_resolve_approval(lua_State* L) {
    std::string action = luaL_checkstring(L, 2);
    std::string text = luaL_optstring(L, 3, "");
    std::string by = luaL_optstring(L, 4, "lua");
    std::string channel = luaL_optstring(L, 5, "");
    bool by_id = lua_type(L, 1) == LUA_TNUMBER;
    long long id = by_id ? static_cast<long long>(lua_tonumber(L, 1)) : 0;
    std::string session = by_id ? "" : luaL_checkstring(L, 1);
    Approvals& svc = approvals_of(L, "orch.resolve_approval");
    std::string err;
    bool ok = false;
    try {
        if (!by_id) {
            auto row = svc.pending(session);
            if (row) id = (*row)["id"].get<long long>();
        }
        if (id) ok = svc.resolve(id, action, text, by, channel);
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) return luaL_error(L, "orch.resolve_approval: %s", err.c_str());
    lua_pushboolean(L, ok);
    return 1;
}

// orch.pending_approval([session_id [, task_id]]) -> row | nil: the newest
// pending one (of that task's, when a task id is given)
int l_pending_approval(lua_State* L) {
    std::string session = luaL_optstring(L, 1, "");
    std::string task = luaL_optstring(L, 2, "");
    Approvals& svc = approvals_of(L, "orch.pending_approval");
    std::optional<json> row;
    std::string err;
    try {
        row = svc.pending(session, task);
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) return luaL_error(L, "orch.pending_approval: %s", err.c_str());
    if (row) push_json(L, *row);
    else lua_pushnil(L);
    return 1;
}

const luaL_Reg k_approval_functions[] = {
    {"await_approval", l_await_approval},     {"recorded_decision", l_recorded_decision},
    {"resolve_approval", l_resolve_approval}, {"pending_approval", l_pending_approval},
    {"open_approval", l_open_approval},       {"get_approval", l_get_approval},
    {nullptr, nullptr},
};

}  // namespace

void register_approval_api(lua_State* L) { luaL_register(L, nullptr, k_approval_functions); }

}  // namespace orch
