#include "helpers.h"
#include "services/store.h"
#include "services/store_sql.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

using namespace orch;
using json = nlohmann::json;

TEST_CASE("store: a version 1 database gains the sessions index and keeps its rows") {
    std::string dir = testutil::temp_dir("store-v1");
    std::string db = dir + "/orch.db";
    {
        Store s(db);
        s.save_session(json{{"id", "old"}, {"status", "paused"}, {"started_at", 1.0}});
    }
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "DROP INDEX sessions_by_start; PRAGMA user_version=1", nullptr, nullptr, nullptr) ==
            SQLITE_OK);
    sqlite3_close(raw);
    Store s(db);
    CHECK(s.schema_version() == 7);
    CHECK(s.latest_session_id().value() == "old");
    REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(raw, "SELECT count(*) FROM sqlite_master WHERE name='sessions_by_start'", -1, &q, nullptr);
    REQUIRE(sqlite3_step(q) == SQLITE_ROW);
    CHECK(sqlite3_column_int(q, 0) == 1);
    sqlite3_finalize(q);
    sqlite3_close(raw);
}

TEST_CASE("store: creates, migrates and reopens a database") {
    std::string dir = testutil::temp_dir("store");
    std::string db = dir + "/orch.db";
    {
        Store s(db);
        CHECK(s.schema_version() == 7);
        CHECK(s.integrity_check() == "ok");
        s.save_session(json{{"id", "s1"}, {"status", "running"}, {"started_at", 1.5}, {"extra", "x"}});
        s.save_task("s1", json{{"id", 1}, {"seq", 1}, {"title", "T"}, {"status", "pending"}, {"instruction", "do"}});
    }
    Store s(db);
    auto got = s.load_session("s1");
    REQUIRE(got);
    CHECK((*got)["status"] == "running");
    CHECK((*got)["extra"] == "x");
    REQUIRE((*got)["tasks"].size() == 1);
    CHECK((*got)["tasks"][0]["id"] == "1");
    CHECK((*got)["tasks"][0]["instruction"] == "do");
    CHECK(s.latest_session_id().value() == "s1");
}

TEST_CASE("store: a session's and a task's other fields come back as saved, the column fields and tasks aside") {
    std::string dir = testutil::temp_dir("store");
    Store s(dir + "/orch.db");
    json extra = {{"b", {1, 2.5, "\u00fc", nullptr}}, {"a", {{"z", true}, {"y", json::object()}}}, {"c", ""}};
    json row = extra;
    row["id"] = "s1";
    row["status"] = "running";
    row["pid"] = 7;
    row["tasks"] = json::array({1, 2});
    s.save_session(row);
    s.save_task("s1", json{{"id", "t"}, {"status", "pending"}, {"seq", 1}, {"more", extra}});
    auto got = s.load_session("s1");
    REQUIRE(got);
    for (auto& [k, v] : extra.items()) CHECK((*got)[k] == v);
    CHECK((*got)["pid"] == 7);
    REQUIRE((*got)["tasks"].size() == 1);
    CHECK((*got)["tasks"][0]["more"] == extra);
    CHECK(!(*got)["tasks"][0].contains("session_id"));
}

TEST_CASE("store: refuses a file that is not SQLite and leaves it untouched") {
    std::string dir = testutil::temp_dir("store");
    std::string db = dir + "/orch.db";
    testutil::write(db, "this is my shopping list\n");
    CHECK_THROWS_WITH_AS(Store{db}, doctest::Contains("not SQLite"), StoreError);
    CHECK(testutil::read(db) == "this is my shopping list\n");
}

TEST_CASE("store: refuses another application's SQLite database") {
    std::string dir = testutil::temp_dir("store");
    std::string db = dir + "/other.db";
    sqlite3* h;
    REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
    sqlite3_exec(h, "CREATE TABLE foo(x); INSERT INTO foo VALUES(1);", nullptr, nullptr, nullptr);
    sqlite3_close(h);
    std::string before = testutil::read(db);
    CHECK_THROWS_WITH_AS(Store{db}, doctest::Contains("another application"), StoreError);
    CHECK(testutil::read(db) == before);
}

