// json_error_reason: why a JSON text did not parse, with where, and nothing
// of the text quoted.
#include "services/json_reason.h"

#include <doctest/doctest.h>
#include <string>

using namespace orch;
using json = nlohmann::json;

namespace {

std::string reason_of(const std::string& text) {
    try {
        json j = json::parse(text);
        (void)j;
    } catch (const json::exception& e) {
        return json_error_reason(text, e);
    }
    return "parsed";
}

}  // namespace

TEST_CASE("json_error_reason: a syntax error says where, without the text it last read") {
    CHECK(reason_of(R"({"a": x})") == "parse error at line 1, column 7: syntax error while parsing value - "
                                         "invalid literal");
    std::string cut = reason_of(R"({"secret":"ZQX)");
    CHECK(cut.rfind("parse error at line 1, column ", 0) == 0);
    CHECK(cut.find("ZQX") == std::string::npos);
}

TEST_CASE("json_error_reason: a number beyond a double says so and where it starts") {
    CHECK(reason_of(R"({"max_parallel_agents": 1e400})") == "number out of range at line 1, column 25");
    CHECK(reason_of("{\"a\":\n  [1, -1e999]}") == "number out of range at line 2, column 7");
    CHECK(reason_of(R"({"lines":1e400,"secret":"ZQXMARK"})").find("ZQX") == std::string::npos);
}
