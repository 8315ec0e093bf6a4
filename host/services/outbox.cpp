#include "services/outbox.h"
#include "services/json_depth.h"

#include "loop/loop.h"
#include "services/journal.h"
#include "services/store.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace orch {

using json = nlohmann::json;

namespace {

constexpr double k_inf = std::numeric_limits<double>::infinity();
constexpr int k_queue_window = 50;  // rows of one sink looked at per pass

void replace_all(std::string& text, const std::string& what, const std::string& with) {
    if (what.empty()) return;
    for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + with.size()))
        text.replace(pos, what.size(), with);
}

std::string string_field(const json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool is_progress(const json& row) {
    auto p = row.find("payload");
    return p != row.end() && p->is_object() && string_field(*p, "type") == "progress";
}

struct Outcome {
    enum What { sent, retry, dead } what;
    double delay = 0;
    std::string error;  // redacted
    bool refused = false;  // counts towards max_attempts
};

// How long a 429 asks to wait: the JSON body's parameters.retry_after (the
// Bot API), else a Retry-After header in seconds; `fallback` when neither.
double retry_after(const HttpResponse& res, const json& body, double fallback) {
    if (body.is_object()) {
        auto p = body.find("parameters");
        if (p != body.end() && p->is_object() && p->contains("retry_after") && (*p)["retry_after"].is_number())
            return std::clamp((*p)["retry_after"].get<double>(), 1.0, 3600.0);
    }
    for (auto& [k, v] : res.headers) {
        std::string name = k;
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (name != "retry-after") continue;
        char* end = nullptr;
        double s = std::strtod(v.c_str(), &end);
        if (end != v.c_str() && std::isfinite(s)) return std::clamp(s, 1.0, 3600.0);
    }
    return fallback;
}

// What an answer means for the row (the table in outbox.h).
Outcome classify(const Sink& sink, const HttpResponse& res, long long attempts) {
    double backoff = std::min(300.0, std::pow(2.0, static_cast<double>(std::min(attempts, 10LL))));
    if (res.status >= 200 && res.status < 300) return {Outcome::sent, 0, {}};
    if (res.status == 0) return {Outcome::retry, backoff, sink.redact(res.error.empty() ? "no response" : res.error)};
    std::string err = "HTTP " + std::to_string(res.status);
    json body = json_too_deep(res.body) ? json() : json::parse(res.body, nullptr, false);
    if (body.is_object()) {  // the Bot API says what is wrong in "description"
        std::string desc = string_field(body, "description");
        if (!desc.empty()) err += ": " + desc.substr(0, 300);
    }
    err = sink.redact(err);
    if (res.status == 429) return {Outcome::retry, retry_after(res, body, backoff), err};
    if (res.status >= 400 && res.status < 500) return {Outcome::dead, 0, err};
    return {Outcome::retry, backoff, err, true};
}

}  // namespace

std::string Sink::redact(std::string text) const {
    if (secret.empty()) return text;
    replace_all(text, secret, "<redacted>");
    std::string upper = secret, lower = secret;  // as a URL may spell it
    replace_all(upper, ":", "%3A");
    replace_all(lower, ":", "%3a");
    replace_all(text, upper, "<redacted>");
    replace_all(text, lower, "<redacted>");
    return text;
}

HttpRequest row_request(const Sink& sink, const json& payload) {
    auto bad = [](const std::string& what) { throw std::invalid_argument("request." + what); };
    if (!payload.is_object() || !payload.contains("request") || !payload["request"].is_object())
        throw std::invalid_argument("request must be a table {method=, url=, headers=, body=}");
    const json& r = payload["request"];
    HttpRequest req;
    req.method = r.contains("method") ? (r["method"].is_string() ? r["method"].get<std::string>() : "") : "POST";
    if (req.method.empty()) bad("method must be a string");
    req.url = string_field(r, "url");
    if (req.url.empty()) bad("url must be a non-empty string");
    replace_all(req.url, "{secret}", sink.secret);
    if (r.contains("body") && !r["body"].is_string()) bad("body must be a string");
    req.body = string_field(r, "body");
    req.timeout = 10;
    if (r.contains("timeout")) {
        if (!r["timeout"].is_number() || r["timeout"].get<double>() <= 0) bad("timeout must be a number > 0");
        req.timeout = r["timeout"].get<double>();
    }
    if (r.contains("headers") && !r["headers"].is_null()) {
        if (!r["headers"].is_object()) bad("headers must be a table of name = value");
        for (auto& [k, v] : r["headers"].items()) {
            if (!v.is_string()) bad("headers." + k + " must be a string");
            std::string value = v.get<std::string>();
            replace_all(value, "{secret}", sink.secret);
            std::string lower = k;
            for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (lower == "content-type") req.content_type = value;
            else req.headers.emplace_back(k, value);
        }
    }
    return req;
}

Outbox::Outbox(Loop& loop, Store& store, HttpWorkers& http, Journal& journal)
    : loop_(loop), store_(store), http_(http), journal_(journal) {}

Outbox::~Outbox() {
    if (timer_) loop_.cancel_timer(timer_);
    for (auto& [name, st] : sinks_)
        if (st.busy) http_.cancel(st.request);  // its completion must not reach a dead Outbox
}

void Outbox::add_sink(const std::string& name, Sink sink) { sinks_[name].sink = std::move(sink); }

std::vector<std::string> Outbox::sink_names() const {
    std::vector<std::string> out;
    for (auto& [name, st] : sinks_) out.push_back(name);
    return out;
}

bool Outbox::busy() const {
    return std::any_of(sinks_.begin(), sinks_.end(), [](auto& s) { return s.second.busy; });
}

