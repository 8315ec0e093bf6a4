// SQLite state (WAL): sessions, tasks, events, approvals, commands, outbox,
// kv. Lua-free; rows cross as JSON. Every call is its own committed
// transaction unless wrapped in a Transaction. Errors throw StoreError with
// the database path in the message.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace orch {

class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Store {
public:
    // Opens (creating when absent) and migrates. Refuses, without touching it,
    // a file that is not SQLite or is SQLite of another application. With
    // `defer`, a file whose header already names an orch-host database of
    // this schema version is opened (and checked) at its first use instead:
    // a command that never touches the state does not pay for SQLite reading
    // the schema, and a problem with the file is reported where it is used.
    explicit Store(const std::string& path, bool read_only = false, bool defer = false);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    const std::string& path() const { return path_; }
    // fn runs once the database is open: now, or at the deferred open. If it
    // throws, the open fails with its error and the next use tries both again.
    void when_open(std::function<void()> fn);
    int schema_version();
    std::string integrity_check();  // "ok" or the first problem

    bool in_transaction() const;
    void begin();
    void commit();
    void rollback();

    // sessions / tasks: known columns plus everything else in a JSON `data` column
    void save_session(const nlohmann::json& s);
    // the same with the columns' fields from `columns` (id, workflow, task_file,
    // status, started_at, updated_at, finished_at, pid) and the data column's
    // JSON text as given (the other fields, as save_session(s) writes them)
    void save_session(const nlohmann::json& columns, const std::string& data);
    void save_task(const std::string& session_id, const nlohmann::json& t);
    // Changes only the given fields of an existing task (null clears one).
    void update_task(const std::string& session_id, const std::string& id, const nlohmann::json& fields);
    // the same with the fields that are columns (task_column) in `columns` and
    // the others as one JSON object's text, merged into the data column
    void update_task(const std::string& session_id, const std::string& id, const nlohmann::json& columns,
                     const std::string& rest);
    static bool task_column(const std::string& key);     // a task field with a column of its own
    static bool session_column(const std::string& key);  // a session field with a column of its own
    std::optional<nlohmann::json> load_session(const std::string& id);  // with "tasks"
    // The row alone, with the "summary" the session model keeps in it (counts,
    // totals, current task); load_session and list_sessions leave it out.
    std::optional<nlohmann::json> load_session_row(const std::string& id);
    // The session's tasks as the JSON text of the array load_session gives
    // (the same objects, keys in another order), written straight from the
    // rows: no DOM of the task's data column is built. "[]" for no tasks.
    // before and after frame it in the same text. Written to `sink` in
    // pieces of 64 KB as the rows are read (a 10,000-task session is 8 MB;
    // the sink may print them: a failure midway leaves the text cut short,
    // and throws), or returned whole.
    void write_session_tasks_json(const std::string& id, std::string_view before, std::string_view after,
                                  const std::function<void(std::string_view)>& sink);
    std::string session_tasks_json(const std::string& id, std::string_view before = {},
                                   std::string_view after = {});
    std::optional<std::string> latest_session_id();
    nlohmann::json list_sessions(int limit);

    long long add_event(double ts, const std::string& session, const std::string& task,
                         const std::string& event, const std::string& data_json);
    // the newest `limit` events (of a session, a task, one event name: each optional), oldest first
    nlohmann::json recent_events(const std::string& session, const std::string& task, int limit,
                                 const std::string& event = "");

