// The outbox against a real loopback HTTP server (a small one, in this file):
// order, exactly-once while running, progress coalescing and holding,
// retries, dead rows that never block the rows behind them, and a sink's
// secret (put in at delivery, never logged or stored). The rows are ready
// requests, as orch.notify builds them (the Telegram and webhook formats are
// tested in Lua: tests/lua/notify_spec.lua).
#include "helpers.h"
#include "loop/loop.h"
#include "services/http_client.h"
#include "services/journal.h"
#include "services/outbox.h"
#include "services/store.h"

#include <arpa/inet.h>
#include <atomic>
#include <cctype>
#include <chrono>
#include <doctest/doctest.h>
#include <functional>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace orch;
using json = nlohmann::json;

namespace {

double mono() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Received {
    std::string path;
    json body;  // null when not JSON
    double at;  // steady clock seconds
};

// One connection at a time on 127.0.0.1:<any free port>; `reply` picks the
// status and body. Requests are recorded before the reply is written.
class FakeHttp {
public:
    using Reply = std::function<std::pair<int, std::string>(const Received&, int nth)>;
    explicit FakeHttp(Reply reply = {}) : reply_(std::move(reply)) {
        fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(listen(fd_, 16) == 0);
        socklen_t n = sizeof a;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeHttp() {
        stop_ = true;
        thread_.join();
        close(fd_);
    }
    std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::vector<Received> got() {
        std::lock_guard<std::mutex> l(mu_);
        return got_;
    }
    size_t count() { return got().size(); }
    std::atomic<double> delay{0};  // seconds before each reply: a slow sink

private:
    void serve() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0) continue;
            int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            handle(c);
            close(c);
        }
    }
    void handle(int c) {
        std::string in;
        char buf[4096];
        size_t head_end = std::string::npos, need = 0;
        for (;;) {
            ssize_t r = read(c, buf, sizeof buf);
            if (r <= 0) return;
            in.append(buf, static_cast<size_t>(r));
            if (head_end == std::string::npos && (head_end = in.find("\r\n\r\n")) != std::string::npos) {
                std::string head = in.substr(0, head_end);
                for (auto& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                auto cl = head.find("content-length:");
                need = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 15));
            }
            if (head_end != std::string::npos && in.size() >= head_end + 4 + need) break;
        }
        auto sp1 = in.find(' '), sp2 = in.find(' ', sp1 + 1);
        Received rec{in.substr(sp1 + 1, sp2 - sp1 - 1), json::parse(in.substr(head_end + 4), nullptr, false), mono()};
        if (rec.body.is_discarded()) rec.body = nullptr;
        int nth;
        {
            std::lock_guard<std::mutex> l(mu_);
            got_.push_back(rec);
            nth = static_cast<int>(got_.size());
        }
        auto [status, body] = reply_ ? reply_(rec, nth) : std::make_pair(200, std::string(R"({"ok":true})"));
        if (delay > 0) std::this_thread::sleep_for(std::chrono::duration<double>(delay.load()));
        std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n"
                          "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
        [[maybe_unused]] auto w = write(c, out.data(), out.size());
    }

    int fd_ = -1, port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mu_;
    std::vector<Received> got_;
    Reply reply_;
};

// A loop, a store, a journal and an outbox in a temp dir.
struct Rig {
    std::string dir = testutil::temp_dir("outbox");
    Loop loop;
    Store store{dir + "/orch.db"};
    Journal journal{make_logs(dir), &store, false};
    HttpWorkers http{loop, 2};
    Outbox outbox{loop, store, http, journal};

