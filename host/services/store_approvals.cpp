// The control tables of the store: approvals (decisions people give to a
// waiting session) and commands (pause, skip, ... sent to a running one).
// Both wake the hosts that wait on this database once committed (wake.h).
#include "services/store.h"
#include "services/store_sql.h"
#include "services/wake.h"

namespace orch {

using json = nlohmann::json;
using store_sql::Stmt;
using store_sql::row_object;

long long Store::open_approval(const std::string& session, const std::string& task, const std::string& kind,
                               const std::string& prompt, double now) {
    Stmt q(stmt("INSERT INTO approvals(session_id,task_id,kind,prompt,status,created_at) "
                "VALUES(?1,?2,?3,?4,'pending',?5)"));
    q.bind(1, session).bind(2, task).bind(3, kind).bind(4, prompt).bind(5, now);
    if (q.step() != SQLITE_DONE) fail("opening approval");
    return sqlite3_last_insert_rowid(db_);
}

// A withdraw with the text "timeout" is the request's expiry: status expired.
bool Store::resolve_approval(long long id, const std::string& action, const std::string& text,
                             const std::string& by, double now, const std::string& channel) {
    Stmt q(stmt("UPDATE approvals SET status=CASE WHEN ?2<>'withdraw' THEN 'resolved' "
                "WHEN ?3='timeout' THEN 'expired' ELSE 'withdrawn' END, "
                "action=?2, text=?3, by=?4, resolved_at=?5, channel=?6 WHERE id=?1 AND status='pending'"));
    q.bind(1, id).bind(2, action).bind(3, text).bind(4, by).bind(5, now);
    if (!channel.empty()) q.bind(6, channel);
    if (q.step() != SQLITE_DONE) fail("resolving approval");
    if (sqlite3_changes(db_) != 1) return false;
    wake_waiters();
    return true;
}

std::optional<long long> Store::reopen_approval(const std::string& session, const std::string& task,
                                                const std::string& kind, const std::string& prompt) {
    long long id = 0;
    std::string status;
    {
        Stmt q(stmt("SELECT id, status FROM approvals WHERE session_id=?1 AND task_id=?2 AND kind=?3 AND prompt=?4 "
                    "ORDER BY id DESC LIMIT 1"));
        q.bind(1, session).bind(2, task).bind(3, kind).bind(4, prompt);
        int rc = q.step();
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail("reading approvals");
        if (rc != SQLITE_ROW) return std::nullopt;
        id = sqlite3_column_int64(q.raw(), 0);
        const unsigned char* st = sqlite3_column_text(q.raw(), 1);
        status = st ? reinterpret_cast<const char*>(st) : "";
    }
    if (status == "pending") return id;
    if (status != "withdrawn") return std::nullopt;
    Stmt u(stmt("UPDATE approvals SET status='pending', action=NULL, text=NULL, by=NULL, resolved_at=NULL, "
                "taken_at=NULL, channel=NULL WHERE id=?1 AND status='withdrawn'"));
    u.bind(1, id);
    if (u.step() != SQLITE_DONE) fail("reopening approval");
    if (sqlite3_changes(db_) != 1) return std::nullopt;
    return id;
}

void Store::wake_waiters() {
    if (in_transaction()) wake_at_commit_ = true;
    else poke_waiters(path_);
}

bool Store::take_approval(long long id, double now) {
    Stmt q(stmt("UPDATE approvals SET taken_at=?2 WHERE id=?1 AND status<>'pending' AND taken_at IS NULL"));
    q.bind(1, id).bind(2, now);
    if (q.step() != SQLITE_DONE) fail("taking approval");
    return sqlite3_changes(db_) == 1;
}

std::optional<json> Store::untaken_decision(const std::string& session, const std::string& task,
                                            const std::string& kind, const std::string& prompt) {
    Stmt q(stmt("SELECT * FROM approvals WHERE status='resolved' AND taken_at IS NULL AND session_id=?1 "
                "AND task_id=?2 AND kind=?3 AND prompt=?4 ORDER BY id DESC LIMIT 1"));
    q.bind(1, session).bind(2, task).bind(3, kind).bind(4, prompt);
    int rc = q.step();
    if (rc == SQLITE_ROW) return row_object(q.raw());
    if (rc != SQLITE_DONE) fail("reading approvals");
    return std::nullopt;
}

int Store::withdraw_pending_approvals(const std::string& reason, double now) {
    Stmt q(stmt("UPDATE approvals SET status='withdrawn', action='withdraw', text=?1, by='host', resolved_at=?2, "
                "taken_at=?2 WHERE status='pending'"));
    q.bind(1, reason).bind(2, now);
    if (q.step() != SQLITE_DONE) fail("withdrawing approvals");
    return sqlite3_changes(db_);
}

std::optional<json> Store::get_approval(long long id) {
    Stmt q(stmt("SELECT * FROM approvals WHERE id=?1"));
    q.bind(1, id);
    int rc = q.step();
    if (rc == SQLITE_ROW) return row_object(q.raw());
    if (rc != SQLITE_DONE) fail("reading approval");
    return std::nullopt;
}

std::optional<json> Store::pending_approval(const std::string& session, const std::string& task) {
    Stmt q(stmt("SELECT * FROM approvals WHERE status='pending' AND (?1 IS NULL OR session_id=?1) "
                "AND (?2 IS NULL OR task_id=?2) ORDER BY id DESC LIMIT 1"));
    if (!session.empty()) q.bind(1, session);
    if (!task.empty()) q.bind(2, task);
    int rc = q.step();
    if (rc == SQLITE_ROW) return row_object(q.raw());
    if (rc != SQLITE_DONE) fail("reading approvals");
    return std::nullopt;
}

long long Store::push_command(const std::string& session, const std::string& command, const std::string& args_json,
                              const std::string& by, double now) {
    Stmt q(stmt("INSERT INTO commands(session_id,command,args,by,created_at) VALUES(?1,?2,?3,?4,?5)"));
    q.bind(1, session).bind(2, command).bind(3, args_json).bind(4, by).bind(5, now);
    if (q.step() != SQLITE_DONE) fail("queueing command");
    long long id = sqlite3_last_insert_rowid(db_);
    wake_waiters();
    return id;
}

json Store::take_commands(const std::string& session, double now) {
    json out = json::array();
    {
        Stmt q(stmt("SELECT id,session_id,command,args,by,created_at FROM commands "
                    "WHERE consumed_at IS NULL AND (?1='*' OR session_id=?1) ORDER BY id"));
        q.bind(1, session);
        int rc;
        while ((rc = q.step()) == SQLITE_ROW) out.push_back(row_object(q.raw()));
        if (rc != SQLITE_DONE) fail("reading commands");
    }
    for (auto& c : out) {
        Stmt q(stmt("UPDATE commands SET consumed_at=?2 WHERE id=?1"));
        q.bind(1, c["id"].get<long long>()).bind(2, now);
        if (q.step() != SQLITE_DONE) fail("consuming command");
    }
    return out;
}

}  // namespace orch
