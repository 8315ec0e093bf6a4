// Opening the state database: the checks that refuse a file that is not
// ours, the connection's settings and the schema migrations (store.cpp has
// the rest of Store).
#include "services/store.h"
#include "services/store_sql.h"

#include <cstring>
#include <fstream>
#include <sqlite3.h>
#include <sys/stat.h>

namespace orch {

using store_sql::Stmt;

namespace {

constexpr int k_application_id = 0x4f524348;  // "ORCH"
// 2: sessions_by_start (the latest session without a sort of every row: the
// status route, /status and `sessions` ask for it all the time). Migrating
// re-runs the schema, which is all IF NOT EXISTS. 3: approvals.taken_at
// (added to older tables by migrate()). 4: outbox.dead_at and
// outbox.refusals (dead-lettered notifications; added the same way).
// 5: tasks_by_seq (a session's tasks in order without a sort: status --json
// of a 10,000-task session sorted every row). 6: approvals.channel (cli,
// webhook, rest, telegram, terminal, timer: how a decision came; added the
// same way, NULL in older rows). 7: events_by_task (a task's newest events
// without a scan of every event: read at every task's finish).
constexpr int k_schema_version = 7;

const char* k_schema = R"SQL(
CREATE TABLE IF NOT EXISTS sessions(
  id TEXT PRIMARY KEY, workflow TEXT, task_file TEXT, status TEXT NOT NULL,
  started_at REAL, updated_at REAL, finished_at REAL, pid INTEGER, data TEXT);
CREATE TABLE IF NOT EXISTS tasks(
  session_id TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER, title TEXT, type TEXT,
  status TEXT NOT NULL, started_at REAL, completed_at REAL, cost_usd REAL, tokens INTEGER,
  output_log TEXT, data TEXT, PRIMARY KEY(session_id, id));
CREATE TABLE IF NOT EXISTS events(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, session_id TEXT, task_id TEXT,
  event TEXT NOT NULL, data TEXT);
CREATE INDEX IF NOT EXISTS events_by_session ON events(session_id, seq);
CREATE INDEX IF NOT EXISTS events_by_task ON events(session_id, task_id, seq);
CREATE INDEX IF NOT EXISTS sessions_by_start ON sessions(started_at);
CREATE INDEX IF NOT EXISTS tasks_by_seq ON tasks(session_id, seq);
CREATE TABLE IF NOT EXISTS approvals(
  id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT, task_id TEXT, kind TEXT, prompt TEXT,
  status TEXT NOT NULL, action TEXT, text TEXT, by TEXT, created_at REAL, resolved_at REAL,
  taken_at REAL, channel TEXT);
CREATE TABLE IF NOT EXISTS commands(
  id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT, command TEXT NOT NULL, args TEXT,
  by TEXT, created_at REAL, consumed_at REAL);
-- outbox: delivered_at is set once a row is settled: sent, coalesced or
-- dead (dead_at too; last_error says which; store.h)
CREATE TABLE IF NOT EXISTS outbox(
  id INTEGER PRIMARY KEY AUTOINCREMENT, sink TEXT NOT NULL, payload TEXT NOT NULL,
  created_at REAL, attempts INTEGER NOT NULL DEFAULT 0, next_at REAL, delivered_at REAL,
  last_error TEXT, dead_at REAL, refusals INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(delivered_at, next_at);
CREATE TABLE IF NOT EXISTS kv(key TEXT PRIMARY KEY, value TEXT, updated_at REAL);
)SQL";

// The file's first 100 bytes: the SQLite header. `current` when it names an
// orch-host database at this schema version (user_version at offset 60,
// application_id at 68, both big-endian).
bool looks_like_sqlite(const std::string& path, bool& exists, bool& empty, bool& current) {
    struct stat st;
    exists = stat(path.c_str(), &st) == 0;
    empty = exists && st.st_size == 0;
    current = false;
    if (!exists || empty) return true;
    std::ifstream f(path, std::ios::binary);
    unsigned char head[100] = {};
    f.read(reinterpret_cast<char*>(head), sizeof head);
    if (std::memcmp(head, "SQLite format 3\0", 16) != 0) return false;
    auto be32 = [&](int at) {
        return static_cast<int>((unsigned(head[at]) << 24) | (unsigned(head[at + 1]) << 16) |
                                (unsigned(head[at + 2]) << 8) | unsigned(head[at + 3]));
    };
    current = f.gcount() == sizeof head && be32(60) == k_schema_version && be32(68) == k_application_id;
    return true;
}

}  // namespace

Store::Store(const std::string& path, bool read_only, bool defer) : path_(path), read_only_(read_only) {
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))  // a FIFO would block the open below
        throw StoreError(path + ": not a regular file; refusing to use it as the state database. "
                         "Set paths.state_db (ORCH_STATE_DB) to a file.");
    bool exists, empty, current;
    if (!looks_like_sqlite(path, exists, empty, current))
        throw StoreError(path + ": not an orch-host database (the file is not SQLite); refusing to touch it. "
                         "Move it away or set paths.state_db to another file.");
    if (read_only && !exists) throw StoreError(path + ": no state database yet (nothing has run)");
    if (!(defer && current && !read_only)) open();
}

