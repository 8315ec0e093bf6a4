// parse_yaml: libyaml into the neutral tree, the core schema, lines, and the
// limits that keep hostile input from exhausting memory.
#include "services/yaml_doc.h"

#include <doctest/doctest.h>
#include <string>

using namespace orch;
using Kind = YamlNode::Kind;

namespace {

YamlNode ok(const std::string& text, YamlLimits lim = {}) {
    YamlNode n;
    YamlError e;
    bool good = parse_yaml(text, lim, n, e);
    INFO(e.message);
    REQUIRE(good);
    return n;
}

YamlError bad(const std::string& text, YamlLimits lim = {}) {
    YamlNode n;
    YamlError e;
    CHECK_FALSE(parse_yaml(text, lim, n, e));
    CHECK(n.kind == Kind::null);
    return e;
}

const YamlNode& at(const YamlNode& m, const std::string& key) {
    for (size_t i = 0; i < m.keys.size(); ++i)
        if (m.keys[i] == key) return m.items[i];
    FAIL("no key " << key);
    return m;
}

}  // namespace

TEST_CASE("parse_yaml reads a day file with lines for keys and items") {
    YamlNode d = ok("date: 2026-12-01\nmax_cost_usd: 50.00\n\ntasks:\n  - id: task-1\n    name: \"A\"\n"
                    "    description: |\n      two\n      lines\n    depends_on: [task-0]\n");
    REQUIRE(d.kind == Kind::mapping);
    CHECK(at(d, "date").kind == Kind::string);
    CHECK(at(d, "date").text == "2026-12-01");
    CHECK(at(d, "max_cost_usd").number == 50.0);
    const YamlNode& tasks = at(d, "tasks");
    CHECK(tasks.key_line == 4);
    REQUIRE(tasks.items.size() == 1);
    const YamlNode& t = tasks.items[0];
    CHECK(t.line == 5);
    CHECK(at(t, "name").key_line == 6);
    CHECK(at(t, "description").text == "two\nlines\n");
    CHECK(at(t, "depends_on").kind == Kind::sequence);
    CHECK(at(t, "depends_on").items[0].text == "task-0");
    CHECK(at(t, "depends_on").key_line == 10);
}

TEST_CASE("parse_yaml resolves scalars by the core schema") {
    YamlNode d = ok("a: ~\nb:\nc: true\nd: False\ne: yes\nf: 0x1F\ng: -1.5e2\nh: '12'\ni: .inf\nj: !!str 7\n"
                    "k: 1.2.3\nl: 0o17\n");
    CHECK(at(d, "a").kind == Kind::null);
    CHECK(at(d, "b").kind == Kind::null);
    CHECK((at(d, "c").kind == Kind::boolean && at(d, "c").boolean));
    CHECK((at(d, "d").kind == Kind::boolean && !at(d, "d").boolean));
    CHECK(at(d, "e").text == "yes");
    CHECK(at(d, "f").number == 31);
    CHECK(at(d, "g").number == -150);
    CHECK(at(d, "h").kind == Kind::string);
    CHECK(at(d, "i").number > 1e308);
    CHECK(at(d, "j").text == "7");
    CHECK(at(d, "k").text == "1.2.3");
    CHECK(at(d, "l").number == 15);
    CHECK(ok("").kind == Kind::null);
}

TEST_CASE("parse_yaml names line and column of syntax errors, duplicate keys and bad keys") {
    YamlError e = bad("tasks:\n  - id: 1\n   name: x\n");
    CHECK(e.code == "syntax");
    CHECK(e.line == 3);
    CHECK(e.message.rfind("line 3, column ", 0) == 0);
    e = bad("a: 1\nb: 2\na: 3\n");
    CHECK(e.code == "duplicate_key");
    CHECK(e.message == "line 3, column 1: duplicate key \"a\" (first at line 1)");
    e = bad("? [a, b]\n: 1\n");
    CHECK(e.code == "bad_key");
    e = bad("a: !custom x\n");
    CHECK(e.code == "bad_tag");
    e = bad("a: !!int x\n");
    CHECK(e.code == "bad_tag");
    e = bad("a: 1\n---\nb: 2\n");
    CHECK(e.code == "documents");
    CHECK(e.line == 2);
    e = bad("a: \xff\n");
    CHECK(e.code == "syntax");
    CHECK(e.line == 1);
    // bad UTF-8 is found by libyaml's reader, which gives only an offset:
    // its line and column, and the byte
    e = bad("tasks:\n  - id: a\n    name: \"B\xff\"\n");
    CHECK(e.code == "syntax");
    CHECK(e.line == 3);
    CHECK(e.message == "line 3, column 13: invalid leading UTF-8 octet (byte 0xFF)");
    e = bad("\xfe: 1\n");
    CHECK(e.line == 1);
    CHECK(e.message.rfind("line 1, column 1: ", 0) == 0);
}

TEST_CASE("parse_yaml refuses a billion laughs, deep nesting and oversized input") {
    std::string bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
    char prev = 'a';
    for (char c = 'b'; c <= 'i'; ++c, ++prev) {
        bomb += std::string(1, c) + ": &" + c + " [";
        for (int i = 0; i < 9; ++i) bomb += std::string(i ? "," : "") + "*" + prev;
        bomb += "]\n";
    }
    YamlError e = bad(bomb);
    CHECK(e.code == "aliases");
    CHECK(e.message.find("billion laughs") != std::string::npos);
    YamlLimits few;
    few.max_aliases = 2;
    e = bad("a: &x 1\nb: *x\nc: *x\nd: *x\n", few);
    CHECK(e.code == "aliases");
    CHECK(e.line == 4);
    YamlNode d = ok("a: &x {k: v}\nb: *x\n");
    CHECK(at(at(d, "b"), "k").text == "v");

    std::string deep(100, '[');
    e = bad(deep + std::string(100, ']'));
    CHECK(e.code == "too_deep");
    CHECK(e.message == "line 1, column 65: nested deeper than 64 levels");
    YamlLimits tiny;
    tiny.max_bytes = 10;
    e = bad("a: 12345678901\n", tiny);
    CHECK(e.code == "too_large");
    CHECK(e.message == "15 bytes is over the limit of 10 bytes");
}
