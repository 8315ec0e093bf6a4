#include "lua/value.h"

#include "services/json_depth.h"
#include "services/json_reason.h"
#include "services/json_keys.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

namespace orch {

using json = nlohmann::json;

namespace {

const char* k_array_mt = "orch.json.array";

void push_null(lua_State* L) { lua_pushlightuserdata(L, nullptr); }

bool is_null(lua_State* L, int idx) {
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == nullptr;
}

// Where a value sits ("task.fields[2]"): spelt out only for an error
// message, so a conversion builds no strings for the names it passes.
struct Path {
    const Path* up;
    std::string_view key;  // a field name; with index 0
    size_t index;          // an array position, from 1
    std::string str() const {
        if (!up) return std::string(key);
        return up->str() + (index ? "[" + std::to_string(index) + "]" : "." + std::string(key));
    }
};

json convert(lua_State* L, int idx, const Path& what, std::vector<const void*>& seen);

json convert_table(lua_State* L, int idx, const Path& what, std::vector<const void*>& seen) {
    if (seen.size() >= static_cast<size_t>(k_max_json_depth))
        throw ConvertError(what.str() + ": tables nested deeper than " + std::to_string(k_max_json_depth) + " levels");
    const void* p = lua_topointer(L, idx);
    for (const void* s : seen)
        if (s == p) throw ConvertError(what.str() + ": cycle in table");
    seen.push_back(p);
    bool marked_array = false;
    if (lua_getmetatable(L, idx)) {
        luaL_getmetatable(L, k_array_mt);
        marked_array = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    size_t n = lua_objlen(L, idx);
    size_t count = 0;
    bool only_ints = true;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        ++count;
        if (lua_type(L, -2) != LUA_TNUMBER) only_ints = false;
        lua_pop(L, 1);
    }
    json out;
    if (marked_array || (count > 0 && only_ints && count == n)) {
        out = json::array();
        for (size_t i = 1; i <= n; ++i) {
            lua_rawgeti(L, idx, static_cast<int>(i));
            out.push_back(convert(L, lua_gettop(L), Path{&what, {}, i}, seen));
            lua_pop(L, 1);
        }
    } else {
        out = json::object();
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            std::string key;
            if (lua_type(L, -2) == LUA_TSTRING) {
                size_t len;
                const char* s = lua_tolstring(L, -2, &len);
                key.assign(s, len);
            } else if (lua_type(L, -2) == LUA_TNUMBER) {
                lua_Number d = lua_tonumber(L, -2);
                key = d == std::floor(d) ? std::to_string(static_cast<long long>(d)) : std::to_string(d);
            } else {
                throw ConvertError(what.str() + ": table key of type " + luaL_typename(L, -2) + " cannot be JSON");
            }
            json v = convert(L, lua_gettop(L), Path{&what, key, 0}, seen);
            out[std::move(key)] = std::move(v);
            lua_pop(L, 1);
        }
    }
    seen.pop_back();
    return out;
}

json convert(lua_State* L, int idx, const Path& what, std::vector<const void*>& seen) {
    switch (lua_type(L, idx)) {
    case LUA_TNIL: return nullptr;
    case LUA_TBOOLEAN: return static_cast<bool>(lua_toboolean(L, idx));
    case LUA_TNUMBER: {
        lua_Number d = lua_tonumber(L, idx);
        if (std::isnan(d) || std::isinf(d)) throw ConvertError(what.str() + ": NaN or infinite number");
        if (d == std::floor(d) && std::fabs(d) < 9.007199254740992e15) return static_cast<long long>(d);
        return d;
    }
    case LUA_TSTRING: {
        size_t len;
        const char* s = lua_tolstring(L, idx, &len);
        return std::string(s, len);
    }
    case LUA_TTABLE: return convert_table(L, idx, what, seen);
    case LUA_TLIGHTUSERDATA:
        if (is_null(L, idx)) return nullptr;
        [[fallthrough]];
    default:
        throw ConvertError(what.str() + ": cannot convert a " + std::string(luaL_typename(L, idx)) + " to JSON");
    }
}

}  // namespace

json to_json(lua_State* L, int idx, const std::string& what) {
    if (idx < 0) idx = lua_gettop(L) + idx + 1;
    std::vector<const void*> seen;
    return convert(L, idx, Path{nullptr, what, 0}, seen);
}

