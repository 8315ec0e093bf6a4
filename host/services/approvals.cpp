#include "services/approvals.h"

#include "services/file_read.h"
#include "services/journal.h"
#include "services/store.h"
#include "services/wake.h"

#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

namespace orch {

using json = nlohmann::json;

namespace {
constexpr size_t k_answer_limit = 1u << 20;  // an answer is a few lines
}  // namespace

json decision_from_row(const json& row) {
    json d = json::object();
    d["action"] = row.value("action", std::string());
    if (row.contains("text")) d["text"] = row["text"];
    d["by"] = row.value("by", std::string());
    if (row.contains("channel")) d["channel"] = row["channel"];
    if (row.contains("resolved_at")) d["at"] = row["resolved_at"];
    if (row.contains("id")) d["id"] = row["id"];
    return d;
}

Approvals::Approvals(Loop& loop, Store& store, Journal* journal, double fallback_seconds)
    : loop_(loop), store_(store), journal_(journal), fallback_(fallback_seconds > 0 ? fallback_seconds : 2.0) {}

Approvals::~Approvals() {
    for (auto& [id, w] : waiting_)
        if (w.timeout_timer) loop_.cancel_timer(w.timeout_timer);
    if (fallback_timer_) loop_.cancel_timer(fallback_timer_);
    if (wake_) loop_.unwatch(wake_->fd());
    if (stdin_watched_) loop_.unwatch(0);
    if (inotify_fd_ >= 0) {
        loop_.unwatch(inotify_fd_);
        close(inotify_fd_);
    }
}

std::optional<json> Approvals::recorded(const Request& r) {
    if (r.session.empty()) return std::nullopt;
    auto row = store_.untaken_decision(r.session, r.task, r.kind, r.prompt);
    if (row && waiting_.count((*row)["id"].get<long long>())) return std::nullopt;  // its waiter gets it
    return row ? std::optional<json>(decision_from_row(*row)) : std::nullopt;
}

std::optional<json> Approvals::await(const Request& r, const WaitOptions& w, OnDecision done, long long* id) {
    auto given = recorded(r);
    if (given && store_.take_approval((*given)["id"].get<long long>(), wall_now())) {
        if (journal_)
            journal_->log("info", "task " + r.task + ": " + given->value("action", std::string()) + " by " +
                                      given->value("by", std::string()) + ", given while no host waited");
        return given;
    }
    *id = open(r);
    Waiter& wt = waiting_[*id];
    wt.kind = r.kind;
    wt.answer_file = w.answer_file;
    wt.terminal = w.terminal && !stdin_closed_;
    wt.done = std::move(done);
    long long aid = *id;
    if (w.timeout > 0)
        wt.timeout_timer = loop_.add_timer(w.timeout, [this, aid] {
            auto it = waiting_.find(aid);
            if (it == waiting_.end()) return;
            it->second.timeout_timer = 0;
            if (store_.resolve_approval(aid, "withdraw", "timeout", "timer", wall_now(), "timer"))
                finish(aid, json{{"action", "timeout"}, {"by", "timer"}, {"channel", "timer"}, {"at", wall_now()}},
                       true);
        });
    if (wt.terminal) {  // the question, on the terminal; the answer is read by read_stdin
        std::string shown = r.prompt;
        if (shown.empty()) shown = r.kind == "question" ? "Your answer: " : "[a]pprove, [s]kip or [p]ause? ";
        fprintf(stdout, "%s", shown.c_str());
        fflush(stdout);
    }
    update_stdin_watch();
    update_answer_watch();
    arm();
    return std::nullopt;
}

long long Approvals::open(const Request& r) {
    auto again = store_.reopen_approval(r.session, r.task, r.kind, r.prompt);
    if (again && !waiting_.count(*again)) return *again;
    return store_.open_approval(r.session, r.task, r.kind, r.prompt, wall_now());
}

void Approvals::withdraw(long long id, const std::string& reason) {
    try {
        store_.resolve_approval(id, "withdraw", reason, "host", wall_now());
    } catch (const std::exception& e) {
        if (journal_) journal_->log("warn", std::string("approval: ") + e.what());
    }
    finish(id, json::object(), false);
}

void Approvals::release(long long id) { finish(id, json::object(), false); }

bool Approvals::resolve(long long id, const std::string& action, const std::string& text, const std::string& by,
                        const std::string& channel) {
    double now = wall_now();
    if (!store_.resolve_approval(id, action, text, by, now, channel)) return false;
    json d{{"action", action}, {"text", text}, {"by", by}, {"at", now}};
    if (!channel.empty()) d["channel"] = channel;
    finish(id, d, true);
    return true;
}

std::optional<json> Approvals::get(long long id) { return store_.get_approval(id); }

std::optional<json> Approvals::pending(const std::string& session, const std::string& task) {
    return store_.pending_approval(session, task);
}

void Approvals::finish(long long id, json decision, bool deliver) {
    auto it = waiting_.find(id);
    if (it == waiting_.end()) return;
    Waiter w = std::move(it->second);
    waiting_.erase(it);
    try {  // the decision is delivered: a resumed session must not get it again
        store_.take_approval(id, wall_now());
    } catch (const std::exception& e) {
        if (journal_) journal_->log("warn", std::string("approval: ") + e.what());
    }
    if (w.timeout_timer) loop_.cancel_timer(w.timeout_timer);
    update_stdin_watch();
    if (!w.answer_file.empty()) update_answer_watch();
    decision["id"] = id;
    if (deliver && w.done) w.done(decision);
}

std::string Approvals::terminal_action(const std::string& kind, std::string line, std::string* text) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) line.pop_back();
    size_t start = line.find_first_not_of(' ');
    line = start == std::string::npos ? "" : line.substr(start);
    std::string low = line;
    for (auto& ch : low) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
    if (low == "a" || low == "approve" || low == "y" || low == "yes") return "approve";
    if (low == "s" || low == "skip") return "skip";
    if (low == "p" || low == "pause") return "pause";
    if (kind == "question" && !line.empty()) {
        *text = line;
        return "answer";
    }
    return "";
}

