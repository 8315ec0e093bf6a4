// Durable notification delivery: orch.notify (Lua: scripts/orch/notify.lua)
// decides the sinks of a message and builds each sink's HTTP request; this
// service stores those ready requests as outbox rows, one per sink, and sends
// them from the loop without ever blocking a workflow. It knows no message
// format. Lua-free.
//
// A row's payload (JSON):
//   request  {method=, url=, headers={name=value}, body= (a string), timeout=}
//            "{secret}" in url or a header value stands for the sink's
//            secret, put in at delivery (so it is never stored)
//   type     info | progress | success | error | warning | question
//   session, task   for coalescing (below), when the message had them
//
// Per sink, rows go one at a time in the order they were written, so a sink
// sees them in order and a row in flight is never picked again. What an
// answer means:
//   2xx                 sent
//   no answer           retried with backoff (1, 2, 4 ... up to 300 s) for
//                       as long as it takes: a sink that is down gets every
//                       row once it is back (rows survive restarts)
//   429                 retried after the answer's retry_after (a JSON body's
//                       parameters.retry_after, as the Bot API sends it, or
//                       the Retry-After header), else the backoff
//   other 4xx           dead at once: the sink refuses this row
//   5xx and the rest    retried with backoff; the max_attempts-th such
//                       answer makes the row dead
// A dead row is settled with its reason (store.h) and shown by `status` and
// `doctor`; the rows behind it go on. While a row waits for its backoff the
// rows after it keep their place.
//
// Progress rows (type "progress") are the exception to "in order": only the
// newest pending one per sink, session and task matters, and a sink gets at most
// one per progress interval. Older pending ones are coalesced (settled, never
// sent); the newest is held until the interval has passed. Every other type
// is never held or coalesced.
#pragma once
#include "services/http_client.h"

#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace orch {

class Loop;
class Store;
class Journal;

// One sink as the host knows it. The secret (a bot token, say) is put in for
// "{secret}" at delivery and removed from every log line and stored error.
struct Sink {
    std::string secret;
    std::string redact(std::string text) const;
};

// The HTTP request a row's payload describes, the secret put in. Throws
// std::invalid_argument naming the field that is missing or wrong.
HttpRequest row_request(const Sink& sink, const nlohmann::json& payload);

// One row to queue: the sink's name and the payload above.
struct OutboxRow {
    std::string sink;
    std::string payload_json;
};

class Outbox {
public:
    Outbox(Loop& loop, Store& store, HttpWorkers& http, Journal& journal);
    ~Outbox();
    Outbox(const Outbox&) = delete;
    Outbox& operator=(const Outbox&) = delete;

    void add_sink(const std::string& name, Sink sink = {});
    bool has_sinks() const { return !sinks_.empty(); }
    std::vector<std::string> sink_names() const;
    void set_progress_interval(double seconds) { interval_ = seconds > 0 ? seconds : 0; }
    void set_max_attempts(long long n) { max_attempts_ = n > 0 ? n : 1; }

    // Queue rows (one transaction); returns how many. Throws
    // std::invalid_argument for a sink that is not configured or a payload
    // whose request is malformed: nothing is queued then.
    int enqueue(const std::vector<OutboxRow>& rows);
    // Deliver now what is queued: rows waiting for a backoff are tried at
    // once and held progress rows go (still coalesced). For a run that
    // starts or finishes; new rows need no kick.
    void kick();
    bool busy() const;       // a request is in flight
    long long pending();     // undelivered rows of the configured sinks

private:
    struct SinkState {
        Sink sink;
        bool busy = false;
        std::uint64_t request = 0;  // HttpWorkers id while busy
        double last_progress = -std::numeric_limits<double>::infinity();  // Loop::now() of the last progress sent
        bool failing = false;       // logged once per outage
    };
    struct Attempt {
        long long id = 0, attempts = 0, refusals = 0;
    };
    void wake();  // pump on the next loop turn
    void pump();
    double pick(const std::string& name, SinkState& st);
    bool send(const std::string& name, SinkState& st, const nlohmann::json& row, bool progress);
    void finish(const std::string& name, const Attempt& a, const HttpResponse& res);
    void dead(const std::string& name, long long id, const std::string& why, bool refused = false);
    void arm(double seconds);

    Loop& loop_;
    Store& store_;
    HttpWorkers& http_;
    Journal& journal_;
    std::map<std::string, SinkState> sinks_;
    double interval_ = 5;
    long long max_attempts_ = 8;
    long long newest_id_ = 0;       // the newest row id written or seen
    long long release_upto_ = 0;    // progress rows up to this id skip the interval (kick)
    std::uint64_t timer_ = 0;
};

}  // namespace orch
