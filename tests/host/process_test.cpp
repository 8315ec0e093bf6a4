#include "helpers.h"
#include "loop/loop.h"
#include "services/claude.h"
#include "services/process.h"
#include "services/process_run.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace orch;
using json = nlohmann::json;

namespace {

// Drive the loop until done() or a generous deadline (no timing asserts).
template <typename F>
bool run_until(Loop& loop, F done, double limit = 60) {
    double end = Loop::now() + limit;
    while (!done() && Loop::now() < end) loop.run_once(0.05);
    return done();
}

json run_fake(Loop& loop, Reaper& reaper, const std::string& prompt, double timeout = 30,
              ClaudeRun::EventFn on_event = nullptr, std::string* tag = nullptr) {
    ClaudeOptions o;
    o.binary = FAKE_CLAUDE;
    o.prompt = prompt;
    o.timeout = timeout;
    o.kill_grace = 1;
    o.agent_tag = "ORCH_AGENT_ID=doctest-" + std::to_string(getpid()) + "-" + std::to_string(rand());
    if (tag) *tag = o.agent_tag;
    json out;
    bool done = false;
    auto run = ClaudeRun::start(loop, reaper, o, on_event, [&](json r) { out = std::move(r); done = true; });
    REQUIRE(run_until(loop, [&] { return done; }));
    return out;
}

}  // namespace

TEST_CASE("loop: timers fire in order and cancelled ones never") {
    Loop loop;
    std::string order;
    loop.add_timer(0.02, [&] { order += "b"; });
    loop.add_timer(0.01, [&] { order += "a"; });
    auto c = loop.add_timer(0.015, [&] { order += "x"; });
    loop.cancel_timer(c);
    run_until(loop, [&] { return order.size() == 2; });
    CHECK(order == "ab");
}

TEST_CASE("loop: work posted from another thread runs on the loop thread") {
    Loop loop;
    std::thread::id ran_on;
    bool done = false;
    std::thread t([&] { loop.post([&] { ran_on = std::this_thread::get_id(); done = true; }); });
    run_until(loop, [&] { return done; });
    t.join();
    CHECK(ran_on == std::this_thread::get_id());
}

TEST_CASE("process: a missing program is a clear error") {
    SpawnSpec s;
    s.argv = {"/nonexistent/claude"};
    CHECK_THROWS_WITH(spawn_child(s), doctest::Contains("not found"));
    CHECK(find_executable("sh") != "");
}

TEST_CASE("process: a child started with nice runs that much nicer than the host") {
    Loop loop;
    Reaper reaper(loop);
    SpawnSpec s;
    s.argv = {"sh", "-c", "cut -d' ' -f19 /proc/self/stat"};  // field 19: the niceness
    s.nice = 4;
    std::string text;
    bool done = false;
    ProcessRun::start(loop, reaper, s, "", RunLimits{}, "", [&](const char* p, size_t n) { text.append(p, n); },
                      nullptr, [&](const RunOutcome&) { done = true; });
    REQUIRE(run_until(loop, [&] { return done; }));
    errno = 0;
    int host = getpriority(PRIO_PROCESS, 0);
    CHECK(std::stoi(text) == std::min(19, host + 4));
}

TEST_CASE("process: a timeout stops the whole tree, including a setsid child that ignores SIGTERM") {
    Loop loop;
    Reaper reaper(loop);
    become_subreaper();
    std::string dir = testutil::temp_dir("tree");
    SpawnSpec s;
    s.argv = {"sh", "-c", "setsid sh -c 'trap \"\" TERM; sleep 30; touch survivor' & trap '' TERM; sleep 30"};
    s.cwd = dir;
    RunLimits lim;
    lim.timeout = 0.5;
    lim.kill_grace = 0.5;
    std::string tag = "ORCH_AGENT_ID=doctest-tree-" + std::to_string(getpid());
    RunOutcome out;
    bool done = false;
    ProcessRun::start(loop, reaper, s, "", lim, tag, nullptr, nullptr, [&](const RunOutcome& o) { out = o; done = true; });
    REQUIRE(run_until(loop, [&] { return done; }));
    CHECK(out.timed_out);
    CHECK(find_tree(-1, tag).empty());
}

