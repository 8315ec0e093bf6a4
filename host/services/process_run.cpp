#include "services/process_run.h"

#include "loop/loop.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

namespace orch {

// fn(run, args...) as a loop, reaper or timer callback: it runs only while the
// run is alive, and holds a reference for the whole call, so whatever finishes
// the run inside it (the done callback drops the caller's reference, self_ is
// released) cannot free the run under the code that is still running.
template <typename Fn>
auto ProcessRun::while_alive(Fn fn) {
    return [w = weak_from_this(), fn](auto... args) {
        if (auto self = w.lock()) fn(*self, args...);
    };
}

std::shared_ptr<ProcessRun> ProcessRun::start(Loop& loop, Reaper& reaper, SpawnSpec spec,
                                              std::string stdin_data, RunLimits limits,
                                              std::string tag_env, RawFn on_raw, LineFn on_line,
                                              DoneFn on_done) {
    std::shared_ptr<ProcessRun> run(new ProcessRun(loop, reaper));
    spec.want_stdin = !stdin_data.empty();
    if (!tag_env.empty()) spec.env_extra.push_back(tag_env);
    run->limits_ = limits;
    run->tag_env_ = std::move(tag_env);
    run->stdin_data_ = std::move(stdin_data);
    run->on_raw_ = std::move(on_raw);
    run->on_line_ = std::move(on_line);
    run->on_done_ = std::move(on_done);
    run->started_ = Loop::now();
    run->child_ = spawn_child(spec);
    run->self_ = run;
    ProcessRun& r = *run;
    reaper.on_exit(r.child_.pid, r.while_alive([](ProcessRun& p, int st) { p.on_exited(st); }));
    loop.watch(r.child_.out_fd, EPOLLIN, r.while_alive([](ProcessRun& p, std::uint32_t) { p.on_stdout(); }));
    loop.watch(r.child_.err_fd, EPOLLIN, r.while_alive([](ProcessRun& p, std::uint32_t) { p.on_stderr(); }));
    if (r.child_.in_fd >= 0) {
        r.on_stdin_writable();
        if (r.child_.in_fd >= 0)
            loop.watch(r.child_.in_fd, EPOLLOUT,
                       r.while_alive([](ProcessRun& p, std::uint32_t) { p.on_stdin_writable(); }));
    }
    if (limits.timeout > 0)
        r.timeout_timer_ = loop.add_timer(limits.timeout, r.while_alive([](ProcessRun& p) {
            p.timeout_timer_ = 0;
            p.stop_tree(Stop::Timeout, "timeout");
        }));
    return run;
}

void ProcessRun::close_fd(int& fd) {
    if (fd < 0) return;
    loop_.unwatch(fd);
    close(fd);
    fd = -1;
}

void ProcessRun::on_stdin_writable() {
    while (stdin_off_ < stdin_data_.size()) {
        ssize_t n = write(child_.in_fd, stdin_data_.data() + stdin_off_, stdin_data_.size() - stdin_off_);
        if (n > 0) { stdin_off_ += static_cast<size_t>(n); continue; }
        if (n < 0 && errno == EAGAIN) return;
        break;  // EPIPE: the child does not read stdin; fine
    }
    close_fd(child_.in_fd);
    std::string().swap(stdin_data_);
}

void ProcessRun::on_stdout() {
    char buf[65536];
    for (;;) {
        ssize_t n = read(child_.out_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) break;
        out_.stdout_bytes += n;
        if (on_raw_) on_raw_(buf, static_cast<size_t>(n));
        const char* p = buf;
        const char* end = buf + n;
        while (p < end) {
            const char* nl = static_cast<const char*>(memchr(p, '\n', static_cast<size_t>(end - p)));
            const char* stop = nl ? nl : end;
            if (!skipping_line_) {
                if (line_.size() + static_cast<size_t>(stop - p) > limits_.max_line) {
                    skipping_line_ = true;
                    ++out_.oversized_lines;
                    std::string().swap(line_);
                } else if (nl && line_.empty()) {
                    ++out_.lines;  // fast path: the whole line is in this buffer
                    if (on_line_) on_line_(p, static_cast<size_t>(nl - p));
                } else {
                    line_.append(p, stop);
                    if (nl) {
                        ++out_.lines;
                        if (on_line_) on_line_(line_.data(), line_.size());
                        line_.clear();
                    }
                }
            }
            if (nl) skipping_line_ = false;
            p = nl ? nl + 1 : end;
        }
    }
    if (!line_.empty() && !skipping_line_) {
        ++out_.lines;
        if (on_line_) on_line_(line_.data(), line_.size());
    }
    line_.clear();
    close_fd(child_.out_fd);
    maybe_finish();
}

void ProcessRun::on_stderr() {
    char buf[16384];
    for (;;) {
        ssize_t n = read(child_.err_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) break;
        out_.stderr_tail.append(buf, static_cast<size_t>(n));
        if (out_.stderr_tail.size() > 16384)
            out_.stderr_tail.erase(0, out_.stderr_tail.size() - 16384);
    }
    close_fd(child_.err_fd);
    maybe_finish();
}

void ProcessRun::on_exited(int st) {
    exited_ = true;
    if (WIFEXITED(st)) out_.exit_code = WEXITSTATUS(st);
    if (WIFSIGNALED(st)) out_.signal = WTERMSIG(st);
    // What it started and left running (a dev server, a setsid'd background
    // job) is stopped now, however the process ended: a run that is over
    // leaves nothing behind. Only when the host may have such processes:
    // a walk of /proc costs two file reads per process on the machine.
    if (!stopping_ && !tag_env_.empty() && reaper_.may_have_strays()) scan_leftovers();
    // Whatever the process wrote before exiting is in the pipes now; a
    // descendant that keeps them open must not keep the run alive.
    if (child_.out_fd >= 0) on_stdout();
    if (child_.err_fd >= 0) on_stderr();
    close_fd(child_.in_fd);
    close_fd(child_.out_fd);
    close_fd(child_.err_fd);
    maybe_finish();
}

// A process caught in the middle of an exec shows an empty environment, so
// its tag cannot be seen: the run is not reported until it can be (the
// scan comes back until no child of ours is mid-exec, or rounds run out).
void ProcessRun::scan_leftovers() {
    leftover_timer_ = 0;
    std::vector<pid_t> unsure;
    auto left = find_tree(-1, tag_env_, &unsure);
    if (!left.empty()) {
        out_.leftovers = static_cast<long long>(left.size());
        stop_tree(Stop::Leftovers, "");
    } else if (!unsure.empty() && leftover_rounds_-- > 0) {
        leftover_timer_ = loop_.add_timer(0.02, while_alive([](ProcessRun& p) { p.scan_leftovers(); }));
        return;
    }
    maybe_finish();
}

void ProcessRun::stop_tree(Stop why, const std::string& reason) {
    if (done_ || stopping_) return;
    stopping_ = true;
    if (why == Stop::Timeout) out_.timed_out = true;
    if (why == Stop::Cancel) {
        out_.cancelled = true;
        out_.cancel_reason = reason;
    }
    if (why == Stop::Ended) out_.ended = true;
    for (auto* t : {&timeout_timer_, &end_timer_, &leftover_timer_})
        if (*t) loop_.cancel_timer(std::exchange(*t, 0));
    signal_all(find_tree(exited_ ? -1 : child_.pid, tag_env_), SIGTERM);
    kill_at_ = Loop::now() + limits_.kill_grace;
    check_timer_ = loop_.add_timer(0.05, while_alive([](ProcessRun& p) { p.check_tree(); }));
}

// After the SIGTERM: look again until nothing of the tree is left; past the
// grace, SIGKILL what remains. The run is reported only once the tree is gone
// (or after kill_rounds_ SIGKILLs, so a process stuck in the kernel cannot
// hold it forever).
void ProcessRun::check_tree() {
    check_timer_ = 0;
    auto left = find_tree(exited_ ? -1 : child_.pid, tag_env_);
    double now = Loop::now();
    bool killing = now >= kill_at_;
    if (left.empty() || (killing && kill_rounds_ <= 0)) {
        tree_gone_ = true;
        maybe_finish();
        return;
    }
    if (killing) {
        signal_all(left, SIGKILL);
        --kill_rounds_;
    }
    check_timer_ = loop_.add_timer(killing ? 0.05 : 0.1, while_alive([](ProcessRun& p) { p.check_tree(); }));
}

void ProcessRun::cancel(const std::string& reason) { stop_tree(ending_ ? Stop::Ended : Stop::Cancel, reason); }

void ProcessRun::end_after(double grace) {
    if (done_ || stopping_ || ending_) return;
    ending_ = true;
    if (timeout_timer_) loop_.cancel_timer(std::exchange(timeout_timer_, 0));
    end_timer_ = loop_.add_timer(grace, while_alive([](ProcessRun& p) {
        p.end_timer_ = 0;
        if (!p.exited_) p.stop_tree(Stop::Ended, "");
    }));
}

void ProcessRun::maybe_finish() {
    if (done_ || !exited_ || child_.out_fd >= 0 || child_.err_fd >= 0) return;
    if (stopping_ && !tree_gone_) return;  // check_tree() comes back once the tree is gone
    if (leftover_timer_) return;           // scan_leftovers() comes back
    done_ = true;
    for (auto* t : {&timeout_timer_, &check_timer_, &end_timer_, &leftover_timer_})
        if (*t) loop_.cancel_timer(std::exchange(*t, 0));
    out_.seconds = Loop::now() - started_;
    auto keep = std::move(self_);
    auto cb = std::move(on_done_);
    if (cb) cb(out_);
}

}  // namespace orch
