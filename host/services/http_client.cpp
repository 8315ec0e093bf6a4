#include "services/http_client.h"

#include "loop/loop.h"

#include "net/net_api.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <exception>
#include <mutex>

// cpp-httplib and OpenSSL live in orch-net.so (host/net/), loaded here on the
// first request: linked into the binary they cost every command ~9,000
// dynamic relocations, OpenSSL's initialisation before main() and 3.5 MB of
// resident pages. The module is looked up as $ORCH_NET_MODULE, else as
// orch-net.so next to the executable (/proc/self/exe), else, when nothing is
// there, as built (ORCH_NET_BUILD_MODULE: binaries under the build tree such
// as tests/host_tests).

namespace orch {

namespace {

struct NetModule {
    const orch_net_api_table* api = nullptr;
    std::string error;  // when api is null
};

std::string exe_dir() {
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf);
    if (n <= 0 || n == static_cast<ssize_t>(sizeof buf)) return ".";
    std::string p(buf, static_cast<size_t>(n));
    auto slash = p.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
}

// Loads one candidate; on failure returns false with `err` set.
bool load(const std::string& path, const orch_net_api_table*& api, std::string& err) {
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char* e = dlerror();
        err = "cannot load " + path + ": " + (e ? e : "unknown error");
        return false;
    }
    dlerror();
    auto fn = reinterpret_cast<orch_net_api_fn>(dlsym(h, ORCH_NET_API_SYMBOL));
    if (!fn) {
        const char* e = dlerror();
        err = "cannot load " + path + ": " + (e ? e : "no " ORCH_NET_API_SYMBOL);
        dlclose(h);
        return false;
    }
    const orch_net_api_table* a = fn();
    if (!a || a->abi != ORCH_NET_ABI || a->size < sizeof(orch_net_api_table)) {
        err = "cannot load " + path + ": module ABI " + (a ? std::to_string(a->abi) : "?") +
              ", this host needs " + std::to_string(ORCH_NET_ABI) + " (rebuild orch-net)";
        dlclose(h);
        return false;
    }
    api = a;  // never unloaded
    return true;
}

// Loaded once, by whichever worker asks first; later calls only take the lock
// (nothing next to a network round trip). A mutex rather than std::call_once:
// the same guarantee, and valgrind's race checkers (helgrind, drd) see the
// ordering a mutex gives but not pthread_once's, so they would report every
// later use of the module's code and data as a race.
const NetModule& net_module() {
    static std::mutex mu;
    static NetModule m;
    static bool tried = false;
    std::lock_guard<std::mutex> lock(mu);
    if (tried) return m;
    tried = true;
    const char* env = std::getenv("ORCH_NET_MODULE");
    if (env && *env) {
        load(env, m.api, m.error);
        return m;
    }
    std::string path = exe_dir() + "/orch-net.so";
    if (load(path, m.api, m.error)) return m;
#ifdef ORCH_NET_BUILD_MODULE
    std::string built = ORCH_NET_BUILD_MODULE;
    if (built != path && access(path.c_str(), F_OK) != 0 && errno == ENOENT && access(built.c_str(), F_OK) == 0)
        load(built, m.api, m.error);
#endif
    return m;
}

// The sink's callbacks run inside the module's frames: nothing may unwind
// through them (another libstdc++ runtime), so a failure to copy (bad_alloc)
// becomes the response's error, as it did when the copy was in a try block.
template <class F>
void fill(void* ctx, F&& f) noexcept {
    auto& res = *static_cast<HttpResponse*>(ctx);
    try {
        f(res);
    } catch (const std::exception& e) {
        try {
            res.error = e.what();
        } catch (...) {
        }
    }
}
void on_status(void* ctx, int status) {
    fill(ctx, [&](HttpResponse& r) { r.status = status; });
}
void on_body(void* ctx, const char* data, size_t len) {
    fill(ctx, [&](HttpResponse& r) { r.body.append(data, len); });
}
void on_header(void* ctx, const char* k, size_t kl, const char* v, size_t vl) {
    fill(ctx, [&](HttpResponse& r) { r.headers.emplace_back(std::string(k, kl), std::string(v, vl)); });
}
void on_error(void* ctx, const char* msg, size_t len) {
    fill(ctx, [&](HttpResponse& r) { r.error.assign(msg, len); });
}

}  // namespace

const orch_net_api_table* net_api(std::string& err) {
    const NetModule& m = net_module();
    if (!m.api) err = m.error;
    return m.api;
}

HttpResponse http_fetch(const HttpRequest& req) {
    HttpResponse out;
    const NetModule& m = net_module();
    if (!m.api) {
        out.error = m.error;
        return out;
    }
    std::vector<orch_net_header> headers;
    headers.reserve(req.headers.size());
    for (auto& [k, v] : req.headers) headers.push_back({k.data(), k.size(), v.data(), v.size()});
    orch_net_request r{req.method.c_str(), req.url.data(), req.url.size(), headers.data(), headers.size(),
                       req.body.data(),    req.body.size(), req.content_type.c_str(), req.timeout, req.stop};
    orch_net_response_sink sink{&out, on_status, on_body, on_header, on_error};
    m.api->http_fetch(&r, &sink);
    return out;
}

HttpWorkers::HttpWorkers(Loop& loop, int threads) : loop_(loop), threads_(threads) {}

HttpWorkers::~HttpWorkers() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    stop_fetches();
    for (auto& t : pool_) t.join();
}

// The fetches in flight are cut short (a stopping host waits for no slow
// server): their sockets are shut down until none is left; one still
// connecting when a stop is sent gets the next, 50 ms later.
void HttpWorkers::stop_fetches() {
    __atomic_store_n(&stop_flag_, 1, __ATOMIC_RELEASE);
    std::unique_lock<std::mutex> lock(mu_);
    if (busy_ == 0) return;
    std::string err;
    const orch_net_api_table* api = net_api(err);
    while (busy_ > 0) {
        lock.unlock();
        if (api) api->http_stop(&stop_flag_);
        lock.lock();
        idle_cv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return busy_ == 0; });
    }
}

std::uint64_t HttpWorkers::submit(HttpRequest req, std::function<void(HttpResponse)> done) {
    if (pool_.empty())  // threads start on first use: commands that never send pay nothing
        for (int i = 0; i < threads_; ++i) pool_.emplace_back([this] { work(); });
    std::uint64_t id = next_id_++;
    pending_.emplace_back(id, std::move(done));
    ++in_flight_;
    {
        std::lock_guard<std::mutex> lock(mu_);
        jobs_.push_back(Job{id, std::move(req)});
    }
    cv_.notify_one();
    return id;
}

void HttpWorkers::cancel(std::uint64_t id) {
    for (auto& p : pending_)
        if (p.first == id) p.second = nullptr;
}

void HttpWorkers::work() {
    for (;;) {
        Job job;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (stopping_) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
            ++busy_;
        }
        job.req.stop = &stop_flag_;
        HttpResponse res = http_fetch(job.req);
        {
            std::lock_guard<std::mutex> lock(mu_);
            --busy_;
        }
        idle_cv_.notify_all();
        loop_.post([this, id = job.id, res = std::move(res)]() mutable {
            for (auto it = pending_.begin(); it != pending_.end(); ++it) {
                if (it->first != id) continue;
                auto cb = std::move(it->second);
                pending_.erase(it);
                --in_flight_;
                if (cb) cb(std::move(res));
                return;
            }
        });
    }
}

}  // namespace orch
