// The outbox table of the store: notifications queued for their sinks,
// delivered in order, retried, coalesced (services/outbox.cpp drives it).
#include "services/store.h"
#include "services/store_sql.h"

namespace orch {

using json = nlohmann::json;
using store_sql::Stmt;
using store_sql::row_object;

long long Store::enqueue(const std::string& sink, const std::string& payload_json, double now) {
    Stmt q(stmt("INSERT INTO outbox(sink,payload,created_at,next_at) VALUES(?1,?2,?3,?3)"));
    q.bind(1, sink).bind(2, payload_json).bind(3, now);
    if (q.step() != SQLITE_DONE) fail("queueing notification");
    return sqlite3_last_insert_rowid(db_);
}

json Store::due_outbox(double now, int limit) {
    json out = json::array();
    Stmt q(stmt("SELECT id,sink,payload,attempts FROM outbox WHERE delivered_at IS NULL AND next_at<=?1 "
                "ORDER BY id LIMIT ?2"));
    q.bind(1, now).bind(2, static_cast<long long>(limit));
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) out.push_back(row_object(q.raw()));
    if (rc != SQLITE_DONE) fail("reading outbox");
    return out;
}

json Store::outbox_queue(const std::string& sink, int limit) {
    json out = json::array();
    Stmt q(stmt("SELECT id,payload,attempts,next_at,refusals FROM outbox WHERE sink=?1 AND delivered_at IS NULL "
                "ORDER BY id LIMIT ?2"));
    q.bind(1, sink).bind(2, static_cast<long long>(limit));
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) out.push_back(row_object(q.raw()));
    if (rc != SQLITE_DONE) fail("reading outbox");
    return out;
}

