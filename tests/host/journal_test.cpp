// The journal's event texts and its batched rows inside a caller's transaction.
#include "helpers.h"
#include "services/journal.h"
#include "services/store.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace orch;
using json = nlohmann::json;

namespace {

// The NDJSON line as a JSON object merge would build it: the event's own
// fields, then data's keys that do not clash with them.
std::string reference_line(double now, const std::string& name, const std::string& session,
                           const std::string& task, const json& data) {
    json line = json::object();
    line["ts"] = iso_time(now);
    line["event"] = name;
    if (!session.empty()) line["session"] = session;
    if (!task.empty()) line["task"] = task;
    if (data.is_object())
        for (auto& [k, v] : data.items())
            if (!line.contains(k)) line[k] = v;
    return line.dump(-1, ' ', false, json::error_handler_t::replace);
}

json events_of(Store& s) { return s.recent_events("", "", 100); }

}  // namespace

TEST_CASE("journal: an event's row and line are data's JSON and the sorted merge, each value dumped once") {
    const double now = 1764590400.25;
    const std::string bad_utf8 = std::string("caf\xC3", 4);
    const json cases[] = {
        json::object(),
        json{{"a", 1}},
        json{{"status", "completed"}, {"cost_usd", 0.034255}, {"tokens", 1234}},
        json{{"zz", true}, {"aa", nullptr}, {"nested", {{"x", {1, 2, "three"}}, {"y", json::object()}}}},
        json{{"event", "shadowed"}, {"ts", "old"}, {"tse", 1}, {"tas", 2}, {"sessio", 3}, {"sessionx", 4}},
        json{{"task", "other"}, {"session", "other"}, {"e", "before event"}},
        json{{"text", "quote \" backslash \\ newline \n tab \t \x01 é ✓"}, {"bad", bad_utf8}},
        json{{"", "empty key"}, {"\xE2\x9C\x93", "non-ascii key"}},
        json(nullptr),
        json::array({1, 2}),
    };
    for (const auto& data : cases) {
        for (auto [session, task] : {std::pair{"", ""}, std::pair{"s-1", ""}, std::pair{"s-1", "7"},
                                     std::pair{"", "7"}}) {
            CAPTURE(data.dump(-1, ' ', false, json::error_handler_t::replace));
            CAPTURE(session);
            CAPTURE(task);
            std::string row, line;
            event_texts(now, "task_finished", session, task, data, row, line);
            CHECK(line == reference_line(now, "task_finished", session, task, data));
            CHECK(row == (data.is_null() ? "{}" : data.dump(-1, ' ', false, json::error_handler_t::replace)));
        }
    }
}

TEST_CASE("journal: an event from its members' texts (lua/json_text) writes the line the JSON path writes") {
    std::string dir = testutil::temp_dir("journal-members");
    Journal j(dir, nullptr, false);
    const json cases[] = {
        json::object(),
        json{{"status", "completed"}, {"cost_usd", 0.034255}, {"tokens", 1234}, {"by", "cli:me"}},
        json{{"zz", true}, {"aa", nullptr}, {"nested", {{"x", {1, 2, "three"}}, {"y", json::object()}}}},
        json{{"event", "shadowed"}, {"ts", "old"}, {"tse", 1}, {"tas", 2}, {"sessio", 3}, {"sessionx", 4}},
        json{{"text", "quote \" backslash \\ newline \n tab \t \x01 é ✓"}, {"", "empty key"}},
    };
    auto no_ts = [](std::string line) {
        auto k = line.find("\"ts\":\"");
        REQUIRE(k != std::string::npos);
        return line.replace(k + 6, line.find('"', k + 6) - (k + 6), "X");
    };
    for (const auto& data : cases) {
        for (auto [session, task] : {std::pair{"", ""}, std::pair{"s-1", "7"}, std::pair{"", "7"}}) {
            CAPTURE(data.dump());
            CAPTURE(session);
            CAPTURE(task);
            std::vector<std::pair<std::string, std::string>> members;
            for (auto& [k, v] : data.items()) members.emplace_back(k, json(k).dump() + ":" + v.dump());
            Journal::Quoted q{json("task_finished").dump(), *session ? json(session).dump() : "",
                              *task ? json(task).dump() : ""};
            j.event("task_finished", session, task, members, q, [&data](const char* k) -> const char* {
                auto it = data.find(k);
                return it != data.end() && it->is_string() ? it->get_ref<const std::string&>().c_str() : nullptr;
            });
            std::string all = testutil::read(j.events_path());
            std::string last = all.substr(all.rfind('\n', all.size() - 2) + 1);
            last.pop_back();
            CHECK(no_ts(last) == no_ts(reference_line(0, "task_finished", session, task, data)));
        }
    }
}