    // approvals: a request (its row id is the request id) goes pending ->
    // resolved (the first resolver wins, once), expired (its timeout) or
    // withdrawn (cancel, its host stopped). A resolved decision is taken
    // (taken_at) once a waiter has it; one that no waiter took (its host had
    // died) goes to the next request with the same session, task, kind and
    // prompt: untaken_decision finds it. Asking that same again reopens a
    // withdrawn request (reopen_approval): the id stays, a decided or
    // expired one is never reopened.
    long long open_approval(const std::string& session, const std::string& task,
                            const std::string& kind, const std::string& prompt, double now);
    bool resolve_approval(long long id, const std::string& action, const std::string& text,
                          const std::string& by, double now, const std::string& channel = "");
    // The newest request with these fields when it is pending (its id) or
    // withdrawn (made pending again, its id); nullopt otherwise.
    std::optional<long long> reopen_approval(const std::string& session, const std::string& task,
                                             const std::string& kind, const std::string& prompt);
    bool take_approval(long long id, double now);  // false: pending, or taken already
    std::optional<nlohmann::json> untaken_decision(const std::string& session, const std::string& task,
                                                   const std::string& kind, const std::string& prompt);
    // Every pending row, by the host that holds the run lock: their waiters
    // died with the host that held it before. Returns how many.
    int withdraw_pending_approvals(const std::string& reason, double now);
    std::optional<nlohmann::json> get_approval(long long id);
    // the newest pending approval of `session` ("" = any), of task `task` when one is named
    std::optional<nlohmann::json> pending_approval(const std::string& session, const std::string& task = "");

    // A decision or a command reaches the hosts that wait on this database at
    // once: after it commits, resolve_approval and push_command poke them
    // (services/wake.h); inside a transaction, at commit().
    long long push_command(const std::string& session, const std::string& command,
                           const std::string& args_json, const std::string& by, double now);
    nlohmann::json take_commands(const std::string& session, double now);

    // outbox: one row per notification and sink. A row is settled once
    // (delivered_at set): sent (a 2xx; last_error NULL), coalesced into a
    // newer progress row, or dead: failed for good (dead_at set too,
    // last_error "failed: <why>"). Until then it is pending, next_at says
    // when it may be tried (backoff) and refusals counts the answers that
    // count towards notify.max_attempts.
    long long enqueue(const std::string& sink, const std::string& payload_json, double now);
    nlohmann::json due_outbox(double now, int limit);  // every sink's rows due at `now`, oldest first
    // A sink's pending rows, oldest first: id, payload, attempts, next_at, refusals.
    nlohmann::json outbox_queue(const std::string& sink, int limit);
    // Settles every pending progress row of the sink that a newer pending
    // progress row of the same session supersedes; returns how many.
    int coalesce_progress(const std::string& sink, double now);
    void mark_delivered(long long id, double now);
    // tried again at next_at; `refused` counts towards notify.max_attempts
    void mark_failed(long long id, const std::string& error, double next_at, bool refused = false);
    void mark_dead(long long id, const std::string& error, double now, bool refused = false);  // never tried again
    // The newest dead rows: id, sink, dead_at, attempts, last_error, type, session.
    nlohmann::json outbox_dead(int limit);
    long long outbox_dead_count();
    long long outbox_pending();                      // every sink's
    long long outbox_pending(const std::string& sink);
    void retry_outbox_now(double now);  // undelivered rows become due at once

    void kv_put(const std::string& key, const std::string& value_json, double now);
    std::optional<std::string> kv_get(const std::string& key);

private:
    void open();  // store_open.cpp
    void close();
    void ensure_open() {
        if (!db_) open();
    }
    sqlite3_stmt* stmt(const char* sql);
    sqlite3_stmt* dynamic_stmt(const std::string& sql);  // cached by text
    void exec(const char* sql);
    void migrate();
    bool has_column(const char* table, const char* column);
    [[noreturn]] void fail(const std::string& what);
    void wake_waiters();  // now, or at commit() inside a transaction

    bool wake_at_commit_ = false;

    std::string path_;
    bool read_only_ = false;
    std::function<void()> on_open_;  // when_open's, until the open succeeds
    sqlite3* db_ = nullptr;
    std::vector<std::pair<const char*, sqlite3_stmt*>> cache_;
    std::map<std::string, sqlite3_stmt*> dynamic_;
};

}  // namespace orch
