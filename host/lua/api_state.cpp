// State in SQLite: orch.save_state / orch.load_state (JSON values by key),
// sessions and tasks (orch.save_session, orch.save_task, orch.load_session,
// orch.session_tasks_json, orch.latest_session, orch.list_sessions), orch.recent_events,
// orch.dead_notifications (the outbox rows a sink refused for good) and
// orch.atomically (several writes, one commit). Store failures raise: a
// workflow must not go on believing something was recorded.
#include "lua/internal.h"
#include "lua/json_text.h"
#include "lua/text_source.h"
#include "lua/value.h"

#include "services/journal.h"
#include "services/store.h"

#include <nlohmann/json.hpp>

namespace orch {

using json = nlohmann::json;

namespace {

Store& store_of(lua_State* L, const char* fname) {
    App& app = app_of(L);
    if (!app.store) luaL_error(L, "%s: the state database is not open", fname);
    return *app.store;
}

// Runs fn, turning C++ exceptions into Lua errors prefixed with fname.
template <typename F>
int guarded(lua_State* L, const char* fname, F&& fn) {
    std::string err;
    try {
        return fn();
    } catch (const StoreError& e) {
        err = e.what();
        app_of(L).state_error = err;
    } catch (const std::exception& e) {
        err = e.what();
    }
    return luaL_error(L, "%s: %s", fname, err.c_str());
}

// orch.save_state(key, value)
int l_save_state(lua_State* L) {
    std::string key = luaL_checkstring(L, 1);
    luaL_checkany(L, 2);
    Store& s = store_of(L, "orch.save_state");
    return guarded(L, "orch.save_state", [&] {
        s.kv_put(key, to_json(L, 2, "value").dump(), wall_now());
        return 0;
    });
}

// orch.load_state(key) -> value | nil
int l_load_state(lua_State* L) {
    std::string key = luaL_checkstring(L, 1);
    Store& s = store_of(L, "orch.load_state");
    return guarded(L, "orch.load_state", [&] {
        auto v = s.kv_get(key);
        json j = v ? json::parse(*v) : json(nullptr);
        if (j.is_null()) lua_pushnil(L);  // absent, or saved as orch.json.null
        else push_json(L, j);
        return 1;
    });
}

// orch.save_session{id=, status=, task_file=, started_at=, ...}
int l_save_session(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    Store& s = store_of(L, "orch.save_session");
    return guarded(L, "orch.save_session", [&] {
        // the row is saved on every task change: its data column written from
        // Lua as text (json_text.h), the DOM only for what that path refuses
        std::vector<std::pair<std::string, std::string>> members;
        json j = json::object();
        std::string data;
        bool text = json_members(L, 1, members);
        if (text) {
            data = "{";
            for (const auto& [k, member] : members) {
                if (k == "tasks") continue;
                if (Store::session_column(k)) {
                    lua_getfield(L, 1, k.c_str());
                    j[k] = to_json(L, -1, "session." + k);
                    lua_pop(L, 1);
                    continue;
                }
                if (data.size() > 1) data += ',';
                data += member;
            }
            data += '}';
        } else {
            j = to_json(L, 1, "session");
        }
        if (!j.contains("id") || !j["id"].is_string()) throw std::runtime_error("session.id must be a string");
        if (!j.contains("status") || !j["status"].is_string()) throw std::runtime_error("session.status must be a string");
        j["updated_at"] = wall_now();
        text ? s.save_session(j, data) : s.save_session(j);
        return 0;
    });
}

// orch.save_task(session_id, {id=, title=, status=, ...})
int l_save_task(lua_State* L) {
    std::string session = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    Store& s = store_of(L, "orch.save_task");
    return guarded(L, "orch.save_task", [&] {
        json j = to_json(L, 2, "task");
        if (!j.contains("id")) throw std::runtime_error("task.id is required");
        if (!j.contains("status") || !j["status"].is_string()) throw std::runtime_error("task.status must be a string");
        s.save_task(session, j);
        return 0;
    });
}

// orch.update_task(session_id, task_id, {field=value...}): only these fields
// change; orch.json.null clears one. Raises if the task does not exist.
int l_update_task(lua_State* L) {
    std::string session = luaL_checkstring(L, 1);
    std::string id = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    Store& s = store_of(L, "orch.update_task");
    return guarded(L, "orch.update_task", [&] {
        // a step of every task: its fields written from Lua as text (json_text.h)
        std::vector<std::pair<std::string, std::string>> members;
        if (!json_members(L, 3, members)) {
            s.update_task(session, id, to_json(L, 3, "fields"));
            return 0;
        }
        json columns = json::object();
        std::string rest = "{";
        for (const auto& [k, member] : members) {
            if (Store::task_column(k)) {
                lua_getfield(L, 3, k.c_str());
                columns[k] = to_json(L, -1, "fields." + k);
                lua_pop(L, 1);
            } else if (k != "id" && k != "session_id") {
                if (rest.size() > 1) rest += ',';
                rest += member;
            }
        }
        s.update_task(session, id, columns, rest + "}");
        return 0;
    });
}

// orch.load_session(id [, {tasks = false}]) -> session (with .tasks) | nil;
// tasks = false: the row alone, with its .summary when one is stored
int l_load_session(lua_State* L) {
    std::string id = luaL_checkstring(L, 1);
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
    bool tasks = lua_isnoneornil(L, 2) || opt_bool(L, 2, "tasks", true);
    Store& s = store_of(L, "orch.load_session");
    return guarded(L, "orch.load_session", [&] {
        auto j = tasks ? s.load_session(id) : s.load_session_row(id);
        if (!j) lua_pushnil(L);
        else push_json(L, *j);
        return 1;
    });
}

// orch.session_tasks_json(id [, before, after]) -> the JSON text of the
// session's tasks (the array orch.load_session's .tasks encodes to), for a
// caller that only prints them: no task becomes a Lua table. A text object
// (lua/text_source.h): read from the rows when it is printed (the `out` of
// a CLI answer: in pieces, never 8 MB in one string) or made a string
// (tostring); before .. the array .. after, without a concatenation in Lua.
int l_session_tasks_json(lua_State* L) {
    std::string id = luaL_checkstring(L, 1);
    size_t nb = 0, na = 0;
    const char* b = luaL_optlstring(L, 2, "", &nb);
    const char* a = luaL_optlstring(L, 3, "", &na);
    store_of(L, "orch.session_tasks_json");
    App* app = &app_of(L);
    push_text_source(L, [app, id, before = std::string(b, nb), after = std::string(a, na)](const TextSink& sink) {
        if (!app->store) throw std::runtime_error("orch.session_tasks_json: the state database is not open");
        try {
            app->store->write_session_tasks_json(id, before, after, sink);
        } catch (const StoreError& e) {
            app->state_error = e.what();  // a state failure inside a call: exit 5 (Vm::call)
            throw;
        }
    });
    return 1;
}

// orch.latest_session() -> id | nil
int l_latest_session(lua_State* L) {
    Store& s = store_of(L, "orch.latest_session");
    return guarded(L, "orch.latest_session", [&] {
        auto id = s.latest_session_id();
        if (!id) lua_pushnil(L);
        else lua_pushstring(L, id->c_str());
        return 1;
    });
}

// orch.list_sessions([limit]) -> { session... } newest first
int l_list_sessions(lua_State* L) {
    int limit = static_cast<int>(luaL_optinteger(L, 1, 20));
    Store& s = store_of(L, "orch.list_sessions");
    return guarded(L, "orch.list_sessions", [&] {
        push_json(L, s.list_sessions(limit));
        return 1;
    });
}

// orch.recent_events{session=, task=, event=, limit=} -> { {seq=, ts=, event=, ...}... }
int l_recent_events(lua_State* L) {
    std::string session, task, event;
    int limit = 20;
    if (lua_istable(L, 1)) {
        session = opt_string(L, 1, "session");
        task = opt_string(L, 1, "task");
        event = opt_string(L, 1, "event");
        limit = static_cast<int>(opt_number(L, 1, "limit", 20));
    }
    Store& s = store_of(L, "orch.recent_events");
    Journal* journal = app_of(L).journal.get();
    return guarded(L, "orch.recent_events", [&] {
        if (journal) journal->flush_for(session, task, event);  // the rows still batched are events too
        push_json(L, s.recent_events(session, task, limit, event));
        return 1;
    });
}

// orch.dead_notifications([limit]) -> {count=, newest={ {id=, sink=, type=,
// session=, dead_at=, attempts=, last_error=}... }}: the outbox rows a sink
// refused for good, the newest `limit` (default 5) of them
int l_dead_notifications(lua_State* L) {
    int limit = static_cast<int>(luaL_optinteger(L, 1, 5));
    Store& s = store_of(L, "orch.dead_notifications");
    return guarded(L, "orch.dead_notifications", [&] {
        push_json(L, json{{"count", s.outbox_dead_count()}, {"newest", s.outbox_dead(limit)}});
        return 1;
    });
}

// orch.atomically(fn, ...) -> fn's results; every store write inside is one commit.
// fn must not wait (no yields inside a transaction).
int l_atomically(lua_State* L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    Store& s = store_of(L, "orch.atomically");
    int top = lua_gettop(L);
    std::string err;
    Journal* journal = app_of(L).journal.get();
    bool begun = false;
    try {
        s.begin();
        begun = true;
        // events batched earlier go first in this commit: their order kept, no commit of their own
        if (journal) journal->flush_into_transaction();
    } catch (const StoreError& e) {
        err = e.what();
        app_of(L).state_error = err;
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) {
        if (begun) s.rollback();
        if (begun && journal) journal->end_transaction(false);
        return luaL_error(L, "orch.atomically: %s", err.c_str());
    }
    int rc = lua_pcall(L, top - 1, LUA_MULTRET, 0);
    if (rc != 0) {
        s.rollback();
        if (journal) journal->end_transaction(false);
        return lua_error(L);
    }
    try {
        s.commit();
        if (journal) journal->end_transaction(true);
    } catch (const std::exception& e) {
        s.rollback();
        if (journal) journal->end_transaction(false);
        err = e.what();
        app_of(L).state_error = err;
    }
    if (!err.empty()) return luaL_error(L, "orch.atomically: %s", err.c_str());
    return lua_gettop(L);
}

const luaL_Reg k_state_functions[] = {
    {"save_state", l_save_state},       {"load_state", l_load_state},     {"save_session", l_save_session},
    {"save_task", l_save_task},         {"update_task", l_update_task},   {"load_session", l_load_session},
    {"session_tasks_json", l_session_tasks_json}, {"latest_session", l_latest_session},
    {"list_sessions", l_list_sessions}, {"recent_events", l_recent_events}, {"atomically", l_atomically},
    {"dead_notifications", l_dead_notifications},
    {nullptr, nullptr},
};

}  // namespace

void register_state_api(lua_State* L) { luaL_register(L, nullptr, k_state_functions); }

}  // namespace orch