TEST_CASE("journal: batched rows commit inside the caller's transaction, and come back after a rollback") {
    std::string dir = testutil::temp_dir("journal-tx");
    Store store(dir + "/orch.db");
    int scheduled = 0;
    {
        Journal j(dir + "/logs", &store, false);
        j.set_flush_scheduler([&] { ++scheduled; });
        j.event("claude_finished", "s", "1", json{{"ok", true}});
        CHECK(scheduled == 1);
        CHECK(events_of(store).empty());  // batched

        // rolled back: the batched row is not lost, it is batched again
        store.begin();
        j.flush_into_transaction();
        store.save_task("s", json{{"id", "1"}, {"status", "completed"}});
        store.rollback();
        j.end_transaction(false);
        CHECK(events_of(store).empty());
        CHECK(scheduled == 2);

        // committed: the batched row first, then the transaction's own event
        store.begin();
        j.flush_into_transaction();
        j.event("task_finished", "s", "1", json{{"status", "completed"}});
        store.commit();
        j.end_transaction(true);
        json ev = events_of(store);
        REQUIRE(ev.size() == 2);
        CHECK(ev[0]["event"] == "claude_finished");
        CHECK(ev[1]["event"] == "task_finished");

        j.flush();  // nothing left to write twice
        CHECK(events_of(store).size() == 2);
    }
    CHECK(events_of(store).size() == 2);  // nor at close
    std::string ndjson = testutil::read(dir + "/logs/events.ndjson");
    CHECK(ndjson.find("\"event\":\"claude_finished\"") != std::string::npos);
    CHECK(std::count(ndjson.begin(), ndjson.end(), '\n') == 2);
}

TEST_CASE("journal: iso_time keeps the local date and offset of each second, and the milliseconds of each call") {
    auto fresh = [](double t) {  // without the cache: localtime_r every time
        time_t secs = static_cast<time_t>(t);
        tm lt;
        localtime_r(&secs, &lt);
        char buf[64];
        size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &lt);
        long off = lt.tm_gmtoff / 60;
        snprintf(buf + n, sizeof buf - n, ".%03d%c%02ld:%02ld", static_cast<int>((t - secs) * 1000),
                 off < 0 ? '-' : '+', std::labs(off) / 60, std::labs(off) % 60);
        return std::string(buf);
    };
    for (double t : {1764590400.125, 1764590400.5, 1764590401.0, 1751328000.75, 1764590400.999})
        CHECK(iso_time(t) == fresh(t));
}

TEST_CASE("journal: flush_for writes the batched rows only when one is what the reader reads") {
    std::string dir = testutil::temp_dir("journal-flush-for");
    Store store(dir + "/orch.db");
    Journal j(dir + "/logs", &store, false);
    j.set_flush_scheduler([] {});
    j.event("claude_started", "s", "1", json::object());
    j.event("agent_tool", "s", "2", json{{"tool", "Edit"}});
    j.flush_for("s", "1", "tool_blocked");  // another event
    j.flush_for("s", "3", "");              // another task
    j.flush_for("t", "", "");               // another session
    CHECK(events_of(store).empty());
    j.flush_for("s", "2", "agent_tool");
    json ev = events_of(store);
    REQUIRE(ev.size() == 2);  // the whole batch, in order
    CHECK(ev[0]["event"] == "claude_started");
    CHECK(ev[1]["event"] == "agent_tool");
    j.event("claude_finished", "s", "1", json::object());
    j.flush_for("", "", "");  // any
    CHECK(events_of(store).size() == 3);
}

TEST_CASE("journal: the daily log's line of an event names what it is about (status, check, verdict, via...)") {
    std::string dir = testutil::temp_dir("journal-brief");
    std::string daily;
    {
        Journal j(dir + "/logs", nullptr, false);
        j.event("validated", "s", "7", json{{"check", "acceptance"}, {"verdict", "needs_review"}, {"ok", false}});
        j.event("summarized", "s", "7", json{{"via", "plain"}, {"fallback", "Ollama not reachable"}});
        j.flush();
        daily = j.daily_log_path();
    }
    std::string text = testutil::read(daily);
    CHECK(text.find("validated task 7 check=acceptance verdict=needs_review") != std::string::npos);
    CHECK(text.find("summarized task 7 via=plain fallback=Ollama not reachable") != std::string::npos);
}
