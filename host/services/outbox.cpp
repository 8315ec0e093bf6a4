#include "services/outbox.h"

#include "loop/loop.h"
#include "services/http_client.h"
#include "services/journal.h"
#include "services/store.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace orch {

using json = nlohmann::json;

Outbox::Outbox(Loop& loop, Store& store, HttpWorkers& http, Journal& journal)
    : loop_(loop), store_(store), http_(http), journal_(journal) {}

int Outbox::enqueue_all(const std::string& payload_json) {
    int n = 0;
    double now = wall_now();
    for (auto& [name, sink] : sinks_) {
        store_.enqueue(name, payload_json, now);
        ++n;
    }
    if (n) kick();
    return n;
}

long long Outbox::pending() { return store_.outbox_pending(); }

void Outbox::kick() {
    if (sinks_.empty()) return;
    if (timer_) loop_.cancel_timer(timer_);
    timer_ = 0;
    // Deliver on the next loop turn, so a burst of notify() calls is one batch.
    timer_ = loop_.add_timer(0, [this] {
        timer_ = 0;
        deliver_due();
    });
}

void Outbox::schedule(double seconds) {
    if (timer_) return;
    timer_ = loop_.add_timer(seconds, [this] {
        timer_ = 0;
        deliver_due();
    });
}

void Outbox::deliver_due() {
    if (sending_ > 0) return;  // one batch at a time keeps order per sink
    json rows = store_.due_outbox(wall_now(), 20);
    for (auto& row : rows) {
        long long id = row["id"].get<long long>();
        std::string sink_name = row["sink"].get<std::string>();
        auto it = sinks_.find(sink_name);
        if (it == sinks_.end()) {
            store_.mark_failed(id, "sink " + sink_name + " is not configured", wall_now() + 3600);
            continue;
        }
        HttpRequest req;
        req.method = "POST";
        req.url = it->second.url;
        req.body = row["payload"].is_string() ? row["payload"].get<std::string>() : row["payload"].dump();
        for (auto& [k, v] : it->second.headers) req.headers.emplace_back(k, v);
        req.timeout = 10;
        long long attempts = row.value("attempts", 0LL);
        ++sending_;
        http_.submit(std::move(req), [this, id, attempts, sink_name](HttpResponse res) {
            --sending_;
            if (res.status >= 200 && res.status < 300) {
                store_.mark_delivered(id, wall_now());
            } else {
                double delay = std::min(300.0, std::pow(2.0, static_cast<double>(std::min(attempts, 10LL))));
                std::string err = res.status ? "HTTP " + std::to_string(res.status) : res.error;
                store_.mark_failed(id, err, wall_now() + delay);
                if (attempts == 0)
                    journal_.log("warn", "notification to " + sink_name + " failed (" + err + "); will retry");
            }
            if (sending_ == 0) {
                long long left = store_.outbox_pending();
                if (left > 0) schedule(res.status >= 200 && res.status < 300 ? 0 : 1.0);
            }
        });
    }
    if (rows.empty() && store_.outbox_pending() > 0) schedule(1.0);
}

}  // namespace orch
