// Creates the lua_State: libraries opened one by one (no io, no ffi, no
// debug, no jit), package.path on scripts/ and workflows/, the orch table, the Lua
// prelude, strict globals.
#include "lua/vm.h"

#include "lua/internal.h"
#include "lua/text_source.h"
#include "lua/value.h"
#include "services/file_read.h"
#include "services/store.h"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace orch {

using json = nlohmann::json;

namespace {

int error_tostring(lua_State* L) {
    lua_getfield(L, 1, "message");
    if (lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 1);
        lua_getfield(L, 1, "code");
    }
    if (lua_type(L, -1) != LUA_TSTRING) lua_pushstring(L, "error");
    return 1;
}

void set_package_path(lua_State* L, const App& app) {
    std::string w = app.root + "/workflows/";
    std::string s = app.scripts_dir + "/";
    std::string path = s + "?.lua;" + s + "?/init.lua;" + w + "?.lua;" + w + "?/init.lua";
    lua_getglobal(L, "package");
    lua_pushstring(L, path.c_str());
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);
}

std::string read_text(const std::string& path) {
    std::string text;
    ReadError err;
    if (!read_file_limited(path, k_read_limit_default, text, err)) throw std::runtime_error(err.message);
    return text;
}

void load_chunk_text(lua_State* L, const std::string& path, const std::string& display) {
    std::string text = read_text(path);
    if (!text.empty() && text[0] == '\x1b') throw std::runtime_error(display + ": precompiled bytecode is not accepted");
    std::string chunk = "@" + display;
    if (luaL_loadbuffer(L, text.data(), text.size(), chunk.c_str()) != 0) {
        std::string msg = lua_tostring(L, -1);
        lua_pop(L, 1);
        throw std::runtime_error(msg);
    }
}

int l_strict_index(lua_State* L) {
    return luaL_error(L, "undeclared global '%s' (declare it with local, or use orch.global)", lua_tostring(L, 2));
}
int l_strict_newindex(lua_State* L) {
    return luaL_error(L, "assignment to undeclared global '%s' (use local, or orch.global(name, value))",
                      lua_tostring(L, 2));
}
// orch.global(name, value): declare a global on purpose
int l_global(lua_State* L) {
    luaL_checkstring(L, 1);
    lua_settop(L, 2);
    lua_rawset(L, LUA_GLOBALSINDEX);
    return 0;
}

// orch.on(event, fn): call fn(payload) in a new task when the host dispatches event
int l_on(lua_State* L) {
    luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_getfield(L, LUA_REGISTRYINDEX, "orch.handlers");
    lua_pushvalue(L, 1);
    lua_rawget(L, -2);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, 1);
        lua_pushvalue(L, -2);
        lua_rawset(L, -4);
    }
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, static_cast<int>(lua_objlen(L, -2)) + 1);
    return 0;
}

// orch.off(event, fn): remove a handler added with orch.on
int l_off(lua_State* L) {
    luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_getfield(L, LUA_REGISTRYINDEX, "orch.handlers");
    lua_pushvalue(L, 1);
    lua_rawget(L, -2);
    if (!lua_istable(L, -1)) return 0;
    int n = static_cast<int>(lua_objlen(L, -1));
    for (int i = 1; i <= n; ++i) {
        lua_rawgeti(L, -1, i);
        bool same = lua_rawequal(L, -1, 2);
        lua_pop(L, 1);
        if (!same) continue;
        for (int j = i; j < n; ++j) {  // close the gap, keeping the order
            lua_rawgeti(L, -1, j + 1);
            lua_rawseti(L, -2, j);
        }
        lua_pushnil(L);
        lua_rawseti(L, -2, n);
        break;
    }
    return 0;
}

// orch.interrupted() -> true once SIGINT/SIGTERM asked the host to stop
int l_interrupted(lua_State* L) {
    lua_pushboolean(L, vm_of(L).app.interrupted);
    return 1;
}

void make_strict(lua_State* L) {
    lua_newtable(L);
    lua_pushcfunction(L, l_strict_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_strict_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, LUA_GLOBALSINDEX);
}

}  // namespace

