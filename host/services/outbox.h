// Durable notification delivery: orch.notify writes outbox rows (one per
// sink); this service POSTs them from the loop and never blocks a workflow.
// Lua-free.
//
// Per sink, rows go one at a time in the order they were written, so a sink
// sees them in order and a row in flight is never picked again. A row is
// settled only by a 2xx (sent), by coalescing (below) or by a permanent
// failure; anything else (network error, 5xx, 429) leaves it pending and the
// sink waits (exponential backoff up to 5 minutes, or Telegram's
// retry_after) before trying that same row again. Rows survive restarts, so a
// sink that was down gets every message when it comes back.
//
// Progress rows (payload type "progress") are the exception: only the
// newest pending one per sink and session matters, and a sink gets at most
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

enum class SinkKind { webhook, telegram };

// Where one sink's rows go. A webhook (n8n) gets the payload JSON itself as
// the body, exactly as orch.notify built it:
//   message  the text (string)
//   type     info | progress | success | error | warning | question
//   ts       epoch seconds when notify was called
//   session, task, event   ids and the event name, when the workflow gave them
//   progress {done=, total=}, telegram_text, buttons, and any other field
//            the workflow passed to orch.notify
// A Telegram sink sends sendMessage to one chat (see sink_request).
struct Sink {
    SinkKind kind = SinkKind::webhook;
    std::string url;  // what is POSTed to; for Telegram it holds the bot token
    std::map<std::string, std::string> headers;
    std::string chat_id;  // telegram
    std::string secret;   // never in a log line or a stored error: redact() removes it

    std::string shown_url() const { return redact(url); }
    std::string redact(std::string text) const;
};

Sink webhook_sink(std::string url);
// POSTs {api_base}/bot{token}/sendMessage (api_base: a Bot API emulator in tests).
Sink telegram_sink(std::string api_base, const std::string& token, std::string chat_id);

// The request that delivers one payload to a sink. Telegram: the body is
// {chat_id, text, disable_web_page_preview: true, reply_markup?}, text being
// payload.telegram_text or payload.message (cut to Telegram's 4096), and
// reply_markup the inline keyboard made from payload.buttons. Throws
// std::invalid_argument when there is nothing to send.
HttpRequest sink_request(const Sink& sink, const std::string& payload_json);

// payload.buttons: a list of rows, each a list of {text=, data=} (or
// {text=, url=}). Returns "" when usable, else what is wrong.
std::string check_buttons(const nlohmann::json& buttons);

class Outbox {
public:
    Outbox(Loop& loop, Store& store, HttpWorkers& http, Journal& journal);
    ~Outbox();
    Outbox(const Outbox&) = delete;
    Outbox& operator=(const Outbox&) = delete;

    void add_sink(const std::string& name, Sink sink);
    bool has_sinks() const { return !sinks_.empty(); }
    std::vector<std::string> sink_names() const;
    void set_progress_interval(double seconds) { interval_ = seconds > 0 ? seconds : 0; }

    // Queue one payload for every configured sink; returns rows written.
    int enqueue_all(const std::string& payload_json);
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
    void wake();  // pump on the next loop turn
    void pump();
    double pick(const std::string& name, SinkState& st);
    bool send(const std::string& name, SinkState& st, const nlohmann::json& row, bool progress);
    void finish(const std::string& name, long long id, long long attempts, const HttpResponse& res);
    void arm(double seconds);

    Loop& loop_;
    Store& store_;
    HttpWorkers& http_;
    Journal& journal_;
    std::map<std::string, SinkState> sinks_;
    double interval_ = 5;
    long long newest_id_ = 0;       // the newest row id written or seen
    long long release_upto_ = 0;    // progress rows up to this id skip the interval (kick)
    std::uint64_t timer_ = 0;
};

}  // namespace orch
