#include "services/store.h"
#include "services/store_sql.h"

#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <utility>

namespace orch {

using json = nlohmann::json;
using store_sql::Stmt;
using store_sql::row_object;

Store::~Store() {
    if (db_) close();
}

void Store::fail(const std::string& what) {
    std::string msg = sqlite3_errmsg(db_);
    int code = sqlite3_extended_errcode(db_);
    std::string hint;
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
        hint = " (another process holds a lock on the database)";
    else if ((code & 0xff) == SQLITE_READONLY)
        hint = " (the database or its folder is read-only)";
    else if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB)
        hint = " (the file is damaged; it was not modified - move it away to start fresh)";
    else if ((code & 0xff) == SQLITE_FULL)
        hint = " (the disk is full)";
    throw StoreError(path_ + ": " + what + ": " + msg + hint);
}

sqlite3_stmt* Store::stmt(const char* sql) {
    for (auto& [k, s] : cache_)
        if (k == sql) return s;
    ensure_open();
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) fail("preparing a statement");
    cache_.emplace_back(sql, s);
    return s;
}

sqlite3_stmt* Store::dynamic_stmt(const std::string& sql) {
    auto it = dynamic_.find(sql);
    if (it != dynamic_.end()) return it->second;
    ensure_open();
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) fail("preparing a statement");
    dynamic_.emplace(sql, s);
    return s;
}

void Store::exec(const char* sql) {
    ensure_open();
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        sqlite3_free(err);
        fail(std::string("running ") + std::string(sql).substr(0, 40));
    }
}

int Store::schema_version() {
    Stmt s(stmt("PRAGMA user_version"));
    if (s.step() != SQLITE_ROW) fail("reading user_version");
    return sqlite3_column_int(s.raw(), 0);
}

std::string Store::integrity_check() {
    Stmt s(stmt("PRAGMA quick_check"));
    if (s.step() != SQLITE_ROW) fail("integrity check");
    return reinterpret_cast<const char*>(sqlite3_column_text(s.raw(), 0));
}

bool Store::in_transaction() const { return db_ && sqlite3_get_autocommit(db_) == 0; }
void Store::begin() {
    Stmt q(stmt("BEGIN IMMEDIATE"));
    if (q.step() != SQLITE_DONE) fail("starting a transaction");
}
void Store::commit() {
    Stmt q(stmt("COMMIT"));
    if (q.step() != SQLITE_DONE) fail("committing");
    if (std::exchange(wake_at_commit_, false)) wake_waiters();
}
void Store::rollback() {
    if (db_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    wake_at_commit_ = false;
}

namespace {
// the fields with columns of their own; the others go to the data column as JSON
const char* k_session_cols[] = {"id", "workflow", "task_file", "status", "started_at", "updated_at", "finished_at",
                                "pid"};
const char* k_task_cols[] = {"seq", "title", "type", "status", "started_at", "completed_at", "cost_usd",
                             "tokens", "output_log"};
bool one_of(const std::string& k, const char* const* from, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (k == from[i]) return true;
    return false;
}
}  // namespace

bool Store::session_column(const std::string& k) { return one_of(k, k_session_cols, std::size(k_session_cols)); }
bool Store::task_column(const std::string& k) { return one_of(k, k_task_cols, std::size(k_task_cols)); }

namespace {
// Split a record into known columns and the rest (stored as JSON).
// the JSON text of j's members other than `known` and "tasks" (the data
// column), written member by member: the text the copy without them dumps
// to (the same key order), without copying them (a session row is saved on
// every task change)
std::string rest_of(const json& j, bool (*known)(const std::string& key)) {
    std::string out = "{";
    if (!j.is_object()) return "{}";  // the callers check that it is one
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& k = it.key();
        if (k == "tasks" || known(k)) continue;
        if (out.size() > 1) out += ',';
        out += json(k).dump();
        out += ':';
        out += it.value().dump();
    }
    out += '}';
    return out;
}
json field(const json& j, const char* k) {
    auto it = j.find(k);
    return it == j.end() ? json(nullptr) : *it;
}
}  // namespace


