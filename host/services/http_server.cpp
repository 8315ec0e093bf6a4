#include "services/http_server.h"

#include "loop/loop.h"
#include "net/net_api.h"
#include "services/http_client.h"
#include "services/json_depth.h"
#include "services/json_reason.h"
#include "services/journal.h"

#include <cctype>
#include <chrono>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <sys/time.h>
#include <unistd.h>

namespace orch {

using json = nlohmann::json;

namespace {

ServerReply json_reply(int status, const json& body) {
    ServerReply r;
    r.status = status;
    r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return r;
}

bool looks_json(const ServerCall& c) {
    // declared JSON, or undeclared (curl -d says form-urlencoded) but shaped like it
    for (auto& [k, v] : c.headers)
        if (k == "content-type" && v.find("json") != std::string::npos) return true;
    for (char ch : c.body) {
        if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') continue;
        return ch == '{' || ch == '[';
    }
    return false;
}

void trampoline(void* ctx, const orch_net_server_request* req, const orch_net_response_sink* out) {
    try {
        static_cast<HttpServer*>(ctx)->handle(*req, *out);
    } catch (...) {  // nothing may unwind into the module
        static const char k_body[] = "{\"error\":\"internal error\"}";
        out->status(out->ctx, 500);
        out->body(out->ctx, k_body, sizeof k_body - 1);
    }
}

}  // namespace

ServerCall::~ServerCall() = default;

bool ServerCall::reply(ServerReply r) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (done_ || gave_up_) return false;
        done_ = true;
        out_ = std::move(r);
    }
    cv_.notify_one();
    return true;
}

HttpServer::HttpServer(Loop& loop, Journal* journal, ServerOptions opts, Handler handler)
    : loop_(loop), journal_(journal), opts_(std::move(opts)), handler_(std::make_shared<Handler>(std::move(handler))) {
    char buf[32];
    snprintf(buf, sizeof buf, "%x", static_cast<unsigned>(time(nullptr) ^ (getpid() << 16)) & 0xffffffu);
    id_prefix_ = buf;
}

HttpServer::~HttpServer() {
    stop();
    if (access_log_) fclose(access_log_);
}

void HttpServer::start() {
    std::string err;
    api_ = net_api(err);
    if (!api_) throw std::runtime_error(err);
    if (!opts_.access_log.empty()) {
        access_log_ = fopen(opts_.access_log.c_str(), "ae");
        if (!access_log_) throw std::runtime_error("cannot open the access log " + opts_.access_log);
    }
    orch_net_server_options o{opts_.host.c_str(), opts_.port, opts_.threads, opts_.queue, opts_.max_body,
                              opts_.io_timeout, 5.0, 100, opts_.header_timeout};
    orch_net_server_handler h{this, trampoline};
    char msg[512] = {0};
    server_ = api_->server_start(&o, &h, msg, sizeof msg);
    if (!server_) throw std::runtime_error(msg);
    port_ = api_->server_port(server_);
}

void HttpServer::stop() {
    if (!server_) return;
    stopping_ = true;
    {
        std::lock_guard<std::mutex> lock(calls_mu_);
        for (ServerCall* c : waiting_) {
            std::lock_guard<std::mutex> cl(c->mu_);
            c->cv_.notify_one();
        }
    }
    api_->server_stop(server_);
    server_ = nullptr;
    if (flush_timer_) loop_.cancel_timer(flush_timer_);
    flush_timer_ = 0;
    flush_access_log();
}

