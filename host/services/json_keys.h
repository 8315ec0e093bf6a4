// Duplicate keys in JSON text. nlohmann (RFC 8259 leaves it open) keeps the
// last of two equal keys in an object, so a task file holding
// "dependencies" twice would silently lose the first list: the task files
// are checked for them before their tasks are read. Lua-free.
#pragma once
#include <string>
#include <string_view>

namespace orch {

struct DuplicateKey {
    std::string key;      // as written between its quotes (escapes not decoded)
    std::string pointer;  // RFC 6901 pointer of the member ("/tasks/1/dependencies")
    int line = 0, column = 0;  // where the second one starts, from 1
};

// The first key seen twice in one object of text, which must be JSON that
// parses (it is not checked again). false when every object's keys are unique.
bool json_duplicate_key(std::string_view text, DuplicateKey& out);

}  // namespace orch
