// The nesting bound for JSON that enters the host from outside (request
// bodies, agent stream lines, sink replies, orch.json.decode). Converting
// JSON to Lua and back, and nlohmann's dump and copy, recurse once per level:
// text nested deeper than this is refused before it is parsed, so no input
// can overflow a stack on any thread. Lua tables deeper than this are refused
// when converted to JSON (host/lua/value.cpp). Lua-free.
#pragma once
#include <string_view>

namespace orch {

constexpr int k_max_json_depth = 256;

// True when text has arrays or objects nested deeper than k_max_json_depth
// (strings are skipped; linear, no recursion; stops at the first excess).
bool json_too_deep(std::string_view text);

}  // namespace orch