void Store::save_session(const json& s) { save_session(s, rest_of(s, session_column)); }

void Store::save_session(const json& s, const std::string& data) {
    Stmt q(stmt("INSERT INTO sessions(id,workflow,task_file,status,started_at,updated_at,finished_at,pid,data) "
                "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9) ON CONFLICT(id) DO UPDATE SET "
                "workflow=excluded.workflow, task_file=excluded.task_file, status=excluded.status, "
                "started_at=excluded.started_at, updated_at=excluded.updated_at, "
                "finished_at=excluded.finished_at, pid=excluded.pid, data=excluded.data"));
    q.bind_json(1, field(s, "id")).bind_json(2, field(s, "workflow")).bind_json(3, field(s, "task_file"));
    q.bind_json(4, field(s, "status")).bind_json(5, field(s, "started_at")).bind_json(6, field(s, "updated_at"));
    q.bind_json(7, field(s, "finished_at")).bind_json(8, field(s, "pid"));
    q.bind(9, data);
    if (q.step() != SQLITE_DONE) fail("saving session");
}

void Store::save_task(const std::string& session_id, const json& t) {
    Stmt q(stmt("INSERT INTO tasks(session_id,id,seq,title,type,status,started_at,completed_at,cost_usd,tokens,"
                "output_log,data) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12) "
                "ON CONFLICT(session_id,id) DO UPDATE SET seq=excluded.seq, title=excluded.title, "
                "type=excluded.type, status=excluded.status, started_at=excluded.started_at, "
                "completed_at=excluded.completed_at, cost_usd=excluded.cost_usd, tokens=excluded.tokens, "
                "output_log=excluded.output_log, data=excluded.data"));
    json id = field(t, "id");
    if (id.is_number()) id = id.dump();
    q.bind(1, session_id).bind_json(2, id).bind_json(3, field(t, "seq")).bind_json(4, field(t, "title"));
    q.bind_json(5, field(t, "type")).bind_json(6, field(t, "status")).bind_json(7, field(t, "started_at"));
    q.bind_json(8, field(t, "completed_at")).bind_json(9, field(t, "cost_usd")).bind_json(10, field(t, "tokens"));
    q.bind_json(11, field(t, "output_log"));
    q.bind(12, rest_of(t, [](const std::string& k) { return k == "id" || k == "session_id" || task_column(k); }));
    if (q.step() != SQLITE_DONE) fail("saving task");
}


void Store::update_task(const std::string& session_id, const std::string& id, const json& fields) {
    json columns = json::object(), rest = json::object();
    for (auto& [k, v] : fields.items()) {
        if (task_column(k)) columns[k] = v;
        else if (k != "id" && k != "session_id") rest[k] = v;
    }
    update_task(session_id, id, columns, rest.dump());
}

void Store::update_task(const std::string& session_id, const std::string& id, const json& columns,
                        const std::string& rest) {
    // The columns are set (null clears one); the rest is merged into the
    // JSON data column (json_patch: null removes a key).
    std::string sql = "UPDATE tasks SET data=json_patch(coalesce(data,'{}'),?1)";
    std::vector<const json*> vals;
    for (auto& [k, v] : columns.items()) {
        vals.push_back(&v);
        sql += "," + k + "=?" + std::to_string(vals.size() + 3);
    }
    sql += " WHERE session_id=?2 AND id=?3";
    sqlite3_stmt* raw = dynamic_stmt(sql);
    int rc, changes;
    {
        Stmt q(raw);
        q.bind(1, rest).bind(2, session_id).bind(3, id);
        for (size_t i = 0; i < vals.size(); ++i) q.bind_json(static_cast<int>(i + 4), *vals[i]);
        rc = q.step();
        changes = sqlite3_changes(db_);
    }
    if (rc != SQLITE_DONE) fail("updating task " + id);
    if (changes != 1) throw StoreError(path_ + ": no task " + id + " in session " + session_id);
}

