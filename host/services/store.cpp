#include "services/store.h"
#include "services/json_number.h"
#include "services/store_sql.h"

#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>
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
// Split a record into known columns and the rest (stored as JSON).
// the JSON text of j's members other than `known` and "tasks" (the data
// column), written member by member: the text the copy without them dumps
// to (the same key order), without copying them (a session row is saved on
// every task change)
std::string rest_of(const json& j, std::initializer_list<const char*> known) {
    std::string out = "{";
    if (!j.is_object()) return "{}";  // the callers check that it is one
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& k = it.key();
        bool is_known = k == "tasks";
        for (const char* c : known)
            if (k == c) { is_known = true; break; }
        if (is_known) continue;
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

void Store::save_session(const json& s) {
    Stmt q(stmt("INSERT INTO sessions(id,workflow,task_file,status,started_at,updated_at,finished_at,pid,data) "
                "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9) ON CONFLICT(id) DO UPDATE SET "
                "workflow=excluded.workflow, task_file=excluded.task_file, status=excluded.status, "
                "started_at=excluded.started_at, updated_at=excluded.updated_at, "
                "finished_at=excluded.finished_at, pid=excluded.pid, data=excluded.data"));
    q.bind_json(1, field(s, "id")).bind_json(2, field(s, "workflow")).bind_json(3, field(s, "task_file"));
    q.bind_json(4, field(s, "status")).bind_json(5, field(s, "started_at")).bind_json(6, field(s, "updated_at"));
    q.bind_json(7, field(s, "finished_at")).bind_json(8, field(s, "pid"));
    q.bind(9, rest_of(s, {"id", "workflow", "task_file", "status", "started_at", "updated_at", "finished_at",
                          "pid"}));
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
    q.bind(12, rest_of(t, {"id", "seq", "title", "type", "status", "started_at", "completed_at", "cost_usd",
                           "tokens", "output_log", "session_id"}));
    if (q.step() != SQLITE_DONE) fail("saving task");
}

void Store::update_task(const std::string& session_id, const std::string& id, const json& fields) {
    // Known columns are set when present (null clears them); the rest is
    // merged into the JSON data column (json_patch: null removes a key).
    static const char* k_cols[] = {"seq", "title", "type", "status", "started_at", "completed_at", "cost_usd",
                                   "tokens", "output_log"};
    std::string sql = "UPDATE tasks SET data=json_patch(coalesce(data,'{}'),?1)";
    json rest = json::object();
    std::vector<const json*> vals;
    for (auto& [k, v] : fields.items()) {
        bool col = false;
        for (const char* c : k_cols)
            if (k == c) col = true;
        if (col) {
            vals.push_back(&v);
            sql += "," + k + "=?" + std::to_string(vals.size() + 3);
        } else if (k != "id" && k != "session_id") {
            rest[k] = v;
        }
    }
    sql += " WHERE session_id=?2 AND id=?3";
    sqlite3_stmt* raw = dynamic_stmt(sql);
    int rc, changes;
    {
        Stmt q(raw);
        q.bind(1, rest.dump()).bind(2, session_id).bind(3, id);
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

namespace {
// whether a text is written as it is between quotes: printable ASCII without
// '"' or '\\'; eight bytes at a time (a 10,000-task session is 6 MB of text)
bool plain_json_text(const unsigned char* t, size_t n) {
    constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    auto has_zero = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        std::uint64_t w;
        std::memcpy(&w, t + k, 8);
        // a byte >= 0x80, < 0x20 (its high bit survives w - 0x20..), '"' or '\\'
        if ((w | ((w - 0x20 * ones) & ~w)) & highs) return false;
        if (has_zero(w ^ (0x22 * ones)) | has_zero(w ^ (0x5c * ones))) return false;
    }
    for (; k < n; ++k)
        if (t[k] < 0x20 || t[k] >= 0x80 || t[k] == '"' || t[k] == '\\') return false;
    return true;
}

// one column as a JSON member `"name":value` (NULL: nothing), written as
// nlohmann writes it (a double with a ".0" when whole, so the text decodes
// to what row_object gives); a text with bytes to escape or beyond ASCII
// takes nlohmann's way
void append_member(std::string& out, sqlite3_stmt* s, int i, const std::string& key) {
    int type = sqlite3_column_type(s, i);
    if (type == SQLITE_NULL) return;
    if (out.back() != '{') out += ',';
    out += key;
    if (type == SQLITE_INTEGER) {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, sqlite3_column_int64(s, i));
        out.append(buf, static_cast<size_t>(r.ptr - buf));
    } else if (type == SQLITE_FLOAT) {
        append_json_double(out, sqlite3_column_double(s, i));
    } else {
        const auto* t = reinterpret_cast<const unsigned char*>(sqlite3_column_text(s, i));
        size_t n = static_cast<size_t>(sqlite3_column_bytes(s, i));
        if (!plain_json_text(t, n)) {
            out += store_sql::column(s, i).dump(-1, ' ', false, json::error_handler_t::replace);
            return;
        }
        out += '"';
        out.append(reinterpret_cast<const char*>(t), n);
        out += '"';
    }
}
}  // namespace

std::string Store::session_tasks_json(const std::string& id, std::string_view before, std::string_view after) {
    // The task columns, then `data`: the JSON object the store wrote there
    // (save_task's dump, update_task's json_patch), never holding a column's
    // key, is spliced in without its braces. Anything else in `data` (a
    // database edited by hand) takes row_object's way for that row.
    Stmt q(stmt(store_sql::k_session_tasks_in_order));
    q.bind(1, id);
    std::string keys[10];  // `"name":` of each column, written 10,000 times
    for (int i = 0; i < 10; ++i) keys[i] = std::string("\"") + sqlite3_column_name(q.raw(), i) + "\":";
    std::string out;
    {
        // room for the whole text at once (a task's row is ~650 bytes): a
        // string grown by doubling copies and faults in 6 MB more; pages
        // reserved and never written cost nothing
        Stmt c(stmt("SELECT count(*) FROM tasks WHERE session_id=?1"));
        c.bind(1, id);
        long long n = c.step() == SQLITE_ROW ? sqlite3_column_int64(c.raw(), 0) : 0;
        out.reserve(before.size() + after.size() + 2 + static_cast<size_t>(n) * 1024);
    }
    out += before;
    out += '[';
    const size_t first = out.size();
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
        sqlite3_stmt* s = q.raw();
        if (out.size() > first) out += ',';
        size_t start = out.size();
        const char* d = reinterpret_cast<const char*>(sqlite3_column_text(s, 10));
        size_t n = static_cast<size_t>(sqlite3_column_bytes(s, 10));
        bool object = d && n >= 2 && d[0] == '{' && d[n - 1] == '}';
        if (!object && d) {  // not an object: as load_session gives it
            out += row_object(s).dump(-1, ' ', false, json::error_handler_t::replace);
            continue;
        }
        out += '{';
        for (int i = 0; i < 10; ++i) append_member(out, s, i, keys[i]);
        std::string_view inner = object ? std::string_view(d + 1, n - 2) : std::string_view();
        while (!inner.empty() && (inner.front() == ' ' || inner.front() == '\n')) inner.remove_prefix(1);
        if (!inner.empty()) {
            if (out.size() > start + 1) out += ',';
            out += inner;
        }
        out += '}';
    }
    if (rc != SQLITE_DONE) fail("loading tasks");
    out += ']';
    out += after;
    return out;
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
    bool one_task = !session.empty() && !task.empty();
    Stmt q(stmt(one_task ? store_sql::k_task_events
                         : "SELECT * FROM (SELECT seq,ts,session_id,task_id,event,data FROM events "
                           "WHERE (?1 IS NULL OR session_id=?1) AND (?2 IS NULL OR task_id=?2) "
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
