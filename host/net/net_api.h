/* The boundary between orch-host and orch-net.so, the module that holds
 * everything built on cpp-httplib (and through it OpenSSL, zlib, brotli).
 *
 * Why a module: linking libcpp-httplib into the binary cost every command
 * ~9,000 dynamic relocations (libcrypto alone 3,400) and OpenSSL's
 * initialisation in a static constructor before main(), 3/4 of a
 * `run trivial.lua` start-up, and 3.5 MB of resident library pages in every
 * idle host. The host now dlopen()s the module the first time a request is
 * made (host/services/http_client.cpp); commands that never send pay nothing.
 *
 * Why a C ABI: the module carries its own dependency set (libstdc++.so via
 * libcpp-httplib) and the binary may link a different copy of libstdc++
 * statically; so no C++ object, exception or allocation crosses this line.
 * Strings go in as (pointer, length) the caller owns for the duration of the
 * call; results come back through callbacks that copy into the caller's own
 * objects. Every function is noexcept from the caller's view.
 *
 * Evolving it: the module exports exactly one symbol, orch_net_api(), which
 * returns a table of function pointers that lives as long as the process.
 * New entries are APPENDED to struct orch_net_api_table and `size` grows with them;
 * a host checks `abi == ORCH_NET_ABI` and `size >= offsetof(end of what it
 * uses)`. A change to an existing entry's meaning or signature bumps
 * ORCH_NET_ABI.
 *
 * The HTTP server (`orch-host serve`) lives here too, so httplib::Server and
 * its threads stay inside the module: the host passes a handler callback,
 * which the module calls on one of its worker threads for every request and
 * which fills the reply through an orch_net_response_sink before returning
 * (host/services/http_server.cpp posts the request to the loop and waits).
 */
#ifndef ORCH_NET_API_H
#define ORCH_NET_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ORCH_NET_ABI 4
#define ORCH_NET_API_SYMBOL "orch_net_api"

struct orch_net_header {
    const char* name;
    size_t name_len;
    const char* value;
    size_t value_len;
};

struct orch_net_request {
    const char* method;  /* NUL-terminated: GET, POST, PUT, PATCH, DELETE */
    const char* url;
    size_t url_len;
    const struct orch_net_header* headers;
    size_t n_headers;
    const char* body;
    size_t body_len;
    const char* content_type;  /* NUL-terminated */
    double timeout;            /* seconds: connect, read and write each */
    const int* stop;           /* NULL, or the caller's flag: once it reads non-zero (__atomic_load_n),
                                * the request is not started, and http_stop(stop) cuts short the
                                * ones in flight (their sockets shut down: an error "stopped") */
};

/* Where a response goes. Called on the calling thread, before fetch returns;
 * the pointers are only valid during the callback. */
struct orch_net_response_sink {
    void* ctx;
    void (*status)(void* ctx, int status);
    void (*body)(void* ctx, const char* data, size_t len);
    void (*header)(void* ctx, const char* name, size_t name_len, const char* value, size_t value_len);
    void (*error)(void* ctx, const char* msg, size_t len); /* request failed: no status */
};

/* One incoming request, valid for the duration of the handler call. The
 * path is percent-decoded; the query string is raw (after '?', without it). */
struct orch_net_server_request {
    const char* method; /* NUL-terminated */
    const char* path;
    size_t path_len;
    const char* query;
    size_t query_len;
    const struct orch_net_header* headers;
    size_t n_headers;
    const char* body;
    size_t body_len;
    const char* remote_addr; /* NUL-terminated */
    int remote_port;
};

/* Host side, called on a server worker thread; it must call out->status and
 * out->body (a "Content-Type" header sets the body's type) before it returns.
 * `error` of the sink is unused here. */
struct orch_net_server_handler {
    void* ctx;
    void (*handle)(void* ctx, const struct orch_net_server_request* req, const struct orch_net_response_sink* out);
};

struct orch_net_server_options {
    const char* host;          /* NUL-terminated bind address */
    int port;                  /* 0: any free port (see server_port) */
    int threads;               /* worker threads: at most this many requests at once */
    int queue;                 /* accepted connections waiting for a worker; beyond it accept() waits */
    size_t max_body;           /* larger bodies are answered 413 by the module */
    double io_timeout;         /* seconds: read and write of one request */
    double keep_alive_timeout; /* seconds an idle keep-alive connection holds a worker */
    int keep_alive_max;        /* requests per connection */
    double head_timeout;       /* seconds for a request line and headers to arrive; then 408 */
};

struct orch_net_api_table {
    uint32_t abi;  /* ORCH_NET_ABI */
    uint32_t size; /* sizeof(struct orch_net_api_table) in the module */
    /* blocking; safe to call from several threads at once */
    void (*http_fetch)(const struct orch_net_request* req, const struct orch_net_response_sink* out);
    /* Binds and starts serving on its own threads. NULL and a message in
     * err on failure (address in use, bad address). The handler must stay
     * valid until server_stop returns. */
    void* (*server_start)(const struct orch_net_server_options* opts, const struct orch_net_server_handler* h,
                          char* err, size_t err_cap);
    int (*server_port)(void* server);  /* the bound port */
    void (*server_stop)(void* server); /* stops accepting, joins every thread, frees */
    /* Shuts down the sockets of the fetches in flight whose request named this
     * flag. One still connecting may miss it: call again until they return. */
    void (*http_stop)(const int* stop);
};

typedef const struct orch_net_api_table* (*orch_net_api_fn)(void);

/* the module's one export */
const struct orch_net_api_table* orch_net_api(void);

#ifdef __cplusplus
}
#endif

#endif