// Everything below runs again, checks included, at a deferred first use;
// a failure leaves the store closed, so the next use tries (and reports) again.
void Store::open() {
    const std::string& path = path_;
    bool read_only = read_only_;
    int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw StoreError(path + ": cannot open state database: " + msg);
    }
    sqlite3_busy_timeout(db_, 5000);
    sqlite3_extended_result_codes(db_, 1);
    try {
        exec("PRAGMA foreign_keys=ON");
        int app = 0, ver = 0, tables = 0;
        {
            Stmt s(stmt("PRAGMA application_id"));
            if (s.step() == SQLITE_ROW) app = sqlite3_column_int(s.raw(), 0);
        }
        {
            Stmt s(stmt("SELECT count(*) FROM sqlite_master"));
            if (s.step() != SQLITE_ROW) fail("reading schema");
            tables = sqlite3_column_int(s.raw(), 0);
        }
        ver = schema_version();
        if (tables > 0 && app != k_application_id)
            throw StoreError(path + ": this SQLite file belongs to another application (application_id " +
                             std::to_string(app) + "); refusing to touch it");
        if (ver > k_schema_version)
            throw StoreError(path + ": schema version " + std::to_string(ver) +
                             " is newer than this orch-host understands (" + std::to_string(k_schema_version) +
                             "); upgrade orch-host");
        if (!read_only) {
            exec("PRAGMA journal_mode=WAL");
            exec("PRAGMA synchronous=NORMAL");
            exec("PRAGMA cache_size=-512");  // KiB; rows are touched a few at a time
            if (ver < k_schema_version) migrate();
        } else {
            // a reader (status, sessions, report) reads pages by mmap, not one
            // pread of 4 KB each (a 10,000-task status: 8,500 of them)
            exec("PRAGMA mmap_size=268435456");
        }
        if (on_open_) on_open_();  // may use the store: db_ is set
        on_open_ = nullptr;
    } catch (...) {
        close();
        throw;
    }
}

void Store::close() {
    for (auto& [sql, s] : cache_) sqlite3_finalize(s);
    cache_.clear();
    for (auto& [sql, s] : dynamic_) sqlite3_finalize(s);
    dynamic_.clear();
    sqlite3_close(db_);
    db_ = nullptr;
}

void Store::when_open(std::function<void()> fn) {
    if (db_) return fn();
    on_open_ = std::move(fn);
}


bool Store::has_column(const char* table, const char* column) {
    Stmt q(dynamic_stmt(std::string("SELECT count(*) FROM pragma_table_info('") + table + "') WHERE name='" + column +
                        "'"));
    return q.step() == SQLITE_ROW && sqlite3_column_int(q.raw(), 0) > 0;
}

void Store::migrate() {
    exec("BEGIN IMMEDIATE");
    try {
        exec(k_schema);
        if (!has_column("approvals", "taken_at"))  // every decision of an older host was delivered or lost with it
            exec("ALTER TABLE approvals ADD COLUMN taken_at REAL; "
                 "UPDATE approvals SET taken_at=resolved_at WHERE status<>'pending'");
        if (!has_column("approvals", "channel")) exec("ALTER TABLE approvals ADD COLUMN channel TEXT");
        if (!has_column("outbox", "dead_at"))  // an older host's "failed for good" rows are dead
            exec("ALTER TABLE outbox ADD COLUMN dead_at REAL; "
                 "UPDATE outbox SET dead_at=delivered_at WHERE last_error LIKE 'failed: %'");
        if (!has_column("outbox", "refusals")) exec("ALTER TABLE outbox ADD COLUMN refusals INTEGER NOT NULL DEFAULT 0");
        exec(("PRAGMA application_id=" + std::to_string(k_application_id)).c_str());
        exec(("PRAGMA user_version=" + std::to_string(k_schema_version)).c_str());
        exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

}  // namespace orch
