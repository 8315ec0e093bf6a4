// Decisions from people: orch.await_approval waits for approve / skip / pause
// / answer from whichever comes first: the terminal, another process
// (`orch-host approve`, writing the approvals table), a webhook or Telegram
// handler (orch.resolve_approval), or an answer file. The first resolver wins
// exactly once: the row moves pending -> resolved in one UPDATE.
// A decision given while no host waited (it had died) is handed to the next
// request for the same session, task, kind and prompt, without waiting.
// The same poll takes the commands of the sessions api_command.cpp watches
// and dispatches each to orch.on("command", fn) handlers.
#include "lua/internal.h"
#include "lua/value.h"

#include "services/file_read.h"
#include "services/journal.h"
#include "services/store.h"

#include <map>
#include <nlohmann/json.hpp>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace orch {

using json = nlohmann::json;

namespace {

constexpr size_t k_answer_limit = 1u << 20;  // an answer is a few lines

struct Waiting {
    int task_id;
    std::string kind;
    std::string prompt;
    std::string answer_file;
    TimerId timeout_timer = 0;
    bool terminal = false;
};

struct Control {
    std::map<long long, Waiting> waiting;  // approval id -> waiter
    TimerId poll_timer = 0;
    bool stdin_watched = false;
    bool stdin_closed = false;
    std::string stdin_buf;
};

Control& control() {
    static Control c;
    return c;
}

void complete(VmState& vm, long long approval_id, const json& decision) {
    Control& c = control();
    auto it = c.waiting.find(approval_id);
    if (it == c.waiting.end()) return;
    Waiting w = it->second;
    c.waiting.erase(it);
    try {  // the decision is delivered: a resumed session must not get it again
        vm.app.store->take_approval(approval_id, wall_now());
    } catch (const std::exception& e) {
        if (vm.app.journal) vm.app.journal->log("warn", std::string("approval: ") + e.what());
    }
    if (w.timeout_timer) vm.app.loop.cancel_timer(w.timeout_timer);
    bool any_terminal = false;
    for (auto& [id, other] : c.waiting) any_terminal |= other.terminal;
    if (c.stdin_watched && !any_terminal) {
        vm.app.loop.unwatch(0);
        c.stdin_watched = false;
    }
    resume_task(vm, w.task_id, [&](lua_State* co) {
        push_json(co, decision);
        lua_pushnumber(co, static_cast<double>(approval_id));
        lua_setfield(co, -2, "id");
        return 1;
    });
}

json decision_from_row(const json& row) {
    json d = json::object();
    d["action"] = row.value("action", std::string());
    if (row.contains("text")) d["text"] = row["text"];
    d["by"] = row.value("by", std::string());
    return d;
}

// Resolve in the store; on success, finish the waiter in this process.
bool resolve_here(VmState& vm, long long id, const std::string& action, const std::string& text,
                  const std::string& by) {
    if (!vm.app.store->resolve_approval(id, action, text, by, wall_now())) return false;
    complete(vm, id, json{{"action", action}, {"text", text}, {"by", by}});
    return true;
}

std::string terminal_action(const std::string& kind, std::string line, std::string& text) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) line.pop_back();
    size_t start = line.find_first_not_of(' ');
    line = start == std::string::npos ? "" : line.substr(start);
    std::string low = line;
    for (auto& ch : low) ch = static_cast<char>(tolower(ch));
    if (low == "a" || low == "approve" || low == "y" || low == "yes") return "approve";
    if (low == "s" || low == "skip") return "skip";
    if (low == "p" || low == "pause") return "pause";
    if (kind == "question" && !line.empty()) {
        text = line;
        return "answer";
    }
    return "";
}

void on_stdin(VmState& vm) {
    Control& c = control();
    char buf[4096];
    ssize_t n = read(0, buf, sizeof buf);
    if (n <= 0) {  // EOF: decisions can still come from elsewhere
        vm.app.loop.unwatch(0);
        c.stdin_watched = false;
        c.stdin_closed = true;
        return;
    }
    c.stdin_buf.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = c.stdin_buf.find('\n')) != std::string::npos) {
        std::string line = c.stdin_buf.substr(0, nl);
        c.stdin_buf.erase(0, nl + 1);
        // the oldest terminal waiter gets the line
        for (auto& [id, w] : c.waiting) {
            if (!w.terminal) continue;
            std::string text;
            std::string action = terminal_action(w.kind, line, text);
            if (action.empty()) {
                fprintf(stdout, "%s", w.kind == "question" ? "  type your answer, or s (skip) / p (pause): "
                                                           : "  please type a (approve), s (skip) or p (pause): ");
                fflush(stdout);
            } else {
                resolve_here(vm, id, action, text, "terminal");
            }
            break;
        }
    }
}

