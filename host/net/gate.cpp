// See gate.h: the connection gate and the worker's stream of orch-net.so.
#include "gate.h"

#include <arpa/inet.h>
#include <cerrno>
#include <algorithm>
#include <cstring>
#include <strings.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace orch_net {

namespace {

void close_socket(int fd) {
    shutdown(fd, SHUT_RDWR);
    close(fd);
}

void address_of(const sockaddr_storage& ss, std::string& ip, int& port) {
    char buf[INET6_ADDRSTRLEN] = {0};
    if (ss.ss_family == AF_INET) {
        auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
        inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
        port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
        inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
        port = ntohs(a->sin6_port);
    }
    ip = buf;
}


// The Content-Length of a head (its bytes up to the blank line), -1 when it
// has none, or one that is not a plain number (httplib judges those).
long long content_length(const char* p, size_t n) {
    static const char k_name[] = "\ncontent-length:";
    const size_t k = sizeof k_name - 1;
    long long found = -1;
    for (size_t i = 0; i + k <= n; ++i) {
        if (strncasecmp(p + i, k_name, k) != 0) continue;
        if (found >= 0) return -1;  // twice
        size_t j = i + k;
        while (j < n && (p[j] == ' ' || p[j] == '\t')) ++j;
        long long v = 0;
        size_t digits = 0;
        for (; j < n && p[j] >= '0' && p[j] <= '9' && digits < 18; ++j, ++digits) v = v * 10 + (p[j] - '0');
        if (digits == 0 || (j < n && p[j] != '\r' && p[j] != '\n' && p[j] != ' ' && p[j] != '\t')) return -1;
        found = v;
    }
    return found;
}

std::string answer(const char* status, const std::string& body) {
    return std::string("HTTP/1.1 ") + status + "\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

const std::string k_408 = answer("408 Request Timeout", "{\"error\":\"request not complete in time\"}");
const std::string k_400 = answer("400 Bad Request", "{\"error\":\"request cut short\"}");
const std::string k_431 =
    answer("431 Request Header Fields Too Large", "{\"error\":\"request head over " + std::to_string(k_max_head) +
                                                       " bytes\"}");

}  // namespace

// --- SockStream -------------------------------------------------------------

int SockStream::wait_ms(int limit) const {
    if (deadline_ == Clock::time_point::max()) return limit;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
    if (left <= 0) return -1;
    return limit > 0 && limit < left ? limit : static_cast<int>(left);
}

bool SockStream::is_readable() const {
    if (off_ < end_) return true;
    int ms = wait_ms(read_ms_);
    if (ms < 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int rc;
    do rc = poll(&p, 1, ms); while (rc < 0 && errno == EINTR);
    return rc > 0;
}

bool SockStream::is_writable() const {
    pollfd p{fd_, POLLOUT, 0};
    int rc;
    do rc = poll(&p, 1, write_ms_ > 0 ? write_ms_ : -1); while (rc < 0 && errno == EINTR);
    return rc > 0 && !(p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

ssize_t SockStream::read(char* ptr, size_t size) {
    if (off_ == end_) {
        if (!is_readable()) return -1;  // timed out, or past the request's deadline
        ssize_t n;
        if (size >= sizeof buf_) {  // a large read goes straight to the caller
            do n = recv(fd_, ptr, size, 0); while (n < 0 && errno == EINTR);
            return n;
        }
        do n = recv(fd_, buf_, sizeof buf_, 0); while (n < 0 && errno == EINTR);
        if (n <= 0) return n;
        off_ = 0;
        end_ = static_cast<size_t>(n);
    }
    size_t k = end_ - off_ < size ? end_ - off_ : size;
    memcpy(ptr, buf_ + off_, k);
    off_ += k;
    return static_cast<ssize_t>(k);
}

ssize_t SockStream::write(const char* ptr, size_t size) {
    if (!is_writable()) return -1;
    ssize_t n;
    do n = send(fd_, ptr, size, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
    return n;
}

void SockStream::get_remote_ip_and_port(std::string& ip, int& port) const {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    port = 0;
    if (getpeername(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) address_of(ss, ip, port);
}

void SockStream::get_local_ip_and_port(std::string& ip, int& port) const {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    port = 0;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) address_of(ss, ip, port);
}

Head peek_head(int fd) {
    thread_local std::vector<char> buf(k_max_head + k_max_gated_body);
    ssize_t n;
    do n = recv(fd, buf.data(), buf.size(), MSG_PEEK | MSG_DONTWAIT); while (n < 0 && errno == EINTR);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? Head::empty : Head::closed;
    if (n == 0) return Head::closed;
    auto k = static_cast<size_t>(n);
    const char* p = buf.data();
    // the end of the head: the blank line ("\n\r\n" also covers a last header
    // line ended by a bare LF, which httplib skips as invalid)
    const char* end = static_cast<const char*>(memmem(p, std::min(k, k_max_head), "\n\r\n", 3));
    if (!end) return k >= k_max_head ? Head::too_large : Head::partial;
    size_t head = static_cast<size_t>(end - p) + 3;
    long long body = content_length(p, head);
    if (body <= 0 || static_cast<size_t>(body) > k_max_gated_body) return Head::complete;
    return k >= head + static_cast<size_t>(body) ? Head::complete : Head::partial;
}

// --- ConnGate ---------------------------------------------------------------

bool ConnGate::start() {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ep_ < 0 || wake_ < 0) return false;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, wake_, &ev) != 0) return false;
    thread_ = std::thread([this] { run(); });
    return true;
}

void ConnGate::add(int fd, bool fresh) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!stopped_) {
            incoming_.emplace_back(fd, fresh);
            fd = -1;
        }
    }
    if (fd >= 0) {
        close_socket(fd);
        return;
    }
    std::uint64_t one = 1;
    ssize_t rc = ::write(wake_, &one, sizeof one);
    (void)rc;
}

