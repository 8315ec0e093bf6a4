// Durable notification delivery: orch.notify writes outbox rows; this service
// POSTs them to their sink (n8n webhook, ...) from the loop, with retries and
// exponential backoff, and never blocks a workflow. Rows survive restarts, so
// a sink that is down gets every message when it comes back. Lua-free.
#pragma once
#include <map>
#include <string>

namespace orch {

class Loop;
class Store;
class Journal;
class HttpWorkers;

struct Sink {
    std::string url;
    std::map<std::string, std::string> headers;
};

class Outbox {
public:
    Outbox(Loop& loop, Store& store, HttpWorkers& http, Journal& journal);
    void add_sink(const std::string& name, Sink sink) { sinks_[name] = std::move(sink); }
    bool has_sinks() const { return !sinks_.empty(); }
    const std::map<std::string, Sink>& sinks() const { return sinks_; }
    // Queue one payload for every configured sink; returns rows written.
    int enqueue_all(const std::string& payload_json);
    void kick();  // deliver what is due now
    bool busy() const { return sending_ > 0; }
    long long pending();

private:
    void schedule(double seconds);
    void deliver_due();

    Loop& loop_;
    Store& store_;
    HttpWorkers& http_;
    Journal& journal_;
    std::map<std::string, Sink> sinks_;
    int sending_ = 0;
    std::uint64_t timer_ = 0;
};

}  // namespace orch
