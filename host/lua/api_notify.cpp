// orch.raw_notify(payload) -> number of sinks queued. The payload (a table)
// is written to the outbox once per configured sink (n8n, each Telegram
// chat); delivery happens later from the loop (services/outbox), which
// coalesces progress rows. orch.notify in scripts/orch/init.lua builds the
// payload and prints to the terminal. payload.buttons (Telegram's inline
// keyboard) is checked here, so a malformed one is the caller's error.
#include "lua/internal.h"
#include "lua/value.h"

#include "services/outbox.h"

#include <nlohmann/json.hpp>

namespace orch {

namespace {

// orch.raw_notify(payload) -> count
int l_raw_notify(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    App& app = app_of(L);
    if (!app.outbox) {
        lua_pushinteger(L, 0);
        return 1;
    }
    std::string err;
    int n = 0;
    try {
        nlohmann::json payload = to_json(L, 1, "payload");
        if (auto b = payload.find("buttons"); b != payload.end()) {
            std::string bad = check_buttons(*b);
            if (!bad.empty()) throw std::invalid_argument("buttons" + bad);
        }
        n = app.outbox->enqueue_all(payload.dump());
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) return luaL_error(L, "orch.notify: %s", err.c_str());
    lua_pushinteger(L, n);
    return 1;
}

// orch.notify_sinks() -> { name... }
int l_notify_sinks(lua_State* L) {
    App& app = app_of(L);
    lua_newtable(L);
    if (!app.outbox) return 1;
    int i = 1;
    for (auto& name : app.outbox->sink_names()) {
        lua_pushstring(L, name.c_str());
        lua_rawseti(L, -2, i++);
    }
    return 1;
}

const luaL_Reg k_notify_functions[] = {
    {"raw_notify", l_raw_notify},
    {"notify_sinks", l_notify_sinks},
    {nullptr, nullptr},
};

}  // namespace

void register_notify_api(lua_State* L) { luaL_register(L, nullptr, k_notify_functions); }

}  // namespace orch
