// orch-net.so: the cpp-httplib (OpenSSL) side of host/net/net_api.h, loaded by
// the host on its first HTTP request (host/services/http_client.cpp) or when
// `serve` starts its server (host/services/http_server.cpp): the client's
// fetch, and the server with its bounded pool.
// Self-contained: it uses nothing from orchcore, and exports only
// orch_net_api() (built with -fvisibility=hidden, linked with -z defs).
#include "bounded_pool.h"
#include "gate.h"
#include "net_api.h"

#include <httplib.h>

#include <condition_variable>
#include <cstdio>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

void fail(const orch_net_response_sink* out, const std::string& msg) {
    out->error(out->ctx, msg.data(), msg.size());
}

// The fetches in flight that named a stop flag, so http_stop can shut their
// sockets down: a host stopping must not wait out a slow server's timeout.
std::mutex g_fetch_mu;
std::vector<std::pair<const int*, httplib::Client*>> g_fetching;

bool stop_set(const int* stop) { return stop && __atomic_load_n(stop, __ATOMIC_ACQUIRE) != 0; }

class Fetching {
public:
    Fetching(const int* stop, httplib::Client* c) : stop_(stop), c_(c) {
        if (!stop_) return;
        std::lock_guard<std::mutex> lock(g_fetch_mu);
        g_fetching.emplace_back(stop_, c_);
    }
    ~Fetching() {
        if (!stop_) return;
        std::lock_guard<std::mutex> lock(g_fetch_mu);
        for (auto it = g_fetching.begin(); it != g_fetching.end(); ++it)
            if (it->second == c_) {
                g_fetching.erase(it);
                break;
            }
    }
    Fetching(const Fetching&) = delete;
    Fetching& operator=(const Fetching&) = delete;

private:
    const int* stop_;
    httplib::Client* c_;
};

void http_stop(const int* stop) {
    try {
        std::lock_guard<std::mutex> lock(g_fetch_mu);
        for (auto& [flag, c] : g_fetching)
            if (flag == stop) c->stop();
    } catch (...) {  // nothing may unwind into the host
    }
}

void fetch(const orch_net_request* r, const orch_net_response_sink* out) {
    try {
        std::string url(r->url, r->url_len);
        std::string method = r->method ? r->method : "GET";
        std::string content_type = r->content_type ? r->content_type : "";
        std::string body(r->body ? r->body : "", r->body_len);
        // split scheme://host[:port] and path
        auto scheme_end = url.find("://");
        if (scheme_end == std::string::npos) return fail(out, "invalid URL (no scheme): " + url);
        auto path_start = url.find('/', scheme_end + 3);
        std::string base = path_start == std::string::npos ? url : url.substr(0, path_start);
        std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);

        httplib::Client cli(base);
        if (!cli.is_valid()) return fail(out, "invalid URL: " + url);
        auto secs = static_cast<time_t>(r->timeout);
        auto usecs = static_cast<time_t>((r->timeout - static_cast<double>(secs)) * 1e6);
        cli.set_connection_timeout(secs, usecs);
        cli.set_read_timeout(secs, usecs);
        cli.set_write_timeout(secs, usecs);
        cli.set_tcp_nodelay(true);
        httplib::Headers headers;
        for (size_t i = 0; i < r->n_headers; ++i) {
            const orch_net_header& h = r->headers[i];
            headers.emplace(std::string(h.name, h.name_len), std::string(h.value, h.value_len));
        }
        Fetching fetching(r->stop, &cli);  // registered before the check: a stop after it reaches this one
        if (stop_set(r->stop)) return fail(out, "stopped: the host is shutting down");
        httplib::Result res = [&] {
            if (method == "GET") return cli.Get(path, headers);
            if (method == "DELETE") return cli.Delete(path, headers, body, content_type);
            if (method == "PUT") return cli.Put(path, headers, body, content_type);
            if (method == "PATCH") return cli.Patch(path, headers, body, content_type);
            return cli.Post(path, headers, body, content_type);
        }();
        if (!res) return fail(out, stop_set(r->stop) ? std::string("stopped: the host is shutting down")
                                                     : httplib::to_string(res.error()));
        out->status(out->ctx, res->status);
        out->body(out->ctx, res->body.data(), res->body.size());
        for (auto& [k, v] : res->headers) out->header(out->ctx, k.data(), k.size(), v.data(), v.size());
    } catch (const std::exception& e) {
        fail(out, e.what());
    } catch (...) {  // nothing may unwind into the host
        fail(out, "unknown exception in orch-net");
    }
}

