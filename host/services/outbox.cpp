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
constexpr size_t k_telegram_max_text = 4096;  // UTF-16 code units, as Telegram counts
constexpr int k_queue_window = 50;            // rows of one sink looked at per pass

void replace_all(std::string& text, const std::string& what, const std::string& with) {
    if (what.empty()) return;
    for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + with.size()))
        text.replace(pos, what.size(), with);
}

// The longest prefix of UTF-8 `s` within `max_units` UTF-16 units, with "…"
// when something was cut.
std::string cut_utf16(const std::string& s, size_t max_units) {
    size_t units = 0, i = 0, keep = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        units += len == 4 ? 2 : 1;
        i += len;
        if (units <= max_units - 1) keep = std::min(i, s.size());
    }
    if (units <= max_units) return s;
    return s.substr(0, keep) + "\xE2\x80\xA6";
}

// Telegram chat ids are integers; "@channel" names stay strings.
json chat_json(const std::string& chat) {
    bool digits = !chat.empty() && chat.size() < 19;
    for (size_t i = 0; i < chat.size(); ++i)
        if (!(std::isdigit(static_cast<unsigned char>(chat[i])) || (i == 0 && chat[i] == '-' && chat.size() > 1)))
            digits = false;
    return digits ? json(std::stoll(chat)) : json(chat);
}

