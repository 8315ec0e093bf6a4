// Why a JSON text did not parse, in words an answer may carry: the parser's
// reason and where (line and column), never a piece of the text (a request
// body may hold a secret). Lua-free.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace orch {

// The reason json::parse(text) threw e: "parse error at line 1, column 9:
// syntax error while parsing value - invalid literal", or for a number
// beyond a double (1e400, which the parser reads and then refuses, saying
// no line) "number out of range at line 1, column 25" (where it starts).
std::string json_error_reason(std::string_view text, const nlohmann::json::exception& e);

// The library's message of one of its exceptions without its tag
// ("[json.exception.parse_error.101] "): what orch.json.decode says of a file
std::string json_message(const std::string& what);

}  // namespace orch
