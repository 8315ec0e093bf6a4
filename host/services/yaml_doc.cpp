#include "services/yaml_doc.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <unordered_map>
#include <yaml.h>

namespace orch {

namespace {

const std::string k_tag = "tag:yaml.org,2002:";

struct Fail {
    YamlError err;
};

[[noreturn]] void fail(const char* code, int line, int column, const std::string& what) {
    Fail f;
    f.err.code = code;
    f.err.line = line;
    f.err.column = column;
    f.err.message = line > 0 ? "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + what
                             : what;
    throw f;
}

bool all_of(std::string_view s, const char* set) {
    if (s.empty()) return false;
    for (char c : s)
        if (!std::strchr(set, c)) return false;
    return true;
}

// The core schema's number forms; nullopt-like: false when v is not a number.
bool core_number(std::string_view v, double& out) {
    std::string_view body = v;
    bool neg = false;
    if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
        neg = body[0] == '-';
        body.remove_prefix(1);
    }
    if (body == ".inf" || body == ".Inf" || body == ".INF") {
        out = neg ? -HUGE_VAL : HUGE_VAL;
        return true;
    }
    if (v == ".nan" || v == ".NaN" || v == ".NAN") {
        out = std::nan("");
        return true;
    }
    std::string s(v);
    if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'o')) {
        if (!all_of(v.substr(2), v[1] == 'x' ? "0123456789abcdefABCDEF" : "01234567")) return false;
        out = static_cast<double>(std::strtoull(s.c_str() + 2, nullptr, v[1] == 'x' ? 16 : 8));
        return true;
    }
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    size_t i = 0, n = body.size(), digits = 0;
    while (i < n && body[i] >= '0' && body[i] <= '9') ++i, ++digits;
    if (i < n && body[i] == '.') {
        ++i;
        while (i < n && body[i] >= '0' && body[i] <= '9') ++i, ++digits;
    }
    if (digits == 0) return false;
    if (i < n && (body[i] == 'e' || body[i] == 'E')) {
        ++i;
        if (i < n && (body[i] == '-' || body[i] == '+')) ++i;
        size_t e = i;
        while (i < n && body[i] >= '0' && body[i] <= '9') ++i;
        if (i == e) return false;
    }
    if (i != n) return false;
    out = std::strtod(s.c_str(), nullptr);
    return true;
}

