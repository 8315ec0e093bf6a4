// A YAML document read into a neutral tree with line numbers, by libyaml.
// Lua-free; host/lua/api_yaml.cpp (orch.yaml.decode) pushes the tree to Lua.
// Scalars resolve by the YAML 1.2 core schema: plain null/~/empty is null,
// true/false (and True, TRUE, ...) are booleans, decimal, 0x and 0o integers
// and decimal, .inf and .nan floats are numbers; everything else, and every
// quoted scalar, is a string (`2026-12-01` stays a string, so do yes/no).
// The tags !!str, !!int, !!float, !!bool and !!null are honoured; any other
// tag is refused. Input that could exhaust memory is refused: more than
// max_bytes, nesting deeper than max_depth, more than max_aliases aliases or
// more than max_alias_nodes nodes copied by them (a "billion laughs" file).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace orch {

struct YamlNode {
    enum class Kind { null, boolean, number, string, sequence, mapping };
    Kind kind = Kind::null;
    bool boolean = false;
    double number = 0;
    std::string text;                // a string's value
    int line = 0, column = 0;        // where the node starts (1-based)
    int key_line = 0;                // a mapping value: the line of its key
    std::vector<YamlNode> items;     // sequence items, or mapping values
    std::vector<std::string> keys;   // mapping keys, parallel to items
};

struct YamlLimits {
    size_t max_bytes = 8u * 1024 * 1024;
    int max_depth = 64;
    int max_aliases = 100;
    size_t max_alias_nodes = 10000;
};

// code: "too_large", "too_deep", "aliases", "syntax" (libyaml's own
// complaint), "duplicate_key", "bad_key", "bad_tag", "documents" (more than
// one). message: "line L, column C: what" when there is a place.
struct YamlError {
    std::string code;
    std::string message;
    int line = 0, column = 0;
};

// Parses one document (an empty input is null). Never throws.
bool parse_yaml(std::string_view text, const YamlLimits& limits, YamlNode& out, YamlError& err);

}  // namespace orch
