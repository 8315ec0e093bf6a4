// bench/bare_server.cpp: the floor for bench/serve.sh's webhook benchmark. A
// bare cpp-httplib server (the same libcpp-httplib 0.11.4 that orch-net.so
// links) with the settings `orch-host serve` gives its server in
// host/net/net_module.cpp: 16 worker threads behind a queue of 256, keep-alive
// 5 s and 100 requests per connection, TCP_NODELAY, 10 s read/write timeouts,
// 256 KB body limit, a catch-all POST route. It answers every POST with one
// fixed body: what the Lua route answered (bench/serve.sh captures it with
// curl), so both sides send the same bytes. No loop thread, no Lua, no JSON
// parse, no access log: what remains in `orch-host serve` beyond this is the
// host's own cost.
//
//   bench_bare_server [--port N] [--threads N] [--body-file F]
//
// Prints "bench_bare_server: listening on http://127.0.0.1:PORT" (the same
// shape as orch-host serve) and serves until killed.
#include "bounded_pool.h"

#include <httplib.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    int port = 0;
    size_t threads = 16;
    std::string body = "{\"message\":\"no session yet: start one with the start command\",\"running\":false,"
                       "\"status\":\"idle\"}";
    for (int i = 1; i < argc; ++i) {
        auto next = [&](const char* name) -> const char* {
            if (i + 1 >= argc) {
                fprintf(stderr, "bench_bare_server: %s needs a value\n", name);
                exit(2);
            }
            return argv[++i];
        };
        if (!strcmp(argv[i], "--port")) port = atoi(next("--port"));
        else if (!strcmp(argv[i], "--threads")) threads = static_cast<size_t>(atoi(next("--threads")));
        else if (!strcmp(argv[i], "--body-file")) {
            std::ifstream f(next("--body-file"), std::ios::binary);
            if (!f) {
                fprintf(stderr, "bench_bare_server: cannot read the body file\n");
                return 2;
            }
            std::ostringstream ss;
            ss << f.rdbuf();
            body = ss.str();
        } else {
            fprintf(stderr, "usage: bench_bare_server [--port N] [--threads N] [--body-file F]\n");
            return 2;
        }
    }

    httplib::Server svr;
    svr.new_task_queue = [threads] { return new orch_net::BoundedPool(threads, 256)  /* orch-net.so's pool */; };
    svr.set_payload_max_length(256 * 1024);
    svr.set_tcp_nodelay(true);
    svr.set_read_timeout(10, 0);
    svr.set_write_timeout(10, 0);
    svr.set_keep_alive_timeout(5);
    svr.set_keep_alive_max_count(100);
    svr.Post(".*", [&body](const httplib::Request&, httplib::Response& res) {
        res.set_content(body.data(), body.size(), "application/json");
    });

    int bound = port == 0 ? svr.bind_to_any_port("127.0.0.1") : (svr.bind_to_port("127.0.0.1", port) ? port : -1);
    if (bound < 0) {
        fprintf(stderr, "bench_bare_server: cannot bind 127.0.0.1:%d\n", port);
        return 1;
    }
    printf("bench_bare_server: listening on http://127.0.0.1:%d\n", bound);
    fflush(stdout);
    svr.listen_after_bind();
    return 0;
}
