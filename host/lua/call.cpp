// Entering Lua: call_protected() for plain calls and resume_task() for tasks
// (coroutines), after Neovim's nlua_pcall and OpenResty's run_thread.
#include "lua/internal.h"

#include "lua/value.h"
#include "services/journal.h"

#include <csignal>

namespace orch {

namespace {

// Runaway protection (after Redis's script timeout hook): a count hook checks
// how long Lua has run since the loop last entered it; past the limit it
// raises, and re-arms on every line so a pcall in the script cannot swallow it.
double g_slice_start = 0;
double g_slice_limit = 30;
lua_State* g_runaway = nullptr;
int g_hook_count = 100000;

double g_signal_seen = 0;

// SIGINT/SIGTERM wait in the loop's signalfd; Lua that keeps the loop from
// reading them for a second is stopped, so a busy script cannot ignore them.
bool stop_signal_stuck() {
    sigset_t pending;
    if (sigpending(&pending) != 0 || !(sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM))) {
        g_signal_seen = 0;
        return false;
    }
    double now = Loop::now();
    if (g_signal_seen == 0) g_signal_seen = now;
    return now - g_signal_seen > 1.0;
}

void runaway_hook(lua_State* L, lua_Debug*) {
    if (g_runaway != L && stop_signal_stuck()) luaL_error(L, "interrupted (SIGINT/SIGTERM) while Lua was busy");
    if (g_runaway != L && Loop::now() - g_slice_start <= g_slice_limit) return;
    g_runaway = L;
    lua_sethook(L, runaway_hook, LUA_MASKCOUNT | LUA_MASKLINE, 1);
    luaL_error(L, "runaway: Lua ran %.0f s without waiting (an endless loop?); stopped", g_slice_limit);
}

void enter_lua(lua_State* L) {
    g_slice_start = Loop::now();
    if (g_runaway) {
        g_runaway = nullptr;
        lua_sethook(L, runaway_hook, LUA_MASKCOUNT, g_hook_count);
    }
}

// Error value to text, whatever its type (nil, table, userdata...).
std::string error_text(VmState& vm, lua_State* L, int idx) {
    if (lua_type(L, idx) == LUA_TSTRING) return lua_tostring(L, idx);
    if (lua_isnil(L, idx)) return "nil (error called with no message)";
    if (luaL_callmeta(L, idx, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
        std::string s = lua_tostring(L, -1);
        lua_pop(L, 1);
        return s;
    }
    if (lua_istable(L, idx)) {
        lua_getfield(L, idx, "message");
        if (lua_type(L, -1) == LUA_TSTRING) {
            std::string s = lua_tostring(L, -1);
            lua_pop(L, 1);
            return s;
        }
        lua_pop(L, 1);
    }
    return std::string("(error object is a ") + luaL_typename(L, idx) + " value)";
}

// "file:line: " of the innermost Lua frame of co (its error value carried
// no position), or ""
std::string error_where(lua_State* co) {
    lua_Debug ar;
    for (int level = 0; lua_getstack(co, level, &ar); ++level) {
        if (lua_getinfo(co, "Sl", &ar) && ar.currentline > 0)
            return std::string(ar.short_src) + ":" + std::to_string(ar.currentline) + ": ";
    }
    return "";
}

int traceback_handler(lua_State* L) {
    VmState& vm = vm_of(L);
    std::string msg = error_text(vm, L, 1);
    luaL_traceback(L, L, msg.c_str(), 1);
    return 1;
}

void finish_task(VmState& vm, Task& t) {
    t.done = true;
    t.waiting = false;
    t.cancel_op = nullptr;
    vm.by_thread.erase(t.co);
    luaL_unref(vm.L, LUA_REGISTRYINDEX, t.ref);
    t.ref = LUA_NOREF;
    std::vector<int> joiners;
    joiners.swap(t.joiners);
    int id = t.id;
    if (t.on_done) {
        auto done = std::move(t.on_done);
        t.on_done = nullptr;
        done(t);
    }
    // Keep the last few results for a late orch.wait; free the rest, so a
    // long-running serve does not grow with every handler call and tick.
    vm.finished.push_back(id);
    while (vm.finished.size() > 256) {
        auto old = vm.tasks.find(vm.finished.front());
        vm.finished.pop_front();
        if (old == vm.tasks.end() || !old->second.joiners.empty()) continue;
        luaL_unref(vm.L, LUA_REGISTRYINDEX, old->second.result_ref);
        vm.tasks.erase(old);
    }
    // Queued: the finishing task's caller goes on first. Each joiner's wakeup
    // carries the outcome itself (the error, or a reference of its own to the
    // result), since the task may be freed before the wakeup runs: a burst of
    // more than 256 short tasks (file events, handlers) finishing meanwhile.
    for (int j : joiners) {
        std::string error = t.error;
        int result = LUA_REFNIL;
        if (error.empty()) {
            lua_rawgeti(vm.L, LUA_REGISTRYINDEX, t.result_ref);
            result = luaL_ref(vm.L, LUA_REGISTRYINDEX);
        }
        bool queued = wake_task(vm, j, [error, result](lua_State* co) {
            if (!error.empty()) return push_failure(co, "task_failed", error);
            lua_pushboolean(co, 1);
            lua_rawgeti(co, LUA_REGISTRYINDEX, result);
            luaL_unref(co, LUA_REGISTRYINDEX, result);
            return 2;
        });
        if (!queued) luaL_unref(vm.L, LUA_REGISTRYINDEX, result);
    }
}

}  // namespace

void install_runaway_hook(lua_State* L, double limit_seconds) {
    g_slice_limit = limit_seconds;
    g_slice_start = Loop::now();
    if (limit_seconds > 0) lua_sethook(L, runaway_hook, LUA_MASKCOUNT, g_hook_count);
    else lua_sethook(L, nullptr, 0, 0);
}

VmState& vm_of(lua_State* L) {
    lua_getfield(L, LUA_REGISTRYINDEX, "orch.vm");
    auto* vm = static_cast<VmState*>(lua_touserdata(L, -1));
    lua_pop(L, 1);
    return *vm;
}

Task* find_task(VmState& vm, int id) {
    auto it = vm.tasks.find(id);
    return it == vm.tasks.end() ? nullptr : &it->second;
}

Task& require_task(lua_State* L, const char* fname) {
    VmState& vm = vm_of(L);
    auto it = vm.by_thread.find(L);
    if (it == vm.by_thread.end()) luaL_error(L, "%s: not inside a task (call it from a workflow, a handler or orch.spawn)", fname);
    return vm.tasks.at(it->second);
}

int yield_waiting(lua_State* L, Task& t, std::function<void(const std::string&)> cancel_op) {
    t.waiting = true;
    t.cancel_op = std::move(cancel_op);
    return lua_yield(L, 0);
}

bool wake_task(VmState& vm, int task_id, std::function<int(lua_State* co)> push) {
    Task* t = find_task(vm, task_id);
    if (!t || t->done || !t->waiting) return false;
    t->waiting = false;
    t->cancel_op = nullptr;  // callers run a copy of it
    vm.app.loop.add_timer(0, [&vm, task_id, push = std::move(push)] { resume_task(vm, task_id, push); });
    return true;
}

int push_cancelled(lua_State* co, const std::string& reason) {
    lua_pushnil(co);
    push_error(co, "cancelled", "cancelled: " + reason);
    lua_pushlstring(co, reason.data(), reason.size());
    lua_setfield(co, -2, "reason");
    return 2;
}

void push_error(lua_State* L, const std::string& code, const std::string& message) {
    lua_createtable(L, 0, 2);
    lua_pushlstring(L, code.data(), code.size());
    lua_setfield(L, -2, "code");
    lua_pushlstring(L, message.data(), message.size());
    lua_setfield(L, -2, "message");
    VmState& vm = vm_of(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, vm.error_mt_ref);
    lua_setmetatable(L, -2);
}

int push_failure(lua_State* L, const std::string& code, const std::string& message) {
    lua_pushboolean(L, 0);
    push_error(L, code, message);
    return 2;
}

int return_error(lua_State* L, const std::string& code, const std::string& message) {
    lua_pushnil(L);
    push_error(L, code, message);
    return 2;
}

bool call_protected(VmState& vm, int nargs, int nresults, const std::string& what, std::string* err) {
    lua_State* L = vm.L;
    int base = lua_gettop(L) - nargs;  // the function's index
    lua_pushcfunction(L, traceback_handler);
    lua_insert(L, base);
    enter_lua(L);
    int rc = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    if (rc == 0) return true;
    std::string msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error";
    lua_pop(L, 1);
    if (rc == LUA_ERRMEM) {
        fprintf(stderr, "orch-host: out of memory in Lua (%s)\n", what.c_str());
        std::_Exit(70);
    }
    if (vm.app.journal) vm.app.journal->log("error", what + " failed: " + msg);
    if (err) *err = msg;
    return false;
}

int spawn_task(VmState& vm, const std::string& name, int nargs, bool start_now, std::function<void(Task&)> on_done) {
    lua_State* L = vm.L;
    // L: ... fn args  (on the main state)
    lua_State* co = lua_newthread(L);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_xmove(L, co, nargs + 1);
    int id = vm.next_task++;
    Task& t = vm.tasks[id];
    t.id = id;
    t.name = name;
    t.co = co;
    t.ref = ref;
    vm.by_thread[co] = id;
    t.on_done = std::move(on_done);
    if (start_now) {  // the caller is the loop, outside Lua: run to the first wait now
        resume_task(vm, id, [nargs](lua_State*) { return nargs; });
        return id;
    }
    t.waiting = true;  // until the loop starts it
    auto timer = vm.app.loop.add_timer(0, [&vm, id, nargs] { resume_task(vm, id, [nargs](lua_State*) { return nargs; }); });
    t.cancel_op = [&vm, id, timer](const std::string& reason) {
        vm.app.loop.cancel_timer(timer);
        Task* tk = find_task(vm, id);
        if (!tk) return;
        tk->error = "cancelled before it started: " + reason;
        finish_task(vm, *tk);
    };
    return id;
}

void dispatch_handlers(VmState& vm, const std::string& event, const nlohmann::json& payload) {
    lua_State* L = vm.L;
    lua_getfield(L, LUA_REGISTRYINDEX, "orch.handlers");
    lua_getfield(L, -1, event.c_str());
    if (lua_istable(L, -1)) {
        int n = static_cast<int>(lua_objlen(L, -1));
        for (int i = 1; i <= n; ++i) {
            lua_rawgeti(L, -1, i);
            push_json(L, payload);
            spawn_task(vm, "on " + event, 1);
        }
    }
    lua_pop(L, 2);
}

ResumeStatus resume_task(VmState& vm, int task_id, const std::function<int(lua_State* co)>& push) {
    Task* t = find_task(vm, task_id);
    if (!t || t->done) return ResumeStatus::Failed;
    t->waiting = false;
    t->cancel_op = nullptr;
    lua_State* co = t->co;
    int nargs = push ? push(co) : 0;
    enter_lua(co);
    int rc = lua_resume(co, nargs);
    t = find_task(vm, task_id);  // the map may have grown during the run
    if (vm.route_window_task == task_id) vm.route_window_task = 0;  // registration is over
    if (rc == LUA_YIELD) {
        if (t->waiting) return ResumeStatus::Suspended;
        t->error = "yielded outside an orch wait (use orch.sleep, orch.wait, ... instead of coroutine.yield)";
        vm.app.journal ? vm.app.journal->log("error", "task " + std::to_string(t->id) + " (" + t->name +
                                                          ") aborted: " + t->error)
                       : void();
        finish_task(vm, *t);
        return ResumeStatus::Failed;
    }
    if (rc == 0) {
        if (lua_gettop(co) > 0) {
            lua_pushvalue(co, 1);
            t->result_ref = luaL_ref(co, LUA_REGISTRYINDEX);
        }
        lua_settop(co, 0);
        finish_task(vm, *t);
        return ResumeStatus::Finished;
    }
    if (rc == LUA_ERRMEM) {
        fprintf(stderr, "orch-host: out of memory in Lua (task %s)\n", t->name.c_str());
        std::_Exit(70);
    }
    std::string msg = error_text(vm, co, -1);
    // An error value with a code (orch.err, errors.new: bad input the policy
    // named) is a failure it reports, not a bug: its message, no traceback.
    bool reported = false;
    if (lua_istable(co, -1)) {
        lua_getfield(co, -1, "code");
        reported = lua_type(co, -1) == LUA_TSTRING;
        lua_pop(co, 1);
    }
    if (!reported && lua_type(co, -1) != LUA_TSTRING) msg = error_where(co) + msg;  // error(nil), error({})
    std::string trace = msg;
    if (!reported) {
        luaL_traceback(vm.L, co, msg.c_str(), 0);
        trace = lua_tostring(vm.L, -1);
        lua_pop(vm.L, 1);
    }
    t->error = msg;
    if (t->spawned && t->joiners.empty()) vm.unwaited[t->id] = msg;  // nobody takes this error (yet)
    // the error of a command's workflow is the command's to print (once, its
    // file:line): the traceback goes to the log only
    bool console = !t->caller_reports;
    if (vm.app.journal)
        vm.app.journal->log("error", "task " + std::to_string(t->id) + " (" + t->name + ") aborted: " + trace,
                            console);
    else if (console || !reported)  // no log: the traceback would be lost
        fprintf(stderr, "error: task %s aborted: %s\n", t->name.c_str(), trace.c_str());
    finish_task(vm, *t);
    return ResumeStatus::Failed;
}

std::string opt_string(lua_State* L, int t, const char* key, const std::string& dflt) {
    lua_getfield(L, t, key);
    std::string out = dflt;
    if (lua_type(L, -1) == LUA_TSTRING) {
        size_t len;
        const char* s = lua_tolstring(L, -1, &len);
        out.assign(s, len);
    } else if (lua_type(L, -1) == LUA_TNUMBER) {
        out = lua_tostring(L, -1);
    } else if (!lua_isnil(L, -1)) {
        lua_pop(L, 1);
        luaL_error(L, "field '%s' must be a string, got %s", key, luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return out;
}

double opt_number(lua_State* L, int t, const char* key, double dflt) {
    lua_getfield(L, t, key);
    double out = dflt;
    if (lua_type(L, -1) == LUA_TNUMBER) out = lua_tonumber(L, -1);
    else if (!lua_isnil(L, -1)) {
        const char* tn = luaL_typename(L, -1);
        lua_pop(L, 1);
        luaL_error(L, "field '%s' must be a number, got %s", key, tn);
    }
    lua_pop(L, 1);
    return out;
}

bool opt_bool(lua_State* L, int t, const char* key, bool dflt) {
    lua_getfield(L, t, key);
    bool out = lua_isnil(L, -1) ? dflt : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return out;
}

}  // namespace orch
