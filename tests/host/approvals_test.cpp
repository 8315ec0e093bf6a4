// The approvals service (services/approvals.h) and the wake sockets
// (services/wake.h), Lua-free: decisions and commands written through
// another Store (another process's connection) reach the waiter through a
// poke, long before the fallback look.
#include "helpers.h"
#include "loop/loop.h"
#include "services/approvals.h"
#include "services/store.h"
#include "services/wake.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <cstdio>
#include <filesystem>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

using namespace orch;
using json = nlohmann::json;

namespace {

// Runs the loop until cond() holds or `seconds` pass; true when it held.
template <class F>
bool run_until(Loop& loop, F cond, double seconds = 30) {
    double end = Loop::now() + seconds;
    while (!cond() && Loop::now() < end) loop.run_once(0.05);
    return cond();
}

constexpr double k_fallback = 3600;  // no fallback look during a test: only pokes deliver

}  // namespace

TEST_CASE("approvals: a decision from another connection arrives through the wake socket") {
    std::string db = testutil::temp_dir("approvals") + "/orch.db";
    Loop loop;
    Store store(db);
    Approvals svc(loop, store, nullptr, k_fallback);
    std::optional<json> got;
    long long id = 0;
    auto given = svc.await({"s1", "1", "approval", "go?"}, {}, [&](const json& d) { got = d; }, &id);
    REQUIRE_FALSE(given);
    REQUIRE(id > 0);
    CHECK(svc.listening());
    struct stat st;
    REQUIRE(stat(wake_dir(db).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);

    Store other(db);  // `orch-host approve` in another shell
    CHECK(other.resolve_approval(id, "approve", "", "cli:tester", 1.0));
    CHECK_FALSE(got);  // nothing runs inside the writer's call
    REQUIRE(run_until(loop, [&] { return got.has_value(); }));
    CHECK((*got)["action"] == "approve");
    CHECK((*got)["by"] == "cli:tester");
    CHECK((*got)["id"] == id);
    CHECK(svc.waiting() == 0);
    CHECK_FALSE(svc.recorded({"s1", "1", "approval", "go?"}));  // taken: not given again
}

TEST_CASE("approvals: the first resolver wins, a withdrawn wait is never delivered") {
    std::string db = testutil::temp_dir("approvals-once") + "/orch.db";
    Loop loop;
    Store store(db);
    Approvals svc(loop, store, nullptr, k_fallback);
    int calls = 0;
    long long id = 0;
    svc.await({"s2", "1", "approval", "go?"}, {}, [&](const json&) { ++calls; }, &id);
    CHECK(svc.resolve(id, "skip", "", "webhook"));
    CHECK_FALSE(svc.resolve(id, "approve", "", "telegram"));
    CHECK(calls == 1);

    long long id2 = 0;
    svc.await({"s2", "2", "approval", "go?"}, {}, [&](const json&) { ++calls; }, &id2);
    svc.withdraw(id2, "interrupted");
    CHECK_FALSE(svc.resolve(id2, "approve", "", "late"));
    run_until(loop, [] { return false; }, 0.2);
    CHECK(calls == 1);
    CHECK(store.get_approval(id2)->value("status", std::string()) == "withdrawn");
}

TEST_CASE("approvals: a decision given while no host waited is handed to the same request at once") {
    std::string db = testutil::temp_dir("approvals-given") + "/orch.db";
    Loop loop;
    Store store(db);
    long long old = store.open_approval("s3", "4", "approval", "go?", 1.0);
    store.resolve_approval(old, "approve", "", "cli", 2.0);  // its host had died
    Approvals svc(loop, store, nullptr, k_fallback);
    Approvals::Request r{"s3", "4", "approval", "go?"};
    REQUIRE(svc.recorded(r));
    long long id = 0;
    auto given = svc.await(r, {}, [](const json&) { FAIL("must not wait"); }, &id);
    REQUIRE(given);
    CHECK((*given)["action"] == "approve");
    CHECK(id == 0);
    CHECK_FALSE(svc.recorded(r));
}

TEST_CASE("approvals: the timeout decides, and a command for a watched session arrives at once") {
    std::string db = testutil::temp_dir("approvals-cmd") + "/orch.db";
    Loop loop;
    Store store(db);
    Approvals svc(loop, store, nullptr, k_fallback);
    std::optional<json> got;
    long long id = 0;
    Approvals::WaitOptions w;
    w.timeout = 0.05;
    svc.await({"s4", "1", "approval", "go?"}, w, [&](const json& d) { got = d; }, &id);
    REQUIRE(run_until(loop, [&] { return got.has_value(); }));
    CHECK((*got)["action"] == "timeout");

    std::vector<json> cmds;
    svc.on_command([&](const json& c) { cmds.push_back(c); });
    svc.watch("s4");
    Store other(db);
    other.push_command("s4", "pause", "{}", "cli", 1.0);
    other.push_command("elsewhere", "pause", "{}", "cli", 1.0);  // not watched: left alone
    REQUIRE(run_until(loop, [&] { return !cmds.empty(); }));
    CHECK(cmds.size() == 1);
    CHECK(cmds[0]["command"] == "pause");
    other.begin();  // inside a transaction the poke waits for the commit
    other.push_command("s4", "resume", "{}", "cli", 1.0);
    run_until(loop, [] { return false; }, 0.1);
    CHECK(cmds.size() == 1);
    other.commit();
    REQUIRE(run_until(loop, [&] { return cmds.size() == 2; }));
    CHECK(cmds[1]["command"] == "resume");
}

TEST_CASE("approvals: terminal lines") {
    std::string text;
    CHECK(Approvals::terminal_action("approval", " A \n", &text) == "approve");
    CHECK(Approvals::terminal_action("approval", "yes", &text) == "approve");
    CHECK(Approvals::terminal_action("approval", "skip\r\n", &text) == "skip");
    CHECK(Approvals::terminal_action("approval", "p", &text) == "pause");
    CHECK(Approvals::terminal_action("approval", "use B", &text).empty());
    CHECK(Approvals::terminal_action("question", "use B", &text) == "answer");
    CHECK(text == "use B");
    CHECK(Approvals::terminal_action("question", "   ", &text).empty());
}

TEST_CASE("wake: a dead listener's socket is removed by the next poke; a long path still works") {
    std::string dir = testutil::temp_dir("wake");
    std::string db = dir + "/orch.db";
    WakeListener live(db);
    {  // the socket of a process that died (kill -9): the file stays, nothing listens
        int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::string p = wake_dir(db) + "/999999999";
        std::snprintf(a.sun_path, sizeof a.sun_path, "%s", p.c_str());
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        close(fd);
    }
    CHECK(poke_waiters(db) == 1);
    CHECK(live.drain() == 1);
    struct stat st;
    CHECK(stat((wake_dir(db) + "/999999999").c_str(), &st) != 0);  // removed by that poke
    // past sun_path's 108 bytes: bound and reached through /proc/self/fd
    std::string deep = dir + "/" + std::string(60, 'a') + "/" + std::string(60, 'b');
    std::filesystem::create_directories(deep);
    std::string long_db = deep + "/orch.db";
    WakeListener far(long_db);
    CHECK(poke_waiters(long_db) == 1);
    CHECK(far.drain() == 1);
}

TEST_CASE("approvals: an answer file is taken when it is written, and removed once used") {
    std::string dir = testutil::temp_dir("approvals-file");
    Loop loop;
    Store store(dir + "/orch.db");
    Approvals svc(loop, store, nullptr, k_fallback);
    std::optional<json> got;
    long long id = 0;
    Approvals::WaitOptions w;
    w.answer_file = dir + "/1-answer.md";
    svc.await({"s5", "1", "question", "which?"}, w, [&](const json& d) { got = d; }, &id);
    run_until(loop, [] { return false; }, 0.1);
    CHECK_FALSE(got);
    testutil::write(w.answer_file, "  \n\t\n");  // blank: no answer yet, left where it is
    run_until(loop, [] { return false; }, 0.3);
    CHECK_FALSE(got);
    CHECK(testutil::read(w.answer_file) == "  \n\t\n");
    testutil::write(w.answer_file, "use B\n");
    REQUIRE(run_until(loop, [&] { return got.has_value(); }));
    CHECK((*got)["action"] == "answer");
    CHECK((*got)["text"] == "use B\n");
    CHECK((*got)["by"] == "answer_file");
    struct stat st;
    CHECK(stat(w.answer_file.c_str(), &st) != 0);
    int left = 0;  // nothing set aside beside it: the state holds the answer
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().filename().string().rfind("1-answer.md", 0) == 0) ++left;
    CHECK(left == 0);
}