long long Outbox::pending() {
    long long n = 0;
    for (auto& [name, st] : sinks_) n += store_.outbox_pending(name);
    return n;
}

int Outbox::enqueue(const std::vector<OutboxRow>& rows) {
    for (size_t i = 0; i < rows.size(); ++i) {  // all checked before any is written
        std::string at = "rows[" + std::to_string(i + 1) + "]";
        auto it = sinks_.find(rows[i].sink);
        if (it == sinks_.end()) throw std::invalid_argument(at + ": no sink named '" + rows[i].sink + "'");
        json p = json::parse(rows[i].payload_json, nullptr, false);
        try {
            row_request(it->second.sink, p);
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(at + "." + e.what());
        }
    }
    if (rows.empty()) return 0;
    double now = wall_now();
    bool own = !store_.in_transaction() && rows.size() > 1;  // one commit for all rows
    if (own) store_.begin();
    try {
        for (auto& r : rows) newest_id_ = std::max(newest_id_, store_.enqueue(r.sink, r.payload_json, now));
        if (own) store_.commit();
    } catch (...) {
        if (own) store_.rollback();
        throw;
    }
    wake();
    return static_cast<int>(rows.size());
}

void Outbox::kick() {
    if (sinks_.empty()) return;
    try {
        store_.retry_outbox_now(wall_now());
    } catch (const std::exception& e) {
        journal_.log("error", std::string("notifications: ") + e.what());
    }
    release_upto_ = newest_id_;
    wake();
}

void Outbox::wake() { arm(0); }

void Outbox::arm(double seconds) {
    if (timer_) loop_.cancel_timer(timer_);
    timer_ = 0;
    if (!std::isfinite(seconds)) return;
    timer_ = loop_.add_timer(std::max(0.0, seconds), [this] {
        timer_ = 0;
        pump();
    });
}

// One pass: every idle sink starts its next row, if one may go now. Arms the
// timer for the earliest moment something held or backing off may go.
void Outbox::pump() {
    double wait = k_inf;
    for (auto& [name, st] : sinks_) {
        if (st.busy) continue;  // its completion pumps again
        try {
            wait = std::min(wait, pick(name, st));
        } catch (const std::exception& e) {
            journal_.log("error", "notifications to " + name + ": " + st.sink.redact(e.what()));
            wait = std::min(wait, 5.0);
        }
    }
    arm(wait);
}

// Seconds until this sink has something to try (infinity: nothing, or a
// request is now in flight).
double Outbox::pick(const std::string& name, SinkState& st) {
    double now = wall_now();
    store_.coalesce_progress(name, now);
    json rows = store_.outbox_queue(name, k_queue_window);
    double wait = k_inf;
    for (const json& row : rows) {
        long long id = row["id"].get<long long>();
        newest_id_ = std::max(newest_id_, id);
        double next_at = row.contains("next_at") && row["next_at"].is_number() ? row["next_at"].get<double>() : 0;
        if (next_at > now) return std::min(wait, next_at - now);  // backing off: the rows after it keep their place
        bool progress = is_progress(row);
        if (progress && id > release_upto_) {
            double due = st.last_progress + interval_ - Loop::now();
            if (due > 0) {  // held; the rest of the queue goes on
                wait = std::min(wait, due);
                continue;
            }
        }
        if (send(name, st, row, progress)) return k_inf;
    }
    return wait;
}

bool Outbox::send(const std::string& name, SinkState& st, const json& row, bool progress) {
    Attempt a{row["id"].get<long long>(), row.value("attempts", 0LL), row.value("refusals", 0LL)};
    HttpRequest req;
    try {
        req = row_request(st.sink, row["payload"]);  // parsed by the store (text when it was not JSON)
    } catch (const std::exception& e) {
        dead(name, a.id, "cannot be sent: " + st.sink.redact(e.what()));
        return false;
    }
    if (progress) st.last_progress = Loop::now();
    st.busy = true;
    st.request = http_.submit(std::move(req), [this, name, a](HttpResponse res) { finish(name, a, res); });
    return true;
}

void Outbox::dead(const std::string& name, long long id, const std::string& why, bool refused) {
    store_.mark_dead(id, why, wall_now(), refused);
    journal_.log("error", "notification #" + std::to_string(id) + " to " + name + " failed for good (" + why +
                              "); not retried (dead: orch-host status shows it)");
}

void Outbox::finish(const std::string& name, const Attempt& a, const HttpResponse& res) {
    auto it = sinks_.find(name);
    if (it == sinks_.end()) return;
    SinkState& st = it->second;
    st.busy = false;
    st.request = 0;
    Outcome o = classify(st.sink, res, a.attempts);
    try {
        double now = wall_now();
        if (o.what == Outcome::retry && o.refused && a.refusals + 1 >= max_attempts_) {
            o.what = Outcome::dead;
            o.error += " (" + std::to_string(a.refusals + 1) + " refusals; notify.max_attempts)";
        }
        if (o.what == Outcome::sent) {
            store_.mark_delivered(a.id, now);
            if (st.failing) journal_.log("info", "notifications to " + name + " are delivered again");
            st.failing = false;
        } else if (o.what == Outcome::retry) {
            store_.mark_failed(a.id, o.error, now + o.delay, o.refused);
            if (!st.failing)
                journal_.log("warn", "notification to " + name + " failed (" + o.error + "); will retry");
            st.failing = true;
        } else {
            dead(name, a.id, o.error, o.refused);
        }
    } catch (const std::exception& e) {
        journal_.log("error", "notifications to " + name + ": " + st.sink.redact(e.what()));
    }
    pump();
}

}  // namespace orch