void ConnGate::stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopped_) return;
        stopped_ = true;
    }
    stopping_ = true;
    if (thread_.joinable()) {
        std::uint64_t one = 1;
        ssize_t rc = ::write(wake_, &one, sizeof one);
        (void)rc;
        thread_.join();
    }
    for (auto& [fd, c] : conns_) close_socket(fd);
    conns_.clear();
    for (auto& [fd, fresh] : incoming_) close_socket(fd);
    incoming_.clear();
    if (ep_ >= 0) close(ep_);
    if (wake_ >= 0) close(wake_);
    ep_ = wake_ = -1;
}

void ConnGate::run() {
    epoll_event evs[64];
    auto last_scan = Clock::now();
    while (!stopping_) {
        int n = epoll_wait(ep_, evs, 64, conns_.empty() ? -1 : 200);
        if (n < 0 && errno != EINTR) break;
        for (int i = 0; i < n; ++i) {
            if (evs[i].data.fd == wake_) {
                std::uint64_t v;
                while (::read(wake_, &v, sizeof v) > 0) {
                }
                take_incoming();
            } else {
                check(evs[i].data.fd, (evs[i].events & (EPOLLRDHUP | EPOLLHUP)) != 0);
            }
        }
        if (Clock::now() - last_scan >= std::chrono::milliseconds(100)) {
            expire();
            last_scan = Clock::now();
        }
    }
}

void ConnGate::take_incoming() {
    std::vector<std::pair<int, bool>> batch;
    {
        std::lock_guard<std::mutex> lock(mu_);
        batch.swap(incoming_);
    }
    auto now = Clock::now();
    for (auto [fd, fresh] : batch) {
        if (conns_.size() >= opts_.max_conns) {
            close_socket(fd);
            continue;
        }
        conns_[fd] = Conn{now, now, fresh, false};
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;  // edge: one wakeup per arrival, peeking consumes nothing
        ev.data.fd = fd;
        if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) drop(fd, {});
        // (data already queued is reported by the ADD itself)
    }
}

void ConnGate::check(int fd, bool peer_done) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;  // an event for a socket handed on in this batch
    Head h = peek_head(fd);
    if (h == Head::closed) return drop(fd, {});
    if (h == Head::empty) return;
    if (h == Head::too_large) return drop(fd, k_431);
    Conn& c = it->second;
    if (!c.got_bytes) {
        c.got_bytes = true;
        c.first_byte = Clock::now();
    }
    if (h == Head::partial) {
        if (peer_done) drop(fd, k_400);  // the client has stopped sending: this request will never end
        return;
    }
    epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
    conns_.erase(it);
    ready_(fd);
}

void ConnGate::expire() {
    auto now = Clock::now();
    auto head = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opts_.head_timeout));
    auto idle = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opts_.idle_timeout));
    std::vector<std::pair<int, bool>> late;
    for (auto& [fd, c] : conns_) {
        auto deadline = c.got_bytes ? c.first_byte + head : c.since + (c.fresh ? head : idle);
        if (now >= deadline) late.emplace_back(fd, c.got_bytes);
    }
    for (auto [fd, started] : late) drop(fd, started ? k_408 : std::string());
}

void ConnGate::drop(int fd, const std::string& answer) {
    epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
    if (!answer.empty()) {
        // what was only peeked is read first: a close with unread bytes
        // sends a reset, which can make the client lose the answer
        char sink[16384];
        for (int i = 0; i < 64 && recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
        }
        ssize_t rc = send(fd, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)rc;
    }
    close_socket(fd);
    conns_.erase(fd);
}

}  // namespace orch_net
