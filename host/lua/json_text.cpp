// Lua values as JSON text without the DOM (json_text.h). The rules are
// lua/value.cpp's convert, kept in step by tests/host/json_text_test.cpp, which
// compares the two on every shape: arrays by the same test, integers below
// 2^53 as integers, other numbers by nlohmann's own to_chars, strings escaped
// as nlohmann's serializer escapes them (ensure_ascii off), with any byte that
// is not well-formed UTF-8 left to to_json (whose dump refuses it).
#include "lua/json_text.h"

#include "services/json_depth.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string_view>

namespace orch {

namespace {

struct Writer {
    lua_State* L;
    std::vector<const void*> seen;  // the tables being written (a cycle is to_json's to name)
};

// the length of the well-formed UTF-8 sequence at s[i] (a lead byte >= 0x80), 0 when there is none
size_t utf8_len(std::string_view s, size_t i) {
    auto at = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
    auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) { return at(k) >= lo && at(k) <= hi; };
    unsigned c = at(0);
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
    if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
    if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
    return 0;
}

bool put_string(std::string_view s, std::string& out) {
    static const char* hex = "0123456789abcdef";
    out.push_back('"');
    size_t run = 0;  // start of the bytes copied as they are
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            size_t n = utf8_len(s, i);
            if (n == 0) return false;
            i += n;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') {
            ++i;
            continue;
        }
        out.append(s.data() + run, i - run);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            out += "\\u00";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
        run = ++i;
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
    return true;
}

bool put_number(double d, std::string& out) {
    if (std::isnan(d) || std::isinf(d)) return false;
    char buf[64];
    char* end;
    if (d == std::floor(d) && std::fabs(d) < 9.007199254740992e15)
        end = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(d)).ptr;
    else
        end = nlohmann::detail::to_chars(buf, buf + sizeof buf, d);
    out.append(buf, static_cast<size_t>(end - buf));
    return true;
}

bool put_value(Writer& w, int idx, std::string& out);

// the table at idx's string keys, sorted as std::map sorts them -> false when one is not a string
bool sorted_keys(lua_State* L, int idx, std::vector<std::string_view>& keys) {
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            return false;
        }
        size_t len;
        const char* k = lua_tolstring(L, -1, &len);  // the table keeps the string alive
        keys.emplace_back(k, len);
    }
    std::sort(keys.begin(), keys.end());
    return true;
}

// whether the table at idx is written as a list (value.cpp's convert_table rule); n: its length
bool is_list(lua_State* L, int idx, size_t& n) {
    bool marked = false;
    if (lua_getmetatable(L, idx)) {
        luaL_getmetatable(L, "orch.json.array");
        marked = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    n = lua_objlen(L, idx);
    if (marked) return true;
    size_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER) {
            lua_pop(L, 1);
            return false;
        }
        ++count;
    }
    return count > 0 && count == n;
}

bool put_table(Writer& w, int idx, std::string& out) {
    lua_State* L = w.L;
    const void* p = lua_topointer(L, idx);
    if (w.seen.size() >= static_cast<size_t>(k_max_json_depth) || !lua_checkstack(L, 4) ||
        std::find(w.seen.begin(), w.seen.end(), p) != w.seen.end())
        return false;
    w.seen.push_back(p);
    size_t n = 0;
    bool ok = true;
    if (is_list(L, idx, n)) {
        out.push_back('[');
        for (size_t i = 1; i <= n && ok; ++i) {
            if (i > 1) out.push_back(',');
            lua_rawgeti(L, idx, static_cast<int>(i));
            ok = put_value(w, lua_gettop(L), out);
            lua_pop(L, 1);
        }
        out.push_back(']');
    } else {
        std::vector<std::string_view> keys;
        ok = sorted_keys(L, idx, keys);
        out.push_back('{');
        for (size_t i = 0; i < keys.size() && ok; ++i) {
            if (i > 0) out.push_back(',');
            if (!put_string(keys[i], out)) {
                ok = false;
                break;
            }
            out.push_back(':');
            lua_pushlstring(L, keys[i].data(), keys[i].size());
            lua_rawget(L, idx);
            ok = put_value(w, lua_gettop(L), out);
            lua_pop(L, 1);
        }
        out.push_back('}');
    }
    w.seen.pop_back();
    return ok;
}

bool put_value(Writer& w, int idx, std::string& out) {
    lua_State* L = w.L;
    switch (lua_type(L, idx)) {
    case LUA_TNIL: out += "null"; return true;  // a list's hole, as convert gives it
    case LUA_TBOOLEAN: out += lua_toboolean(L, idx) ? "true" : "false"; return true;
    case LUA_TNUMBER: return put_number(lua_tonumber(L, idx), out);
    case LUA_TSTRING: {
        size_t len;
        const char* s = lua_tolstring(L, idx, &len);
        return put_string(std::string_view(s, len), out);
    }
    case LUA_TTABLE: return put_table(w, idx, out);
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == nullptr) {
            out += "null";
            return true;
        }
        return false;
    default: return false;
    }
}

}  // namespace

bool json_text(lua_State* L, int idx, std::string& out) {
    if (idx < 0) idx = lua_gettop(L) + idx + 1;
    Writer w{L, {}};
    return put_value(w, idx, out);
}

bool json_string_text(std::string_view s, std::string& out) { return put_string(s, out); }

bool json_members(lua_State* L, int idx, std::vector<std::pair<std::string, std::string>>& out) {
    if (idx < 0) idx = lua_gettop(L) + idx + 1;
    if (lua_type(L, idx) != LUA_TTABLE) return false;
    std::vector<std::string_view> keys;
    if (!sorted_keys(L, idx, keys)) return false;
    Writer w{L, {lua_topointer(L, idx)}};
    out.clear();
    out.reserve(keys.size());
    for (auto k : keys) {
        std::string text;
        if (!put_string(k, text)) return false;
        text.push_back(':');
        lua_pushlstring(L, k.data(), k.size());
        lua_rawget(L, idx);
        bool ok = put_value(w, lua_gettop(L), text);
        lua_pop(L, 1);
        if (!ok) return false;
        out.emplace_back(std::string(k), std::move(text));
    }
    return true;
}

}  // namespace orch