std::string string_field(const json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json inline_keyboard(const json& buttons) {
    json rows = json::array();
    for (auto& row : buttons) {
        json out = json::array();
        for (auto& b : row) {
            json x = {{"text", b["text"]}};
            if (b.contains("data")) x["callback_data"] = b["data"];
            else x["url"] = b["url"];
            out.push_back(std::move(x));
        }
        rows.push_back(std::move(out));
    }
    return json{{"inline_keyboard", std::move(rows)}};
}

bool is_progress(const json& row) {
    auto p = row.find("payload");
    return p != row.end() && p->is_object() && string_field(*p, "type") == "progress";
}

struct Outcome {
    enum What { sent, retry, give_up } what;
    double delay = 0;
    std::string error;  // redacted
};

// What a response means for the row. Telegram: 429 waits retry_after, other
// 4xx will never succeed (bad chat, blocked bot, bad token). A webhook
// retries every failure, as it always did.
Outcome classify(const Sink& sink, const HttpResponse& res, long long attempts) {
    double backoff = std::min(300.0, std::pow(2.0, static_cast<double>(std::min(attempts, 10LL))));
    if (res.status >= 200 && res.status < 300) return {Outcome::sent, 0, {}};
    if (res.status == 0) return {Outcome::retry, backoff, sink.redact(res.error.empty() ? "no response" : res.error)};
    std::string err = "HTTP " + std::to_string(res.status);
    if (sink.kind != SinkKind::telegram) return {Outcome::retry, backoff, err};
    json body = json_too_deep(res.body) ? json() : json::parse(res.body, nullptr, false);
    if (body.is_object()) {
        std::string desc = string_field(body, "description");
        if (!desc.empty()) err += ": " + desc.substr(0, 300);
    }
    if (res.status == 429) {
        double after = backoff;
        auto p = body.is_object() ? body.find("parameters") : body.end();
        if (body.is_object() && p != body.end() && p->is_object() && p->contains("retry_after") &&
            (*p)["retry_after"].is_number())
            after = std::clamp((*p)["retry_after"].get<double>(), 1.0, 3600.0);
        return {Outcome::retry, after, sink.redact(err)};
    }
    if (res.status >= 400 && res.status < 500) return {Outcome::give_up, 0, sink.redact(err)};
    return {Outcome::retry, backoff, sink.redact(err)};
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

Sink webhook_sink(std::string url) {
    Sink s;
    s.url = std::move(url);
    return s;
}

Sink telegram_sink(std::string api_base, const std::string& token, std::string chat_id) {
    while (!api_base.empty() && api_base.back() == '/') api_base.pop_back();
    Sink s;
    s.kind = SinkKind::telegram;
    s.url = api_base + "/bot" + token + "/sendMessage";
    s.chat_id = std::move(chat_id);
    s.secret = token;
    return s;
}

std::string check_buttons(const json& buttons) {
    if (buttons.is_null() || (buttons.is_object() && buttons.empty())) return "";
    if (!buttons.is_array()) return " must be a list of rows";
    for (size_t r = 0; r < buttons.size(); ++r) {
        const json& row = buttons[r];
        std::string at = "[" + std::to_string(r + 1) + "]";
        if (!row.is_array() || row.empty()) return at + " must be a non-empty list of {text=, data=}";
        for (size_t c = 0; c < row.size(); ++c) {
            const json& b = row[c];
            std::string here = at + "[" + std::to_string(c + 1) + "]";
            if (!b.is_object()) return here + " must be a table {text=, data=}";
            if (string_field(b, "text").empty()) return here + ".text must be a non-empty string";
            if (b.contains("data")) {
                size_t n = b["data"].is_string() ? b["data"].get<std::string>().size() : 0;
                if (n < 1 || n > 64) return here + ".data must be a string of 1 to 64 bytes";
            } else if (string_field(b, "url").empty()) {
                return here + " needs data= (or url=)";
            }
        }
    }
    return "";
}

HttpRequest sink_request(const Sink& sink, const std::string& payload_json) {
    HttpRequest req;
    req.method = "POST";
    req.url = sink.url;
    req.timeout = 10;
    for (auto& [k, v] : sink.headers) req.headers.emplace_back(k, v);
    if (sink.kind == SinkKind::webhook) {
        req.body = payload_json;
        return req;
    }
    json p = json::parse(payload_json, nullptr, false);
    if (!p.is_object()) throw std::invalid_argument("the payload is not a JSON object");
    std::string text = string_field(p, "telegram_text");
    if (text.empty()) text = string_field(p, "message");
    if (text.empty()) throw std::invalid_argument("nothing to send: no message or telegram_text");
    json body = {{"chat_id", chat_json(sink.chat_id)},
                 {"text", cut_utf16(text, k_telegram_max_text)},
                 {"disable_web_page_preview", true}};
    auto buttons = p.find("buttons");
    if (buttons != p.end() && buttons->is_array() && !buttons->empty()) {
        std::string bad = check_buttons(*buttons);
        if (!bad.empty()) throw std::invalid_argument("buttons" + bad);
        body["reply_markup"] = inline_keyboard(*buttons);
    }
    req.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
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

int Outbox::enqueue_all(const std::string& payload_json) {
    if (sinks_.empty()) return 0;
    double now = wall_now();
    bool own = !store_.in_transaction() && sinks_.size() > 1;  // one commit for all sinks
    if (own) store_.begin();
    try {
        for (auto& [name, st] : sinks_) newest_id_ = std::max(newest_id_, store_.enqueue(name, payload_json, now));
        if (own) store_.commit();
    } catch (...) {
        if (own) store_.rollback();
        throw;
    }
    wake();
    return static_cast<int>(sinks_.size());
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
    long long id = row["id"].get<long long>();
    long long attempts = row.value("attempts", 0LL);
    const json& p = row["payload"];  // parsed by the store (text when it was not JSON)
    HttpRequest req;
    try {
        req = sink_request(st.sink, p.is_string() ? p.get<std::string>() : p.dump());
    } catch (const std::exception& e) {
        std::string err = st.sink.redact(e.what());
        store_.mark_given_up(id, err, wall_now());
        journal_.log("error", "notification #" + std::to_string(id) + " to " + name + " cannot be sent (" + err +
                                  "); dropped");
        return false;
    }
    if (progress) st.last_progress = Loop::now();
    st.busy = true;
    st.request = http_.submit(std::move(req), [this, name, id, attempts](HttpResponse res) {
        finish(name, id, attempts, res);
    });
    return true;
}

void Outbox::finish(const std::string& name, long long id, long long attempts, const HttpResponse& res) {
    auto it = sinks_.find(name);
    if (it == sinks_.end()) return;
    SinkState& st = it->second;
    st.busy = false;
    st.request = 0;
    Outcome o = classify(st.sink, res, attempts);
    try {
        double now = wall_now();
        if (o.what == Outcome::sent) {
            store_.mark_delivered(id, now);
            if (st.failing) journal_.log("info", "notifications to " + name + " are delivered again");
            st.failing = false;
        } else if (o.what == Outcome::retry) {
            store_.mark_failed(id, o.error, now + o.delay);
            if (!st.failing)
                journal_.log("warn", "notification to " + name + " failed (" + o.error + "); will retry");
            st.failing = true;
        } else {
            store_.mark_given_up(id, o.error, now);
            journal_.log("error", "notification #" + std::to_string(id) + " to " + name + " failed for good (" +
                                      o.error + "); not retried");
        }
    } catch (const std::exception& e) {
        journal_.log("error", "notifications to " + name + ": " + st.sink.redact(e.what()));
    }
    pump();
}

}  // namespace orch
