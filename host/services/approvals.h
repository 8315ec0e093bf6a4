// Decisions from people and commands between processes, Lua-free.
//
// A waiter waits for approve / skip / pause / answer on one approval row
// (services/store.h) from whichever comes first: the terminal (a line typed
// on stdin), another process (`orch-host approve`, another host's
// resolve), this process (resolve), an answer file, or its timeout. The
// first resolver wins exactly once: the row moves pending -> resolved in
// one UPDATE. A decision given while no host waited (it had died) is handed
// to the next request with the same session, task, kind and prompt. The
// request id is the row's id; asking the same again (a resumed session)
// reopens a request that was withdrawn without a decision and keeps its id
// (Store::reopen_approval); a decided or expired one is never reopened.
//
// Commands (pause, skip, resume, ... rows of the commands table) for the
// sessions this process watches are taken and handed to the command handler.
//
// Other processes' writes arrive without a polling delay: the store pokes
// this process's wake socket after it commits them (services/wake.h) and the
// service reads the store at once; an answer file is seen when it is
// written (inotify on its folder). A slow fallback look every
// `fallback_seconds` (config control.poll_interval) covers a lost poke.
//
// Callbacks (OnDecision, OnCommand) run on the loop thread inside whichever
// call decided (resolve, a poke, the timer, a terminal line): they must not
// run Lua there; the Lua binding queues the task's resumption on the loop.
#pragma once
#include "loop/loop.h"

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace orch {

class Store;
class Journal;
class WakeListener;

class Approvals {
public:
    struct Request {
        std::string session, task, kind = "approval", prompt;
    };
    struct WaitOptions {
        double timeout = 0;        // seconds; 0: none. On expiry: {action="timeout", by="timer"}
        bool terminal = false;     // ask on the terminal, read the answer from stdin
        std::string answer_file;   // absolute; its whole text answers a question
    };
    // decision: {action=, text=, by=, channel=, at=, id=} (channel: the caller's word for how it came:
    // cli, webhook, rest, telegram; the service's own: terminal, answer_file, timer)
    using OnDecision = std::function<void(const nlohmann::json& decision)>;
    using OnCommand = std::function<void(const nlohmann::json& command)>;

    Approvals(Loop& loop, Store& store, Journal* journal, double fallback_seconds);
    ~Approvals();
    Approvals(const Approvals&) = delete;
    Approvals& operator=(const Approvals&) = delete;

    // The decision given for this request while no host waited, not taken
    // (nothing is taken); nullopt when none, or a waiter here has it coming.
    // Throws StoreError (as do the others that read or write the store).
    std::optional<nlohmann::json> recorded(const Request& r);
    // Takes that decision and returns it (nothing waits), or opens a pending
    // row (its id in *id), and `done` gets the decision later, once.
    std::optional<nlohmann::json> await(const Request& r, const WaitOptions& w, OnDecision done, long long* id);
    // The request's id, pending and waited on by nobody yet (a withdrawn one
    // of the same fields reopened): what a notification names before await,
    // which then waits on this same row.
    long long open(const Request& r);
    // Ends a wait without a decision: the row becomes withdrawn with the
    // reason, its `done` is never called.
    void withdraw(long long id, const std::string& reason);
    // Ends this process's wait and leaves the row pending: the host stops
    // (SIGTERM, Ctrl-C), and the request stays answerable while no host
    // runs, as after a crash; the resumed session asks the same again and
    // takes a decision given meanwhile.
    void release(long long id);
    // Decides (true when this call was first); the waiter of this process,
    // if any, gets the decision.
    bool resolve(long long id, const std::string& action, const std::string& text, const std::string& by,
                 const std::string& channel = "");
    std::optional<nlohmann::json> get(long long id);  // the request's row, whatever its status
    // "" = any session; a task id: that task's
    std::optional<nlohmann::json> pending(const std::string& session, const std::string& task = "");

    // Commands: "*" watches every session (serve; handlers look at cmd.session).
    void watch(const std::string& session);
    void unwatch(const std::string& session);
    void on_command(OnCommand fn) { on_command_ = std::move(fn); }
    long long push_command(const std::string& session, const std::string& command, const std::string& args_json,
                           const std::string& by);

    // Reads the store now: decisions given elsewhere, answer files, commands.
    void check();
    bool stdin_closed() const { return stdin_closed_; }
    size_t waiting() const { return waiting_.size(); }
    bool listening() const { return wake_ != nullptr; }  // a wake socket is open

    // A line typed at the terminal for a request of `kind`: approve | skip |
    // pause | answer (then *text) | "" (not understood).
    static std::string terminal_action(const std::string& kind, std::string line, std::string* text);

private:
    struct Waiter {
        std::string kind;
        std::string answer_file;
        bool terminal = false;
        TimerId timeout_timer = 0;
        OnDecision done;
    };

    void finish(long long id, nlohmann::json decision, bool deliver);
    void check_answer_file(long long id, const Waiter& w, std::vector<std::pair<long long, nlohmann::json>>& out);
    void read_stdin();
    void update_stdin_watch();
    void update_answer_watch();  // inotify on the answer files' folders while any waiter has one
    void arm();  // the wake socket and the fallback timer, while anything waits or is watched

    Loop& loop_;
    Store& store_;
    Journal* journal_;
    double fallback_;
    std::map<long long, Waiter> waiting_;  // approval id -> waiter, oldest first
    std::set<std::string> watched_;
    OnCommand on_command_;
    std::unique_ptr<WakeListener> wake_;
    bool wake_failed_ = false;
    TimerId fallback_timer_ = 0;
    int inotify_fd_ = -1;
    bool stdin_watched_ = false;
    bool stdin_closed_ = false;
    std::string stdin_buf_;
};

nlohmann::json decision_from_row(const nlohmann::json& row);  // {action=, text=, by=, channel=, at=, id=}

}  // namespace orch
