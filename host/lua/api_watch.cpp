// Folder watches: orch.watch_dir over services/dir_watch.h (inotify on the
// loop). Each event calls the watch's function in a new task, queued on the
// loop: never inside the caller or another task. An error in it is logged
// with its traceback, as any task's, and the watch keeps running.
#include "lua/internal.h"

#include "services/dir_watch.h"

#include <memory>

namespace orch {

namespace {

constexpr const char* k_watch_mt = "orch.watch_dir";

// What a handle holds. The handle stays referenced from the registry until
// close(), so a script that drops it still has its watch.
struct WatchState {
    std::unique_ptr<DirWatch> watch;
    int fn_ref = LUA_NOREF;
    int self_ref = LUA_NOREF;
};

using StatePtr = std::shared_ptr<WatchState>;

void push_event(lua_State* L, const DirEvent& ev, const std::string& dir) {
    lua_createtable(L, 0, 4);
    lua_pushstring(L, dir_event_kind_name(ev.kind));
    lua_setfield(L, -2, "kind");
    if (!ev.name.empty()) {
        lua_pushlstring(L, ev.name.data(), ev.name.size());
        lua_setfield(L, -2, "name");
        lua_pushlstring(L, ev.path.data(), ev.path.size());
        lua_setfield(L, -2, "path");
    }
    lua_pushlstring(L, dir.data(), dir.size());
    lua_setfield(L, -2, "dir");
}

// On the loop, outside Lua: the call is queued for the loop's next turn and
// dropped if the watch was closed by then.
DirWatch::Callback deliver(VmState& vm, std::weak_ptr<WatchState> weak) {
    return [&vm, weak](const DirEvent& ev) {
        vm.app.loop.add_timer(0, [&vm, weak, ev] {
            StatePtr st = weak.lock();
            if (!st || !st->watch || st->watch->closed()) return;
            lua_State* L = vm.L;
            lua_rawgeti(L, LUA_REGISTRYINDEX, st->fn_ref);
            push_event(L, ev, st->watch->dir());
            spawn_task(vm, "watch_dir " + st->watch->dir(), 1, true);
        });
    };
}

StatePtr& check_handle(lua_State* L) {
    return *static_cast<StatePtr*>(luaL_checkudata(L, 1, k_watch_mt));
}

void end_watch(lua_State* L, WatchState& st) {
    if (st.watch) st.watch->close();
    luaL_unref(L, LUA_REGISTRYINDEX, st.fn_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, st.self_ref);
    st.fn_ref = st.self_ref = LUA_NOREF;
}

// handle:close()   (no callback after it; a second close does nothing)
int l_watch_close(lua_State* L) {
    StatePtr& st = check_handle(L);
    if (st) end_watch(L, *st);
    return 0;
}

int l_watch_gc(lua_State* L) {
    StatePtr& st = check_handle(L);
    if (st) end_watch(L, *st);
    st.~StatePtr();
    return 0;
}

int l_watch_tostring(lua_State* L) {
    StatePtr& st = check_handle(L);
    bool open = st && st->watch && !st->watch->closed();
    lua_pushfstring(L, "orch.watch_dir(%s)%s", open ? st->watch->dir().c_str() : "", open ? "" : " closed");
    return 1;
}

void push_metatable(lua_State* L) {
    if (luaL_newmetatable(L, k_watch_mt)) {
        lua_pushcfunction(L, l_watch_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_watch_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_createtable(L, 0, 1);
        lua_pushcfunction(L, l_watch_close);
        lua_setfield(L, -2, "close");
        lua_setfield(L, -2, "__index");
    }
}

// orch.watch_dir(path, fn [, {suffix=, initial_scan=}]) -> handle | nil, err
// fn(ev) runs in a new task for each event, ev = {kind="ready"|"gone"|
// "dir_removed"|"rescan", name=, path= (files only), dir=}.
int l_watch_dir(lua_State* L) {
    const char* p = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (!*p) return luaL_error(L, "orch.watch_dir: path must not be empty");
    DirWatch::Options opts;
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_getfield(L, 3, "suffix");
        if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
            return luaL_error(L, "orch.watch_dir: opts.suffix must be a string");
        if (!lua_isnil(L, -1)) opts.suffix = lua_tostring(L, -1);
        lua_getfield(L, 3, "initial_scan");
        if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
            return luaL_error(L, "orch.watch_dir: opts.initial_scan must be a boolean");
        opts.initial_scan = lua_toboolean(L, -1);
        lua_pop(L, 2);
    }
    VmState& vm = vm_of(L);
    std::string path = vm.app.path_from_root(p);
    auto st = std::make_shared<WatchState>();
    WatchError err;
    st->watch = DirWatch::start(vm.app.loop, path, std::move(opts), deliver(vm, st), err);
    if (!st->watch) return return_error(L, err.code, "orch.watch_dir: " + err.message);
    lua_pushvalue(L, 2);
    st->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    new (lua_newuserdata(L, sizeof(StatePtr))) StatePtr(st);
    push_metatable(L);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    st->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 1;
}

const luaL_Reg k_watch_functions[] = {
    {"watch_dir", l_watch_dir},
    {nullptr, nullptr},
};

}  // namespace

void register_watch_api(lua_State* L) { luaL_register(L, nullptr, k_watch_functions); }

}  // namespace orch
