// orch.http{method=, url=, headers={}, body=, timeout=, content_type=}
//   -> {status=, body=, headers={}} | nil, err   [yields]
// Runs on the host's HTTP worker threads; the task waits, the loop does not.
#include "lua/internal.h"

#include "services/http_client.h"

namespace orch {

namespace {

int l_http(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    HttpRequest req;
    req.url = opt_string(L, 1, "url");
    if (req.url.empty()) return luaL_error(L, "orch.http: url is required");
    req.method = opt_string(L, 1, "method", "GET");
    req.body = opt_string(L, 1, "body");
    req.content_type = opt_string(L, 1, "content_type", "application/json");
    req.timeout = opt_number(L, 1, "timeout", 30);
    if (req.timeout <= 0) return luaL_error(L, "orch.http: timeout must be > 0");
    lua_getfield(L, 1, "headers");
    if (lua_istable(L, -1)) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING)
                req.headers.emplace_back(lua_tostring(L, -2), lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    Task& t = require_task(L, "orch.http");
    VmState& vm = vm_of(L);
    App& app = vm.app;
    if (!app.http) return luaL_error(L, "orch.http: HTTP is not available in this command");
    int id = t.id;
    auto job = app.http->submit(std::move(req), [&vm, id](HttpResponse res) {
        resume_task(vm, id, [&res](lua_State* co) {
            if (res.status == 0) {
                lua_pushnil(co);
                push_error(co, "http", "orch.http: " + res.error);
                return 2;
            }
            lua_createtable(co, 0, 3);
            lua_pushinteger(co, res.status);
            lua_setfield(co, -2, "status");
            lua_pushlstring(co, res.body.data(), res.body.size());
            lua_setfield(co, -2, "body");
            lua_createtable(co, 0, static_cast<int>(res.headers.size()));
            for (auto& [k, v] : res.headers) {
                std::string key = k;
                for (auto& c : key) c = static_cast<char>(tolower(c));
                lua_pushstring(co, v.c_str());
                lua_setfield(co, -2, key.c_str());
            }
            lua_setfield(co, -2, "headers");
            return 1;
        });
    });
    return yield_waiting(L, t, [&vm, id, job](const std::string& reason) {
        vm.app.http->cancel(job);
        wake_task(vm, id, [reason](lua_State* co) { return push_cancelled(co, reason); });
    });
}

const luaL_Reg k_http_functions[] = {
    {"http", l_http},
    {nullptr, nullptr},
};

}  // namespace

void register_http_api(lua_State* L) { luaL_register(L, nullptr, k_http_functions); }

}  // namespace orch