// --- server -----------------------------------------------------------------

// httplib's accept loop hands each connection to process_and_close_socket()
// (through the task queue, here run inline on the accept thread): this server
// passes it to the gate instead, and a worker later serves it request by
// request through the protected process_request().
class GatedServer : public httplib::Server {
public:
    std::function<void(int)> on_accept;
    bool serve_one(httplib::Stream& s, bool close_connection, bool& closed) {
        return process_request(s, close_connection, closed, nullptr);
    }

private:
    bool process_and_close_socket(socket_t sock) override {
        on_accept(sock);
        return true;
    }
};

struct InlineQueue : httplib::TaskQueue {
    void enqueue(std::function<void()> fn) override { fn(); }
    void shutdown() override {}
};

// Paths longer than this get 414 before httplib's regex routing, whose
// libstdc++ matcher recurses once per character (an 8 KB path grew each
// worker's stack to 4.5 MB).
constexpr size_t k_max_path = 1024;

thread_local bool t_close_after = false;  // this request's connection must not be kept

struct Server {
    GatedServer svr;
    orch_net_server_handler handler;
    std::thread listener;
    int port = 0;
    int sock = -1;  // the listening socket
    double io_timeout = 10;
    int keep_alive_max = 100;
    std::unique_ptr<orch_net::BoundedPool> pool;
    std::unique_ptr<orch_net::ConnGate> gate;
    std::atomic<bool> stopping{false};
};

// A worker's turn with a connection whose request head has arrived: serve
// it, and the next ones while they are already there; a kept-alive
// connection then goes back to the gate, so an idle or slow client holds no
// worker.
void serve_connection(Server* s, int fd) {
    orch_net::SockStream strm(fd, s->io_timeout, s->io_timeout);
    for (int served = 1;; ++served) {
        strm.arm(s->io_timeout);  // the whole request, head and body
        bool last = s->stopping || served >= s->keep_alive_max;
        bool closed = false;
        t_close_after = false;
        bool ok = s->svr.serve_one(strm, last, closed);
        if (!ok || closed || last || t_close_after || s->stopping) break;
        if (strm.buffered() > 0) continue;  // pipelined: the next head is (partly) read
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 2) > 0 && orch_net::peek_head(fd) == orch_net::Head::complete) continue;
        s->gate->add(fd, false);
        return;
    }
    shutdown(fd, SHUT_RDWR);
    close(fd);
}

void set_timeout(double secs, time_t& s, time_t& us) {
    s = static_cast<time_t>(secs);
    us = static_cast<time_t>((secs - static_cast<double>(s)) * 1e6);
}

const char* reason_json(int status) {
    switch (status) {
    case 400: return "{\"error\":\"bad request\"}";
    case 413: return "{\"error\":\"request body too large\"}";
    case 414: return "{\"error\":\"request URI too long\"}";
    default: return "{\"error\":\"request failed\"}";
    }
}

