#include "services/journal.h"

#include "services/store.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <set>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/daily_file_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/time.h>
#include <unistd.h>

namespace orch {

using json = nlohmann::json;

double wall_now() {
    timeval tv;
    gettimeofday(&tv, nullptr);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

std::string iso_time(double t) {
    time_t secs = static_cast<time_t>(std::floor(t));
    int ms = static_cast<int>((t - std::floor(t)) * 1000);
    // localtime_r costs more than the rest of an event: once per second
    thread_local time_t last_secs = -1;
    thread_local char date[32];
    thread_local char zone[40];  // "+HH:MM", room for any long the compiler sees
    if (secs != last_secs) {
        tm lt;
        localtime_r(&secs, &lt);
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &lt);
        long off = lt.tm_gmtoff / 60;
        snprintf(zone, sizeof zone, "%c%02ld:%02ld", off < 0 ? '-' : '+', std::labs(off) / 60, std::labs(off) % 60);
        last_secs = secs;
    }
    char buf[sizeof date + sizeof zone + 8];
    snprintf(buf, sizeof buf, "%s.%03d%s", date, ms, zone);
    return buf;
}

namespace {

// logs/YYYY-MM-DD.log, the daily log's name.
struct DayFileName {
    static spdlog::filename_t calc_filename(const spdlog::filename_t& dir, const tm& now_tm) {
        char buf[32];
        strftime(buf, sizeof buf, "%Y-%m-%d.log", &now_tm);
        return dir + "/" + buf;
    }
};

int level_rank(const std::string& l) {
    if (l == "debug") return 0;
    if (l == "info") return 1;
    if (l == "warn" || l == "warning") return 2;
    if (l == "error") return 3;
    return 1;
}

}  // namespace

Journal::Journal(std::string logs_dir, Store* store, bool verbose_console, MainLogSize main_log)
    : dir_(std::move(logs_dir)), store_(store), console_level_(verbose_console ? 0 : 2) {
    // one logger, two files with the same lines; a file that cannot be
    // opened is reported and the other still written
    std::vector<spdlog::sink_ptr> sinks;
    try {
        sinks.push_back(std::make_shared<spdlog::sinks::daily_file_sink<std::mutex, DayFileName>>(dir_, 0, 0));
    } catch (const std::exception& e) {
        warn_once(std::string("cannot open the daily log in ") + dir_ + ": " + e.what());
    }
    try {
        size_t rotated = main_log.files > 0 ? main_log.files - 1 : 0;  // besides orchestrator.log itself
        sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(main_log_path(),
                                                                               main_log.max_bytes, rotated));
    } catch (const std::exception& e) {
        warn_once("cannot open " + main_log_path() + ": " + e.what());
    }
    if (!sinks.empty()) {
        logger_ = std::make_shared<spdlog::logger>("orch", sinks.begin(), sinks.end());
        logger_->set_pattern("[%Y-%m-%d %H:%M:%S.%e] %-5l %v");
        logger_->set_level(spdlog::level::debug);
        logger_->flush_on(spdlog::level::debug);
        logger_->set_error_handler([this](const std::string& msg) { warn_once("log file: " + msg); });
    }
    events_fd_ = ::open(events_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (events_fd_ < 0) warn_once(events_path() + ": " + std::strerror(errno));
}

Journal::~Journal() {
    try {
        flush();
    } catch (const std::exception& e) {
        fprintf(stderr, "orch-host: warning: events not recorded: %s\n", e.what());
    }
    if (events_fd_ >= 0) ::close(events_fd_);
}

void Journal::flush() {
    if (pending_.empty() || !store_) return;
    std::vector<Pending> batch;
    batch.swap(pending_);
    bool own = !store_->in_transaction();
    if (own) store_->begin();
    try {
        for (auto& e : batch) store_->add_event(e.ts, e.session, e.task, e.name, e.data);
        if (own) store_->commit();
    } catch (...) {
        if (own) store_->rollback();
        throw;
    }
}

void Journal::flush_for(const std::string& session, const std::string& task, const std::string& event) {
    for (const auto& e : pending_)
        if ((session.empty() || e.session == session) && (task.empty() || e.task == task) &&
            (event.empty() || e.name == event)) {
            flush();
            return;
        }
}

void Journal::flush_into_transaction() {
    if (pending_.empty() || !store_) return;
    for (auto& e : pending_) store_->add_event(e.ts, e.session, e.task, e.name, e.data);
    in_flight_ = std::move(pending_);
    pending_.clear();
}

void Journal::end_transaction(bool committed) {
    if (!committed && !in_flight_.empty()) {
        if (pending_.empty() && schedule_flush_) schedule_flush_();
        pending_.insert(pending_.begin(), std::make_move_iterator(in_flight_.begin()),
                        std::make_move_iterator(in_flight_.end()));
    }
    in_flight_.clear();
}

std::string Journal::daily_log_path() const {
    time_t t = time(nullptr);
    tm lt;
    localtime_r(&t, &lt);
    return DayFileName::calc_filename(dir_, lt);
}

void Journal::set_console_level(const std::string& level) { console_level_ = level_rank(level); }
void Journal::set_file_level(const std::string& level) { file_level_ = level_rank(level); }

void Journal::warn_once(const std::string& what) {
    static std::set<std::string> seen;
    if (!seen.insert(what).second) return;
    fprintf(stderr, "orch-host: warning: %s (logging continues without it)\n", what.c_str());
}

void Journal::log(const std::string& level, const std::string& msg, bool console) {
    int rank = level_rank(level);
    if (logger_ && rank >= file_level_) {
        static const spdlog::level::level_enum levels[] = {spdlog::level::debug, spdlog::level::info,
                                                           spdlog::level::warn, spdlog::level::err};
        logger_->log(levels[rank], msg);
    }
    if (console && rank >= console_level_)
        fprintf(stderr, "%s%s\n", rank >= 3 ? "error: " : rank == 2 ? "warning: " : "", msg.c_str());
}

// The events row's data (`data` itself) and the NDJSON line (the fields
// ts, event, session, task, then data's other keys, all sorted as a JSON
// object is) from one serialisation of each value, by one serializer:
// into `scratch`, then cut into row and line.
void event_texts(double now, const std::string& name, const std::string& session, const std::string& task,
                 const json& data, std::string& row, std::string& line) {
    std::string scratch;
    nlohmann::detail::serializer<json> ser(nlohmann::detail::output_adapter<char, std::string>(scratch), ' ',
                                           json::error_handler_t::replace);
    struct Piece { const char* key; size_t from, to; };
    Piece fixed[4];
    size_t nfixed = 0;
    auto add_fixed = [&](const char* key, const std::string& v) {  // called in key order
        size_t from = scratch.size();
        ser.dump(json(v), false, false, 0);
        fixed[nfixed++] = {key, from, scratch.size()};
    };
    add_fixed("event", name);  // event < session < task < ts
    if (!session.empty()) add_fixed("session", session);
    if (!task.empty()) add_fixed("task", task);
    add_fixed("ts", iso_time(now));
    size_t next = 0;
    line.push_back('{');
    auto put_fixed = [&](size_t i) {
        if (line.size() > 1) line.push_back(',');
        line.push_back('"');
        line += fixed[i].key;
        line += "\":";
        line.append(scratch, fixed[i].from, fixed[i].to - fixed[i].from);
    };
    if (data.is_object()) {
        row.push_back('{');
        for (auto& [k, v] : data.items()) {
            size_t from = scratch.size();
            ser.dump(json(k), false, false, 0);
            scratch.push_back(':');
            ser.dump(v, false, false, 0);
            if (row.size() > 1) row.push_back(',');
            row.append(scratch, from, std::string::npos);
            while (next < nfixed && k.compare(fixed[next].key) > 0) put_fixed(next++);
            if (next < nfixed && k == fixed[next].key) continue;  // the event's own field wins
            if (line.size() > 1) line.push_back(',');
            line.append(scratch, from, std::string::npos);
        }
        row.push_back('}');
    } else {
        row = data.is_null() ? "{}" : data.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    while (next < nfixed) put_fixed(next++);
    line.push_back('}');
}

namespace {
// the daily log's line for an event: a story, one line each (its name, its
// task, the string fields of these keys)
std::string brief_of(const std::string& name, const std::string& task,
                     const std::function<const char*(const char*)>& field) {
    std::string brief = name;
    if (!task.empty()) brief += " task " + task;
    // what the line is about: a task's end, a decision, a check's verdict, a summary's path
    for (const char* k : {"status", "action", "by", "check", "verdict", "via", "fallback", "error", "reason"})
        if (const char* v = field(k)) brief += " " + std::string(k) + "=" + v;
    return brief;
}
}  // namespace

void Journal::event(const std::string& name, const std::string& session, const std::string& task,
                    const json& data) {
    double now = wall_now();
    std::string row, text;
    event_texts(now, name, session, task, data, row, text);
    record(now, name, session, task, row, text, [&data](const char* k) -> const char* {
        if (!data.is_object()) return nullptr;
        auto it = data.find(k);
        return it != data.end() && it->is_string() ? it->get_ref<const std::string&>().c_str() : nullptr;
    });
}

void Journal::event(const std::string& name, const std::string& session, const std::string& task,
                    const std::vector<std::pair<std::string, std::string>>& members, const Quoted& quoted,
                    const std::function<const char*(const char*)>& field) {
    double now = wall_now();
    std::string row = "{", line = "{", ts = '"' + iso_time(now) + '"';  // (digits and -:.+T: nothing to escape)
    // the line: event, session, task and ts among data's members, all in key
    // order; a member of the same name as one of these is the row's only
    const std::pair<const char*, const std::string*> fixed[] = {
        {"event", &quoted.name}, {"session", &quoted.session}, {"task", &quoted.task}, {"ts", &ts}};
    size_t next = 0;
    auto put_fixed = [&] {
        const auto& [key, value] = fixed[next++];
        if (value->empty()) return;
        if (line.size() > 1) line.push_back(',');
        line += '"';
        line += key;
        line += "\":";
        line += *value;
    };
    for (const auto& [k, member] : members) {
        if (row.size() > 1) row.push_back(',');
        row += member;
        while (next < 4 && k.compare(fixed[next].first) > 0) put_fixed();
        if (next < 4 && k == fixed[next].first) continue;
        if (line.size() > 1) line.push_back(',');
        line += member;
    }
    while (next < 4) put_fixed();
    row.push_back('}');
    line.push_back('}');
    record(now, name, session, task, row, line, field);
}

void Journal::record(double now, const std::string& name, const std::string& session, const std::string& task,
                     std::string& row, std::string& text, const std::function<const char*(const char*)>& field) {
    if (logger_) logger_->info(brief_of(name, task, field));
    if (store_) {
        if (store_->in_transaction() || !schedule_flush_) {
            flush();
            store_->add_event(now, session, task, name, row);
        } else {
            if (pending_.empty()) schedule_flush_();
            pending_.push_back(Pending{now, session, task, name, std::move(row)});
        }
    }
    if (events_fd_ >= 0) {
        text.push_back('\n');
        if (::write(events_fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
            warn_once(events_path() + ": " + std::strerror(errno));
            if (!events_failed_) {
                events_failed_ = true;
                if (store_) store_->add_event(now, session, task, "log_write_failed",
                                              json{{"file", events_path()}, {"error", std::strerror(errno)}}.dump());
            }
        }
    }
}

}  // namespace orch