// The exit callback can see pipes whose EOF the loop has not read yet: it reads
// them itself, and the stderr EOF is what finishes the run (the done callback
// drops the last reference). Nothing may touch the run after that. The child is
// left a zombie and reaped by hand, so the loop cannot read the EOFs first.
TEST_CASE("process: a run finished by the stderr EOF its exit callback reads is not touched afterwards") {
    Loop loop;
    Reaper reaper(loop);
    SpawnSpec s;
    s.argv = {"sh", "-c", "echo out; echo err >&2"};
    int finished = 0;
    RunOutcome out;
    pid_t pid = ProcessRun::start(loop, reaper, s, "", RunLimits{}, "", nullptr, nullptr,
                                  [&](const RunOutcome& o) { out = o; ++finished; })
                    ->pid();  // the caller keeps no reference, as ClaudeRun drops its own
    auto zombie = [pid] {
        std::string st = testutil::read("/proc/" + std::to_string(pid) + "/stat");
        auto paren = st.rfind(')');
        return paren != std::string::npos && paren + 2 < st.size() && st[paren + 2] == 'Z';
    };
    double end = Loop::now() + 60;
    while (!zombie() && Loop::now() < end) usleep(10000);
    REQUIRE(zombie());
    reaper.reap_now();  // on_exited with stdout and stderr still unread
    CHECK(finished == 1);
    CHECK(out.exit_code == 0);
    CHECK(out.lines == 1);
    CHECK(out.stdout_bytes == 4);
    CHECK(out.stderr_tail == "err\n");
    run_until(loop, [] { return false; }, 0.2);  // nothing left to fire for the dead run
    CHECK(finished == 1);
}

TEST_CASE("process: a run that exits 0 leaving a setsid child that ignores SIGTERM stops it first") {
    Loop loop;
    Reaper reaper(loop);
    become_subreaper();
    std::string dir = testutil::temp_dir("leftover");
    SpawnSpec s;
    s.argv = {"sh", "-c", "setsid sh -c 'trap \"\" TERM; sleep 30; touch survivor' & exit 0"};
    s.cwd = dir;
    RunLimits lim;
    lim.kill_grace = 0.5;
    std::string tag = "ORCH_AGENT_ID=doctest-leftover-" + std::to_string(getpid());
    RunOutcome out;
    bool done = false;
    ProcessRun::start(loop, reaper, s, "", lim, tag, nullptr, nullptr, [&](const RunOutcome& o) { out = o; done = true; });
    REQUIRE(run_until(loop, [&] { return done; }));
    CHECK(out.exit_code == 0);
    CHECK_FALSE(out.timed_out);
    CHECK_FALSE(out.cancelled);
    CHECK(out.leftovers >= 1);
    CHECK(find_tree(-1, tag).empty());
}

TEST_CASE("process: a dead host's agents are stopped for its own state only, a live host's never") {
    Loop loop;
    Reaper reaper(loop);
    // a "host" that starts a tagged sleeper and dies: sh's pid is the tag's host pid
    std::string state = testutil::temp_dir("state") + "/orch.db";
    auto spawn_tagged = [&](const std::string& host_pid, const std::string& st) {
        SpawnSpec s;
        s.argv = {"sh", "-c", "ORCH_AGENT_ID=" + host_pid + "-claude1@" + st + " setsid sleep 30 & echo $!"};
        return s;
    };
    std::string out;
    bool done = false;
    auto run_sh = [&](SpawnSpec s) {
        out.clear();
        done = false;
        ProcessRun::start(loop, reaper, s, "", RunLimits{}, "", [&](const char* p, size_t n) { out.append(p, n); },
                          nullptr, [&](const RunOutcome&) { done = true; });
        REQUIRE(run_until(loop, [&] { return done; }));
        return static_cast<pid_t>(std::stol(out));
    };
    pid_t dead_host = run_sh(spawn_tagged("1999999999", state));   // no such pid: that host is gone
    pid_t other_state = run_sh(spawn_tagged("1999999999", state + "-other"));
    pid_t live_host = run_sh(spawn_tagged(std::to_string(getpid()), state));
    CHECK(kill_orphaned_agents(state) == 1);
    auto gone = [](pid_t p) {
        std::string st = testutil::read("/proc/" + std::to_string(p) + "/stat");
        auto paren = st.rfind(')');
        return st.empty() || (paren != std::string::npos && st[paren + 2] == 'Z');
    };
    CHECK(run_until(loop, [&] { return gone(dead_host); }));
    CHECK_FALSE(gone(other_state));
    CHECK_FALSE(gone(live_host));
    kill(other_state, SIGKILL);
    kill(live_host, SIGKILL);
}

