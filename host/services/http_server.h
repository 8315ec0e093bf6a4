// The webhook server of `orch-host serve` (style.md, "Webhook handoff").
// cpp-httplib's threads (inside orch-net.so) never touch Lua: each request
// becomes a ServerCall, posted to the loop, where the handler (the Lua route,
// host/lua/api_server.cpp) answers it with reply(). The server thread waits
// with a deadline; past it the caller gets 503 and the late reply is dropped.
// Bodies that claim to be JSON are parsed on the server thread, so a
// malformed one is answered 400 without waking the loop. Lua-free.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

struct orch_net_server_request;
struct orch_net_response_sink;
struct orch_net_api_table;

namespace orch {

class Loop;
class Journal;

struct ServerReply {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
};

class ServerCall {
public:
    std::string id;      // request id: in the access log, 5xx bodies and error logs
    std::string method;  // GET, POST, ...
    std::string path;    // percent-decoded, without the query
    std::string query;   // raw, after '?'
    std::string remote;  // caller address:port
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::unique_ptr<nlohmann::json> json;                      // the body, when it was JSON
    double deadline = 0;  // Loop::now() seconds past which the caller gets 503 (handler_timeout)

    ~ServerCall();
    // Any thread; the first reply wins. False when the caller already got
    // 503 (deadline passed or server stopping): the reply is dropped.
    bool reply(ServerReply r);

private:
    friend class HttpServer;
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    bool gave_up_ = false;
    ServerReply out_;
};

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 5000;  // 0: any free port
    int threads = 16;
    int queue = 256;
    size_t max_body = 256 * 1024;
    double handler_timeout = 10;   // seconds for the loop to answer
    double io_timeout = 10;        // seconds to read one whole request, or to write a reply
    double header_timeout = 10;    // seconds for the request line and headers to arrive (408)
    std::string access_log;        // file path; empty: none
};

class HttpServer {
public:
    using Handler = std::function<void(std::shared_ptr<ServerCall>)>;  // runs on the loop thread

    HttpServer(Loop& loop, Journal* journal, ServerOptions opts, Handler handler);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    void start();  // throws std::runtime_error (module missing, address in use)
    int port() const { return port_; }
    // Answers every waiting request 503, stops accepting, joins the threads.
    // Call on the loop thread.
    void stop();
    std::uint64_t served() const { return served_; }

    // called by the module on a worker thread (C ABI trampoline)
    void handle(const ::orch_net_server_request& req, const ::orch_net_response_sink& out);

private:
    void access(const ServerCall& c, int status, size_t bytes, double ms);
    void flush_access_log();

    Loop& loop_;
    Journal* journal_;
    ServerOptions opts_;
    std::shared_ptr<Handler> handler_;
    void* server_ = nullptr;
    const ::orch_net_api_table* api_ = nullptr;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<std::uint64_t> next_id_{1};
    std::atomic<std::uint64_t> served_{0};
    std::string id_prefix_;
    std::mutex calls_mu_;
    std::set<ServerCall*> waiting_;  // calls whose thread waits for the loop
    std::mutex log_mu_;
    FILE* access_log_ = nullptr;
    std::atomic<bool> flush_armed_{false};  // a flush is scheduled
    std::uint64_t flush_timer_ = 0;         // loop thread only
};

}  // namespace orch
