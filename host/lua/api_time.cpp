// Time and tasks: orch.now, orch.sleep, orch.spawn, orch.wait, orch.cancel,
// orch.every, orch.task_id.
#include "lua/internal.h"

#include "services/journal.h"

#include <algorithm>

namespace orch {

namespace {

// orch.now() -> epoch seconds (float)
int l_now(lua_State* L) {
    lua_pushnumber(L, wall_now());
    return 1;
}

// orch.monotonic() -> seconds from an arbitrary start, for durations
int l_monotonic(lua_State* L) {
    lua_pushnumber(L, Loop::now());
    return 1;
}

// orch.sleep(seconds) -> true | nil, err  [yields]
int l_sleep(lua_State* L) {
    double s = luaL_checknumber(L, 1);
    if (s < 0) return luaL_error(L, "orch.sleep: seconds must be >= 0");
    Task& t = require_task(L, "orch.sleep");
    VmState& vm = vm_of(L);
    int id = t.id;
    TimerId timer = vm.app.loop.add_timer(s, [&vm, id] {
        resume_task(vm, id, [](lua_State* co) { lua_pushboolean(co, 1); return 1; });
    });
    return yield_waiting(L, t, [&vm, id, timer](const std::string& reason) {
        vm.app.loop.cancel_timer(timer);
        wake_task(vm, id, [reason](lua_State* co) { return push_cancelled(co, reason); });
    });
}

// orch.spawn(fn, ...) -> task id   (fn runs in a new task from the next loop turn)
int l_spawn(lua_State* L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    VmState& vm = vm_of(L);
    int nargs = lua_gettop(L) - 1;
    lua_State* M = vm.L;
    if (L != M) {
        lua_xmove(L, M, nargs + 1);
    } else {
        // already on the main state
    }
    std::string name = "spawned";
    int id = spawn_task(vm, name, nargs);
    vm.tasks[id].spawned = true;
    lua_pushinteger(L, id);
    return 1;
}

// orch.wait(task_id [, timeout]) -> true, result | false, err | nil, err  [yields]
// false: the task failed (err.code "task_failed", its error in err.message)
// or the timeout passed ("timeout"); nil: this wait was cancelled ("cancelled").
int l_wait(lua_State* L) {
    int target = static_cast<int>(luaL_checkinteger(L, 1));
    double timeout = luaL_optnumber(L, 2, 0);
    Task& t = require_task(L, "orch.wait");
    VmState& vm = vm_of(L);
    Task* other = find_task(vm, target);
    if (!other) return luaL_error(L, "orch.wait: no task %d", target);
    if (other->id == t.id) return luaL_error(L, "orch.wait: a task cannot wait for itself");
    if (other->done) {
        if (!other->error.empty()) {
            vm.unwaited.erase(other->id);  // this wait takes the error
            return push_failure(L, "task_failed", other->error);
        }
        lua_pushboolean(L, 1);
        lua_rawgeti(L, LUA_REGISTRYINDEX, other->result_ref);
        return 2;
    }
    other->joiners.push_back(t.id);
    int id = t.id;
    // Gives up unless the target already woke this task (it finished: then
    // this task is no longer among its joiners, and the timer is stale).
    auto give_up = [&vm, id, target](std::function<int(lua_State*)> push) {
        Task* o = find_task(vm, target);
        if (!o || std::find(o->joiners.begin(), o->joiners.end(), id) == o->joiners.end()) return;
        std::erase(o->joiners, id);
        wake_task(vm, id, std::move(push));
    };
    TimerId timer = 0;
    if (timeout > 0)
        timer = vm.app.loop.add_timer(timeout, [give_up] {
            give_up([](lua_State* co) { return push_failure(co, "timeout", "orch.wait: timed out"); });
        });
    return yield_waiting(L, t, [&vm, timer, give_up](const std::string& reason) {
        if (timer) vm.app.loop.cancel_timer(timer);
        give_up([reason](lua_State* co) { return push_cancelled(co, reason); });
    });
}

// orch.cancel(task_id [, reason]) -> true if the task was waiting and got cancelled.
// The cancelled task's wait returns nil, {code="cancelled", reason=} on a
// later loop turn, never inside this call.
int l_cancel(lua_State* L) {
    int target = static_cast<int>(luaL_checkinteger(L, 1));
    std::string reason = luaL_optstring(L, 2, "cancelled");
    VmState& vm = vm_of(L);
    Task* t = find_task(vm, target);
    if (!t || t->done || !t->waiting || !t->cancel_op) {
        lua_pushboolean(L, 0);
        return 1;
    }
    auto op = t->cancel_op;
    op(reason);
    lua_pushboolean(L, 1);
    return 1;
}

// orch.task_id() -> id of the running task, or nil outside tasks
int l_task_id(lua_State* L) {
    VmState& vm = vm_of(L);
    auto it = vm.by_thread.find(L);
    if (it == vm.by_thread.end()) lua_pushnil(L);
    else lua_pushinteger(L, it->second);
    return 1;
}

struct Every {
    TimerId timer = 0;
    int fn_ref = LUA_NOREF;
    double period = 0;
    bool stopped = false;
};

void every_tick(VmState& vm, std::shared_ptr<Every> e) {
    if (e->stopped || vm.app.interrupted) return;  // stopping: no new ticks
    e->timer = vm.app.loop.add_timer(e->period, [&vm, e] { every_tick(vm, e); });
    lua_rawgeti(vm.L, LUA_REGISTRYINDEX, e->fn_ref);
    spawn_task(vm, "every", 0);
}

int l_every_stop(lua_State* L) {
    auto* holder = static_cast<std::shared_ptr<Every>*>(lua_touserdata(L, lua_upvalueindex(1)));
    auto e = *holder;
    if (!e->stopped) {
        e->stopped = true;
        VmState& vm = vm_of(L);
        vm.app.loop.cancel_timer(e->timer);
        luaL_unref(L, LUA_REGISTRYINDEX, e->fn_ref);
    }
    return 0;
}

int l_every_gc(lua_State* L) {
    auto* holder = static_cast<std::shared_ptr<Every>*>(lua_touserdata(L, 1));
    holder->~shared_ptr<Every>();
    return 0;
}

// orch.every(seconds, fn) -> stop()   (fn runs in a new task each period)
int l_every(lua_State* L) {
    double period = luaL_checknumber(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (period <= 0) return luaL_error(L, "orch.every: seconds must be > 0");
    VmState& vm = vm_of(L);
    auto e = std::make_shared<Every>();
    e->period = period;
    lua_pushvalue(L, 2);
    e->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    e->timer = vm.app.loop.add_timer(period, [&vm, e] { every_tick(vm, e); });
    void* mem = lua_newuserdata(L, sizeof(std::shared_ptr<Every>));
    new (mem) std::shared_ptr<Every>(e);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, l_every_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_pushcclosure(L, l_every_stop, 1);
    return 1;
}

const luaL_Reg k_time_functions[] = {
    {"now", l_now},     {"monotonic", l_monotonic}, {"sleep", l_sleep},   {"spawn", l_spawn},
    {"wait", l_wait},   {"cancel", l_cancel},       {"every", l_every},   {"task_id", l_task_id},
    {nullptr, nullptr},
};

}  // namespace

void register_time_api(lua_State* L) { luaL_register(L, nullptr, k_time_functions); }

}  // namespace orch