    static std::string make_logs(const std::string& d) {
        std::filesystem::create_directories(d + "/logs");
        return d + "/logs";
    }
    // Drives the loop until done() or 60 s (a generous deadline, never a sleep).
    bool run_until(const std::function<bool()>& done, double limit = 60) {
        double deadline = mono() + limit;
        while (mono() < deadline) {
            if (done()) return true;
            loop.run_once(0.05);
        }
        return done();
    }
    bool settled() { return !outbox.busy() && outbox.pending() == 0; }
    std::map<std::string, std::string> urls;  // sink -> where its rows go
    void add(const std::string& name, const std::string& url, const std::string& secret = "") {
        urls[name] = url;
        outbox.add_sink(name, Sink{secret});
    }
    // One row per sink added: a webhook request whose body is the payload.
    long long notify(const json& payload) {
        std::vector<OutboxRow> rows;
        for (auto& [name, url] : urls) {
            json row = {{"type", payload.value("type", "info")},
                        {"request", {{"method", "POST"}, {"url", url}, {"body", payload.dump()}}}};
            if (payload.contains("session")) row["session"] = payload["session"];
            rows.push_back({name, row.dump()});
        }
        outbox.enqueue(rows);
        return row_count();
    }
    long long row_count() { return query("SELECT max(id) FROM outbox").at(0).get<long long>(); }
    // Rows of the outbox table, each [id, sink, delivered_at, attempts, last_error]
    json query(const std::string& sql) {
        sqlite3* db;
        REQUIRE(sqlite3_open_v2((dir + "/orch.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
        sqlite3_stmt* s;
        REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
        json out = json::array();
        while (sqlite3_step(s) == SQLITE_ROW) {
            for (int i = 0; i < sqlite3_column_count(s); ++i) {
                auto t = sqlite3_column_type(s, i);
                if (t == SQLITE_NULL) out.push_back(nullptr);
                else if (t == SQLITE_INTEGER) out.push_back(sqlite3_column_int64(s, i));
                else if (t == SQLITE_FLOAT) out.push_back(sqlite3_column_double(s, i));
                else out.push_back(reinterpret_cast<const char*>(sqlite3_column_text(s, i)));
            }
        }
        sqlite3_finalize(s);
        sqlite3_close(db);
        return out;
    }
    std::string daily_log() { return testutil::read(journal.daily_log_path()); }
};

json msg(const std::string& text, const std::string& type, const std::string& session = "s1") {
    return json{{"message", text}, {"type", type}, {"session", session}};
}

std::vector<std::string> texts(const std::vector<Received>& got, const char* field = "message") {
    std::vector<std::string> out;
    for (auto& r : got) out.push_back(r.body.is_object() ? r.body.value(field, std::string("?")) : "-");
    return out;
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("outbox: a webhook gets each payload once, in order, as the body") {
    FakeHttp sink;
    Rig rig;
    rig.add("n8n", sink.base() + "/webhook/orch");
    sink.delay = 0.2;  // slow: rows wait while one is in flight
    for (int i = 1; i <= 6; ++i) rig.notify(msg("m" + std::to_string(i), i % 2 ? "info" : "success"));
    // kicks while a row is in flight must not send it again
    REQUIRE(rig.run_until([&] { return sink.count() >= 1; }));
    for (int i = 0; i < 5; ++i) {
        rig.outbox.kick();
        rig.loop.run_once(0.01);
    }
    REQUIRE(rig.run_until([&] { return rig.settled(); }));
    auto got = sink.got();
    CHECK(texts(got) == V{"m1", "m2", "m3", "m4", "m5", "m6"});
    CHECK(got[0].path == "/webhook/orch");
    CHECK(got[0].body == msg("m1", "info"));  // the payload itself
    CHECK(rig.query("SELECT count(*) FROM outbox WHERE delivered_at IS NULL OR last_error IS NOT NULL")[0] == 0);
}

TEST_CASE("outbox: progress rows are coalesced per session and held to one per interval; others never wait") {
    FakeHttp sink;
    Rig rig;
    rig.add("n8n", sink.base());
    rig.outbox.set_progress_interval(3600);
    rig.notify(msg("p1", "progress"));
    REQUIRE(rig.run_until([&] { return rig.settled(); }));  // the first progress goes at once
    long long p2 = rig.notify(msg("p2", "progress"));
    rig.notify(msg("p3", "progress"));
    rig.notify(msg("q", "question"));
    rig.notify(msg("p4", "progress"));
    long long p5 = rig.notify(msg("p5", "progress"));
    rig.notify(msg("other", "progress", "s2"));
    rig.notify(msg("e", "error"));
    REQUIRE(rig.run_until([&] { return sink.count() == 3 && !rig.outbox.busy(); }));
    CHECK(texts(sink.got()) == V{"p1", "q", "e"});
    CHECK(rig.outbox.pending() == 2);  // p5 and s2's, held for the interval
    json coalesced = rig.query("SELECT id FROM outbox WHERE last_error='coalesced: superseded by #" +
                               std::to_string(p5) + "' AND delivered_at IS NOT NULL ORDER BY id");
    CHECK(coalesced == json{p2, p2 + 1, p2 + 3});
    // a finishing run kicks: the held rows go now, newest per session only
    rig.outbox.kick();
    REQUIRE(rig.run_until([&] { return rig.settled(); }));
    CHECK(texts(sink.got()) == V{"p1", "q", "e", "p5", "other"});
}

TEST_CASE("outbox: a held progress row goes by itself once the interval has passed") {
    FakeHttp sink;
    Rig rig;
    rig.add("n8n", sink.base());
    rig.outbox.set_progress_interval(1);
    double t0 = mono();  // p1 goes after this, so p2 not before t0 + 1
    rig.notify(msg("p1", "progress"));
    REQUIRE(rig.run_until([&] { return sink.count() == 1; }));
    rig.notify(msg("p2", "progress"));
    rig.notify(msg("q", "question"));
    REQUIRE(rig.run_until([&] { return rig.settled(); }));
    auto got = sink.got();
    REQUIRE(texts(got) == V{"p1", "q", "p2"});
    CHECK(got[2].at - t0 >= 1.0);
}

TEST_CASE("outbox: a failing webhook is retried with backoff and later rows keep their place") {
    FakeHttp sink([](const Received&, int nth) {
        return nth <= 2 ? std::make_pair(503, std::string("down")) : std::make_pair(200, std::string("{}"));
    });
    Rig rig;
    rig.add("n8n", sink.base());
    rig.notify(msg("r1", "info"));
    rig.notify(msg("r2", "warning"));
    rig.notify(msg("r3", "success"));
    REQUIRE(rig.run_until([&] { return rig.settled(); }));
    auto got = sink.got();
    CHECK(texts(got) == V{"r1", "r1", "r1", "r2", "r3"});
    CHECK(got[2].at - got[1].at >= 1.5);  // backoff 1 s, then 2 s
    CHECK(rig.query("SELECT attempts FROM outbox ORDER BY id") == json{3, 1, 1});
    std::string log = rig.daily_log();
    CHECK(log.find("notification to n8n failed (HTTP 503); will retry") != std::string::npos);
    CHECK(log.find("notifications to n8n are delivered again") != std::string::npos);
}

TEST_CASE("outbox: the sink's secret is put in for {secret} at delivery and never stored") {
    const std::string token = "123456789:AAsecret-TOKEN_xyz";
    FakeHttp api;
    Rig rig;
    rig.add("tg", api.base() + "/bot{secret}/sendMessage", token);
    json row = {{"type", "info"},
                {"request", {{"url", api.base() + "/bot{secret}/sendMessage"},
                             {"headers", {{"X-Key", "k={secret}"}, {"Content-Type", "application/json"}}},
                             {"body", R"({"text":"hi"})"}}}};
    rig.outbox.enqueue({{"tg", row.dump()}});
    REQUIRE(rig.run_until([&] { return rig.settled(); }));
    auto got = api.got();
    REQUIRE(got.size() == 1);
    CHECK(got[0].path == "/bot" + token + "/sendMessage");  // POST is the default method
    CHECK(got[0].body == json{{"text", "hi"}});
    CHECK(rig.query("SELECT count(*) FROM outbox WHERE payload LIKE '%AAsecret%'")[0] == 0);
}

TEST_CASE("outbox: 429 waits retry_after; other 4xx park the row as dead; the token is never logged or stored") {
    const std::string token = "987654321:AAhidden-Secret";
    int rate_limited = 0;
    FakeHttp api([&](const Received& r, int) -> std::pair<int, std::string> {
        std::string text = r.body.value("message", "");
        if (text == "slow" && rate_limited++ == 0)
            return {429, R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}})"};
        if (text == "bad")  // an error that echoes the request path
            return {400, R"({"ok":false,"error_code":400,"description":"Bad Request: chat not found in )" + r.path + "\"}"};
        return {200, R"({"ok":true,"result":{}})"};
    });
    Rig rig;
    rig.add("telegram:1", api.base() + "/bot{secret}/sendMessage", token);
    long long slow = rig.notify(msg("slow", "warning"));
    long long bad = rig.notify(msg("bad", "error"));
    rig.notify(msg("after", "info"));
    REQUIRE(rig.run_until([&] { return rig.settled(); }));
    auto got = api.got();
    CHECK(texts(got) == V{"slow", "slow", "bad", "after"});
    CHECK(got[1].at - got[0].at >= 0.9);
    json row = rig.query("SELECT attempts, last_error, dead_at IS NOT NULL FROM outbox WHERE id=" + std::to_string(bad));
    CHECK(row[0] == 1);  // not retried
    std::string err = row[1].get<std::string>();
    CHECK(err.find("failed: HTTP 400: Bad Request: chat not found in /bot<redacted>/sendMessage") == 0);
    CHECK(row[2] == 1);
    CHECK(rig.query("SELECT last_error FROM outbox WHERE id=" + std::to_string(slow))[0].is_null());
    std::string log = rig.daily_log();
    CHECK(log.find("HTTP 429") != std::string::npos);
    CHECK(log.find("failed for good") != std::string::npos);
    CHECK(log.find("AAhidden") == std::string::npos);
    CHECK(rig.query("SELECT count(*) FROM outbox WHERE last_error LIKE '%AAhidden%'")[0] == 0);
}

TEST_CASE("outbox: a row a sink answers 500 for is dead after max_attempts; the rows behind it are delivered") {
    FakeHttp sink([](const Received& r, int) {
        return r.body.value("message", "") == "poison" ? std::make_pair(500, std::string("{}"))
                                                       : std::make_pair(200, std::string("{}"));
    });
    Rig rig;
    rig.add("n8n", sink.base());
    rig.outbox.set_max_attempts(2);
    rig.notify(msg("first", "info"));
    long long poison = rig.notify(msg("poison", "info"));
    rig.notify(msg("behind", "success"));
    REQUIRE(rig.run_until([&] { return rig.settled(); }));
    CHECK(texts(sink.got()) == V{"first", "poison", "poison", "behind"});
    json dead = rig.store.outbox_dead(10);
    REQUIRE(dead.size() == 1);
    CHECK(dead[0]["id"] == poison);
    CHECK(dead[0]["sink"] == "n8n");
    CHECK(dead[0]["type"] == "info");
    CHECK(dead[0]["last_error"] == "failed: HTTP 500 (2 refusals; notify.max_attempts)");
    CHECK(rig.store.outbox_dead_count() == 1);
    CHECK(rig.query("SELECT attempts, refusals FROM outbox WHERE id=" + std::to_string(poison)) == json{2, 2});
    CHECK(rig.daily_log().find("notification #" + std::to_string(poison) + " to n8n failed for good (HTTP 500") !=
          std::string::npos);
}

TEST_CASE("outbox: a network error is retried without end and stored without the secret") {
    const std::string token = "555:AAnever-Shown";
    Rig rig;
    rig.add("telegram:1", "127.0.0.1:9/bot{secret}/x", token);  // no scheme: the client names the URL
    rig.outbox.set_max_attempts(1);
    long long id = rig.notify(msg("x", "error"));
    REQUIRE(rig.run_until([&] {
        return rig.query("SELECT attempts FROM outbox WHERE id=" + std::to_string(id))[0].get<long long>() >= 1 &&
               !rig.outbox.busy();
    }));
    std::string err = rig.query("SELECT last_error FROM outbox WHERE id=" + std::to_string(id))[0].get<std::string>();
    CHECK(!err.empty());
    CHECK(err.find("AAnever") == std::string::npos);
    CHECK(rig.daily_log().find("AAnever") == std::string::npos);
    CHECK(rig.outbox.pending() == 1);  // a network failure is retried, whatever max_attempts says
    Sink s{token};
    CHECK(s.redact("at /bot555%3AAAnever-Shown/x and 555:AAnever-Shown") == "at /bot<redacted>/x and <redacted>");
}

TEST_CASE("outbox: enqueue refuses an unknown sink or a malformed request and queues nothing") {
    Rig rig;
    rig.add("n8n", "http://127.0.0.1:9/");
    json good = {{"request", {{"url", "http://127.0.0.1:9/"}, {"body", "{}"}}}};
    auto refused = [&](std::vector<OutboxRow> rows) {
        try {
            rig.outbox.enqueue(rows);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK(refused({{"n8n", good.dump()}, {"other", good.dump()}}) == "rows[2]: no sink named 'other'");
    CHECK(refused({{"n8n", R"({"type":"info"})"}}) ==
          "rows[1].request must be a table {method=, url=, headers=, body=}");
    CHECK(refused({{"n8n", R"({"request":{"url":""}})"}}) == "rows[1].request.url must be a non-empty string");
    CHECK(refused({{"n8n", R"({"request":{"url":"http://x","body":{}}})"}}) == "rows[1].request.body must be a string");
    CHECK(refused({{"n8n", R"({"request":{"url":"http://x","headers":{"A":1}}})"}}) ==
          "rows[1].request.headers.A must be a string");
    CHECK(rig.query("SELECT count(*) FROM outbox")[0] == 0);
    HttpRequest req = row_request(Sink{"k"}, json::parse(R"({"request":{"method":"PUT","url":"http://h/{secret}",
        "headers":{"Content-Type":"text/plain","X":"y"},"body":"b","timeout":3}})"));
    CHECK(req.method == "PUT");
    CHECK(req.url == "http://h/k");
    CHECK(req.content_type == "text/plain");
    CHECK(req.headers == std::vector<std::pair<std::string, std::string>>{{"X", "y"}});
    CHECK(req.timeout == 3);
}

TEST_CASE("store: coalescing is per sink and session and survives payloads that are not JSON") {
    std::string dir = testutil::temp_dir("outbox");
    Store s(dir + "/orch.db");
    auto p = [](const char* session, const char* type) {
        json j = {{"type", type}};
        if (session) j["session"] = session;
        return j.dump();
    };
    long long a1 = s.enqueue("n8n", p("a", "progress"), 1);
    long long junk = s.enqueue("n8n", "not json {", 1);
    long long b1 = s.enqueue("n8n", p("b", "progress"), 1);
    long long none1 = s.enqueue("n8n", p(nullptr, "progress"), 1);
    long long other = s.enqueue("tg", p("a", "progress"), 1);
    long long info = s.enqueue("n8n", p("a", "info"), 1);
    long long a2 = s.enqueue("n8n", p("a", "progress"), 1);
    long long none2 = s.enqueue("n8n", p(nullptr, "progress"), 1);
    CHECK(s.coalesce_progress("n8n", 2) == 2);  // a1 and none1
    std::vector<long long> left;
    for (auto& r : s.outbox_queue("n8n", 50)) left.push_back(r["id"].get<long long>());
    CHECK(left == std::vector<long long>{junk, b1, info, a2, none2});
    CHECK(s.outbox_pending("tg") == 1);
    CHECK(s.outbox_pending() == 6);
    (void)a1, (void)none1, (void)other;
    s.mark_dead(info, "HTTP 400", 3);
    CHECK(s.outbox_pending("n8n") == 4);
}

TEST_CASE("store: in a parallel day each task's newest progress row stays; one task's never supersedes another's") {
    std::string dir = testutil::temp_dir("outbox-tasks");
    Store s(dir + "/orch.db");
    auto p = [](const char* task) {
        json j = {{"type", "progress"}, {"session", "a"}};
        if (task) j["task"] = task;
        return j.dump();
    };
    long long t1 = s.enqueue("n8n", p("task-1"), 1);
    long long t2 = s.enqueue("n8n", p("task-2"), 1);
    long long none = s.enqueue("n8n", p(nullptr), 1);
    long long t1b = s.enqueue("n8n", p("task-1"), 1);
    long long t3 = s.enqueue("n8n", p("task-3"), 1);
    CHECK(s.coalesce_progress("n8n", 2) == 1);  // task-1's first only
    std::vector<long long> left;
    for (auto& r : s.outbox_queue("n8n", 50)) left.push_back(r["id"].get<long long>());
    CHECK(left == std::vector<long long>{t2, none, t1b, t3});
    (void)t1;
}

TEST_CASE("store: a held progress row about a task is dropped once a newer row about that task exists") {
    std::string dir = testutil::temp_dir("outbox-task");
    Store s(dir + "/orch.db");
    auto p = [](const char* type, const char* task) {
        json j = {{"type", type}, {"session", "a"}};
        if (task) j["task"] = task;
        return j.dump();
    };
    long long started2 = s.enqueue("n8n", p("progress", "2"), 1);
    long long done2 = s.enqueue("n8n", p("success", "2"), 1);      // "task 2 done" supersedes "task 2 started"
    long long started3 = s.enqueue("n8n", p("progress", "3"), 1);  // nothing newer about task 3: it stays
    long long other = s.enqueue("tg", p("success", "3"), 1);       // another sink's rows do not count
    CHECK(s.coalesce_progress("n8n", 2) == 1);
    std::vector<long long> left;
    for (auto& r : s.outbox_queue("n8n", 50)) left.push_back(r["id"].get<long long>());
    CHECK(left == std::vector<long long>{done2, started3});
    (void)started2, (void)other;
}
