#include "services/http_client.h"

#include "loop/loop.h"

#include <httplib.h>

namespace orch {

HttpResponse http_fetch(const HttpRequest& req) {
    HttpResponse out;
    // split scheme://host[:port] and path
    auto scheme_end = req.url.find("://");
    if (scheme_end == std::string::npos) {
        out.error = "invalid URL (no scheme): " + req.url;
        return out;
    }
    auto path_start = req.url.find('/', scheme_end + 3);
    std::string base = path_start == std::string::npos ? req.url : req.url.substr(0, path_start);
    std::string path = path_start == std::string::npos ? "/" : req.url.substr(path_start);
    try {
        httplib::Client cli(base);
        if (!cli.is_valid()) {
            out.error = "invalid URL: " + req.url;
            return out;
        }
        auto secs = static_cast<time_t>(req.timeout);
        auto usecs = static_cast<time_t>((req.timeout - static_cast<double>(secs)) * 1e6);
        cli.set_connection_timeout(secs, usecs);
        cli.set_read_timeout(secs, usecs);
        cli.set_write_timeout(secs, usecs);
        cli.set_tcp_nodelay(true);
        httplib::Headers headers;
        for (auto& [k, v] : req.headers) headers.emplace(k, v);
        httplib::Result res = [&] {
            if (req.method == "GET") return cli.Get(path, headers);
            if (req.method == "DELETE") return cli.Delete(path, headers, req.body, req.content_type);
            if (req.method == "PUT") return cli.Put(path, headers, req.body, req.content_type);
            if (req.method == "PATCH") return cli.Patch(path, headers, req.body, req.content_type);
            return cli.Post(path, headers, req.body, req.content_type);
        }();
        if (!res) {
            out.error = httplib::to_string(res.error());
            return out;
        }
        out.status = res->status;
        out.body = res->body;
        for (auto& [k, v] : res->headers) out.headers.emplace_back(k, v);
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    return out;
}

HttpWorkers::HttpWorkers(Loop& loop, int threads) : loop_(loop), threads_(threads) {}

HttpWorkers::~HttpWorkers() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : pool_) t.join();
}

std::uint64_t HttpWorkers::submit(HttpRequest req, std::function<void(HttpResponse)> done) {
    if (pool_.empty())  // threads start on first use: commands that never send pay nothing
        for (int i = 0; i < threads_; ++i) pool_.emplace_back([this] { work(); });
    std::uint64_t id = next_id_++;
    pending_.emplace_back(id, std::move(done));
    ++in_flight_;
    {
        std::lock_guard<std::mutex> lock(mu_);
        jobs_.push_back(Job{id, std::move(req)});
    }
    cv_.notify_one();
    return id;
}

void HttpWorkers::cancel(std::uint64_t id) {
    for (auto& p : pending_)
        if (p.first == id) p.second = nullptr;
}

void HttpWorkers::work() {
    for (;;) {
        Job job;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (stopping_) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        HttpResponse res = http_fetch(job.req);
        loop_.post([this, id = job.id, res = std::move(res)]() mutable {
            for (auto it = pending_.begin(); it != pending_.end(); ++it) {
                if (it->first != id) continue;
                auto cb = std::move(it->second);
                pending_.erase(it);
                --in_flight_;
                if (cb) cb(std::move(res));
                return;
            }
        });
    }
}

}  // namespace orch
