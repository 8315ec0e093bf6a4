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
 * The HTTP server (issue 3) goes in the same module, as appended entries of
 * this shape (sketch):
 *
 *   struct orch_net_server_request {        // one incoming request
 *       const char* method; const char* path; size_t path_len;
 *       const struct orch_net_header* headers; size_t n_headers;
 *       const char* body; size_t body_len; const char* remote_addr;
 *   };
 *   struct orch_net_server_handler {       // host side, called on a server thread
 *       void* ctx;
 *       // fills the reply through `out` (the same sink type as the client's);
 *       // the host posts to its loop and waits, or answers directly
 *       void (*handle)(void* ctx, const struct orch_net_server_request* req,
 *                      const struct orch_net_response_sink* out);
 *   };
 *   // appended to struct orch_net_api_table:
 *   void* (*server_start)(const char* host, int port, const struct orch_net_server_handler* h,
 *                         char* err, size_t err_cap);   // NULL + message on failure
 *   int   (*server_port)(void* server);                 // the bound port (port 0 = any)
 *   void  (*server_stop)(void* server);                 // stops, joins, frees
 *
 * so the httplib::Server, its threads and TLS stay inside orch-net.so too.
 */
#ifndef ORCH_NET_API_H
#define ORCH_NET_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ORCH_NET_ABI 1
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

struct orch_net_api_table {
    uint32_t abi;  /* ORCH_NET_ABI */
    uint32_t size; /* sizeof(struct orch_net_api_table) in the module */
    /* blocking; safe to call from several threads at once */
    void (*http_fetch)(const struct orch_net_request* req, const struct orch_net_response_sink* out);
};

typedef const struct orch_net_api_table* (*orch_net_api_fn)(void);

/* the module's one export */
const struct orch_net_api_table* orch_net_api(void);

#ifdef __cplusplus
}
#endif

#endif
