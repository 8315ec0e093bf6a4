// Output: orch.log (daily log), orch.emit (NDJSON event stream + events
// table), orch.print and orch.status_line (the terminal), orch.is_interactive.
#include "lua/internal.h"
#include "lua/json_text.h"
#include "lua/value.h"

#include "services/journal.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sys/ioctl.h>
#include <unistd.h>
#include <vector>

namespace orch {

namespace {

// The live status lines, one per key in the order they came ("" is the
// unkeyed one), and how many of them are on the screen now.
std::vector<std::pair<std::string, std::string>> g_lines;
size_t g_drawn = 0;
constexpr size_t k_max_lines = 16;  // more are summed up in one last line

bool stdout_tty() {
    static int tty = isatty(1);
    return tty;
}

void clear_status() {
    if (g_drawn > 0 && stdout_tty()) {
        fputs("\r\033[K", stdout);
        for (size_t i = 1; i < g_drawn; ++i) fputs("\033[1A\033[K", stdout);
    }
    g_drawn = 0;
}

// one line cut at the terminal width, counting UTF-8 code points
void draw_line(const std::string& text, size_t width) {
    size_t cols = 0, i = 0;
    for (; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
            if (cols + 1 >= width) break;
            ++cols;
        }
    }
    fwrite(text.data(), 1, i, stdout);
}

void draw_status() {
    if (g_lines.empty() || !stdout_tty()) return;
    winsize ws{};
    bool known = ioctl(1, TIOCGWINSZ, &ws) == 0;
    size_t width = known && ws.ws_col > 0 ? ws.ws_col : 100;
    size_t rows = known && ws.ws_row > 1 ? ws.ws_row - 1 : k_max_lines;
    size_t max = std::min(k_max_lines, rows);
    size_t shown = g_lines.size() <= max ? g_lines.size() : max - 1;
    for (size_t k = 0; k < shown; ++k) {
        if (k) fputc('\n', stdout);
        draw_line(g_lines[k].second, width);
    }
    g_drawn = shown;
    if (shown < g_lines.size()) {
        if (shown) fputc('\n', stdout);
        draw_line("… and " + std::to_string(g_lines.size() - shown) + " more", width);
        ++g_drawn;
    }
    fflush(stdout);
}

void set_line(const std::string& key, const char* text) {
    auto it = std::find_if(g_lines.begin(), g_lines.end(), [&key](const auto& l) { return l.first == key; });
    if (!text || !*text) {
        if (it != g_lines.end()) g_lines.erase(it);
    } else if (it != g_lines.end()) {
        it->second = text;
    } else {
        g_lines.emplace_back(key, text);
    }
}

// orch.log(level, message)   level: "debug" | "info" | "warn" | "error"
int l_log(lua_State* L) {
    std::string level = luaL_checkstring(L, 1);
    size_t len;
    const char* msg = luaL_checklstring(L, 2, &len);
    if (level != "debug" && level != "info" && level != "warn" && level != "error")
        return luaL_error(L, "orch.log: level must be debug, info, warn or error (got '%s')", level.c_str());
    App& app = app_of(L);
    if (app.journal) {
        clear_status();
        app.journal->log(level, std::string(msg, len));
        draw_status();
    }
    return 0;
}

// orch.print(text): a line on the terminal (stdout), above the status line
int l_print(lua_State* L) {
    size_t len;
    const char* s = luaL_checklstring(L, 1, &len);
    clear_status();
    fwrite(s, 1, len, stdout);
    fputc('\n', stdout);
    draw_status();
    fflush(stdout);
    return 0;
}

// orch.status_line(text | nil), orch.status_line(key, text | nil): lines
// redrawn in place on a terminal, one per key (one agent's each); nil
// removes the key's line; no-op when stdout is not a terminal
int l_status_line(lua_State* L) {
    bool keyed = lua_gettop(L) >= 2;
    std::string key = keyed ? luaL_checkstring(L, 1) : "";
    int at = keyed ? 2 : 1;
    const char* text = lua_isnoneornil(L, at) ? nullptr : luaL_checkstring(L, at);
    clear_status();
    set_line(key, text);
    draw_status();
    if (g_lines.empty()) fflush(stdout);
    return 0;
}

// orch.is_interactive() -> true when prompts on the terminal are allowed
int l_is_interactive(lua_State* L) {
    lua_pushboolean(L, app_of(L).interactive);
    return 1;
}

// orch.emit(event, fields) : one NDJSON line and an events row; fields.session
// and fields.task name the session and task.
// orch.emit's fields straight to text (lua/json_text): session and task
// taken out (a string as it is, another value as its JSON) -> false when the
// DOM path must take them (a shape json_text refuses, names not UTF-8)
bool emit_as_text(lua_State* L, const std::string& event) {
    std::vector<std::pair<std::string, std::string>> members;
    if (!json_members(L, 2, members)) return false;
    Journal::Quoted quoted;
    if (!json_string_text(event, quoted.name)) return false;
    std::string session, task;
    std::vector<std::pair<std::string, std::string>> rest;
    rest.reserve(members.size());
    for (auto& m : members) {
        std::string* which = m.first == "session" ? &session : m.first == "task" ? &task : nullptr;
        if (!which) {
            rest.push_back(std::move(m));
            continue;
        }
        lua_getfield(L, 2, m.first.c_str());
        if (lua_type(L, -1) == LUA_TSTRING) {
            size_t len;
            const char* v = lua_tolstring(L, -1, &len);
            which->assign(v, len);
        } else {
            which->assign(m.second, m.first.size() + 3, std::string::npos);  // the value's text after "key":
        }
        lua_pop(L, 1);
    }
    if ((!session.empty() && !json_string_text(session, quoted.session)) ||
        (!task.empty() && !json_string_text(task, quoted.task)))
        return false;
    App& app = app_of(L);
    if (!app.journal) luaL_error(L, "orch.emit: no event log (state not opened)");
    std::string err;
    try {
        app.journal->event(event, session, task, rest, quoted, [L](const char* k) -> const char* {
            lua_getfield(L, 2, k);  // the table keeps the string; popped at once
            const char* v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : nullptr;
            lua_pop(L, 1);
            return v;
        });
    } catch (const std::exception& e) {
        err = e.what();
        app.state_error = err;
    }
    if (!err.empty()) luaL_error(L, "orch.emit: %s", err.c_str());
    return true;
}

int l_emit(lua_State* L) {
    std::string event = luaL_checkstring(L, 1);
    if (lua_type(L, 2) == LUA_TTABLE && emit_as_text(L, event)) return 0;
    nlohmann::json data = nlohmann::json::object();
    std::string err;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        try {
            data = to_json(L, 2, "fields");
        } catch (const std::exception& e) {
            err = e.what();
        }
        if (!err.empty()) return luaL_error(L, "orch.emit: %s", err.c_str());
    }
    std::string session, task;
    auto take = [&data](const char* k) {
        std::string v;
        auto it = data.find(k);
        if (it != data.end()) {
            v = it->is_string() ? it->get<std::string>() : it->dump();
            data.erase(it);
        }
        return v;
    };
    session = take("session");
    task = take("task");
    App& app = app_of(L);
    if (!app.journal) return luaL_error(L, "orch.emit: no event log (state not opened)");
    try {
        app.journal->event(event, session, task, data);
    } catch (const std::exception& e) {
        err = e.what();
        app.state_error = err;
    }
    if (!err.empty()) return luaL_error(L, "orch.emit: %s", err.c_str());
    return 0;
}

const luaL_Reg k_log_functions[] = {
    {"log", l_log},   {"print", l_print}, {"status_line", l_status_line}, {"is_interactive", l_is_interactive},
    {"emit", l_emit}, {nullptr, nullptr},
};

}  // namespace

void register_log_api(lua_State* L) { luaL_register(L, nullptr, k_log_functions); }

}  // namespace orch