void Approvals::update_stdin_watch() {
    bool any_terminal = false;
    for (auto& [id, w] : waiting_) any_terminal |= w.terminal;
    if (any_terminal && !stdin_watched_ && !stdin_closed_) {
        stdin_watched_ = true;
        loop_.watch(0, EPOLLIN, [this](std::uint32_t) { read_stdin(); });
    } else if (!any_terminal && stdin_watched_) {
        loop_.unwatch(0);
        stdin_watched_ = false;
    }
}

void Approvals::update_answer_watch() {
    bool any = false;
    for (auto& [id, w] : waiting_) any |= !w.answer_file.empty();
    if (!any) {
        if (inotify_fd_ >= 0) {
            loop_.unwatch(inotify_fd_);
            close(inotify_fd_);
            inotify_fd_ = -1;
        }
        return;
    }
    if (inotify_fd_ < 0) {
        inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (inotify_fd_ < 0) return;  // the fallback look still finds the files
        loop_.watch(inotify_fd_, EPOLLIN, [this](std::uint32_t) {
            char buf[4096];
            while (read(inotify_fd_, buf, sizeof buf) > 0) {
            }
            check();
        });
    }
    for (auto& [id, w] : waiting_) {  // a folder watched twice keeps one watch
        if (w.answer_file.empty()) continue;
        size_t slash = w.answer_file.rfind('/');
        std::string dir = slash == std::string::npos ? "." : w.answer_file.substr(0, slash ? slash : 1);
        inotify_add_watch(inotify_fd_, dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO);
    }
}

void Approvals::read_stdin() {
    char buf[4096];
    ssize_t n = read(0, buf, sizeof buf);
    if (n <= 0) {  // EOF: decisions can still come from elsewhere
        loop_.unwatch(0);
        stdin_watched_ = false;
        stdin_closed_ = true;
        return;
    }
    stdin_buf_.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = stdin_buf_.find('\n')) != std::string::npos) {
        std::string line = stdin_buf_.substr(0, nl);
        stdin_buf_.erase(0, nl + 1);
        for (auto& [id, w] : waiting_) {  // the oldest terminal waiter gets the line
            if (!w.terminal) continue;
            std::string text;
            std::string action = terminal_action(w.kind, line, &text);
            if (!action.empty()) {
                long long aid = id;  // resolve() erases the waiter
                try {
                    resolve(aid, action, text, "terminal", "terminal");
                } catch (const std::exception& e) {
                    if (journal_) journal_->log("warn", std::string("approval: ") + e.what());
                }
            } else {
                fprintf(stdout, "%s", w.kind == "question" ? "  type your answer, or s (skip) / p (pause): "
                                                           : "  please type a (approve), s (skip) or p (pause): ");
                fflush(stdout);
            }
            break;
        }
    }
}