void HttpServer::handle(const orch_net_server_request& req, const orch_net_response_sink& out) {
    auto started = std::chrono::steady_clock::now();
    auto call = std::make_shared<ServerCall>();
    call->id = id_prefix_ + "-" + std::to_string(next_id_++);
    call->deadline = Loop::now() + opts_.handler_timeout;
    call->method = req.method;
    call->path.assign(req.path, req.path_len);
    call->query.assign(req.query ? req.query : "", req.query_len);
    call->remote = std::string(req.remote_addr) + ":" + std::to_string(req.remote_port);
    call->body.assign(req.body ? req.body : "", req.body_len);
    call->headers.reserve(req.n_headers);
    for (size_t i = 0; i < req.n_headers; ++i) {
        std::string name(req.headers[i].name, req.headers[i].name_len);
        for (auto& ch : name)
            if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');  // not tolower(): a locale call per byte
        call->headers.emplace_back(std::move(name), std::string(req.headers[i].value, req.headers[i].value_len));
    }

    ServerReply r;
    bool answered = false;
    if (stopping_) {
        r = json_reply(503, {{"error", "the server is shutting down"}, {"request_id", call->id}});
        answered = true;
    } else if (!call->body.empty() && looks_json(*call)) {
        std::string err = json_too_deep(call->body)
                              ? "JSON too deeply nested (more than " + std::to_string(k_max_json_depth) + " levels)"
                              : "";
        if (err.empty()) {
            try {
                call->json = std::make_unique<json>(json::parse(call->body));
            } catch (const json::exception& e) {  // a syntax error, a number beyond a double (1e400)
                err = "malformed JSON: " + json_error_reason(call->body, e);
            }
        }
        if (!err.empty()) {
            r = json_reply(400, {{"error", err}, {"request_id", call->id}});
            answered = true;
        }
    }
    if (!answered) {
        {
            std::lock_guard<std::mutex> lock(calls_mu_);
            waiting_.insert(call.get());
        }
        loop_.post([h = handler_, call] { (*h)(call); });
        auto deadline = started + std::chrono::duration<double>(opts_.handler_timeout);
        std::unique_lock<std::mutex> lock(call->mu_);
        call->cv_.wait_until(lock, deadline, [&] { return call->done_ || stopping_.load(); });
        if (call->done_) {
            r = std::move(call->out_);
        } else {
            call->gave_up_ = true;
            bool timed_out = !stopping_;
            r = json_reply(503, {{"error", timed_out ? "the handler did not answer in time" : "the server is shutting down"},
                                 {"request_id", call->id}});
            if (timed_out && journal_) {
                std::string msg = "webhook " + call->method + " " + call->path + " [" + call->id +
                                  "]: no answer within " + std::to_string(static_cast<int>(opts_.handler_timeout)) +
                                  " s; answered 503";
                Journal* j = journal_;
                loop_.post([j, msg] { j->log("warn", msg); });
            }
        }
        lock.unlock();
        std::lock_guard<std::mutex> cl(calls_mu_);
        waiting_.erase(call.get());
    }
    out.status(out.ctx, r.status);
    for (auto& [k, v] : r.headers) out.header(out.ctx, k.data(), k.size(), v.data(), v.size());
    static const char k_ct[] = "Content-Type";
    out.header(out.ctx, k_ct, sizeof k_ct - 1, r.content_type.data(), r.content_type.size());
    out.body(out.ctx, r.body.data(), r.body.size());
    ++served_;
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    access(*call, r.status, r.body.size(), ms);
}

// One line per request: time, caller, method, path (never the query or the
// body, where secrets travel), status, bytes, latency, request id.
void HttpServer::access(const ServerCall& c, int status, size_t bytes, double ms) {
    if (!access_log_) return;
    struct timeval tv;
    gettimeofday(&tv, nullptr);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char ts[40];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string path = c.path.size() > 200 ? c.path.substr(0, 200) + "..." : c.path;
    for (auto& ch : path)
        if (static_cast<unsigned char>(ch) < 0x20 || ch == '"') ch = '?';
    std::lock_guard<std::mutex> lock(log_mu_);
    fprintf(access_log_, "%s.%03d %s \"%s %s\" %d %zu %.2fms %s\n", ts, static_cast<int>(tv.tv_usec / 1000),
            c.remote.c_str(), c.method.c_str(), path.c_str(), status, bytes, ms, c.id.c_str());
    // Flushed by the loop a second later, not per line: a write(2) per
    // request cost 5-10 us of a ~90 us request (bench/FINDINGS.md, serve).
    if (!flush_armed_.exchange(true))
        loop_.post([this] {
            flush_timer_ = loop_.add_timer(1.0, [this] {
                flush_timer_ = 0;
                flush_access_log();
            });
        });
}

void HttpServer::flush_access_log() {
    std::lock_guard<std::mutex> lock(log_mu_);
    flush_armed_ = false;
    if (access_log_) fflush(access_log_);
}

}  // namespace orch
