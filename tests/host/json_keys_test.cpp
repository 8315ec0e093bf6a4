// json_duplicate_key: the first key seen twice in one object, with its
// member's pointer and where the second one starts.
#include "services/json_keys.h"

#include <doctest/doctest.h>
#include <string>

using namespace orch;

TEST_CASE("json_duplicate_key finds a key twice in one object, naming its pointer, line and column") {
    DuplicateKey d;
    CHECK(json_duplicate_key(R"({"a": 1, "a": 2})", d));
    CHECK(d.key == "a");
    CHECK(d.pointer == "/a");
    CHECK(d.line == 1);
    CHECK(d.column == 10);
    std::string text = "{\"tasks\": [{\"id\": \"a\"},\n  {\"id\": \"b\", \"deps\": [1], \"deps\": []}]}";
    CHECK(json_duplicate_key(text, d));
    CHECK(d.pointer == "/tasks/1/deps");
    CHECK(d.line == 2);
    CHECK(d.column == 28);
    // RFC 6901 escapes in the pointer; escapes inside a key are compared as written
    CHECK(json_duplicate_key(R"({"x/y": {"m~n": {"k": 1, "k": 2}}})", d));
    CHECK(d.pointer == "/x~1y/m~0n/k");
    CHECK(json_duplicate_key(R"([[0, {"\"q": 1, "\"q": 2}]])", d));
    CHECK(d.pointer == "/0/1/\\\"q");
}

TEST_CASE("json_duplicate_key: equal keys in different objects, in strings or as values are no duplicates") {
    DuplicateKey d;
    CHECK_FALSE(json_duplicate_key(R"({"a": {"a": 1}, "b": {"a": 2}})", d));
    CHECK_FALSE(json_duplicate_key(R"([{"id": 1}, {"id": 2}])", d));
    CHECK_FALSE(json_duplicate_key(R"({"a": "a", "b": "{\"a\": 1, \"a\": 2}", "c": ["a", "a"]})", d));
    CHECK_FALSE(json_duplicate_key(R"({"a": "x\\", "b": 1})", d));
    CHECK_FALSE(json_duplicate_key("", d));
    CHECK_FALSE(json_duplicate_key("[]", d));
}