// An empty or blank file is no answer yet; a FIFO or a directory is refused.
void Approvals::check_answer_file(long long id, const Waiter& w, std::vector<std::pair<long long, json>>& out) {
    struct stat st;
    if (w.answer_file.empty() || stat(w.answer_file.c_str(), &st) != 0) return;
    if (st.st_size == 0 && S_ISREG(st.st_mode)) return;
    std::string text;
    ReadError err;
    std::string stamp = std::to_string(static_cast<long long>(wall_now()));
    if (!read_file_limited(w.answer_file, k_answer_limit, text, err)) {
        std::string refused = w.answer_file + ".refused-" + stamp;  // so the next look does not refuse it again
        rename(w.answer_file.c_str(), refused.c_str());
        if (journal_) journal_->log("warn", "answer file refused: " + err.message + " (moved to " + refused + ")");
    } else if (text.find_first_not_of(" \t\r\n\f\v") == std::string::npos) {
        return;  // blank: no answer yet (as an empty file; `orch-host answer` refuses a blank one too)
    } else if (store_.resolve_approval(id, "answer", text, "answer_file", wall_now(), "answer_file")) {
        // used: gone, so a later question does not find it (its text is the
        // request's answer in the state, and the task's questions keep it)
        if (unlink(w.answer_file.c_str()) != 0) {
            std::string used = w.answer_file + ".answered-" + stamp;
            rename(w.answer_file.c_str(), used.c_str());
        }
        out.emplace_back(id, json{{"action", "answer"}, {"text", text}, {"by", "answer_file"},
                                  {"channel", "answer_file"}, {"at", wall_now()}});
    }
}

void Approvals::check() {
    try {
        std::vector<std::pair<long long, json>> decided;
        for (auto& [id, w] : waiting_) {
            auto row = store_.get_approval(id);
            if (row && row->value("status", std::string()) != "pending") decided.emplace_back(id, decision_from_row(*row));
            else check_answer_file(id, w, decided);
        }
        for (auto& [id, d] : decided) finish(id, d, true);
        bool all = watched_.count("*") > 0;
        auto watched = watched_;  // a handler may watch or unwatch
        for (const std::string& sid : watched) {
            if (all && sid != "*") continue;
            json cmds = store_.take_commands(sid, wall_now());
            for (auto& cmd : cmds)
                if (on_command_) on_command_(cmd);
        }
    } catch (const std::exception& e) {
        if (journal_) journal_->log("warn", std::string("control check: ") + e.what());
    }
}

void Approvals::watch(const std::string& session) {
    watched_.insert(session);
    arm();
}

void Approvals::unwatch(const std::string& session) { watched_.erase(session); }

long long Approvals::push_command(const std::string& session, const std::string& command, const std::string& args_json,
                                  const std::string& by) {
    return store_.push_command(session, command, args_json, by, wall_now());  // pokes the watchers, this one too
}

void Approvals::arm() {
    if (waiting_.empty() && watched_.empty()) return;
    if (!wake_ && !wake_failed_) {
        try {
            wake_ = std::make_unique<WakeListener>(store_.path());
            loop_.watch(wake_->fd(), EPOLLIN, [this](std::uint32_t) {
                wake_->drain();
                check();
            });
            check();  // written before the socket existed: nobody poked it
        } catch (const std::exception& e) {
            wake_failed_ = true;
            if (journal_)
                journal_->log("warn", std::string(e.what()) + "; decisions from other processes arrive within " +
                                          std::to_string(fallback_) + " s instead");
        }
    }
    if (fallback_timer_) return;
    fallback_timer_ = loop_.add_timer(fallback_, [this] {
        fallback_timer_ = 0;
        check();
        arm();
    });
}

}  // namespace orch
