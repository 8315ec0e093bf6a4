// Internal to host/services/store*.cpp: a cached statement's bindings and
// the row -> JSON conversion every query uses. Not part of the Store API.
#pragma once
#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <string>

namespace orch::store_sql {

using json = nlohmann::json;

class Stmt {
public:
    explicit Stmt(sqlite3_stmt* s) : s_(s) {}
    ~Stmt() { sqlite3_reset(s_); sqlite3_clear_bindings(s_); }
    Stmt& bind(int i, const std::string& v) {
        sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt& bind(int i, double v) { sqlite3_bind_double(s_, i, v); return *this; }
    Stmt& bind(int i, long long v) { sqlite3_bind_int64(s_, i, v); return *this; }
    Stmt& bind_json(int i, const json& j) {
        if (j.is_null()) sqlite3_bind_null(s_, i);
        else if (j.is_string()) bind(i, j.get<std::string>());
        else if (j.is_number_integer()) bind(i, j.get<long long>());
        else if (j.is_number()) bind(i, j.get<double>());
        else if (j.is_boolean()) bind(i, static_cast<long long>(j.get<bool>()));
        else bind(i, j.dump());
        return *this;
    }
    int step() { return sqlite3_step(s_); }
    sqlite3_stmt* raw() { return s_; }

private:
    sqlite3_stmt* s_;
};

// A session's task columns in load_session's order (seq, rowid), walking
// the index tasks_by_seq (session_id, seq, then the rowid every index
// ends with): no sort, each row read by its rowid as the walk meets it.
inline constexpr const char* k_session_tasks_by_index =
    "SELECT id,seq,title,type,status,started_at,completed_at,cost_usd,tokens,output_log,data "
    "FROM tasks WHERE session_id=?1 ORDER BY seq, rowid";

// The same for a database without tasks_by_seq (no writer has migrated it
// yet: status opens read-only): it sorts (seq, rowid) only, never whole
// rows (they spill a 10,000-task sort to a temp file past cache_size).
inline constexpr const char* k_session_tasks_in_order =
    "SELECT t.id,t.seq,t.title,t.type,t.status,t.started_at,t.completed_at,t.cost_usd,t.tokens,t.output_log,t.data "
    "FROM (SELECT rowid AS r FROM tasks WHERE session_id=?1 ORDER BY seq, rowid LIMIT -1) o "
    "CROSS JOIN tasks t ON t.rowid=o.r";

// The newest ?3 events of one task of a session, oldest first: the index
// events_by_task gives them without a walk of the whole events table (a
// task's finish reads its events: with the filters written as
// "?1 IS NULL OR ...", SQLite scanned every event of every session, a cost
// that grew with the day).
// one session's (events_by_session: only its rows are read, newest first),
// also of one kind (its rows are read until enough are found: an index of
// their kind too would cost every event's insert ~1.4% of a DAG task's
// instructions, for `status` of a stopped session of thousands of tasks)
inline constexpr const char* k_session_events =
    "SELECT * FROM (SELECT seq,ts,session_id,task_id,event,data FROM events "
    "WHERE session_id=?1 ORDER BY seq DESC LIMIT ?3) ORDER BY seq";
inline constexpr const char* k_session_kind_events =
    "SELECT * FROM (SELECT seq,ts,session_id,task_id,event,data FROM events "
    "WHERE session_id=?1 AND event=?4 ORDER BY seq DESC LIMIT ?3) ORDER BY seq";

inline constexpr const char* k_task_events =
    "SELECT * FROM (SELECT seq,ts,session_id,task_id,event,data FROM events "
    "WHERE session_id=?1 AND task_id=?2 AND (?4 IS NULL OR event=?4) ORDER BY seq DESC LIMIT ?3) ORDER BY seq";

inline json column(sqlite3_stmt* s, int i) {
    switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER: return sqlite3_column_int64(s, i);
    case SQLITE_FLOAT: return sqlite3_column_double(s, i);
    case SQLITE_TEXT:
        return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, i)),
                           static_cast<size_t>(sqlite3_column_bytes(s, i)));
    default: return nullptr;
    }
}

// Row to object; a column named "data" holding JSON is merged in.
inline json row_object(sqlite3_stmt* s) {
    json o = json::object();
    int n = sqlite3_column_count(s);
    for (int i = 0; i < n; ++i) {
        std::string name = sqlite3_column_name(s, i);
        json v = column(s, i);
        if ((name == "data" || name == "args" || name == "payload") && v.is_string()) {
            json d = json::parse(v.get<std::string>(), nullptr, false);
            if (name == "data" && d.is_object()) {
                for (auto& [k, val] : d.items())
                    if (!o.contains(k)) o[k] = val;
                continue;
            }
            if (!d.is_discarded()) v = d;
        }
        if (!v.is_null()) o[name] = v;
    }
    return o;
}

}  // namespace orch::store_sql