TEST_CASE("approvals: asking the same again keeps a withdrawn request's id; a decided or expired one gets a new id") {
    std::string db = testutil::temp_dir("approvals-id") + "/orch.db";
    Loop loop;
    Store store(db);
    Approvals svc(loop, store, nullptr, k_fallback);
    Approvals::Request r{"s4", "1", "approval", "go?"};
    long long first = svc.open(r);  // what the notification names
    CHECK(svc.open(r) == first);    // nobody waits on it yet: the same one
    long long id = 0;
    svc.await(r, {}, [](const json&) {}, &id);
    CHECK(id == first);  // the wait is on the request the notification named
    svc.withdraw(id, "interrupted");  // its host stopped
    CHECK(store.get_approval(first).value()["status"] == "withdrawn");
    std::optional<json> got;
    long long again = 0;
    svc.await(r, {}, [&](const json& d) { got = d; }, &again);
    CHECK(again == first);  // the resumed session's request keeps the id
    CHECK(store.get_approval(first).value()["status"] == "pending");
    CHECK(svc.resolve(first, "approve", "", "cli:tester", "cli"));
    REQUIRE(got);
    CHECK((*got)["channel"] == "cli");
    CHECK((*got)["at"].is_number());
    CHECK(store.get_approval(first).value()["channel"] == "cli");
    long long next = svc.open(r);  // decided: asking again is a new request
    CHECK(next != first);

    Approvals::WaitOptions w;
    w.timeout = 0.05;
    std::optional<json> timed;
    long long tid = 0;
    svc.await({"s4", "2", "approval", "go?"}, w, [&](const json& d) { timed = d; }, &tid);
    REQUIRE(run_until(loop, [&] { return timed.has_value(); }));
    CHECK((*timed)["action"] == "timeout");
    CHECK(store.get_approval(tid).value()["status"] == "expired");
    CHECK_FALSE(svc.resolve(tid, "approve", "", "late", "cli"));  // expired: never decided
    CHECK(svc.open({"s4", "2", "approval", "go?"}) != tid);
}