void serve(Server* s, const httplib::Request& req, std::string_view body, httplib::Response& res) {
    std::vector<orch_net_header> headers;
    headers.reserve(req.headers.size());
    for (auto& [k, v] : req.headers) headers.push_back({k.data(), k.size(), v.data(), v.size()});
    auto q = req.target.find('?');
    std::string_view query = q == std::string::npos ? std::string_view() : std::string_view(req.target).substr(q + 1);
    orch_net_server_request r{req.method.c_str(), req.path.data(), req.path.size(), query.data(), query.size(),
                              headers.data(), headers.size(), body.data(), body.size(),
                              req.remote_addr.c_str(), req.remote_port};
    struct Out {
        httplib::Response* res;
        std::string content_type = "application/json";
    } out{&res};
    orch_net_response_sink sink{
        &out,
        [](void* ctx, int status) { static_cast<Out*>(ctx)->res->status = status; },
        [](void* ctx, const char* data, size_t len) {
            auto* o = static_cast<Out*>(ctx);
            o->res->set_content(data, len, o->content_type.c_str());
        },
        [](void* ctx, const char* name, size_t name_len, const char* value, size_t value_len) {
            auto* o = static_cast<Out*>(ctx);
            std::string n(name, name_len), v(value, value_len);
            if (strcasecmp(n.c_str(), "Content-Type") == 0) o->content_type = v;
            else o->res->set_header(n, v);
        },
        [](void*, const char*, size_t) {},
    };
    s->handler.handle(s->handler.ctx, &r, &sink);
}