void poll(VmState& vm) {
    Control& c = control();
    c.poll_timer = 0;
    App& app = vm.app;
    if (!app.store) return;
    try {
        std::vector<std::pair<long long, json>> resolved;
        for (auto& [id, w] : c.waiting) {
            auto row = app.store->get_approval(id);
            if (row && row->value("status", std::string()) != "pending") resolved.emplace_back(id, *row);
            else if (!w.answer_file.empty()) {
                struct stat st;
                // an empty file is still being written; a FIFO or a directory is refused
                if (stat(w.answer_file.c_str(), &st) == 0 && (st.st_size > 0 || !S_ISREG(st.st_mode))) {
                    std::string text;
                    ReadError err;
                    if (!read_file_limited(w.answer_file, k_answer_limit, text, err)) {
                        // set aside, so the next poll does not refuse it again
                        std::string refused =
                            w.answer_file + ".refused-" + std::to_string(static_cast<long long>(wall_now()));
                        rename(w.answer_file.c_str(), refused.c_str());
                        if (app.journal)
                            app.journal->log("warn", "answer file refused: " + err.message + " (moved to " + refused + ")");
                    } else if (app.store->resolve_approval(id, "answer", text, "answer_file", wall_now())) {
                        // consumed: a later question must not find the same answer
                        std::string used = w.answer_file + ".answered-" + std::to_string(static_cast<long long>(wall_now()));
                        rename(w.answer_file.c_str(), used.c_str());
                        resolved.emplace_back(id, json{{"action", "answer"}, {"text", text}, {"by", "answer_file"}});
                    }
                }
            }
        }
        for (auto& [id, row] : resolved) complete(vm, id, decision_from_row(row));
        // "*" (serve) takes every session's commands; handlers look at cmd.session
        bool all = app.watched_sessions.count("*") > 0;
        for (const std::string& sid : app.watched_sessions) {
            if (all && sid != "*") continue;
            json cmds = app.store->take_commands(sid, wall_now());
            for (auto& cmd : cmds) dispatch_handlers(vm, "command", cmd);
        }
    } catch (const std::exception& e) {
        if (app.journal) app.journal->log("warn", std::string("control poll: ") + e.what());
    }
    schedule_control_poll(vm);
}

}  // namespace

void schedule_control_poll(VmState& vm) {
    Control& c = control();
    if (c.poll_timer || (c.waiting.empty() && vm.app.watched_sessions.empty())) return;
    double every = vm.app.config.value("control", json::object()).value("poll_interval", 0.2);
    c.poll_timer = vm.app.loop.add_timer(every, [&vm] { poll(vm); });
}

