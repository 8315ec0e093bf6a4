// The store's schema migrations that add an index: the older database keeps
// its rows, and the store's own statement is answered through the index.
#include "helpers.h"
#include "services/store.h"
#include "services/store_sql.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

using namespace orch;
using json = nlohmann::json;

TEST_CASE("store: a version 6 database gains events_by_task; a task's events come without a scan of every event") {
    std::string dir = testutil::temp_dir("store-v6");
    std::string db = dir + "/orch.db";
    {
        Store s(db);
        for (int k = 1; k <= 5; ++k) {
            s.add_event(k, "s", "t" + std::to_string(k % 2), "e" + std::to_string(k), "{}");
            s.add_event(k, "other", "t1", "x" + std::to_string(k), "{}");
        }
    }
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "DROP INDEX events_by_task; PRAGMA user_version=6", nullptr, nullptr, nullptr) == SQLITE_OK);
    auto plan = [&] {
        sqlite3_stmt* q = nullptr;
        std::string sql = std::string("EXPLAIN QUERY PLAN ") + store_sql::k_task_events, out;
        REQUIRE(sqlite3_prepare_v2(raw, sql.c_str(), -1, &q, nullptr) == SQLITE_OK);
        while (sqlite3_step(q) == SQLITE_ROW) out += std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, 3))) + "\n";
        sqlite3_finalize(q);
        return out;
    };
    CHECK(plan().find("events_by_task") == std::string::npos);
    {
        Store s(db);
        CHECK(s.schema_version() == 7);
        json got = s.recent_events("s", "t1", 2);  // the newest two of task t1 of session s, oldest first
        REQUIRE(got.size() == 2);
        CHECK(got[0]["event"] == "e3");
        CHECK(got[1]["event"] == "e5");
        CHECK(s.recent_events("s", "t0", 10).size() == 2);
        CHECK(s.recent_events("s", "", 100).size() == 5);   // a session's, every task
        CHECK(s.recent_events("", "t1", 100).size() == 8);  // a task id in any session
    }
    sqlite3_close(raw);  // a fresh connection reads the new schema
    REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
    std::string after = plan();
    CHECK(after.find("SEARCH events USING INDEX events_by_task") != std::string::npos);
    CHECK(after.find("SCAN events") == std::string::npos);  // (the outer ORDER BY sorts the few rows found)
    sqlite3_close(raw);
}

TEST_CASE("store: a session's events, also of one kind, are read through events_by_session, not every session's") {
    std::string dir = testutil::temp_dir("store-kind");
    std::string db = dir + "/orch.db";
    Store s(db);
    for (int k = 1; k <= 6; ++k) {
        s.add_event(k, "s", "t" + std::to_string(k), k % 3 == 0 ? "question_asked" : "task_started", "{}");
        s.add_event(k, "other", "t1", "question_asked", "{}");
    }
    json got = s.recent_events("s", "", 10, "question_asked");  // of session s only, oldest first
    REQUIRE(got.size() == 2);
    CHECK(got[0]["task_id"] == "t3");
    CHECK(got[1]["task_id"] == "t6");
    CHECK(s.recent_events("s", "", 4).size() == 4);                      // a session's newest, any kind
    CHECK(s.recent_events("", "", 100, "question_asked").size() == 8);   // every session's
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
    for (const char* sql_text : {store_sql::k_session_events, store_sql::k_session_kind_events}) {
        sqlite3_stmt* q = nullptr;
        std::string sql = std::string("EXPLAIN QUERY PLAN ") + sql_text, plan;
        REQUIRE(sqlite3_prepare_v2(raw, sql.c_str(), -1, &q, nullptr) == SQLITE_OK);
        while (sqlite3_step(q) == SQLITE_ROW) plan += std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, 3))) + "\n";
        sqlite3_finalize(q);
        CHECK(plan.find("USING INDEX events_by_session") != std::string::npos);
        CHECK(plan.find("SCAN events") == std::string::npos);
    }
    sqlite3_close(raw);
}