YamlNode scalar_node(const yaml_event_t& ev) {
    const auto& sc = ev.data.scalar;
    std::string_view v(reinterpret_cast<const char*>(sc.value), sc.length);
    std::string tag = sc.tag ? reinterpret_cast<const char*>(sc.tag) : "";
    int line = static_cast<int>(ev.start_mark.line) + 1, col = static_cast<int>(ev.start_mark.column) + 1;
    YamlNode n;
    n.line = line;
    n.column = col;
    bool plain = sc.style == YAML_PLAIN_SCALAR_STYLE && tag.empty();
    std::string want = tag.rfind(k_tag, 0) == 0 ? tag.substr(k_tag.size()) : (tag == "!" ? "str" : tag);
    if (!tag.empty() && want != "str" && want != "int" && want != "float" && want != "bool" && want != "null")
        fail("bad_tag", line, col, "unsupported tag " + tag);
    if ((plain || want == "null") && (v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL")) {
        n.kind = YamlNode::Kind::null;
        return n;
    }
    if (plain || want == "bool") {
        bool t = v == "true" || v == "True" || v == "TRUE", f = v == "false" || v == "False" || v == "FALSE";
        if (t || f) {
            n.kind = YamlNode::Kind::boolean;
            n.boolean = t;
            return n;
        }
    }
    if ((plain || want == "int" || want == "float") && core_number(v, n.number)) {
        n.kind = YamlNode::Kind::number;
        return n;
    }
    if (!plain && want != "str" && !want.empty())
        fail("bad_tag", line, col, "\"" + std::string(v.substr(0, 40)) + "\" is not a valid !!" + want);
    n.kind = YamlNode::Kind::string;
    n.text.assign(v);
    return n;
}

void check_collection_tag(const yaml_char_t* t, const char* want, int line, int col) {
    if (!t) return;
    std::string tag = reinterpret_cast<const char*>(t);
    if (tag != "!" && tag != k_tag + want) fail("bad_tag", line, col, "unsupported tag " + tag);
}

void measure(const YamlNode& n, size_t& count, int depth, int& max_depth) {
    ++count;
    if (depth > max_depth) max_depth = depth;
    for (const auto& c : n.items) measure(c, count, depth + 1, max_depth);
}

struct Anchor {
    YamlNode node;
    size_t nodes = 0;
    int depth = 0;  // 0 for a scalar
};

struct Frame {
    YamlNode node;
    std::string anchor;
    bool has_key = false;
    std::string key;
    int key_line = 0;
    std::unordered_map<std::string, int> seen;  // mapping keys -> their lines
};

class Builder {
public:
    explicit Builder(const YamlLimits& l) : limits_(l) {}

    void open(YamlNode::Kind kind, const yaml_event_t& ev, const yaml_char_t* anchor) {
        int line = static_cast<int>(ev.start_mark.line) + 1, col = static_cast<int>(ev.start_mark.column) + 1;
        if (static_cast<int>(stack_.size()) >= limits_.max_depth)
            fail("too_deep", line, col, "nested deeper than " + std::to_string(limits_.max_depth) + " levels");
        Frame f;
        f.node.kind = kind;
        f.node.line = line;
        f.node.column = col;
        if (anchor) f.anchor = reinterpret_cast<const char*>(anchor);
        stack_.push_back(std::move(f));
    }

    void close() {
        Frame f = std::move(stack_.back());
        stack_.pop_back();
        if (f.has_key) fail("syntax", f.node.line, f.node.column, "mapping key without a value");
        remember(f.anchor, f.node);
        place(std::move(f.node));
    }

    void scalar(const yaml_event_t& ev) {
        YamlNode n = scalar_node(ev);
        if (ev.data.scalar.anchor) remember(reinterpret_cast<const char*>(ev.data.scalar.anchor), n);
        if (!stack_.empty() && stack_.back().node.kind == YamlNode::Kind::mapping && !stack_.back().has_key) {
            std::string key(reinterpret_cast<const char*>(ev.data.scalar.value), ev.data.scalar.length);
            return set_key(std::move(key), n.line, n.column);
        }
        place(std::move(n));
    }

    void alias(const yaml_event_t& ev) {
        int line = static_cast<int>(ev.start_mark.line) + 1, col = static_cast<int>(ev.start_mark.column) + 1;
        std::string name = reinterpret_cast<const char*>(ev.data.alias.anchor);
        auto it = anchors_.find(name);
        if (it == anchors_.end()) fail("syntax", line, col, "unknown anchor *" + name);
        if (++aliases_ > limits_.max_aliases)
            fail("aliases", line, col, "more than " + std::to_string(limits_.max_aliases) + " aliases");
        alias_nodes_ += it->second.nodes;
        if (alias_nodes_ > limits_.max_alias_nodes)
            fail("aliases", line, col, "aliases expand to more than " + std::to_string(limits_.max_alias_nodes) +
                 " nodes (a \"billion laughs\" file?)");
        if (static_cast<int>(stack_.size()) + it->second.depth > limits_.max_depth)
            fail("too_deep", line, col, "nested deeper than " + std::to_string(limits_.max_depth) + " levels");
        YamlNode n = it->second.node;
        if (!stack_.empty() && stack_.back().node.kind == YamlNode::Kind::mapping && !stack_.back().has_key) {
            if (n.kind != YamlNode::Kind::string) fail("bad_key", line, col, "a mapping key must be a string");
            return set_key(n.text, line, col);
        }
        n.line = line;
        n.column = col;
        place(std::move(n));
    }

    bool done() const { return done_; }
    YamlNode& root() { return root_; }

private:
    void remember(const std::string& name, const YamlNode& n) {
        if (name.empty()) return;
        Anchor a;
        a.node = n;
        measure(n, a.nodes, 0, a.depth);
        anchors_[name] = std::move(a);
    }

    void set_key(std::string key, int line, int col) {
        Frame& f = stack_.back();
        auto [it, fresh] = f.seen.emplace(key, line);
        if (!fresh)
            fail("duplicate_key", line, col,
                 "duplicate key \"" + key.substr(0, 60) + "\" (first at line " + std::to_string(it->second) + ")");
        f.key = std::move(key);
        f.key_line = line;
        f.has_key = true;
    }

    void place(YamlNode&& n) {
        if (stack_.empty()) {
            root_ = std::move(n);
            done_ = true;
            return;
        }
        Frame& f = stack_.back();
        if (f.node.kind == YamlNode::Kind::sequence) {
            f.node.items.push_back(std::move(n));
            return;
        }
        if (!f.has_key) fail("bad_key", n.line, n.column, "a mapping key must be a scalar");
        n.key_line = f.key_line;
        f.node.keys.push_back(std::move(f.key));
        f.node.items.push_back(std::move(n));
        f.has_key = false;
    }

    const YamlLimits& limits_;
    std::vector<Frame> stack_;
    std::map<std::string, Anchor> anchors_;
    int aliases_ = 0;
    size_t alias_nodes_ = 0;
    YamlNode root_;
    bool done_ = false;
};

struct Parser {
    yaml_parser_t p;
    Parser() { yaml_parser_initialize(&p); }
    ~Parser() { yaml_parser_delete(&p); }
};

struct Event {
    yaml_event_t e{};
    ~Event() { yaml_event_delete(&e); }
};

void run(std::string_view text, const YamlLimits& limits, YamlNode& out) {
    if (text.size() > limits.max_bytes)
        fail("too_large", 0, 0, std::to_string(text.size()) + " bytes is over the limit of " +
             std::to_string(limits.max_bytes) + " bytes");
    Parser parser;
    yaml_parser_set_input_string(&parser.p, reinterpret_cast<const unsigned char*>(text.data()), text.size());
    yaml_parser_set_encoding(&parser.p, YAML_UTF8_ENCODING);
    Builder b(limits);
    int documents = 0;
    for (;;) {
        Event ev;
        if (!yaml_parser_parse(&parser.p, &ev.e)) {
            const auto& m = parser.p.problem_mark;
            std::string what = parser.p.problem ? parser.p.problem : "invalid YAML";
            if (parser.p.context) what += std::string(" (") + parser.p.context + ")";
            if (parser.p.error == YAML_READER_ERROR) {
                // the reader (bad UTF-8, a control character) sets no mark:
                // only the byte's offset, which names the line and column
                size_t at = std::min(parser.p.problem_offset, text.size());
                size_t nl = at == 0 ? std::string_view::npos : text.rfind('\n', at - 1);
                size_t bol = nl == std::string_view::npos ? 0 : nl + 1;
                int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(bol), '\n'));
                char byte[16];
                snprintf(byte, sizeof byte, " (byte 0x%02X)", static_cast<unsigned>(parser.p.problem_value) & 0xFFu);
                if (parser.p.problem_value >= 0) what += byte;
                fail("syntax", line, static_cast<int>(at - bol) + 1, what);
            }
            fail("syntax", static_cast<int>(m.line) + 1, static_cast<int>(m.column) + 1, what);
        }
        int line = static_cast<int>(ev.e.start_mark.line) + 1, col = static_cast<int>(ev.e.start_mark.column) + 1;
        switch (ev.e.type) {
        case YAML_STREAM_END_EVENT:
            if (b.done()) out = std::move(b.root());
            return;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1) fail("documents", line, col, "more than one document (a second '---')");
            break;
        case YAML_MAPPING_START_EVENT:
            check_collection_tag(ev.e.data.mapping_start.tag, "map", line, col);
            b.open(YamlNode::Kind::mapping, ev.e, ev.e.data.mapping_start.anchor);
            break;
        case YAML_SEQUENCE_START_EVENT:
            check_collection_tag(ev.e.data.sequence_start.tag, "seq", line, col);
            b.open(YamlNode::Kind::sequence, ev.e, ev.e.data.sequence_start.anchor);
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT: b.close(); break;
        case YAML_SCALAR_EVENT: b.scalar(ev.e); break;
        case YAML_ALIAS_EVENT: b.alias(ev.e); break;
        default: break;
        }
    }
}

}  // namespace

bool parse_yaml(std::string_view text, const YamlLimits& limits, YamlNode& out, YamlError& err) {
    out = YamlNode{};
    try {
        run(text, limits, out);
        return true;
    } catch (const Fail& f) {
        err = f.err;
    } catch (const std::bad_alloc&) {
        err = YamlError{"too_large", "out of memory reading the YAML"};
    } catch (const std::exception& e) {
        err = YamlError{"syntax", std::string("cannot read the YAML: ") + e.what()};
    }
    out = YamlNode{};
    return false;
}

}  // namespace orch
