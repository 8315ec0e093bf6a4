// Part of orch-net.so (net_module.cpp): what keeps slow clients from holding
// the server's workers.
//
// cpp-httplib 0.11 gives each accepted connection a worker thread at once,
// and its read timeout is per read(), so a client sending one header byte a
// second holds a worker for as long as it likes; 16 of them stop the server.
// Here a connection reaches a worker only once its request head (request
// line and headers, up to the blank line) has fully arrived:
//
//   ConnGate   one epoll thread holding every connection between requests;
//              it peeks (MSG_PEEK, nothing consumed) until the head is
//              complete, then hands the socket on. A head that is not
//              complete within head_timeout gets 408 and is closed; an idle
//              keep-alive connection is closed after idle_timeout.
//   SockStream the httplib::Stream a worker reads one request through, with
//              an absolute deadline for the whole request (head and body),
//              so a body sent a byte a second is cut too.
//
// Only here and in net_module.cpp is httplib.h included.
#pragma once
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace orch_net {

using Clock = std::chrono::steady_clock;

class SockStream : public httplib::Stream {
public:
    SockStream(int fd, double read_timeout, double write_timeout)
        : fd_(fd), read_ms_(to_ms(read_timeout)), write_ms_(to_ms(write_timeout)) {}
    // Every read after this must finish by `secs` from now.
    void arm(double secs) { deadline_ = Clock::now() + std::chrono::milliseconds(to_ms(secs)); }
    size_t buffered() const { return end_ - off_; }

    bool is_readable() const override;
    bool is_writable() const override;
    ssize_t read(char* ptr, size_t size) override;
    ssize_t write(const char* ptr, size_t size) override;
    void get_remote_ip_and_port(std::string& ip, int& port) const override;
    void get_local_ip_and_port(std::string& ip, int& port) const override;
    socket_t socket() const override { return fd_; }

private:
    static int to_ms(double s) { return s <= 0 ? 0 : static_cast<int>(s * 1000 + 0.5); }
    int wait_ms(int limit) const;  // limit, cut to what is left of the deadline
    int fd_;
    int read_ms_, write_ms_;
    Clock::time_point deadline_ = Clock::time_point::max();
    char buf_[4096];
    size_t off_ = 0, end_ = 0;
};

// Bytes peeked for the end of a request head; a longer head is answered
// 431 by the gate and the connection closed.
constexpr size_t k_max_head = 16384;
// A body of up to this many bytes (its Content-Length) must have arrived
// too before the request reaches a worker, so a body sent slowly holds no
// worker either (the webhook's and the API's bodies are this small); a
// larger one is read by the worker, under its deadline.
constexpr size_t k_max_gated_body = 65536;

// What fd's receive queue holds, peeked (nothing consumed): `closed` (EOF or
// an error), `empty` (nothing yet), `partial` (part of a request),
// `complete` (a whole head and its body up to k_max_gated_body) or
// `too_large` (k_max_head bytes without the head's end).
enum class Head { closed, empty, partial, complete, too_large };
Head peek_head(int fd);

class ConnGate {
public:
    struct Options {
        double head_timeout = 10;  // seconds from the first byte (or accept) to the blank line (and a gated body)
        double idle_timeout = 5;   // seconds a kept-alive connection may wait for its next request
        size_t max_conns = 4096;   // connections held at once; more are closed at once
    };
    using Ready = std::function<void(int fd)>;  // on the gate thread; takes the socket

    ConnGate(Options o, Ready ready) : opts_(o), ready_(std::move(ready)) {}
    ~ConnGate() { stop(); }
    bool start();
    // Any thread; takes ownership of fd. fresh: just accepted (else between
    // requests of a kept-alive connection).
    void add(int fd, bool fresh);
    void stop();  // closes every connection it holds; add() afterwards closes

private:
    struct Conn {
        Clock::time_point since;       // accepted, or back from a worker
        Clock::time_point first_byte;  // of the head; since when none yet
        bool fresh = true, got_bytes = false;
    };
    void run();
    void take_incoming();
    void check(int fd, bool peer_done);
    void expire();
    void drop(int fd, const std::string& answer);  // answer: bytes sent first, if any

    Options opts_;
    Ready ready_;
    int ep_ = -1, wake_ = -1;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::mutex mu_;
    std::vector<std::pair<int, bool>> incoming_;
    bool stopped_ = false;                  // under mu_
    std::unordered_map<int, Conn> conns_;   // gate thread only
};

}  // namespace orch_net
