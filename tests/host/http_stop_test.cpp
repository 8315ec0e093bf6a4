// A stopping host waits for no slow server: HttpWorkers' destructor cuts its
// fetches in flight short (orch-net's http_stop on the workers' stop flag)
// instead of joining threads that wait out a request's whole timeout.
#include "loop/loop.h"
#include "net/net_api.h"
#include "services/http_client.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

using namespace orch;

namespace {

// A loopback listener that accepts and never answers; its port is chosen free.
struct Silent {
    int fd = -1;
    int port = 0;
    Silent() {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        listen(fd, 4);
        socklen_t n = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
        port = ntohs(a.sin_port);
    }
    int accept_one() const { return accept(fd, nullptr, nullptr); }  // blocks until the client connects
    ~Silent() { close(fd); }
};

double secs_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("http: a fetch in flight ends with \"stopped\" once its flag is set and http_stop is called") {
    Silent server;
    REQUIRE(server.port > 0);
    int flag = 0;
    HttpResponse res;
    std::thread t([&] {
        HttpRequest r;
        r.url = "http://127.0.0.1:" + std::to_string(server.port) + "/never";
        r.timeout = 300;  // far past the test's own limit: only the stop can end it in time
        r.stop = &flag;
        res = http_fetch(r);
    });
    int conn = server.accept_one();
    REQUIRE(conn >= 0);
    std::string err;
    const orch_net_api_table* api = net_api(err);
    REQUIRE_MESSAGE(api, err);
    __atomic_store_n(&flag, 1, __ATOMIC_RELEASE);
    std::atomic<bool> done{false};
    std::thread stopper([&] {  // one call may land before the client's socket is set: again until it returns
        while (!done.load()) {
            api->http_stop(&flag);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    t.join();
    done = true;
    stopper.join();
    close(conn);
    CHECK(res.status == 0);
    CHECK(res.error == "stopped: the host is shutting down");

    HttpRequest again;  // a request whose flag is already set is not sent
    again.url = "http://127.0.0.1:" + std::to_string(server.port) + "/later";
    again.stop = &flag;
    CHECK(http_fetch(again).error == "stopped: the host is shutting down");
}

TEST_CASE("http: HttpWorkers' destructor returns with a request in flight to a server that never answers") {
    Silent server;
    REQUIRE(server.port > 0);
    Loop loop;
    auto workers = std::make_unique<HttpWorkers>(loop, 2);
    HttpRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(server.port) + "/never";
    r.timeout = 300;
    workers->submit(r, [](HttpResponse) {});
    int conn = server.accept_one();
    REQUIRE(conn >= 0);
    auto t0 = std::chrono::steady_clock::now();
    workers.reset();
    CHECK(secs_since(t0) < 120);  // liveness, not speed: without the stop it is the request's 300 s
    close(conn);
}