std::optional<json> Store::load_session_row(const std::string& id) {
    Stmt q(stmt("SELECT * FROM sessions WHERE id=?1"));
    q.bind(1, id);
    int rc = q.step();
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) fail("loading session");
    return row_object(q.raw());
}

std::optional<json> Store::load_session(const std::string& id) {
    auto row = load_session_row(id);
    if (!row) return row;
    json& s = *row;
    s.erase("summary");
    json tasks = json::array();
    Stmt q(stmt("SELECT * FROM tasks WHERE session_id=?1 ORDER BY seq, rowid"));
    q.bind(1, id);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
        json t = row_object(q.raw());
        t.erase("session_id");
        tasks.push_back(std::move(t));
    }
    if (rc != SQLITE_DONE) fail("loading tasks");
    s["tasks"] = std::move(tasks);
    return row;
}

std::optional<std::string> Store::latest_session_id() {
    Stmt q(stmt("SELECT id FROM sessions ORDER BY started_at DESC, rowid DESC LIMIT 1"));
    int rc = q.step();
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) fail("finding the latest session");
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(q.raw(), 0)));
}

json Store::list_sessions(int limit) {
    json out = json::array();
    Stmt q(stmt("SELECT s.*, (SELECT count(*) FROM tasks t WHERE t.session_id=s.id) AS total_tasks, "
                "(SELECT count(*) FROM tasks t WHERE t.session_id=s.id AND t.status='completed') AS completed_tasks "
                "FROM sessions s ORDER BY started_at DESC, rowid DESC LIMIT ?1"));
    q.bind(1, static_cast<long long>(limit));
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
        out.push_back(row_object(q.raw()));
        out.back().erase("summary");
    }
    if (rc != SQLITE_DONE) fail("listing sessions");
    return out;
}

long long Store::add_event(double ts, const std::string& session, const std::string& task,
                           const std::string& event, const std::string& data_json) {
    Stmt q(stmt("INSERT INTO events(ts,session_id,task_id,event,data) VALUES(?1,?2,?3,?4,?5)"));
    q.bind(1, ts).bind(4, event).bind(5, data_json);
    if (!session.empty()) q.bind(2, session);
    if (!task.empty()) q.bind(3, task);
    if (q.step() != SQLITE_DONE) fail("recording event " + event);
    return sqlite3_last_insert_rowid(db_);
}

json Store::recent_events(const std::string& session, const std::string& task, int limit, const std::string& event) {
    json out = json::array();
    // a session named: its index (a query of the whole table with the session
    // as an optional term walks every event of every session, newest first)
    bool one_task = !session.empty() && !task.empty();
    bool one_session = !session.empty() && task.empty();
    Stmt q(stmt(one_task      ? store_sql::k_task_events
                : one_session ? (event.empty() ? store_sql::k_session_events : store_sql::k_session_kind_events)
                              : "SELECT * FROM (SELECT seq,ts,session_id,task_id,event,data FROM events "
                                "WHERE (?2 IS NULL OR task_id=?2) "
                                "AND (?4 IS NULL OR event=?4) ORDER BY seq DESC LIMIT ?3) ORDER BY seq"));
    if (!session.empty()) q.bind(1, session);
    if (!task.empty()) q.bind(2, task);
    if (!event.empty()) q.bind(4, event);
    q.bind(3, static_cast<long long>(limit));
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) out.push_back(row_object(q.raw()));
    if (rc != SQLITE_DONE) fail("reading events");
    return out;
}

void Store::kv_put(const std::string& key, const std::string& value_json, double now) {
    Stmt q(stmt("INSERT INTO kv(key,value,updated_at) VALUES(?1,?2,?3) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at"));
    q.bind(1, key).bind(2, value_json).bind(3, now);
    if (q.step() != SQLITE_DONE) fail("saving state " + key);
}

std::optional<std::string> Store::kv_get(const std::string& key) {
    Stmt q(stmt("SELECT value FROM kv WHERE key=?1"));
    q.bind(1, key);
    int rc = q.step();
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) fail("loading state " + key);
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(q.raw(), 0)));
}

}  // namespace orch
