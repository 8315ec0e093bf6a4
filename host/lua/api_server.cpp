// The Lua side of `orch-host serve`: each webhook request (a ServerCall from
// host/services/http_server.cpp) runs orch._serve_request(req) -- the router
// in scripts/orch/init.lua -- as a task, and the task's result is the reply.
// Also orch.raw_route_window (orch.route's registration window),
// orch.secure_compare and orch.start_workflow.
#include "lua/internal.h"
#include "lua/value.h"
#include "lua/vm.h"

#include "services/http_server.h"
#include "services/journal.h"

#include <nlohmann/json.hpp>

namespace orch {

using json = nlohmann::json;

namespace {

void set_str(lua_State* L, const char* key, const std::string& v) {
    lua_pushlstring(L, v.data(), v.size());
    lua_setfield(L, -2, key);
}

void push_request(lua_State* L, const ServerCall& c) {
    lua_createtable(L, 0, 11);
    set_str(L, "id", c.id);
    set_str(L, "method", c.method);
    set_str(L, "path", c.path);
    set_str(L, "query", c.query);
    set_str(L, "remote", c.remote);
    set_str(L, "body", c.body);
    lua_pushnumber(L, c.deadline);  // orch.monotonic() seconds: the reply must come before it
    lua_setfield(L, -2, "deadline");
    lua_createtable(L, 0, static_cast<int>(c.headers.size()));
    for (auto& [k, v] : c.headers) {
        lua_pushlstring(L, k.data(), k.size());
        lua_pushlstring(L, v.data(), v.size());
        lua_rawset(L, -3);
    }
    lua_setfield(L, -2, "headers");
    if (c.json) {
        push_json(L, *c.json);
        lua_setfield(L, -2, "json");
    }
}

// lua_cpcall body: the request table, left in the registry (cpcall keeps no results)
int l_build_request(lua_State* L) {
    push_request(L, *static_cast<const ServerCall*>(lua_touserdata(L, 1)));
    lua_setfield(L, LUA_REGISTRYINDEX, "orch.request");
    return 0;
}

ServerReply error_reply(int status, const std::string& msg, const std::string& request_id) {
    ServerReply r;
    r.status = status;
    r.body = json{{"error", msg}, {"request_id", request_id}}.dump();
    return r;
}

// The router's normalised reply: {status=, json= | body=, content_type=, headers=}.
ServerReply reply_from(lua_State* L, int idx) {
    idx = lua_gettop(L) + idx + 1;
    if (!lua_istable(L, idx)) throw ConvertError("the router returned a " + std::string(luaL_typename(L, idx)));
    ServerReply r;
    lua_getfield(L, idx, "status");
    if (lua_type(L, -1) == LUA_TNUMBER) r.status = static_cast<int>(lua_tointeger(L, -1));
    lua_pop(L, 1);
    if (r.status < 100 || r.status > 599) throw ConvertError("reply status " + std::to_string(r.status) + " is not an HTTP status");
    lua_getfield(L, idx, "json");
    if (!lua_isnil(L, -1)) {
        r.body = to_json(L, -1, "reply").dump(-1, ' ', false, json::error_handler_t::replace);
        lua_pop(L, 1);
    } else {
        lua_pop(L, 1);
        lua_getfield(L, idx, "body");
        if (lua_type(L, -1) == LUA_TSTRING) {
            size_t n;
            const char* s = lua_tolstring(L, -1, &n);
            r.body.assign(s, n);
        }
        lua_pop(L, 1);
        r.content_type = "text/plain; charset=utf-8";
    }
    lua_getfield(L, idx, "content_type");
    if (lua_type(L, -1) == LUA_TSTRING) r.content_type = lua_tostring(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, idx, "headers");
    if (lua_istable(L, -1)) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            if (lua_type(L, -2) == LUA_TSTRING && (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER)) {
                std::string k = lua_tostring(L, -2);
                lua_pushvalue(L, -1);
                std::string v = lua_tostring(L, -1);
                lua_pop(L, 1);
                if (k.find_first_of("\r\n") == std::string::npos && v.find_first_of("\r\n") == std::string::npos)
                    r.headers.emplace_back(std::move(k), std::move(v));
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    return r;
}

// orch.raw_route_window() -> true while the server workflow may register routes
int l_raw_route_window(lua_State* L) {
    VmState& vm = vm_of(L);
    auto it = vm.by_thread.find(L);
    lua_pushboolean(L, vm.route_window_task != 0 && it != vm.by_thread.end() && it->second == vm.route_window_task);
    return 1;
}

// orch.secure_compare(a, b) -> bool, in time that depends only on the lengths
// (secrets and tokens: no early exit at the first differing byte)
int l_secure_compare(lua_State* L) {
    size_t na, nb;
    const char* a = luaL_checklstring(L, 1, &na);
    const char* b = luaL_checklstring(L, 2, &nb);
    size_t n = na > nb ? na : nb;
    volatile unsigned char diff = static_cast<unsigned char>(na != nb);
    for (size_t i = 0; i < n; ++i) {
        unsigned char x = i < na ? static_cast<unsigned char>(a[i]) : 0;
        unsigned char y = i < nb ? static_cast<unsigned char>(b[i]) : 0;
        diff = diff | static_cast<unsigned char>(x ^ y);
    }
    lua_pushboolean(L, diff == 0 && n > 0);
    return 1;
}

// orch.start_workflow(name, args) -> task id | nil, err
// Runs workflows/<name> (daily.lua, ...) as a new task in this process, with
// args as its `...` (args.workflow: the file, as the host resolved it);
// orch.wait(id) gives its result.
int l_start_workflow(lua_State* L) {
    std::string name = luaL_checkstring(L, 1);
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
    VmState& vm = vm_of(L);
    json args = lua_isnoneornil(L, 2) ? json::object() : to_json(L, 2, "orch.start_workflow: args");
    std::string err, path, display;
    try {
        path = resolve_workflow_path(vm.app, name);
        display = path.rfind(vm.app.root + "/", 0) == 0 ? path.substr(vm.app.root.size() + 1) : path;
        load_chunk(vm.L, path, display);
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) return return_error(L, "bad_workflow", err);
    push_workflow_args(vm.L, args, display);
    int id = spawn_task(vm, display, 1);
    lua_pushinteger(L, id);
    return 1;
}

const luaL_Reg k_server_functions[] = {
    {"raw_route_window", l_raw_route_window},
    {"secure_compare", l_secure_compare},
    {"start_workflow", l_start_workflow},
    {nullptr, nullptr},
};

}  // namespace

void register_server_api(lua_State* L) { luaL_register(L, nullptr, k_server_functions); }

void Vm::handle_request(std::shared_ptr<ServerCall> call) {
    VmState& vm = *st_;
    lua_State* L = vm.L;
    lua_getglobal(L, "orch");
    lua_getfield(L, -1, "_serve_request");
    lua_remove(L, -2);
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 1);
        call->reply(error_reply(500, "no router (scripts/orch/init.lua did not load)", call->id));
        return;
    }
    // the request's conversion to Lua runs protected: whatever it holds, a
    // failure is this request's 500, never the server's end
    if (lua_cpcall(L, l_build_request, call.get()) != 0) {
        std::string msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : "error";
        lua_pop(L, 2);  // the message, the router
        if (vm.app.journal)
            vm.app.journal->log("error", "webhook " + call->method + " " + call->path.substr(0, 80) + " [" +
                                             call->id + "]: cannot convert the request: " + msg);
        call->reply(error_reply(500, "cannot convert the request; see the log for request " + call->id, call->id));
        return;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "orch.request");
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "orch.request");
    std::string name = "http " + call->method + " " + call->path.substr(0, 80) + " [" + call->id + "]";
    spawn_task(vm, name, 1, true, [&vm, call](Task& t) {
        if (!t.error.empty()) {  // the traceback is in the log, under the request id
            call->reply(error_reply(500, "internal error in the handler; see the log for request " + call->id, call->id));
            return;
        }
        if (t.result_ref == LUA_NOREF) {
            call->reply(error_reply(500, "the router returned nothing", call->id));
            return;
        }
        lua_State* M = vm.L;
        lua_rawgeti(M, LUA_REGISTRYINDEX, t.result_ref);
        ServerReply r;
        try {
            r = reply_from(M, -1);
        } catch (const std::exception& e) {
            if (vm.app.journal)
                vm.app.journal->log("error", "webhook " + call->method + " " + call->path + " [" + call->id +
                                                 "]: bad reply: " + e.what());
            r = error_reply(500, "internal error in the handler; see the log for request " + call->id, call->id);
        }
        lua_pop(M, 1);
        // the reply is all that is wanted from this task: free it now
        luaL_unref(M, LUA_REGISTRYINDEX, t.result_ref);
        t.result_ref = LUA_NOREF;
        call->reply(std::move(r));
    });
}

}  // namespace orch
