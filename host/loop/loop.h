// The event loop: one thread polls fds, fires timers, runs work posted from
// other threads, and turns SIGINT/SIGTERM/SIGCHLD into callbacks. Everything
// that touches Lua runs on this thread (style.md, "One owner").
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <deque>
#include <unordered_map>

namespace orch {

using TimerId = std::uint64_t;

class Loop {
public:
    using FdCallback = std::function<void(std::uint32_t events)>;
    using Callback = std::function<void()>;

    Loop();
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    // fd watching (epoll). events: EPOLLIN / EPOLLOUT bits.
    void watch(int fd, std::uint32_t events, FdCallback cb);
    void unwatch(int fd);

    // One-shot timer after `seconds`; returns an id for cancel_timer.
    TimerId add_timer(double seconds, Callback cb);
    void cancel_timer(TimerId id);

    // Thread-safe: queue work for the loop thread and wake it.
    void post(Callback cb);

    // Signals. The loop blocks SIGINT, SIGTERM, SIGCHLD, SIGPIPE process-wide
    // and reads them from a signalfd; call before starting any thread.
    void on_signal(int signo, Callback cb);

    // Run until stop() or until `until` returns true (checked after each turn).
    void run(const std::function<bool()>& until = {});
    void stop() { stopping_ = true; }
    // One poll turn with at most `max_wait` seconds of waiting.
    void run_once(double max_wait);

    static double now();  // monotonic seconds

private:
    void drain_posted();
    void read_signals();
    double next_timer_wait(double cap) const;
    void fire_timers();

    int epfd_ = -1;
    int wakefd_ = -1;
    int sigfd_ = -1;
    bool stopping_ = false;
    std::unordered_map<int, FdCallback> fds_;
    std::multimap<double, TimerId> timer_order_;
    std::unordered_map<TimerId, std::pair<double, Callback>> timers_;
    TimerId next_timer_ = 1;
    std::mutex post_mu_;
    std::deque<Callback> posted_;
    std::unordered_map<int, Callback> signal_cbs_;
};

}  // namespace orch