namespace {

// What a person is asked. Asked again (a resumed session), it gets at once
// the decision given while no host waited, which no waiter took.
struct Request {
    std::string session, task, kind, prompt;
};

Request read_request(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    return {opt_string(L, 1, "session"), opt_string(L, 1, "task"), opt_string(L, 1, "kind", "approval"),
            opt_string(L, 1, "prompt")};
}

// That decision's row (only for a session's requests), unless a waiter of
// this process has it coming at its next poll. Throws StoreError.
std::optional<json> untaken_decision(App& app, const Request& r) {
    if (r.session.empty()) return std::nullopt;
    auto row = app.store->untaken_decision(r.session, r.task, r.kind, r.prompt);
    if (row && control().waiting.count((*row)["id"].get<long long>())) return std::nullopt;
    return row;
}

// Takes that decision (true, in *given), or opens a pending row (its id in
// *id). Throws StoreError.
bool take_or_open(App& app, const Request& r, std::optional<json>* given, long long* id) {
    *given = untaken_decision(app, r);
    if (*given && app.store->take_approval((**given)["id"].get<long long>(), wall_now())) {
        if (app.journal)
            app.journal->log("info", "task " + r.task + ": " + (*given)->value("action", std::string()) + " by " +
                                         (*given)->value("by", std::string()) + ", given while no host waited");
        return true;
    }
    *id = app.store->open_approval(r.session, r.task, r.kind, r.prompt, wall_now());
    return false;
}

void push_decision(lua_State* L, const json& row) {
    push_json(L, decision_from_row(row));
    lua_pushnumber(L, static_cast<double>(row["id"].get<long long>()));
    lua_setfield(L, -2, "id");
}

// orch.await_approval{session=, task=, kind="approval"|"question", prompt=,
//   timeout=, terminal=, answer_file=} -> {action=, text=, by=, id=} | nil, err  [yields]
int l_await_approval(lua_State* L) {
    Request r = read_request(L);
    double timeout = opt_number(L, 1, "timeout", 0);
    if (timeout < 0) return luaL_error(L, "orch.await_approval: timeout must be >= 0");
    VmState& vm = vm_of(L);
    App& app = vm.app;
    bool terminal = opt_bool(L, 1, "terminal", app.interactive) && !control().stdin_closed;
    std::string answer_file = opt_string(L, 1, "answer_file");
    if (!answer_file.empty()) answer_file = app.path_from_root(answer_file);
    Task& t = require_task(L, "orch.await_approval");
    if (!app.store) return luaL_error(L, "orch.await_approval: the state database is not open");
    long long id = 0;
    std::optional<json> given;
    bool taken = false;
    std::string err;
    try {
        taken = take_or_open(app, r, &given, &id);
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) return luaL_error(L, "orch.await_approval: %s", err.c_str());
    if (taken) {
        push_decision(L, *given);
        return 1;
    }
    Control& c = control();
    Waiting w{t.id, r.kind, r.prompt, answer_file, 0, terminal};
    if (timeout > 0)
        w.timeout_timer = app.loop.add_timer(timeout, [&vm, id] {
            Control& cc = control();
            auto it = cc.waiting.find(id);
            if (it == cc.waiting.end()) return;
            it->second.timeout_timer = 0;
            if (!vm.app.store->resolve_approval(id, "withdraw", "timeout", "timer", wall_now())) return;
            complete(vm, id, json{{"action", "timeout"}, {"by", "timer"}});
        });
    c.waiting.emplace(id, w);
    if (terminal) {  // the question, on the terminal; the answer is read by on_stdin
        std::string shown = r.prompt.empty() ? std::string(r.kind == "question" ? "Your answer: "
                                                                                : "[a]pprove, [s]kip or [p]ause? ")
                                             : r.prompt;
        fprintf(stdout, "%s", shown.c_str());
        fflush(stdout);
    }
    if (terminal && !c.stdin_watched) {
        c.stdin_watched = true;
        app.loop.watch(0, EPOLLIN, [&vm](std::uint32_t) { on_stdin(vm); });
    }
    schedule_control_poll(vm);
    return yield_waiting(L, t, [&vm, id](const std::string& reason) {
        try {
            vm.app.store->resolve_approval(id, "withdraw", reason, "host", wall_now());
        } catch (...) {
        }
        complete(vm, id, json{{"action", "cancelled"}, {"text", reason}, {"by", "host"}});
    });
}

// orch.recorded_decision{session=, task=, kind=, prompt=} -> {action=, text=, by=, id=} | nil
// The decision orch.await_approval with these fields would return at once
// (given while no host waited); nothing is taken.
int l_recorded_decision(lua_State* L) {
    Request r = read_request(L);
    VmState& vm = vm_of(L);
    if (!vm.app.store) return luaL_error(L, "orch.recorded_decision: the state database is not open");
    std::optional<json> row;
    std::string err;
    try {
        row = untaken_decision(vm.app, r);
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) return luaL_error(L, "orch.recorded_decision: %s", err.c_str());
    if (row) push_decision(L, *row);
    else lua_pushnil(L);
    return 1;
}

// orch.resolve_approval(id | session_id, action, text, by) -> true | false
// (false: nothing pending, or someone else resolved it first)
int l_resolve_approval(lua_State* L) {
    VmState& vm = vm_of(L);
    std::string action = luaL_checkstring(L, 2);
    std::string text = luaL_optstring(L, 3, "");
    std::string by = luaL_optstring(L, 4, "lua");
    if (!vm.app.store) return luaL_error(L, "orch.resolve_approval: the state database is not open");
    long long id = 0;
    std::string err;
    bool ok = false;
    try {
        if (lua_type(L, 1) == LUA_TNUMBER) id = static_cast<long long>(lua_tonumber(L, 1));
        else {
            auto row = vm.app.store->pending_approval(luaL_checkstring(L, 1));
            if (row) id = (*row)["id"].get<long long>();
        }
        if (id) ok = resolve_here(vm, id, action, text, by);
    } catch (const std::exception& e) {
        err = e.what();
    }
    if (!err.empty()) return luaL_error(L, "orch.resolve_approval: %s", err.c_str());
    lua_pushboolean(L, ok);
    return 1;
}

// orch.pending_approval([session_id]) -> row | nil
int l_pending_approval(lua_State* L) {
    VmState& vm = vm_of(L);
    if (!vm.app.store) return luaL_error(L, "orch.pending_approval: the state database is not open");
    std::string session = luaL_optstring(L, 1, "");
    std::string err;
    try {
        auto row = vm.app.store->pending_approval(session);
        if (row) push_json(L, *row);
        else lua_pushnil(L);
        return 1;
    } catch (const std::exception& e) {
        err = e.what();
    }
    return luaL_error(L, "orch.pending_approval: %s", err.c_str());
}

const luaL_Reg k_approval_functions[] = {
    {"await_approval", l_await_approval}, {"recorded_decision", l_recorded_decision},
    {"resolve_approval", l_resolve_approval},
    {"pending_approval", l_pending_approval},
    {nullptr, nullptr},
};

}  // namespace

void register_approval_api(lua_State* L) { luaL_register(L, nullptr, k_approval_functions); }

}  // namespace orch