Vm::Vm(App& app) : st_(std::make_unique<VmState>(app)) {
    lua_State* L = luaL_newstate();
    if (!L) throw std::runtime_error("cannot create a Lua state (out of memory)");
    st_->L = L;
    lua_gc(L, LUA_GCSTOP, 0);  // as GcPause (internal.h); restarted at the end, or the state is closed
    lua_pushlightuserdata(L, st_.get());
    lua_setfield(L, LUA_REGISTRYINDEX, "orch.vm");
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "orch.handlers");
    sandbox(L);
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);  // on again only with lua.jit (see load_config)
    set_package_path(L, app);
    install_prelude_searcher(L);
    install_json_support(L);
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    st_->error_mt_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    lua_createtable(L, 0, 72);  // orch: sized for its ~70 fields (C and scripts/orch/init.lua), no rehash as they come
    register_json_api(L);
    register_yaml_api(L);
    register_hash_api(L);
    register_claude_api(L);
    register_approval_api(L);
    register_command_api(L);
    register_state_api(L);
    register_notify_api(L);
    register_exec_api(L);
    register_http_api(L);
    register_time_api(L);
    register_config_api(L);
    register_log_api(L);
    register_fs_api(L);
    register_watch_api(L);
    lua_pushcfunction(L, l_global);
    lua_setfield(L, -2, "global");
    lua_pushcfunction(L, l_on);
    lua_setfield(L, -2, "on");
    lua_pushcfunction(L, l_off);
    lua_setfield(L, -2, "off");
    register_server_api(L);
    lua_pushstring(L, ORCH_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushstring(L, app.root.c_str());
    lua_setfield(L, -2, "root");
    lua_pushinteger(L, getpid());
    lua_setfield(L, -2, "pid");
    {  // this binary, for the commands agents call back with (an agent's hooks)
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        lua_pushlstring(L, exe, n > 0 ? static_cast<size_t>(n) : 0);
        lua_setfield(L, -2, "executable");
    }
    lua_pushcfunction(L, l_interrupted);
    lua_setfield(L, -2, "interrupted");
    lua_rawgeti(L, LUA_REGISTRYINDEX, st_->error_mt_ref);
    lua_setfield(L, -2, "error_mt");
    lua_pushvalue(L, -1);
    lua_setglobal(L, "orch");
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "orch");
    lua_pop(L, 3);  // loaded, package, orch

    // The Lua half of the API (scripts/orch/init.lua) extends the same table.
    lua_getglobal(L, "require");
    lua_pushstring(L, "orch.init");
    std::string err;
    if (!call_protected(*st_, 1, 0, "loading scripts/orch/init.lua", &err)) {
        lua_close(L);
        st_->L = nullptr;
        throw std::runtime_error(err);
    }
    make_strict(L);
    lua_gc(L, LUA_GCRESTART, -1);
}

namespace {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool k_sanitized = true;
#else
constexpr bool k_sanitized = false;
#endif
bool g_leave_state = false;
}  // namespace

void Vm::leave_state_at_exit() { g_leave_state = !k_sanitized; }

Vm::~Vm() {
    if (st_->L && !g_leave_state) lua_close(st_->L);
}

// Compiled once per version of the file: serve starts daily.lua for every
// session, and each compile kept ~20 KB of prototypes per parked session.
// A chunk is an ordinary function (no upvalues), so one can run as many
// tasks at once as wanted, each with its own locals.
void load_chunk(lua_State* L, const std::string& path, const std::string& display) {
    struct stat st;
    VmState& vm = vm_of(L);
    bool cacheable = stat(path.c_str(), &st) == 0;
    if (cacheable) {
        auto it = vm.chunks.find(path);
        if (it != vm.chunks.end() && it->second.mtime_ns == st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec &&
            it->second.size == st.st_size) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, it->second.ref);
            return;
        }
    }
    load_chunk_text(L, path, display);
    if (!cacheable) return;
    auto& c = vm.chunks[path];
    if (c.ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, c.ref);
    lua_pushvalue(L, -1);
    c.ref = luaL_ref(L, LUA_REGISTRYINDEX);
    c.mtime_ns = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    c.size = st.st_size;
}

