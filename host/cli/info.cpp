// orch-host status [--json] [SESSION] | sessions [--json] | tail-events | logs
#include "cli/runtime.h"

#include "services/file_write.h"
#include "services/journal.h"

#include <csignal>
#include <cstdio>
#include <deque>
#include <fcntl.h>
#include <functional>
#include <nlohmann/json.hpp>
#include <pthread.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace orch {

using json = nlohmann::json;

// Mechanism only: workflows/lib/status_cli.lua builds the view (lib/control's
// status, the webhook's) and the text (lib/format_status); a state database
// failure inside it is exit 5 (Vm::call).
int cmd_status(const Args& a) {
    auto rt = read_only_runtime(a);
    json req{{"command", "status"}, {"json", a.has("json")}, {"state", rt->app.store != nullptr}};
    std::string sid = a.positional.empty() ? a.get("session") : a.positional[0];
    if (!sid.empty()) req["session"] = sid;
    int exit = print_answer(rt->vm->call("lib.status_cli", "run", req, print_out), "status");
    if (exit != k_exit_ok || a.has("json")) return exit;
    printf("\nComponents\n");
    print_components(*rt, json{{"claude", claude_component(rt->app)}});
    return exit;
}

int cmd_sessions(const Args& a) {
    auto rt = read_only_runtime(a);
    json req{{"command", "sessions"},
             {"json", a.has("json")},
             {"state", rt->app.store != nullptr},
             {"limit", std::stoi(a.get("limit", "20"))}};
    return print_answer(rt->vm->call("lib.status_cli", "run", req, print_out), "sessions");
}

namespace {

// The lines of a file as they come: whole lines to `line`, the partial
// last one kept until its newline. `reopened` says the path names another
// file now (rotated, or made again) or the file shrank: it is read again
// from its start.
class LineReader {
public:
    explicit LineReader(std::string path) : path_(std::move(path)) {}
    ~LineReader() { close_fd(); }
    bool open() {
        close_fd();
        fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd_ < 0 || fstat(fd_, &st) != 0) return false;
        ino_ = st.st_ino;
        offset_ = 0;
        pending_.clear();
        return true;
    }
    // Reads what is there; false when nothing new came.
    template <class Fn>
    bool drain(Fn&& line) {
        bool any = false;
        char buf[65536];
        for (;;) {
            ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n <= 0) break;
            any = true;
            offset_ += n;
            pending_.append(buf, static_cast<size_t>(n));
            size_t from = 0;
            for (size_t nl; (nl = pending_.find('\n', from)) != std::string::npos; from = nl + 1)
                line(std::string_view(pending_).substr(from, nl - from));
            pending_.erase(0, from);
        }
        return any;
    }
    const std::string& partial() const { return pending_; }
    bool replaced() const {
        struct stat st;
        if (stat(path_.c_str(), &st) != 0) return false;  // gone for now: the old file is still read
        return st.st_ino != ino_ || st.st_size < offset_;
    }
    void set_path(std::string path) { path_ = std::move(path); }

private:
    void close_fd() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    std::string path_, pending_;
    int fd_ = -1;
    ino_t ino_ = 0;
    off_t offset_ = 0;
};

// An event line's field as text ("" when it has none or is no event)
std::string field_of(const json& j, const char* key) {
    if (!j.is_object() || !j.contains(key)) return "";
    const json& v = j[key];
    return v.is_string() ? v.get<std::string>() : v.dump();
}

// Which event lines to keep: those of one task and/or one session (empty:
// any). live: a line that came while following, which a session the user
// did not name (the latest with the task) does not hold back: a new
// session's run of the task shows as it comes.
struct EventFilter {
    std::string task, session;
    bool named = false;  // the session came from --session
    bool any() const { return task.empty() && session.empty(); }
    bool keep(std::string_view l, bool live = false) const {
        if (any()) return true;
        json j = json::parse(l, nullptr, false);
        if (j.is_discarded()) return false;
        return (task.empty() || field_of(j, "task") == task) &&
               (session.empty() || (live && !named) || field_of(j, "session") == session);
    }
};

// "task 2 of session S", "session S", "task 2"
std::string what_of(const EventFilter& f) {
    std::string w = f.task.empty() ? "" : "task " + f.task;
    if (!f.session.empty()) w += (w.empty() ? "session " : " of session ") + f.session;
    return w;
}

// The session of the last event of `task` in the file ("" when none has one)
std::string latest_session_of(const std::string& path, const std::string& task) {
    LineReader r(path);
    std::string session;
    if (!r.open()) return session;
    auto see = [&](std::string_view l) {
        if (l.find(task) == std::string_view::npos) return;  // cheap: most lines are another task's
        json j = json::parse(l, nullptr, false);
        if (!j.is_discarded() && field_of(j, "task") == task && !field_of(j, "session").empty())
            session = field_of(j, "session");
    };
    r.drain(see);
    if (!r.partial().empty()) see(r.partial());
    return session;
}

