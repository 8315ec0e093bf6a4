// A Lua table straight to JSON text, for the writes made on every state
// change (the session row): the text to_json(L, idx) then dump() would give,
// byte for byte, without nlohmann's DOM (a std::map per object, a node and a
// malloc per value). Only plain shapes take this path: objects of string keys
// (written in std::map's key order), lists (marked by orch.json.array, or keys
// 1..n), strings, numbers, booleans and orch.json.null. Anything else (a
// number key in an object, NaN, a cycle, a function, nesting past the limit)
// makes it return false, and the caller converts with to_json, whose error
// names the field.
#pragma once
#include <lua.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orch {

// The members of the table at idx in key order, each as its key and its text
// in an object ("\"key\":value") -> false (out unspecified) when to_json must
// convert it instead.
bool json_members(lua_State* L, int idx, std::vector<std::pair<std::string, std::string>>& out);

// The JSON text of the value at idx, appended to out -> false as json_members.
bool json_text(lua_State* L, int idx, std::string& out);

// s as a JSON string, appended to out -> false when s is not UTF-8
bool json_string_text(std::string_view s, std::string& out);

}  // namespace orch
