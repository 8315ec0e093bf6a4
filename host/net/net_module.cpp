// orch-net.so: the cpp-httplib (OpenSSL) side of host/net/net_api.h, loaded by
// the host on its first HTTP request (host/services/http_client.cpp).
// Self-contained: it uses nothing from orchcore, and exports only
// orch_net_api() (built with -fvisibility=hidden, linked with -z defs).
#include "net_api.h"

#include <httplib.h>

#include <exception>
#include <string>

namespace {

void fail(const orch_net_response_sink* out, const std::string& msg) {
    out->error(out->ctx, msg.data(), msg.size());
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
        httplib::Result res = [&] {
            if (method == "GET") return cli.Get(path, headers);
            if (method == "DELETE") return cli.Delete(path, headers, body, content_type);
            if (method == "PUT") return cli.Put(path, headers, body, content_type);
            if (method == "PATCH") return cli.Patch(path, headers, body, content_type);
            return cli.Post(path, headers, body, content_type);
        }();
        if (!res) return fail(out, httplib::to_string(res.error()));
        out->status(out->ctx, res->status);
        out->body(out->ctx, res->body.data(), res->body.size());
        for (auto& [k, v] : res->headers) out->header(out->ctx, k.data(), k.size(), v.data(), v.size());
    } catch (const std::exception& e) {
        fail(out, e.what());
    } catch (...) {  // nothing may unwind into the host
        fail(out, "unknown exception in orch-net");
    }
}

const orch_net_api_table k_api = {ORCH_NET_ABI, sizeof(orch_net_api_table), fetch};

}  // namespace

extern "C" __attribute__((visibility("default"))) const orch_net_api_table* orch_net_api() { return &k_api; }
