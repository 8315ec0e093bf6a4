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
    tm lt;
    localtime_r(&secs, &lt);
    char buf[64];
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &lt);
    long off = lt.tm_gmtoff / 60;
    snprintf(buf + n, sizeof buf - n, ".%03d%c%02ld:%02ld", ms, off < 0 ? '-' : '+', std::labs(off) / 60,
             std::labs(off) % 60);
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

Journal::Journal(std::string logs_dir, Store* store, bool verbose_console)
    : dir_(std::move(logs_dir)), store_(store), console_level_(verbose_console ? 0 : 2) {
    try {
        auto sink = std::make_shared<spdlog::sinks::daily_file_sink<std::mutex, DayFileName>>(dir_, 0, 0);
        logger_ = std::make_shared<spdlog::logger>("orch", sink);
        logger_->set_pattern("[%Y-%m-%d %H:%M:%S.%e] %-5l %v");
        logger_->set_level(spdlog::level::debug);
        logger_->flush_on(spdlog::level::debug);
        logger_->set_error_handler([this](const std::string& msg) { warn_once("daily log: " + msg); });
    } catch (const std::exception& e) {
        warn_once(std::string("cannot open the daily log in ") + dir_ + ": " + e.what());
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

std::string Journal::daily_log_path() const {
    time_t t = time(nullptr);
    tm lt;
    localtime_r(&t, &lt);
    return DayFileName::calc_filename(dir_, lt);
}

void Journal::set_console_level(const std::string& level) { console_level_ = level_rank(level); }

void Journal::warn_once(const std::string& what) {
    static std::set<std::string> seen;
    if (!seen.insert(what).second) return;
    fprintf(stderr, "orch-host: warning: %s (logging continues without it)\n", what.c_str());
}

void Journal::log(const std::string& level, const std::string& msg) {
    int rank = level_rank(level);
    if (logger_) {
        static const spdlog::level::level_enum levels[] = {spdlog::level::debug, spdlog::level::info,
                                                           spdlog::level::warn, spdlog::level::err};
        logger_->log(levels[rank], msg);
    }
    if (rank >= console_level_)
        fprintf(stderr, "%s%s\n", rank >= 3 ? "error: " : rank == 2 ? "warning: " : "", msg.c_str());
}

void Journal::event(const std::string& name, const std::string& session, const std::string& task,
                    const json& data) {
    double now = wall_now();
    json line = json::object();
    line["ts"] = iso_time(now);
    line["event"] = name;
    if (!session.empty()) line["session"] = session;
    if (!task.empty()) line["task"] = task;
    if (data.is_object())
        for (auto& [k, v] : data.items())
            if (!line.contains(k)) line[k] = v;
    std::string text = line.dump(-1, ' ', false, json::error_handler_t::replace);
    if (logger_) {  // the daily log reads as a story: one line per event
        std::string brief = name;
        if (!task.empty()) brief += " task " + task;
        if (data.is_object())
            for (const char* k : {"status", "action", "by", "error", "reason"})
                if (data.contains(k) && data[k].is_string()) brief += " " + std::string(k) + "=" + data[k].get<std::string>();
        logger_->info(brief);
    }
    if (store_) {
        std::string row = data.is_null() ? "{}" : data.dump(-1, ' ', false, json::error_handler_t::replace);
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