int Store::coalesce_progress(const std::string& sink, double now) {
    // Read first: this runs on every delivery pass, and an UPDATE would take
    // the write lock even when nothing matches. json_valid guards
    // json_extract, which raises on a payload that is not JSON.
    std::vector<std::pair<long long, long long>> superseded;  // row, the newer row
    {
        // A pending progress row is superseded by a newer progress row of its
        // session and task (in a parallel day each running task keeps its
        // own; rows about no task form one group per session), or by a newer
        // row of any type about the same task ("task 2 started", held, must
        // not arrive after "task 2 done").
        Stmt q(stmt(R"SQL(
WITH p AS (
  SELECT id, CASE WHEN json_valid(payload) THEN CAST(json_extract(payload,'$.session') AS TEXT) END AS s,
         CASE WHEN json_valid(payload) THEN CAST(json_extract(payload,'$.task') AS TEXT) END AS t
  FROM outbox
  WHERE sink=?1 AND delivered_at IS NULL
    AND CASE WHEN json_valid(payload) THEN json_extract(payload,'$.type') END = 'progress'),
newest AS (SELECT s, t, max(id) AS top FROM p GROUP BY s, t),
by_progress AS (SELECT p.id, n.top FROM p JOIN newest n ON p.s IS n.s AND p.t IS n.t WHERE p.id < n.top),
by_task AS (
  SELECT p.id, (SELECT min(o.id) FROM outbox o
                WHERE o.sink=?1 AND o.id > p.id AND json_valid(o.payload)
                  AND CAST(json_extract(o.payload,'$.session') AS TEXT) IS p.s
                  AND CAST(json_extract(o.payload,'$.task') AS TEXT) = p.t) AS top
  FROM p WHERE p.t IS NOT NULL)
SELECT id, min(top) FROM (SELECT * FROM by_progress UNION ALL SELECT * FROM by_task WHERE top IS NOT NULL)
GROUP BY id ORDER BY id)SQL"));
        q.bind(1, sink);
        int rc;
        while ((rc = q.step()) == SQLITE_ROW)
            superseded.emplace_back(sqlite3_column_int64(q.raw(), 0), sqlite3_column_int64(q.raw(), 1));
        if (rc != SQLITE_DONE) fail("reading outbox");
    }
    if (superseded.empty()) return 0;
    bool own = !in_transaction();
    if (own) begin();
    try {
        for (auto& [id, by] : superseded) {
            Stmt q(stmt("UPDATE outbox SET delivered_at=?2, last_error=?3 WHERE id=?1 AND delivered_at IS NULL"));
            q.bind(1, id).bind(2, now).bind(3, "coalesced: superseded by #" + std::to_string(by));
            if (q.step() != SQLITE_DONE) fail("coalescing progress notifications");
        }
        if (own) commit();
    } catch (...) {
        if (own) rollback();
        throw;
    }
    return static_cast<int>(superseded.size());
}

void Store::mark_delivered(long long id, double now) {
    Stmt q(stmt("UPDATE outbox SET delivered_at=?2, attempts=attempts+1, last_error=NULL WHERE id=?1"));
    q.bind(1, id).bind(2, now);
    if (q.step() != SQLITE_DONE) fail("updating outbox");
}

void Store::mark_failed(long long id, const std::string& error, double next_at, bool refused) {
    Stmt q(stmt("UPDATE outbox SET attempts=attempts+1, refusals=refusals+?4, last_error=?2, next_at=?3 WHERE id=?1"));
    q.bind(1, id).bind(2, error).bind(3, next_at).bind(4, refused ? 1LL : 0LL);
    if (q.step() != SQLITE_DONE) fail("updating outbox");
}

void Store::mark_dead(long long id, const std::string& error, double now, bool refused) {
    Stmt q(stmt("UPDATE outbox SET attempts=attempts+1, refusals=refusals+?4, last_error=?2, delivered_at=?3, "
                "dead_at=?3 WHERE id=?1"));
    q.bind(1, id).bind(2, "failed: " + error).bind(3, now).bind(4, refused ? 1LL : 0LL);
    if (q.step() != SQLITE_DONE) fail("updating outbox");
}

json Store::outbox_dead(int limit) {
    json out = json::array();
    if (!has_column("outbox", "dead_at")) return out;  // an older host's database, opened read-only
    Stmt q(dynamic_stmt(
        "SELECT id,sink,dead_at,attempts,last_error,"
        "CASE WHEN json_valid(payload) THEN json_extract(payload,'$.type') END AS type,"
        "CASE WHEN json_valid(payload) THEN CAST(json_extract(payload,'$.session') AS TEXT) END AS session "
        "FROM outbox WHERE dead_at IS NOT NULL ORDER BY id DESC LIMIT ?1"));
    q.bind(1, static_cast<long long>(limit));
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) out.push_back(row_object(q.raw()));
    if (rc != SQLITE_DONE) fail("reading outbox");
    return out;
}

long long Store::outbox_dead_count() {
    if (!has_column("outbox", "dead_at")) return 0;
    Stmt q(dynamic_stmt("SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL"));
    if (q.step() != SQLITE_ROW) fail("counting outbox");
    return sqlite3_column_int64(q.raw(), 0);
}

void Store::retry_outbox_now(double now) {
    Stmt q(stmt("UPDATE outbox SET next_at=?1 WHERE delivered_at IS NULL AND next_at>?1"));
    q.bind(1, now);
    if (q.step() != SQLITE_DONE) fail("updating outbox");
}

long long Store::outbox_pending() {
    Stmt q(stmt("SELECT count(*) FROM outbox WHERE delivered_at IS NULL"));
    if (q.step() != SQLITE_ROW) fail("counting outbox");
    return sqlite3_column_int64(q.raw(), 0);
}

long long Store::outbox_pending(const std::string& sink) {
    Stmt q(stmt("SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND sink=?1"));
    q.bind(1, sink);
    if (q.step() != SQLITE_ROW) fail("counting outbox");
    return sqlite3_column_int64(q.raw(), 0);
}

}  // namespace orch
