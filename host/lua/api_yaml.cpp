// orch.yaml.decode: YAML text to Lua values, through services/yaml_doc (libyaml).
#include "lua/internal.h"
#include "services/yaml_doc.h"

namespace orch {

namespace {

// Pushes n; with lines_idx != 0, records lines[tbl] = {key or index = line}
// for every table. Depth is bounded by YamlLimits::max_depth.
void push_node(lua_State* L, const YamlNode& n, int lines_idx) {
    if (!lua_checkstack(L, 6)) luaL_error(L, "orch.yaml.decode: Lua stack exhausted");
    switch (n.kind) {
    case YamlNode::Kind::null: lua_pushlightuserdata(L, nullptr); return;  // orch.json.null
    case YamlNode::Kind::boolean: lua_pushboolean(L, n.boolean); return;
    case YamlNode::Kind::number: lua_pushnumber(L, n.number); return;
    case YamlNode::Kind::string: lua_pushlstring(L, n.text.data(), n.text.size()); return;
    default: break;
    }
    bool seq = n.kind == YamlNode::Kind::sequence;
    int count = static_cast<int>(n.items.size());
    lua_createtable(L, seq ? count : 0, seq ? 0 : count);
    int tbl = lua_gettop(L);
    int where = 0;
    if (lines_idx) {
        lua_createtable(L, seq ? count : 0, seq ? 0 : count);
        where = lua_gettop(L);
        lua_pushvalue(L, tbl);
        lua_pushvalue(L, where);
        lua_rawset(L, lines_idx);  // lines[tbl] = where
    }
    for (int i = 0; i < count; ++i) {
        const YamlNode& c = n.items[static_cast<size_t>(i)];
        if (seq) {
            push_node(L, c, lines_idx);
            lua_rawseti(L, tbl, i + 1);
            if (where) {
                lua_pushinteger(L, c.line);
                lua_rawseti(L, where, i + 1);
            }
        } else {
            const std::string& k = n.keys[static_cast<size_t>(i)];
            lua_pushlstring(L, k.data(), k.size());
            push_node(L, c, lines_idx);
            lua_rawset(L, tbl);
            if (where) {
                lua_pushlstring(L, k.data(), k.size());
                lua_pushinteger(L, c.key_line);
                lua_rawset(L, where);
            }
        }
    }
    if (where) lua_remove(L, where);
    if (seq) {
        luaL_getmetatable(L, "orch.json.array");
        lua_setmetatable(L, tbl);
    }
}

// orch.yaml.decode(text [, {lines=, max_bytes=, max_depth=, max_aliases=}])
//   -> value [, lines] | nil, err{code=, message=, line=, column=}
int l_yaml_decode(lua_State* L) {
    size_t len;
    const char* s = luaL_checklstring(L, 1, &len);
    YamlLimits lim;
    bool want_lines = false;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        want_lines = opt_bool(L, 2, "lines", false);
        double mb = opt_number(L, 2, "max_bytes", static_cast<double>(lim.max_bytes));
        double md = opt_number(L, 2, "max_depth", lim.max_depth);
        double ma = opt_number(L, 2, "max_aliases", lim.max_aliases);
        if (!(mb >= 0 && mb <= 1e12)) luaL_argerror(L, 2, "max_bytes must be 0 to 1e12");
        if (!(md >= 1 && md <= 256)) luaL_argerror(L, 2, "max_depth must be 1 to 256");
        if (!(ma >= 0 && ma <= 100000)) luaL_argerror(L, 2, "max_aliases must be 0 to 100000");
        lim.max_bytes = static_cast<size_t>(mb);
        lim.max_depth = static_cast<int>(md);
        lim.max_aliases = static_cast<int>(ma);
    }
    YamlNode root;
    YamlError err;
    if (!parse_yaml(std::string_view(s, len), lim, root, err)) {
        return_error(L, err.code, err.message);
        if (err.line > 0) {
            lua_pushinteger(L, err.line);
            lua_setfield(L, -2, "line");
            lua_pushinteger(L, err.column);
            lua_setfield(L, -2, "column");
        }
        return 2;
    }
    int lines_idx = 0;
    if (want_lines) {
        lua_newtable(L);
        lines_idx = lua_gettop(L);
    }
    push_node(L, root, lines_idx);
    if (lines_idx) lua_insert(L, lines_idx);  // value, lines
    return want_lines ? 2 : 1;
}

}  // namespace

void register_yaml_api(lua_State* L) {
    lua_newtable(L);
    lua_pushcfunction(L, l_yaml_decode);
    lua_setfield(L, -2, "decode");
    lua_setfield(L, -2, "yaml");
}

}  // namespace orch
