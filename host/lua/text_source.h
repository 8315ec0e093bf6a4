// A text a binding hands to Lua without building it (orch.session_tasks_json:
// 8 MB for 10,000 tasks): a userdata that writes itself to a sink in pieces.
// As the `out` of an answer Vm::call prints (on_text) it goes to the sink as
// it is made, never held whole; tostring() gives the whole string.
#pragma once
#include <functional>
#include <lua.hpp>
#include <string_view>

namespace orch {

using TextSink = std::function<void(std::string_view)>;
using TextWriter = std::function<void(const TextSink&)>;

void push_text_source(lua_State* L, TextWriter write);
// the writer of the text source at idx; nullptr when the value is not one
const TextWriter* to_text_source(lua_State* L, int idx);

}  // namespace orch
