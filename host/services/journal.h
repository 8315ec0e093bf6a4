// The logs: the daily log (logs/YYYY-MM-DD.log, spdlog), the same lines in
// the size-rotated main log (logs/orchestrator.log, then orchestrator.1.log
// ... when it is full),
// the NDJSON event stream (logs/events.ndjson, one object per line, mirrored
// into the events table) and the terminal. Lua-free. A log that cannot be
// written (disk full, read-only) is reported once and never stops the run.
#pragma once
#include <functional>
#include <utility>
#include <memory>
#include <vector>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace spdlog { class logger; }

namespace orch {

class Store;

// The main log's rotation (log.main_log_kb, log.main_log_files): a file
// that would grow past max_bytes is renamed orchestrator.1.log (the older
// ones move up one), keeping `files` files in all.
struct MainLogSize {
    size_t max_bytes = 1024 * 1024;
    size_t files = 3;
};

class Journal {
public:
    Journal(std::string logs_dir, Store* store, bool verbose_console, MainLogSize main_log = {});
    ~Journal();

    // debug|info|warn|error; console = false: the daily log only (a message the caller prints itself)
    void log(const std::string& level, const std::string& msg, bool console = true);
    // Records an event: NDJSON line + events row. data may be null.
    void event(const std::string& name, const std::string& session, const std::string& task,
               const nlohmann::json& data);
    // The same from data's members already as JSON text, in key order, each
    // "\"key\":value" (lua/json_text), without session and task; quoted: the
    // JSON strings of name, session and task (empty when there is none);
    // field(k): data's string member k, or null (the daily log's line)
    struct Quoted { std::string name, session, task; };
    void event(const std::string& name, const std::string& session, const std::string& task,
               const std::vector<std::pair<std::string, std::string>>& members, const Quoted& quoted,
               const std::function<const char*(const char* key)>& field);
    const std::string& logs_dir() const { return dir_; }
    std::string daily_log_path() const;
    std::string main_log_path() const { return dir_ + "/orchestrator.log"; }
    std::string events_path() const { return dir_ + "/events.ndjson"; }
    void set_store(Store* s) { store_ = s; }
    void set_console_level(const std::string& level);
    // log.level: the daily log keeps lines at this level and above (debug |
    // info | warn | error); the terminal's level is set apart.
    void set_file_level(const std::string& level);
    // Event rows written outside a transaction are batched and committed
    // together when the scheduler says (App: within 0.2 s); flush() writes
    // them now.
    void set_flush_scheduler(std::function<void()> f) { schedule_flush_ = std::move(f); }
    void flush();
    // flush() only when a batched row is one that Store::recent_events(session,
    // task, limit, event) reads (empty: any): a reader of other events (the
    // hook's tool_blocked rows, which another process wrote) costs no commit.
    void flush_for(const std::string& session, const std::string& task, const std::string& event);
    // Inside a transaction its caller commits (orch.atomically): the batched
    // rows go into it, ahead of its own writes, so they commit with it rather
    // than in a commit of their own; end_transaction(false) (rolled back)
    // batches them again.
    void flush_into_transaction();
    void end_transaction(bool committed);

private:
    void warn_once(const std::string& what);
    // the event's daily log line, events row and NDJSON line written (row and text are used up)
    void record(double now, const std::string& name, const std::string& session, const std::string& task,
                std::string& row, std::string& text, const std::function<const char*(const char*)>& field);

    std::string dir_;
    Store* store_;
    std::shared_ptr<spdlog::logger> logger_;
    int events_fd_ = -1;
    bool events_failed_ = false;
    int console_level_;
    int file_level_ = 1;  // info
    struct Pending {
        double ts;
        std::string session, task, name, data;
    };
    std::vector<Pending> pending_;
    std::vector<Pending> in_flight_;  // written by flush_into_transaction, not yet committed
    std::function<void()> schedule_flush_;
};

// ISO-8601 local time with offset, e.g. 2025-11-20T09:30:15.123+01:00
std::string iso_time(double epoch_seconds);
double wall_now();
// One event's texts (Journal::event): `row`, the events row's data (data as
// JSON, {} when null), and `line`, the NDJSON line without its newline: an
// object of ts (iso_time(now)), event, session and task (when not empty) and
// data's other keys, sorted by key.
void event_texts(double now, const std::string& name, const std::string& session, const std::string& task,
                 const nlohmann::json& data, std::string& row, std::string& line);

}  // namespace orch