std::string resolve_workflow_path(const App& app, const std::string& name) {
    struct stat st;
    if (name.find('/') != std::string::npos) {
        std::string p = name[0] == '/' ? name : app.root + "/" + name;
        if (stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
            char buf[4096];
            return realpath(p.c_str(), buf) ? buf : p;
        }
        throw std::runtime_error(name + ": no such workflow file");
    }
    std::string p = app.root + "/workflows/" + name;
    if (stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return p;
    if (stat((p + ".lua").c_str(), &st) == 0 && S_ISREG(st.st_mode)) return p + ".lua";
    throw std::runtime_error(name + ": no such workflow (looked in " + app.root + "/workflows/)");
}

void push_workflow_args(lua_State* L, json args, const std::string& display) {
    if (args.is_object()) args["workflow"] = display;
    push_json(L, args);
}

int Vm::start_workflow(const std::string& path, const json& args, bool route_window) {
    lua_State* L = st_->L;
    std::string display = path;
    if (display.rfind(st_->app.root + "/", 0) == 0) display = display.substr(st_->app.root.size() + 1);
    load_chunk(L, path, display);
    push_workflow_args(L, args, display);
    int id = spawn_task(*st_, display, 1);
    st_->tasks[id].caller_reports = true;
    if (route_window) st_->route_window_task = id;
    return id;
}

bool Vm::routes_open() const { return st_->route_window_task != 0; }

bool Vm::task_running(int id) const {
    auto it = st_->tasks.find(id);
    return it != st_->tasks.end() && !it->second.done;
}

size_t Vm::live_tasks() const { return st_->by_thread.size(); }

std::string Vm::unwaited_failure() const {
    return st_->unwaited.empty() ? std::string() : st_->unwaited.begin()->second;
}

json Vm::task_result(int id) const {
    auto it = st_->tasks.find(id);
    if (it == st_->tasks.end()) return json{{"error", "no such task"}};
    if (!it->second.error.empty()) return json{{"error", it->second.error}};
    if (it->second.result_ref == LUA_NOREF) return nullptr;
    lua_State* L = st_->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, it->second.result_ref);
    json out;
    try {
        out = to_json(L, -1, "result");
    } catch (const std::exception& e) {
        out = json{{"error", e.what()}};
    }
    lua_pop(L, 1);
    return out;
}

void Vm::cancel_all(const std::string& reason) {
    std::vector<int> ids;
    for (auto& [id, t] : st_->tasks)
        if (!t.done && t.waiting && t.cancel_op) ids.push_back(id);
    for (int id : ids) {
        Task* t = find_task(*st_, id);
        if (t && !t->done && t->waiting && t->cancel_op) {
            auto op = t->cancel_op;
            op(reason);
        }
    }
}

void Vm::dispatch(const std::string& event, const json& payload) { dispatch_handlers(*st_, event, payload); }

json Vm::call(const std::string& module, const std::string& fn, const json& args,
              const std::function<void(std::string_view)>& on_text, const char* text_key) {
    // a command's module of workflows/lib/ in a project without that folder:
    // said so, not as Lua's search list and a traceback
    struct stat st;
    std::string lib = st_->app.root + "/workflows/lib";
    if (module.rfind("lib.", 0) == 0 && !(stat(lib.c_str(), &st) == 0 && S_ISDIR(st.st_mode)))
        throw std::runtime_error(st_->app.root + ": no workflows/lib/ folder, which holds " + module +
                                 " (copy workflows/lib/ from orch-host's source tree, " ORCH_SOURCE_DIR ")");
    lua_State* L = st_->L;
    int top = lua_gettop(L);
    lua_getglobal(L, "require");
    lua_pushstring(L, module.c_str());
    std::string err;
    if (!call_protected(*st_, 1, 1, "require " + module, &err)) throw std::runtime_error(err);
    lua_getfield(L, -1, fn.c_str());
    if (!lua_isfunction(L, -1)) {
        lua_settop(L, top);
        throw std::runtime_error(module + "." + fn + " is not a function");
    }
    push_json(L, args);
    st_->app.state_error.clear();
    if (!call_protected(*st_, 1, 1, module + "." + fn, &err)) {
        lua_settop(L, top);
        // the state database failed inside (orch.load_session...): exit 5, not 2
        if (!st_->app.state_error.empty()) throw StoreError(err);
        throw std::runtime_error(err);
    }
    if (on_text && lua_istable(L, -1)) {
        lua_getfield(L, -1, text_key);
        if (const TextWriter* w = to_text_source(L, -1)) {
            lua_pushnil(L);
            lua_setfield(L, -3, text_key);  // the source stays alive on the stack meanwhile
            try {
                (*w)(on_text);
            } catch (...) {
                lua_settop(L, top);
                throw;
            }
        } else if (lua_type(L, -1) == LUA_TSTRING) {
            size_t n = 0;
            const char* p = lua_tolstring(L, -1, &n);
            lua_pushnil(L);
            lua_setfield(L, -3, text_key);  // the string stays alive on the stack meanwhile
            try {
                on_text(std::string_view(p, n));
            } catch (...) {
                lua_settop(L, top);
                throw;
            }
        }
        lua_pop(L, 1);
    }
    json out = to_json(L, -1, "result");
    lua_settop(L, top);
    return out;
}

}  // namespace orch