TEST_CASE("store: an approval is resolved exactly once") {
    std::string dir = testutil::temp_dir("store");
    Store a(dir + "/orch.db");
    Store b(dir + "/orch.db");  // a second connection, as another process would have
    long long id = a.open_approval("s", "1", "approval", "ok?", 1);
    CHECK(a.pending_approval("s").value()["id"] == id);
    CHECK(b.resolve_approval(id, "approve", "", "cli", 2));
    CHECK_FALSE(a.resolve_approval(id, "skip", "", "telegram", 3));
    auto row = a.get_approval(id).value();
    CHECK(row["action"] == "approve");
    CHECK(row["by"] == "cli");
    CHECK_FALSE(a.pending_approval("s"));
}

TEST_CASE("store: the pending approval of one task, while several of a session wait") {
    std::string dir = testutil::temp_dir("store");
    Store s(dir + "/orch.db");
    long long one = s.open_approval("s", "task-1", "approval", "ok?", 1);
    long long two = s.open_approval("s", "task-2", "question", "which?", 2);
    s.open_approval("t", "task-1", "approval", "ok?", 3);
    CHECK(s.pending_approval("s").value()["id"] == two);  // the newest
    CHECK(s.pending_approval("s", "task-1").value()["id"] == one);
    CHECK(s.pending_approval("s", "task-2").value()["id"] == two);
    CHECK_FALSE(s.pending_approval("s", "task-3"));
    CHECK(s.resolve_approval(one, "approve", "", "cli", 4));
    CHECK_FALSE(s.pending_approval("s", "task-1"));
    CHECK(s.pending_approval("", "task-1").value()["session_id"] == "t");
}

TEST_CASE("store: a decision no waiter took goes to the same request, once") {
    std::string dir = testutil::temp_dir("store");
    Store s(dir + "/orch.db");
    long long delivered = s.open_approval("s", "1", "approval", "ok?", 1);
    CHECK(s.resolve_approval(delivered, "pause", "", "cli", 2));
    CHECK(s.take_approval(delivered, 3));
    CHECK_FALSE(s.untaken_decision("s", "1", "approval", "ok?"));  // delivered: never again
    long long kept = s.open_approval("s", "1", "approval", "ok?", 4);
    CHECK_FALSE(s.take_approval(kept, 5));  // pending: nothing to take
    CHECK(s.resolve_approval(kept, "approve", "", "cli", 6));  // its host had died
    CHECK_FALSE(s.untaken_decision("s", "1", "approval", "other prompt"));
    CHECK_FALSE(s.untaken_decision("s", "2", "approval", "ok?"));
    CHECK_FALSE(s.untaken_decision("s", "1", "question", "ok?"));
    CHECK(s.untaken_decision("s", "1", "approval", "ok?").value()["id"] == kept);
    CHECK(s.take_approval(kept, 7));
    CHECK_FALSE(s.take_approval(kept, 8));
    CHECK_FALSE(s.untaken_decision("s", "1", "approval", "ok?"));
}

TEST_CASE("store: the run lock's new holder withdraws every pending approval") {
    std::string dir = testutil::temp_dir("store");
    Store s(dir + "/orch.db");
    long long a = s.open_approval("s", "1", "approval", "ok?", 1);
    long long b = s.open_approval("t", "2", "question", "which?", 1);
    long long done = s.open_approval("s", "0", "approval", "ok?", 1);
    CHECK(s.resolve_approval(done, "approve", "", "cli", 2));
    CHECK(s.withdraw_pending_approvals("its host stopped", 3) == 2);
    CHECK_FALSE(s.pending_approval(""));
    CHECK(s.get_approval(a).value()["status"] == "withdrawn");
    CHECK(s.get_approval(b).value()["text"] == "its host stopped");
    CHECK(s.get_approval(done).value()["status"] == "resolved");
    CHECK_FALSE(s.resolve_approval(a, "approve", "", "cli", 4));  // too late: refused, not lost
    CHECK(s.withdraw_pending_approvals("again", 5) == 0);
}