// The last `lines` lines of the file (those `filter` keeps), then with follow
// the new ones as they come, until a signal ends it. path_now names the file
// each time (the daily log changes at midnight). Returns the lines printed
// (without follow).
size_t tail_file(const std::function<std::string()>& path_now, size_t lines, const EventFilter& filter,
                 bool follow) {
    std::string path = path_now();
    LineReader r(path);
    if (!r.open()) throw std::runtime_error(path + ": no such file (nothing logged yet)");
    auto keep = [&](std::string_view l) { return filter.keep(l); };
    std::deque<std::string> last;
    r.drain([&](std::string_view l) {
        if (!keep(l)) return;
        last.emplace_back(l);
        if (last.size() > lines) last.pop_front();
    });
    if (!follow && !r.partial().empty() && keep(r.partial())) {  // a last line without its newline
        last.push_back(r.partial());
        if (last.size() > lines) last.pop_front();
    }
    for (auto& l : last) printf("%s\n", l.c_str());
    fflush(stdout);
    if (!follow) return last.size();
    if (last.empty() && !filter.any())
        fprintf(stderr, "no events of %s in %s yet: following\n", what_of(filter).c_str(), path.c_str());
    // The loop of the runtime blocks these for its signalfd, which nothing
    // reads here: Ctrl-C, SIGTERM and SIGHUP end the follow as they would
    // any program (nothing is open that needs closing), also when it was
    // started in the background of a script (SIGINT ignored).
    sigset_t stop;
    sigemptyset(&stop);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) {
        sigaddset(&stop, s);
        std::signal(s, SIG_DFL);
    }
    pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
    auto print = [&](std::string_view l) {
        if (filter.keep(l, true)) printf("%.*s\n", static_cast<int>(l.size()), l.data());
    };
    for (;;) {
        if (r.drain(print)) fflush(stdout);
        std::string now = path_now();
        if (now != path) {
            r.set_path(path = now);
            if (r.open()) continue;
        } else if (r.replaced() && r.open()) {
            continue;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
}

// --lines N (dflt without it); 0 only with --follow (only the new lines):
// alone it would print nothing
bool lines_wanted(const Args& a, const char* cmd, size_t dflt, size_t& out) {
    out = a.has("lines") ? std::stoul(a.get("lines")) : dflt;
    if (out > 0 || a.has("follow")) return true;
    fprintf(stderr, "orch-host %s: --lines 0 prints nothing; with --follow it prints only the new lines\n"
                    "see orch-host %s --help\n", cmd, cmd);
    return false;
}

}  // namespace

// --task without --session: the task of the latest session that has events
// of it (task ids recur from day to day), said on stderr; --follow then
// prints the task's new events, of whichever session
int cmd_tail_events(const Args& a) {
    size_t lines = 0;
    if (!lines_wanted(a, "tail-events", 20, lines)) return k_exit_bad_input;
    auto rt = make_runtime(a, Services::None);
    std::string logs = rt->app.path_from_root(
        rt->app.config().value("paths", json::object()).value("logs_dir", std::string("logs")));
    std::string path = logs + "/events.ndjson";
    EventFilter filter{a.get("task"), a.get("session"), a.has("session")};
    if (!filter.task.empty() && !filter.named) {
        filter.session = latest_session_of(path, filter.task);
        if (!filter.session.empty())
            fprintf(stderr, "events of %s, the latest session with that task (--session ID: another)%s\n",
                    what_of(filter).c_str(), a.has("follow") ? "; then the task's new events" : "");
    }
    size_t n = tail_file([&] { return path; }, lines, filter, a.has("follow"));
    if (n == 0 && lines > 0 && !filter.any()) {  // a mistyped id says so, as grep's exit 1 would
        fprintf(stderr, "no events of %s in %s\n", what_of(filter).c_str(), path.c_str());
        return k_exit_task_failures;
    }
    return k_exit_ok;
}

int cmd_logs(const Args& a) {
    size_t lines = 0;
    if (!lines_wanted(a, "logs", 30, lines)) return k_exit_bad_input;
    auto rt = make_runtime(a, Services::None);
    std::string logs = rt->app.path_from_root(
        rt->app.config().value("paths", json::object()).value("logs_dir", std::string("logs")));
    Journal probe(logs, nullptr, false);
    tail_file([&] { return probe.daily_log_path(); }, lines, EventFilter{},
              a.has("follow"));
    return k_exit_ok;
}

}  // namespace orch