TEST_CASE("process: a subreaper host walks /proc after a tagged run only when the run left children behind") {
    Loop loop;
    Reaper reaper(loop);
    become_subreaper();
    // what earlier cases killed and this process adopted must be gone first
    double end = Loop::now() + 60;
    for (int st; Loop::now() < end;) {
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p < 0) break;  // no children left
        if (p == 0) usleep(10000);
    }
    REQUIRE_FALSE(reaper.may_have_strays());
    std::string tag = "ORCH_AGENT_ID=doctest-strays-" + std::to_string(getpid());
    auto run = [&](const std::string& script) {
        SpawnSpec s;
        s.argv = {"sh", "-c", script};
        RunLimits lim;
        lim.kill_grace = 0.5;
        RunOutcome out;
        bool done = false;
        ProcessRun::start(loop, reaper, s, "", lim, tag, nullptr, nullptr, [&](const RunOutcome& o) { out = o; done = true; });
        REQUIRE(run_until(loop, [&] { return done; }));
        return out;
    };
    long long before = proc_scans();
    RunOutcome clean = run("exit 0");
    CHECK(clean.leftovers == 0);
    CHECK(proc_scans() == before);  // each exit walked /proc (two reads per process) before
    RunOutcome left = run("setsid sleep 30 & exit 0");
    CHECK(left.leftovers >= 1);
    CHECK(proc_scans() > before);
    CHECK(find_tree(-1, tag).empty());
}

TEST_CASE("claude: a successful run reports result, cost and tokens") {
    Loop loop;
    Reaper reaper(loop);
    int events = 0;
    json r = run_fake(loop, reaper, "hello", 30, [&](const json& ev) { ++events; return std::string(); });
    CHECK(r["ok"] == true);
    CHECK(r["result"] == "done");
    CHECK(r["cost_usd"].get<double>() > 0);
    CHECK(r["tokens"].get<long long>() == 6595);
    CHECK(r["exit_code"] == 0);
    CHECK(events == 6);
}

TEST_CASE("claude: every way a run can go wrong gives ok=false and a clear error") {
    Loop loop;
    Reaper reaper(loop);
    struct Case { const char* prompt; const char* error; };
    const Case cases[] = {
        {"[fake:fail]", "API Error: 500"},
        {"[fake:exit:3]", "exited with code 3"},
        {"[fake:garbage]", "no result line"},
        {"[fake:empty]", "printed nothing"},
        {"[fake:denied]", "permission denied: Bash"},
        {"[fake:error_max_turns]", "maximum number of turns"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.prompt);
        json r = run_fake(loop, reaper, c.prompt);
        CHECK(r["ok"] == false);
        CHECK(r["error"].get<std::string>().find(c.error) != std::string::npos);
    }
}

TEST_CASE("claude: a hanging agent times out") {
    Loop loop;
    Reaper reaper(loop);
    json r = run_fake(loop, reaper, "[fake:hang]", 0.5);
    CHECK(r["ok"] == false);
    CHECK(r["timed_out"] == true);
    CHECK(r["error"].get<std::string>().find("timed out") != std::string::npos);
}

TEST_CASE("claude: the result line ends the run; an agent that stays after it is stopped and its result counts") {
    Loop loop;
    Reaper reaper(loop);
    std::string tag;
    json r = run_fake(loop, reaper, "[fake:linger]", 600, nullptr, &tag);
    CHECK(r["ok"] == true);
    CHECK(r["result"] == "done");
    CHECK(r["cost_usd"].get<double>() > 0);
    CHECK(r["tokens"].get<long long>() == 6595);
    CHECK(r["timed_out"] == false);
    CHECK(r["stopped_after_result"] == true);
    CHECK(find_tree(-1, tag).empty());
}