TEST_CASE("store: a version 2 database gains approvals.taken_at; its old decisions count as taken") {
    std::string dir = testutil::temp_dir("store-v2");
    std::string db = dir + "/orch.db";
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
    // the version 2 approvals table, with a decision and a pending row
    REQUIRE(sqlite3_exec(raw,
                         "CREATE TABLE approvals(id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT, task_id TEXT, "
                         "kind TEXT, prompt TEXT, status TEXT NOT NULL, action TEXT, text TEXT, by TEXT, "
                         "created_at REAL, resolved_at REAL);"
                         "INSERT INTO approvals(session_id,task_id,kind,prompt,status,action,by,created_at,resolved_at) "
                         "VALUES('s','1','approval','ok?','resolved','approve','cli',1,2);"
                         "INSERT INTO approvals(session_id,task_id,kind,prompt,status,created_at) "
                         "VALUES('s','2','approval','ok?','pending',3);"
                         "PRAGMA application_id=1330791240; PRAGMA user_version=2",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
    Store s(db);
    CHECK(s.schema_version() == 7);
    CHECK_FALSE(s.untaken_decision("s", "1", "approval", "ok?"));
    CHECK(s.get_approval(1).value()["taken_at"] == 2.0);
    CHECK(s.pending_approval("s").value()["id"] == 2);
    CHECK_FALSE(s.get_approval(2).value().contains("taken_at"));
}

TEST_CASE("store: a version 3 outbox gains dead_at and refusals; its failed-for-good rows are dead") {
    std::string dir = testutil::temp_dir("store-v3");
    std::string db = dir + "/orch.db";
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw,
                         "CREATE TABLE outbox(id INTEGER PRIMARY KEY AUTOINCREMENT, sink TEXT NOT NULL, "
                         "payload TEXT NOT NULL, created_at REAL, attempts INTEGER NOT NULL DEFAULT 0, next_at REAL, "
                         "delivered_at REAL, last_error TEXT);"
                         "INSERT INTO outbox(sink,payload,attempts,delivered_at,last_error) "
                         "VALUES('tg','{\"type\":\"error\"}',1,5,'failed: HTTP 400: Bad Request');"
                         "INSERT INTO outbox(sink,payload,attempts,delivered_at) VALUES('tg','{}',1,6);"
                         "INSERT INTO outbox(sink,payload) VALUES('tg','{}');"
                         "PRAGMA application_id=1330791240; PRAGMA user_version=3",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
    {
        Store ro(db, true);  // status on a database no newer host has written yet
        CHECK(ro.outbox_dead(10).empty());
        CHECK(ro.outbox_dead_count() == 0);
    }
    for (int open = 0; open < 2; ++open) {  // the second open finds nothing to do
        Store s(db);
        CHECK(s.schema_version() == 7);
        json dead = s.outbox_dead(10);
        REQUIRE(dead.size() == 1);
        CHECK(dead[0]["id"] == 1);
        CHECK(dead[0]["type"] == "error");
        CHECK(dead[0]["dead_at"] == 5.0);
        CHECK(s.outbox_queue("tg", 10)[0]["refusals"] == 0);
        CHECK(s.outbox_pending() == 1);
    }
}

TEST_CASE("store: commands are taken once") {
    std::string dir = testutil::temp_dir("store");
    Store s(dir + "/orch.db");
    s.push_command("s", "pause", "{}", "cli", 1);
    s.push_command("other", "skip", "{}", "cli", 1);
    auto first = s.take_commands("s", 2);
    REQUIRE(first.size() == 1);
    CHECK(first[0]["command"] == "pause");
    CHECK(s.take_commands("s", 3).empty());
    CHECK(s.take_commands("other", 3).size() == 1);
}

TEST_CASE("store: outbox rows wait for their retry time and are delivered once") {
    std::string dir = testutil::temp_dir("store");
    Store s(dir + "/orch.db");
    long long id = s.enqueue("n8n", R"({"message":"hi"})", 10);
    CHECK(s.due_outbox(10, 10).size() == 1);
    s.mark_failed(id, "HTTP 500", 20);
    CHECK(s.due_outbox(15, 10).empty());
    CHECK(s.due_outbox(20, 10).size() == 1);
    s.mark_delivered(id, 21);
    CHECK(s.due_outbox(100, 10).empty());
    CHECK(s.outbox_pending() == 0);
}

TEST_CASE("store: a read-only open of a missing database says nothing has run") {
    std::string dir = testutil::temp_dir("store");
    CHECK_THROWS_WITH_AS(Store(dir + "/none.db", true), doctest::Contains("nothing has run"), StoreError);
}

TEST_CASE("store: a transaction rolls back as a whole") {
    std::string dir = testutil::temp_dir("store");
    Store s(dir + "/orch.db");
    s.begin();
    s.kv_put("k", "1", 1);
    s.rollback();
    CHECK_FALSE(s.kv_get("k"));
    s.begin();
    s.kv_put("k", "2", 1);
    s.commit();
    CHECK(s.kv_get("k").value() == "2");
}

TEST_CASE("store: update_task changes only the given fields, null clears") {
    std::string dir = testutil::temp_dir("store");
    Store s(dir + "/orch.db");
    s.save_session(json{{"id", "s"}, {"status", "running"}});
    s.save_task("s", json{{"id", "1"}, {"status", "pending"}, {"title", "T"}, {"instruction", "do"}, {"error", "old"}});
    s.update_task("s", "1", json{{"status", "completed"}, {"cost_usd", 0.5}, {"error", nullptr}, {"result", "ok"}});
    auto t = s.load_session("s").value()["tasks"][0];
    CHECK(t["status"] == "completed");
    CHECK(t["title"] == "T");
    CHECK(t["instruction"] == "do");
    CHECK(t["cost_usd"] == 0.5);
    CHECK(t["result"] == "ok");
    CHECK_FALSE(t.contains("error"));
    CHECK_THROWS_WITH_AS(s.update_task("s", "9", json{{"status", "x"}}), doctest::Contains("no task 9"), StoreError);
}

TEST_CASE("store: the session row alone keeps its summary, a full load and a listing leave it out") {
    std::string dir = testutil::temp_dir("store");
    Store s(dir + "/orch.db");
    s.save_session(json{{"id", "s"}, {"status", "running"}, {"summary", {{"counts", {{"total", 1}}}}}});
    s.save_task("s", json{{"id", "1"}, {"status", "pending"}});
    auto row = s.load_session_row("s");
    REQUIRE(row);
    CHECK((*row)["summary"]["counts"]["total"] == 1);
    CHECK_FALSE(row->contains("tasks"));
    auto full = s.load_session("s");
    REQUIRE(full);
    CHECK_FALSE(full->contains("summary"));
    CHECK((*full)["tasks"].size() == 1);
    CHECK_FALSE(s.list_sessions(5).at(0).contains("summary"));
    CHECK_FALSE(s.load_session_row("none"));
}

TEST_CASE("store: session_tasks_json is load_session's tasks, row for row, without a DOM per task") {
    std::string dir = testutil::temp_dir("store-tasks-json");
    Store s(dir + "/orch.db");
    s.save_session(json{{"id", "s"}, {"status", "running"}, {"started_at", 1.0}});
    CHECK(s.session_tasks_json("s") == "[]");
    s.save_task("s", json{{"id", "b"}, {"seq", 2}, {"status", "completed"}, {"title", "quote \" back\\ caf\xC3\xA9"},
                          {"cost_usd", 2.0}, {"started_at", 1796136914.642607}, {"tokens", 12},
                          {"depends_on", {"a"}}, {"note", "x\ny"}});
    s.save_task("s", json{{"id", "a"}, {"seq", 1}, {"status", "pending"}});
    s.save_task("s", json{{"id", "c"}, {"seq", 2}, {"status", "running"}, {"title", "third"}});
    s.update_task("s", "c", json{{"result", "done"}, {"cost_usd", 0.034255}, {"extra", {{"k", nullptr}}}});
    s.save_task("s", json{{"id", "d"}, {"seq", 3}, {"status", "failed"}});
    sqlite3* raw = nullptr;  // rows edited by hand: data not an object, and NULL
    REQUIRE(sqlite3_open((dir + "/orch.db").c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "UPDATE tasks SET data='[1,2]' WHERE id='d'; UPDATE tasks SET data=NULL WHERE id='a'",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
    std::string text = s.session_tasks_json("s");
    json got = json::parse(text);
    json want = s.load_session("s").value()["tasks"];
    CHECK(got == want);
    CHECK(got.dump() == want.dump());  // the same numbers too (2.0 stays a float)
    REQUIRE(got.size() == 4);
    CHECK(got[0]["id"] == "a");
    CHECK(got[3]["data"] == json::array({1, 2}));
    CHECK(s.session_tasks_json("s", "{\"tasks\": ", "}\n") == "{\"tasks\": " + text + "}\n");  // framed
}

TEST_CASE("store: session_tasks_json escapes a byte to escape at any place of a text of any length") {
    // the check for bytes to escape goes 16 (or 8) bytes at a time, the last
    // block overlapping the one before: each length 1..40 with the byte at
    // each place, and the plain text of that length
    std::string dir = testutil::temp_dir("store-tasks-escape");
    Store s(dir + "/orch.db");
    s.save_session(json{{"id", "s"}, {"status", "running"}, {"started_at", 1.0}});
    int seq = 0;
    for (size_t n = 1; n <= 40; ++n) {
        s.save_task("s", json{{"id", "p" + std::to_string(n)}, {"seq", ++seq}, {"status", std::string(n, 'a')}});
        for (size_t at = 0; at < n; ++at)
            for (const char* bad : {"\"", "\\", "\n", "\x7f", "\xC3\xA9"}) {
                std::string t(n, 'a');
                t.replace(at, 1, bad);
                s.save_task("s", json{{"id", "t" + std::to_string(seq)}, {"seq", ++seq}, {"status", "pending"}, {"title", t}});
            }
    }
    std::string text = s.session_tasks_json("s");
    json want = s.load_session("s").value()["tasks"];
    CHECK(json::parse(text) == want);  // an unescaped '"', '\\' or newline would not parse
}

TEST_CASE("store: write_session_tasks_json hands the text over in pieces of 64 KB, the same bytes") {
    std::string dir = testutil::temp_dir("store-tasks-pieces");
    Store s(dir + "/orch.db");
    s.save_session(json{{"id", "s"}, {"status", "running"}, {"started_at", 1.0}});
    for (int k = 1; k <= 300; ++k)  // ~100 KB of rows, one column of 70 KB (longer than a piece)
        s.save_task("s", json{{"id", "t" + std::to_string(k)}, {"seq", k}, {"status", "completed"},
                              {"title", k == 150 ? std::string(70000, 'x') : "task " + std::to_string(k)},
                              {"cost_usd", 0.01 * k}, {"started_at", 1796136914.5 + k}, {"note", "n\"q"}});
    std::vector<std::string> pieces;
    s.write_session_tasks_json("s", "{\"tasks\": ", "}\n", [&](std::string_view p) { pieces.emplace_back(p); });
    std::string joined;
    for (auto& p : pieces) {
        CHECK(!p.empty());
        CHECK(p.size() <= 70000);
        joined += p;
    }
    CHECK(pieces.size() >= 3);
    CHECK(joined == s.session_tasks_json("s", "{\"tasks\": ", "}\n"));
    json got = json::parse(joined)["tasks"];
    CHECK(got == s.load_session("s").value()["tasks"]);
    CHECK(got.dump() == s.load_session("s").value()["tasks"].dump());
}

TEST_CASE("store: a version 4 database gains tasks_by_seq; a session's tasks come in order without a sort") {
    std::string dir = testutil::temp_dir("store-v4");
    std::string db = dir + "/orch.db";
    {
        Store s(db);
        s.save_session(json{{"id", "s"}, {"status", "running"}, {"started_at", 1.0}});
        for (int k : {3, 1, 2}) s.save_task("s", json{{"id", "t" + std::to_string(k)}, {"seq", k}, {"status", "pending"}});
    }
    std::string before;
    {
        Store s(db);
        before = s.session_tasks_json("s");
    }
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "DROP INDEX tasks_by_seq; PRAGMA user_version=4", nullptr, nullptr, nullptr) == SQLITE_OK);
    // the query plan of the store's own statement: sorted in a temp b-tree, or by the index
    auto plan = [&] {
        sqlite3_stmt* q = nullptr;
        std::string sql = std::string("EXPLAIN QUERY PLAN ") + store_sql::k_session_tasks_in_order, out;
        REQUIRE(sqlite3_prepare_v2(raw, sql.c_str(), -1, &q, nullptr) == SQLITE_OK);
        while (sqlite3_step(q) == SQLITE_ROW) out += std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, 3))) + "\n";
        sqlite3_finalize(q);
        return out;
    };
    CHECK(plan().find("TEMP B-TREE") != std::string::npos);
    {
        Store ro(db, true);  // status before any writer migrated: the same tasks, sorted
        CHECK(ro.session_tasks_json("s") == before);
    }
    {
        Store s(db);
        CHECK(s.schema_version() == 7);
        CHECK(s.session_tasks_json("s") == before);
        json tasks = s.load_session("s").value()["tasks"];
        REQUIRE(tasks.size() == 3);
        CHECK(tasks[0]["id"] == "t1");
        CHECK(tasks[2]["id"] == "t3");
    }
    sqlite3_close(raw);  // a fresh connection reads the new schema
    REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
    std::string after = plan();
    CHECK(after.find("tasks_by_seq") != std::string::npos);
    CHECK(after.find("TEMP B-TREE") == std::string::npos);
    sqlite3_close(raw);
}
