// One child process driven by the loop: writes stdin, splits stdout into
// lines, keeps a stderr tail, enforces a timeout, and stops the whole tree
// (SIGTERM, then SIGKILL after a grace period) on cancel or timeout, after
// end_after(), and when the process exits leaving tagged processes behind:
// a run is reported done only once nothing it started is left. Lua-free;
// used by run_claude (stream-json) and exec (captured output).
#pragma once
#include "services/process.h"

#include <functional>
#include <memory>
#include <string>

namespace orch {

class Loop;

struct RunOutcome {
    int exit_code = -1;       // valid when signal == 0
    int signal = 0;           // terminating signal, if any
    bool timed_out = false;
    bool cancelled = false;
    std::string cancel_reason;
    bool ended = false;       // stopped after end_after(): the output was complete
    long long leftovers = 0;  // processes still running when it exited (then stopped)
    std::string stderr_tail;  // last 16 KB
    long long stdout_bytes = 0;
    long long lines = 0;
    long long oversized_lines = 0;
    double seconds = 0;
};

struct RunLimits {
    double timeout = 0;            // seconds; 0 = none
    double kill_grace = 3.0;       // SIGTERM -> SIGKILL
    size_t max_line = 4u << 20;    // longer lines are dropped (counted)
};

class ProcessRun : public std::enable_shared_from_this<ProcessRun> {
public:
    using LineFn = std::function<void(const char* data, size_t len)>;
    using RawFn = std::function<void(const char* data, size_t len)>;
    using DoneFn = std::function<void(const RunOutcome&)>;

    // Throws std::runtime_error when the process cannot be started.
    static std::shared_ptr<ProcessRun> start(Loop& loop, Reaper& reaper, SpawnSpec spec,
                                             std::string stdin_data, RunLimits limits,
                                             std::string tag_env, RawFn on_raw, LineFn on_line,
                                             DoneFn on_done);
    void cancel(const std::string& reason);
    // The caller has all the output it needs: if the process has not exited
    // `grace` seconds from now, its tree is stopped and the outcome says
    // `ended` (not cancelled, not timed out). The timeout no longer applies,
    // and a later cancel() stops it the same way.
    void end_after(double grace);
    pid_t pid() const { return child_.pid; }
    bool finished() const { return done_; }

private:
    enum class Stop { Timeout, Cancel, Ended, Leftovers };
    ProcessRun(Loop& loop, Reaper& reaper) : loop_(loop), reaper_(reaper) {}
    template <typename Fn> auto while_alive(Fn fn);
    void on_stdout();
    void on_stderr();
    void on_stdin_writable();
    void on_exited(int status);
    void stop_tree(Stop why, const std::string& reason);
    void check_tree();
    void scan_leftovers();
    void maybe_finish();
    void close_fd(int& fd);

    Loop& loop_;
    Reaper& reaper_;
    Child child_;
    RunLimits limits_;
    std::string tag_env_;
    std::string stdin_data_;
    size_t stdin_off_ = 0;
    std::string line_;
    bool skipping_line_ = false;
    RawFn on_raw_;
    LineFn on_line_;
    DoneFn on_done_;
    RunOutcome out_;
    double started_ = 0;
    std::uint64_t timeout_timer_ = 0, check_timer_ = 0, end_timer_ = 0, leftover_timer_ = 0;
    int leftover_rounds_ = 10;  // looks again, 20 ms apart, while a child of ours is mid-exec
    double kill_at_ = 0;    // when a stop turns from SIGTERM to SIGKILL
    int kill_rounds_ = 40;  // SIGKILL rounds, 50 ms apart, before the run is reported anyway
    bool exited_ = false, ending_ = false, stopping_ = false, done_ = false, tree_gone_ = false;
    std::shared_ptr<ProcessRun> self_;  // keeps the run alive until done
};

}  // namespace orch
