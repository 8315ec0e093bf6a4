// A double written as JSON text the way nlohmann's dump writes one that
// decodes to the same value (a whole number gets ".0", a non-finite one is
// null), for the store's own JSON writers (Store::session_tasks_json). Lua-free.
#pragma once
#include <cstddef>
#include <string>

namespace orch {

// Appends d: the shortest text that reads back as d (std::to_chars), with
// ".0" when that text has neither '.' nor an exponent; "null" when not
// finite. Timestamps and costs (at most 6 decimals, below 2^33) take a
// fast path with the same text.
void append_json_double(std::string& out, double d);

// The same text written at buf, which has room for k_json_double_max
// bytes; returns its length.
inline constexpr size_t k_json_double_max = 40;
size_t json_double_text(char* buf, double d);

}  // namespace orch
