#include "loop/loop.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace orch {

namespace {
[[noreturn]] void fail(const char* what) {
    throw std::runtime_error(std::string("event loop: ") + what + ": " + std::strerror(errno));
}
}  // namespace

Loop::Loop() {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) fail("epoll_create1");
    wakefd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakefd_ < 0) fail("eventfd");
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGINT, SIGTERM, SIGCHLD, SIGHUP}) sigaddset(&set, s);
    if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) fail("sigmask");
    std::signal(SIGPIPE, SIG_IGN);
    sigfd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sigfd_ < 0) fail("signalfd");
    for (int fd : {wakefd_, sigfd_}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) fail("epoll_ctl");
    }
}

Loop::~Loop() {
    for (int fd : {epfd_, wakefd_, sigfd_})
        if (fd >= 0) close(fd);
}

double Loop::now() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

void Loop::watch(int fd, std::uint32_t events, FdCallback cb) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    bool known = fds_.count(fd) != 0;
    if (epoll_ctl(epfd_, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0) fail("watch");
    fds_[fd] = std::move(cb);
}

void Loop::unwatch(int fd) {
    if (fds_.erase(fd)) epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
}

TimerId Loop::add_timer(double seconds, Callback cb) {
    TimerId id = next_timer_++;
    double due = now() + (seconds > 0 ? seconds : 0);
    timers_.emplace(id, std::make_pair(due, std::move(cb)));
    timer_order_.emplace(due, id);
    return id;
}

void Loop::cancel_timer(TimerId id) {
    auto it = timers_.find(id);
    if (it == timers_.end()) return;
    auto range = timer_order_.equal_range(it->second.first);
    for (auto o = range.first; o != range.second; ++o)
        if (o->second == id) { timer_order_.erase(o); break; }
    timers_.erase(it);
}

void Loop::post(Callback cb) {
    bool wake;
    {
        std::lock_guard<std::mutex> lock(post_mu_);
        wake = posted_.empty();  // else a wake-up is on its way: the loop drains the whole queue
        posted_.push_back(std::move(cb));
    }
    if (!wake) return;
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = write(wakefd_, &one, sizeof one);
}

void Loop::on_signal(int signo, Callback cb) { signal_cbs_[signo] = std::move(cb); }

void Loop::drain_posted() {
    std::uint64_t v;
    [[maybe_unused]] auto n = read(wakefd_, &v, sizeof v);
    std::deque<Callback> work;
    {
        std::lock_guard<std::mutex> lock(post_mu_);
        work.swap(posted_);
    }
    for (auto& cb : work) cb();
}

void Loop::read_signals() {
    signalfd_siginfo si;
    while (read(sigfd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        auto it = signal_cbs_.find(static_cast<int>(si.ssi_signo));
        if (it != signal_cbs_.end()) {
            auto cb = it->second;  // the callback may replace itself
            cb();
        }
    }
}

double Loop::next_timer_wait(double cap) const {
    if (timer_order_.empty()) return cap;
    double wait = timer_order_.begin()->first - now();
    if (wait < 0) wait = 0;
    return wait < cap ? wait : cap;
}

void Loop::fire_timers() {
    double t = now();
    while (!timer_order_.empty() && timer_order_.begin()->first <= t) {
        TimerId id = timer_order_.begin()->second;
        timer_order_.erase(timer_order_.begin());
        auto it = timers_.find(id);
        if (it == timers_.end()) continue;
        Callback cb = std::move(it->second.second);
        timers_.erase(it);
        cb();
    }
}

void Loop::run_once(double max_wait) {
    epoll_event events[64];
    double wait = next_timer_wait(max_wait);
    int ms = wait < 0 ? -1 : static_cast<int>(wait * 1000 + 0.999);
    int n = epoll_wait(epfd_, events, 64, ms);
    if (n < 0 && errno != EINTR) fail("epoll_wait");
    for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == wakefd_) { drain_posted(); continue; }
        if (fd == sigfd_) { read_signals(); continue; }
        auto it = fds_.find(fd);
        if (it == fds_.end()) continue;
        auto cb = it->second;  // the callback may unwatch itself
        cb(events[i].events);
    }
    fire_timers();
}

void Loop::run(const std::function<bool()>& until) {
    stopping_ = false;
    while (!stopping_) {
        if (until && until()) break;
        run_once(60.0);
    }
}

}  // namespace orch