TEST_CASE("claude: absurd numbers in the result are refused with a warning; the text is kept as given") {
    Loop loop;
    Reaper reaper(loop);
    std::string path = testutil::temp_dir("absurd") + "/result.ndjson";
    testutil::write(path, R"({"type":"result","subtype":"success","is_error":false,"duration_ms":1e300,)"
                          R"("num_turns":-3,"result":"done\u0000 and \u001b[2J","session_id":"s1",)"
                          R"("total_cost_usd":1e308,"usage":{"input_tokens":9200000000000000000,)"
                          R"("output_tokens":5,"cache_read_input_tokens":18446744073709551615},)"
                          R"("permission_denials":[]})"
                          "\n");
    json r = run_fake(loop, reaper, "[fake:replay:" + path + "]");
    CHECK(r["ok"] == true);
    CHECK(r["cost_usd"].get<double>() == 0);
    CHECK(r["tokens"].get<long long>() == 5);
    CHECK(r["usage"]["input_tokens"] == 0);
    CHECK(r["usage"]["output_tokens"] == 5);
    CHECK(r["duration_ms"] == 0);
    CHECK(r["num_turns"] == 0);
    CHECK(r["result"].get<std::string>() == std::string("done\0 and \x1b[2J", 14));
    std::string w = r["warnings"].dump();
    CAPTURE(w);
    for (const char* field : {"total_cost_usd = 1e+308", "input_tokens = 9200000000000000000", "cache_read_input_tokens",
                              "duration_ms", "num_turns = -3"})
        CHECK(w.find(field) != std::string::npos);
}

TEST_CASE("claude: a policy violation from on_event stops the agent") {
    Loop loop;
    Reaper reaper(loop);
    json r = run_fake(loop, reaper, "[fake:tool:Bash:git push]", 30, [](const json& ev) {
        return ev.value("type", "") == "assistant" && ev.dump().find("git push") != std::string::npos
                   ? std::string("no pushing")
                   : std::string();
    });
    CHECK(r["ok"] == false);
    CHECK(r["violation"] == "no pushing");
    CHECK(r["error"].get<std::string>().find("policy violation") != std::string::npos);
    // stopped before its result line: the stream's tokens by kind and the model, for Lua to price
    CHECK(r["have_result"] == false);
    CHECK(r["cost_usd"] == 0.0);
    REQUIRE(r.contains("usage"));
    long long sum = 0;
    for (const char* k : {"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"})
        sum += r["usage"].value(k, -1LL);
    CHECK(sum == r["tokens"].get<long long>());
    CHECK(sum > 0);
    CHECK(r.value("model", std::string()).find("claude") == 0);
}

TEST_CASE("claude: with event_types, on_event sees those types only (not the result or init line)") {
    Loop loop;
    Reaper reaper(loop);
    ClaudeOptions o;
    o.binary = FAKE_CLAUDE;
    o.prompt = "[fake:tool:Bash:ls]";
    o.timeout = 30;
    o.kill_grace = 1;
    o.event_types = {"assistant"};
    o.agent_tag = "ORCH_AGENT_ID=doctest-" + std::to_string(getpid()) + "-types";
    std::vector<std::string> seen;
    json out;
    bool done = false;
    auto run = ClaudeRun::start(
        loop, reaper, o,
        [&](const json& ev) {
            seen.push_back(ev.value("type", ""));
            return std::string();
        },
        [&](json r) { out = std::move(r); done = true; });
    REQUIRE(run_until(loop, [&] { return done; }));
    CHECK(out["ok"] == true);
    CHECK(!out["session_id"].get<std::string>().empty());  // the init line is still read
    REQUIRE(!seen.empty());
    for (const auto& t : seen) CHECK(t == "assistant");
}

TEST_CASE("claude: argv carries the configured flags") {
    ClaudeOptions o;
    o.binary = "claude";
    o.model = "opus";
    o.max_turns = 5;
    o.permission_mode = "acceptEdits";
    o.disallowed_tools = "Bash(git commit:*)";
    o.resume = "abc";
    auto a = claude_argv(o);
    std::string joined;
    for (auto& s : a) joined += s + " ";
    CHECK(joined == "claude -p --output-format stream-json --verbose --model opus --max-turns 5 "
                    "--permission-mode acceptEdits --disallowedTools Bash(git commit:*) --resume abc ");
}
