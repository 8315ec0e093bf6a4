// orch.raw_notify(rows) -> number of rows queued. Each row is a ready
// request for one sink, built by orch.notify (scripts/orch/notify.lua):
// {sink=, type=, session=, task=, request={method=, url=, headers=, body=}}
// (services/outbox.h has the format). The rows are written to the outbox in
// one transaction; delivery happens later from the loop. A row for a sink
// that is not configured, or with a malformed request, is the caller's error
// and nothing is queued.
#include "lua/internal.h"
#include "lua/value.h"

#include "services/outbox.h"

#include <nlohmann/json.hpp>

namespace orch {

namespace {

// orch.raw_notify(rows) -> count
int l_raw_notify(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    App& app = app_of(L);
    std::string err;
    int n = 0;
    try {
        nlohmann::json rows = to_json(L, 1, "rows");
        std::vector<OutboxRow> out;
        if (rows.is_array()) {
            for (size_t i = 0; i < rows.size(); ++i) {
                nlohmann::json& r = rows[i];
                std::string at = "rows[" + std::to_string(i + 1) + "]";
                if (!r.is_object() || !r.contains("sink") || !r["sink"].is_string())
                    throw std::invalid_argument(at + ".sink must be a sink's name");
                std::string sink = r["sink"].get<std::string>();
                r.erase("sink");
                out.push_back({sink, r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
            }
        } else if (!rows.empty()) {
            throw std::invalid_argument("rows must be a list");
        }
        if (app.outbox) n = app.outbox->enqueue(out);
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) return luaL_error(L, "orch.notify: %s", err.c_str());
    lua_pushinteger(L, n);
    return 1;
}

const luaL_Reg k_notify_functions[] = {
    {"raw_notify", l_raw_notify},
    {nullptr, nullptr},
};

}  // namespace

void register_notify_api(lua_State* L) { luaL_register(L, nullptr, k_notify_functions); }

}  // namespace orch
