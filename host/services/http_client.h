// Outbound HTTP on worker threads. cpp-httplib and OpenSSL live in the
// orch-net.so module (host/net/), loaded by http_client.cpp on first use.
// Completions are posted back to the loop thread. Lua-free.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

struct orch_net_api_table;

namespace orch {

class Loop;

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string content_type = "application/json";
    double timeout = 30;
    const int* stop = nullptr;  // set by HttpWorkers: its stop flag (net_api.h's orch_net_request.stop)
};

struct HttpResponse {
    int status = 0;  // 0 when the request failed before a response
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string error;
};

HttpResponse http_fetch(const HttpRequest& req);  // blocking

// The loaded orch-net.so (net/net_api.h), or null with the reason in err.
const struct orch_net_api_table* net_api(std::string& err);

class HttpWorkers {
public:
    HttpWorkers(Loop& loop, int threads);
    ~HttpWorkers();
    // `done` runs on the loop thread. Returns an id for cancel().
    std::uint64_t submit(HttpRequest req, std::function<void(HttpResponse)> done);
    void cancel(std::uint64_t id);  // the completion is dropped
    size_t in_flight() const { return in_flight_; }

private:
    struct Job {
        std::uint64_t id;
        HttpRequest req;
    };
    void work();
    void stop_fetches();

    Loop& loop_;
    int threads_;
    std::vector<std::thread> pool_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Job> jobs_;
    bool stopping_ = false;
    int stop_flag_ = 0;   // read by orch-net with __atomic_load_n; set once, by the destructor
    int busy_ = 0;        // fetches in flight (under mu_)
    std::condition_variable idle_cv_;
    std::uint64_t next_id_ = 1;
    size_t in_flight_ = 0;  // loop thread only
    std::vector<std::pair<std::uint64_t, std::function<void(HttpResponse)>>> pending_;  // loop thread only
};

}  // namespace orch