void* server_start(const orch_net_server_options* o, const orch_net_server_handler* h, char* err, size_t cap) {
    auto fail = [&](const std::string& msg) -> void* {
        if (cap) snprintf(err, cap, "%s", msg.c_str());
        return nullptr;
    };
    try {
        auto s = std::make_unique<Server>();
        Server* raw = s.get();
        s->handler = *h;
        size_t threads = o->threads > 0 ? static_cast<size_t>(o->threads) : 8;
        size_t queue = o->queue > 0 ? static_cast<size_t>(o->queue) : 64;
        s->pool = std::make_unique<orch_net::BoundedPool>(threads, queue);
        s->io_timeout = o->io_timeout;
        s->keep_alive_max = o->keep_alive_max > 0 ? o->keep_alive_max : 100;
        orch_net::ConnGate::Options g;
        g.head_timeout = o->head_timeout > 0 ? o->head_timeout : 10;
        g.idle_timeout = o->keep_alive_timeout > 0 ? o->keep_alive_timeout : 5;
        s->gate = std::make_unique<orch_net::ConnGate>(g, [raw](int fd) {
            raw->pool->enqueue([raw, fd] { serve_connection(raw, fd); });
        });
        if (!s->gate->start()) return fail("cannot start the connection gate (epoll)");
        s->svr.on_accept = [raw](int fd) { raw->gate->add(fd, true); };
        s->svr.new_task_queue = [] { return new InlineQueue; };
        s->svr.set_payload_max_length(o->max_body);
        s->svr.set_tcp_nodelay(true);
        time_t sec, usec;
        set_timeout(o->io_timeout, sec, usec);
        s->svr.set_read_timeout(sec, usec);
        s->svr.set_write_timeout(sec, usec);
        set_timeout(o->keep_alive_timeout, sec, usec);
        s->svr.set_keep_alive_timeout(sec);
        s->svr.set_keep_alive_max_count(o->keep_alive_max > 0 ? static_cast<size_t>(o->keep_alive_max) : 100);
        auto handler = [raw](const httplib::Request& req, httplib::Response& res) { serve(raw, req, req.body, res); };
        // A body is read here (a ContentReader), not by httplib: httplib 0.11
        // answers 413 to an application/x-www-form-urlencoded body over 8 KB
        // (its compiled-in CPPHTTPLIB_FORM_URL_ENCODED_PAYLOAD_MAX_LENGTH),
        // the type `curl -d` sends; every body is the host's JSON, up to
        // max_body (over it, httplib's 413). A multipart body is refused
        // unread (its reader needs a part handler), the connection closed.
        auto with_body = [raw](const httplib::Request& req, httplib::Response& res,
                               const httplib::ContentReader& read) {
            if (req.is_multipart_form_data()) {
                res.status = 415;
                res.set_content("{\"error\":\"multipart bodies are not accepted: send JSON\"}", "application/json");
                res.set_header("Connection", "close");
                t_close_after = true;
                return;
            }
            std::string body;
            if (!read([&](const char* data, size_t len) {
                    body.append(data, len);
                    return true;
                })) {
                if (res.status < 400) res.status = 400;  // 413 when over the limit (httplib's)
                return;
            }
            serve(raw, req, body, res);
        };
        // one catch-all per method: routing is the host's (Lua's) business
        s->svr.Get(".*", handler);
        s->svr.Post(".*", with_body);
        s->svr.Put(".*", with_body);
        s->svr.Patch(".*", with_body);
        s->svr.Delete(".*", handler);
        s->svr.Options(".*", handler);
        // A POST without a body and without Content-Length (`curl -X POST
        // URL`, as the REST API's quick-start documents) is a 400 to httplib 0.11, which would
        // read the body until EOF; it is an empty body. The pre-routing
        // handler runs before the body is read.
        s->svr.set_pre_routing_handler([raw](const httplib::Request& req, httplib::Response& res) {
            using R = httplib::Server::HandlerResponse;
            if (req.path.size() > k_max_path) {
                res.status = 414;
                res.set_content(reason_json(414), "application/json");
                return R::Handled;
            }
            // Only chunked is read (httplib); any other coding would be read
            // until EOF. The body is left unread, so the connection closes.
            if (req.has_header("Transfer-Encoding") &&
                strcasecmp(req.get_header_value("Transfer-Encoding").c_str(), "chunked") != 0) {
                res.status = 400;  // RFC 9112 6.3: 400, then close
                res.set_content("{\"error\":\"Transfer-Encoding other than chunked\"}", "application/json");
                res.set_header("Connection", "close");
                t_close_after = true;
                return R::Handled;
            }
            bool has_body_method = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
            if (!has_body_method || req.has_header("Content-Length") || req.has_header("Transfer-Encoding"))
                return R::Unhandled;
            serve(raw, req, {}, res);
            return R::Handled;
        });
        // statuses httplib answers itself (413, 400 on a broken request): JSON too
        s->svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
            if (res.body.empty()) res.set_content(reason_json(res.status), "application/json");
        });
        s->svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
            res.status = 500;
            res.set_content("{\"error\":\"internal error\"}", "application/json");
        });
        // httplib listens with a backlog of 5 (compiled into the Debian
        // library), so a burst of connections beyond the busy workers would
        // see dropped handshakes and second-long SYN retries. The socket is
        // remembered here (options replace httplib's default SO_REUSEADDR,
        // so set it) and listen() is called again after the bind with a
        // real backlog.
        s->svr.set_socket_options([raw](int sock) {
            int yes = 1;
            setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
            raw->sock = sock;
        });
        std::string host = o->host ? o->host : "127.0.0.1";
        if (o->port == 0) {
            int p = s->svr.bind_to_any_port(host);
            if (p < 0) return fail("cannot bind " + host + " to a free port");
            s->port = p;
        } else {
            if (!s->svr.bind_to_port(host, o->port))
                return fail("cannot listen on " + host + ":" + std::to_string(o->port) +
                            " (address in use, or not an address of this machine)");
            s->port = o->port;
        }
        if (s->sock >= 0) ::listen(s->sock, 1024);
        s->listener = std::thread([raw] { raw->svr.listen_after_bind(); });
        return s.release();
    } catch (const std::exception& e) {
        return fail(e.what());
    } catch (...) {
        return fail("unknown exception in orch-net");
    }
}

int server_port(void* server) { return static_cast<Server*>(server)->port; }

void server_stop(void* server) {
    auto* s = static_cast<Server*>(server);
    try {
        s->stopping = true;
        s->svr.stop();
        if (s->listener.joinable()) s->listener.join();
        s->gate->stop();       // closes the connections between requests
        s->pool->shutdown();   // the requests in hand finish; their sockets close
    } catch (...) {
    }
    delete s;
}

const orch_net_api_table k_api = {ORCH_NET_ABI, sizeof(orch_net_api_table), fetch, server_start, server_port,
                                  server_stop, http_stop};

}  // namespace

extern "C" __attribute__((visibility("default"))) const orch_net_api_table* orch_net_api() { return &k_api; }
