// The one converter between Lua values and JSON (style.md, "Values that
// cross"). Arrays decode with a marker metatable so they re-encode as arrays;
// null inside arrays is orch.json.null, null object members are dropped.
#pragma once
#include <lua.hpp>
#include <nlohmann/json_fwd.hpp>
#include <stdexcept>
#include <string>

namespace orch {

class ConvertError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

void push_json(lua_State* L, const nlohmann::json& j);
// Converts the value at idx; `what` names it in errors ("value.a.b: ...").
nlohmann::json to_json(lua_State* L, int idx, const std::string& what);
void install_json_support(lua_State* L);  // registry metatables; call once
void register_json_api(lua_State* L);     // orch.json.{encode,decode,null,array}; orch on top

}  // namespace orch
