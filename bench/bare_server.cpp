// bench/bare_server.cpp: the floor for bench/serve.sh's webhook benchmark. A
// bare cpp-httplib server (the same libcpp-httplib 0.11.4 that orch-net.so
// links) with the settings `orch-host serve` gives its server in
// host/net/net_module.cpp: 16 worker threads behind a queue of 256, keep-alive
// 5 s and 100 requests per connection, TCP_NODELAY, 10 s read/write timeouts,
// 256 KB body limit, a catch-all POST route. It answers every POST with one
// fixed body: what the Lua route answered (bench/serve.sh captures it with
// curl), so both sides send the same bytes. No loop thread, no Lua, no JSON
// parse, no access log: what remains in `orch-host serve` beyond this is the
// host's own cost.
//
//   bench_bare_server [--port N] [--threads N] [--body-file F]
//
// Prints "bench_bare_server: listening on http://127.0.0.1:PORT" (the same
// shape as orch-host serve) and serves until killed.
#include <httplib.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

// The same pool as net_module.cpp's BoundedPool: fixed threads, capped queue.
class BoundedPool : public httplib::TaskQueue {
public:
    BoundedPool(size_t threads, size_t max_queued) : max_queued_(max_queued) {
        for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
    }
    void enqueue(std::function<void()> fn) override {
        std::unique_lock<std::mutex> lock(mu_);
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
        for (auto& t : workers_) t.join();
    }

private:
    void work() {
        for (;;) {
            std::function<void()> fn;
            {
                std::unique_lock<std::mutex> lock(mu_);
                ready_.wait(lock, [this] { return !jobs_.empty() || shutdown_; });
                if (jobs_.empty()) return;
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

}  // namespace

int main(int argc, char** argv) {
    int port = 0;
    size_t threads = 16;
    std::string body = "{\"message\":\"no session yet: start one with the start command\",\"running\":false,"
                       "\"status\":\"idle\"}";
    for (int i = 1; i < argc; ++i) {
        auto next = [&](const char* name) -> const char* {
            if (i + 1 >= argc) {
                fprintf(stderr, "bench_bare_server: %s needs a value\n", name);
                exit(2);
            }
            return argv[++i];
        };
        if (!strcmp(argv[i], "--port")) port = atoi(next("--port"));
        else if (!strcmp(argv[i], "--threads")) threads = static_cast<size_t>(atoi(next("--threads")));
        else if (!strcmp(argv[i], "--body-file")) {
            std::ifstream f(next("--body-file"), std::ios::binary);
            if (!f) {
                fprintf(stderr, "bench_bare_server: cannot read the body file\n");
                return 2;
            }
            std::ostringstream ss;
            ss << f.rdbuf();
            body = ss.str();
        } else {
            fprintf(stderr, "usage: bench_bare_server [--port N] [--threads N] [--body-file F]\n");
            return 2;
        }
    }

    httplib::Server svr;
    svr.new_task_queue = [threads] { return new BoundedPool(threads, 256); };
    svr.set_payload_max_length(256 * 1024);
    svr.set_tcp_nodelay(true);
    svr.set_read_timeout(10, 0);
    svr.set_write_timeout(10, 0);
    svr.set_keep_alive_timeout(5);
    svr.set_keep_alive_max_count(100);
    svr.Post(".*", [&body](const httplib::Request&, httplib::Response& res) {
        res.set_content(body.data(), body.size(), "application/json");
    });

    int bound = port == 0 ? svr.bind_to_any_port("127.0.0.1") : (svr.bind_to_port("127.0.0.1", port) ? port : -1);
    if (bound < 0) {
        fprintf(stderr, "bench_bare_server: cannot bind 127.0.0.1:%d\n", port);
        return 1;
    }
    printf("bench_bare_server: listening on http://127.0.0.1:%d\n", bound);
    fflush(stdout);
    svr.listen_after_bind();
    return 0;
}
