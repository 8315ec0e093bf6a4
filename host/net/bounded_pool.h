// A fixed pool of HTTP workers with a capped queue for cpp-httplib servers:
// orch-net.so's (net_module.cpp) and bench/bare_server.cpp's, which must run
// with the very same pool to be a fair baseline. Header-only, httplib.h
// included: only those two translation units see it.
#pragma once
#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace orch_net {

// A fixed pool with a capped queue (httplib 0.11's ThreadPool queues without
// bound): when `max_queued` connections wait, enqueue() blocks the accept
// thread, so the kernel's listen backlog absorbs the rest and neither threads
// nor memory grow with the number of connections.
class BoundedPool : public httplib::TaskQueue {
public:
    BoundedPool(size_t threads, size_t max_queued) : max_queued_(max_queued) {
        for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
    }
    void enqueue(std::function<void()> fn) override {
        std::unique_lock<std::mutex> lock(mu_);
        // (shutdown() comes from the listener thread after its last enqueue,
        // so every job accepted here is run: its socket gets closed)
        space_.wait(lock, [this] { return jobs_.size() < max_queued_; });
        jobs_.push_back(std::move(fn));
        lock.unlock();
        ready_.notify_one();
    }
    void shutdown() override {
        {
            std::lock_guard<std::mutex> lock(mu_);
            shutdown_ = true;
        }
        ready_.notify_all();
        for (auto& t : workers_)
            if (t.joinable()) t.join();
    }
    // A pool dropped without shutdown() (a server that failed to bind) still
    // joins its workers: a joinable std::thread's destructor ends the process.
    ~BoundedPool() override { shutdown(); }

private:
    void work() {
        for (;;) {
            std::function<void()> fn;
            {
                std::unique_lock<std::mutex> lock(mu_);
                ready_.wait(lock, [this] { return !jobs_.empty() || shutdown_; });
                if (jobs_.empty()) return;  // shut down and drained
                fn = std::move(jobs_.front());
                jobs_.pop_front();
            }
            space_.notify_one();
            fn();
        }
    }
    size_t max_queued_;
    std::mutex mu_;
    std::condition_variable ready_, space_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::thread> workers_;
    bool shutdown_ = false;
};

}  // namespace orch_net