namespace {

// Input is refused past k_max_json_depth before it is parsed (json_depth.h),
// so the recursion is bounded; deeper values built in C++ become nil rather
// than overflow anything.
// nulls: an object's null members are kept (as orch.json.null); else left out
void push_value(lua_State* L, const json& j, int depth, bool nulls) {
    if (depth > k_max_json_depth + 8 || !lua_checkstack(L, 4)) {
        lua_pushnil(L);
        return;
    }
    switch (j.type()) {
    case json::value_t::null: push_null(L); break;
    case json::value_t::boolean: lua_pushboolean(L, j.get<bool>()); break;
    case json::value_t::number_integer: lua_pushnumber(L, static_cast<lua_Number>(j.get<long long>())); break;
    case json::value_t::number_unsigned: lua_pushnumber(L, static_cast<lua_Number>(j.get<unsigned long long>())); break;
    case json::value_t::number_float: lua_pushnumber(L, j.get<double>()); break;
    case json::value_t::string: {
        const auto& s = j.get_ref<const std::string&>();
        lua_pushlstring(L, s.data(), s.size());
        break;
    }
    case json::value_t::array: {
        lua_createtable(L, static_cast<int>(j.size()), 0);
        int i = 1;
        for (const auto& v : j) {
            push_value(L, v, depth + 1, nulls);
            lua_rawseti(L, -2, i++);
        }
        luaL_getmetatable(L, k_array_mt);
        lua_setmetatable(L, -2);
        break;
    }
    case json::value_t::object: {
        lua_createtable(L, 0, static_cast<int>(j.size()));
        for (const auto& [k, v] : j.items()) {
            if (v.is_null() && !nulls) continue;
            lua_pushlstring(L, k.data(), k.size());
            push_value(L, v, depth + 1, nulls);
            lua_rawset(L, -3);
        }
        break;
    }
    default: lua_pushnil(L);
    }
}

}  // namespace

void push_json(lua_State* L, const json& j) { push_value(L, j, 0, false); }

void install_json_support(lua_State* L) {
    luaL_newmetatable(L, k_array_mt);
    lua_pushstring(L, "array");
    lua_setfield(L, -2, "__jsontype");
    lua_pop(L, 1);
}

namespace {

// orch.json.encode(value [, {pretty=true}]) -> string
int l_json_encode(lua_State* L) {
    luaL_checkany(L, 1);
    bool pretty = false;
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "pretty");
        pretty = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    std::string out, err;
    try {
        out = to_json(L, 1, "value").dump(pretty ? 2 : -1, ' ', false, json::error_handler_t::replace);
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) return luaL_error(L, "orch.json.encode: %s", err.c_str());
    lua_pushlstring(L, out.data(), out.size());
    return 1;
}

// orch.json.decode(text [, {nulls=true, unique_keys=true}]) -> value | nil, err [, dup]
//   unique_keys: a key twice in one object is an error, dup = {key=,
//   pointer= (of the key), line=, column=}
int l_json_decode(lua_State* L) {
    size_t len;
    const char* s = luaL_checklstring(L, 1, &len);
    bool nulls = false, unique = false;
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "nulls");
        nulls = lua_toboolean(L, -1);
        lua_getfield(L, 2, "unique_keys");
        unique = lua_toboolean(L, -1);
        lua_pop(L, 2);
    }
    std::string err;
    if (json_too_deep(std::string_view(s, len))) {
        lua_pushnil(L);
        lua_pushfstring(L, "too deeply nested (more than %d levels)", k_max_json_depth);
        return 2;
    }
    try {
        json j = json::parse(s, s + len);
        DuplicateKey dup;
        if (unique && json_duplicate_key(std::string_view(s, len), dup)) {
            const std::string& ptr = dup.pointer;
            lua_pushnil(L);
            lua_pushfstring(L, "duplicate key \"%s\" at line %d, column %d (%s)", dup.key.c_str(), dup.line,
                            dup.column, ptr.c_str());
            lua_createtable(L, 0, 4);
            lua_pushstring(L, dup.key.c_str());
            lua_setfield(L, -2, "key");
            lua_pushstring(L, ptr.c_str());
            lua_setfield(L, -2, "pointer");
            lua_pushinteger(L, dup.line);
            lua_setfield(L, -2, "line");
            lua_pushinteger(L, dup.column);
            lua_setfield(L, -2, "column");
            return 3;
        }
        push_value(L, j, 0, nulls);
        return 1;
    } catch (const std::exception& e) {
        err = json_message(e.what());  // the reason, without the library's tag
    }
    lua_pushnil(L);
    lua_pushstring(L, err.c_str());
    return 2;
}

// orch.json.array(t) -> t marked to encode as an array (also when empty)
int l_json_array(lua_State* L) {
    if (lua_isnoneornil(L, 1)) lua_newtable(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    luaL_getmetatable(L, k_array_mt);
    lua_setmetatable(L, 1);
    return 1;
}

}  // namespace

void register_json_api(lua_State* L) {
    // orch
    lua_newtable(L);
    lua_pushcfunction(L, l_json_encode);
    lua_setfield(L, -2, "encode");
    lua_pushcfunction(L, l_json_decode);
    lua_setfield(L, -2, "decode");
    lua_pushcfunction(L, l_json_array);
    lua_setfield(L, -2, "array");
    push_null(L);
    lua_setfield(L, -2, "null");
    lua_setfield(L, -2, "json");
}

}  // namespace orch
