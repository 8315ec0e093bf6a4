// Shared by host/lua/*.cpp only: the task scheduler and helpers for api_*.
#pragma once
#include "app.h"

#include <functional>
#include <lua.hpp>
#include <nlohmann/json_fwd.hpp>
#include <deque>
#include <map>
#include <memory>
#include <string>

namespace orch {

class Approvals;

struct Task {
    int id = 0;
    std::string name;
    lua_State* co = nullptr;
    int ref = LUA_NOREF;          // registry ref to the coroutine
    int result_ref = LUA_NOREF;   // registry ref to the first result
    std::string error;            // set when the task failed
    bool done = false;
    bool waiting = false;
    std::function<void(const std::string& reason)> cancel_op;  // cancels the pending wait
    std::vector<int> joiners;     // tasks blocked in orch.wait on this one
    std::function<void(Task&)> on_done;  // host-side completion (a webhook reply), finished or failed
    bool caller_reports = false;  // a command's workflow: the command prints its error (Vm::task_result)
    bool spawned = false;         // orch.spawn's: its failure with nobody waiting is kept (VmState::unwaited)
};

enum class ResumeStatus { Suspended, Finished, Failed };

struct VmState {
    App& app;
    lua_State* L = nullptr;
    std::map<int, Task> tasks;
    std::map<lua_State*, int> by_thread;
    int next_task = 1;
    std::deque<int> finished;     // recent finished tasks, kept for orch.wait; older ones are freed
    // orch.spawn tasks that failed while no orch.wait waited for them, until
    // one does (it takes the error): id -> error (Vm::unwaited_failure)
    std::map<int, std::string> unwaited;
    int traceback_ref = LUA_NOREF;
    int error_mt_ref = LUA_NOREF;
    int route_window_task = 0;    // orch.route works only in this task's first slice (serve's workflow)
    struct Chunk {
        int ref = LUA_NOREF;
        long long mtime_ns = 0;
        long long size = 0;
    };
    std::map<std::string, Chunk> chunks;  // compiled workflow files (load_chunk)
    std::shared_ptr<Approvals> approvals;  // services/approvals.h, opened on first use (approvals_of)
    explicit VmState(App& a) : app(a) {}
};

VmState& vm_of(lua_State* L);
inline App& app_of(lua_State* L) { return vm_of(L).app; }

// The task running in L, or raise "<fname>: not inside a task".
Task& require_task(lua_State* L, const char* fname);
Task* find_task(VmState& vm, int id);

// Creates a task from the function on top of L's stack (popped) with nargs
// arguments below it... see call.cpp. Returns the task id; runs it until its
// first wait.
// start_now: run it to its first wait before returning (the caller must be the
// loop, not Lua); on_done: see Task::on_done.
int spawn_task(VmState& vm, const std::string& name, int nargs, bool start_now = false,
               std::function<void(Task&)> on_done = {});

// Spawn a task for each orch.on(event, fn) handler, with payload as its argument.
void dispatch_handlers(VmState& vm, const std::string& event, const nlohmann::json& payload);

// Resume a waiting task: `push` pushes the wait's results on co, returns count.
// Outcomes: Suspended (waiting again), Finished (results kept), Failed
// (traceback logged once, joiners woken, cleanup run).
ResumeStatus resume_task(VmState& vm, int task_id, const std::function<int(lua_State* co)>& push);

// Mark the current task as waiting with a cancel hook and yield.
int yield_waiting(lua_State* L, Task& t, std::function<void(const std::string&)> cancel_op);

// Ends a task's wait from anywhere (another task's orch.cancel or
// orch.resolve_approval, a finished task's joiners, a cancel hook): the task
// stops waiting at once (a second wake or an orch.cancel finds nothing to
// do), and its resumption with `push`'s values is queued on the loop, so it
// never runs inside the caller. false when the task was not waiting.
bool wake_task(VmState& vm, int task_id, std::function<int(lua_State* co)> push);

// The one shape of a cancelled wait, for every waiting primitive: pushes
// nil, {code="cancelled", message="cancelled: <reason>", reason=<reason>}
// and returns 2. A wait with partial results (exec, run_claude) sets them
// as err.result on the table on top.
int push_cancelled(lua_State* co, const std::string& reason);

// Push an error table {code=, message=, ...} with __tostring.
void push_error(lua_State* L, const std::string& code, const std::string& message);
int return_error(lua_State* L, const std::string& code, const std::string& message);  // nil, err
int push_failure(lua_State* L, const std::string& code, const std::string& message);  // false, err (orch.wait)

// Protected call of the function below nargs args; logs and returns false on error.
bool call_protected(VmState& vm, int nargs, int nresults, const std::string& what, std::string* err = nullptr);

// package searcher that caches the bytecode of scripts/orch/*.lua (prelude_cache.cpp)
void install_prelude_searcher(lua_State* L);

// Stop Lua that runs longer than limit_seconds without yielding.
void install_runaway_hook(lua_State* L, double limit_seconds);

// The collector stopped for a scope of start-up work (it makes little
// garbage); after it, the next cycle starts once the heap has grown by the
// usual pause (LuaJIT's LUA_GCRESTART with -1), not at once.
struct GcPause {
    lua_State* L;
    explicit GcPause(lua_State* l) : L(l) { lua_gc(L, LUA_GCSTOP, 0); }
    ~GcPause() { lua_gc(L, LUA_GCRESTART, -1); }
    GcPause(const GcPause&) = delete;
    GcPause& operator=(const GcPause&) = delete;
};

// The approvals and commands service of this VM (api_approval.cpp), or
// raise "<fname>: the state database is not open".
Approvals& approvals_of(lua_State* L, const char* fname);

// Option helpers for table arguments.
std::string opt_string(lua_State* L, int t, const char* key, const std::string& dflt = {});
double opt_number(lua_State* L, int t, const char* key, double dflt);
bool opt_bool(lua_State* L, int t, const char* key, bool dflt);

// api families: each adds its functions to the table on top of the stack.
void register_claude_api(lua_State* L);
void register_approval_api(lua_State* L);
void register_command_api(lua_State* L);
void register_state_api(lua_State* L);
void register_notify_api(lua_State* L);
void register_exec_api(lua_State* L);
void register_http_api(lua_State* L);
void register_time_api(lua_State* L);
void register_log_api(lua_State* L);
void register_fs_api(lua_State* L);
void register_watch_api(lua_State* L);
void register_yaml_api(lua_State* L);
void register_hash_api(lua_State* L);
void register_server_api(lua_State* L);
void register_config_api(lua_State* L);

// The config's machinery, shared by the start (vm_config.cpp) and
// orch.reload_config (api_config.cpp). config_guard(fn, seconds) -> fn():
// runs the user's config file under the runaway hook, then turns it off.
int config_guard(lua_State* L);
// The sections of the config table at idx the host reads, as JSON (App::config).
nlohmann::json host_config_sections(lua_State* L, int idx);

// Opens the libraries workflows may use and removes the rest (vm_sandbox.cpp).
void sandbox(lua_State* L);

// Loads a workflow file as a function on top of L (syntax errors raise
// std::runtime_error naming the file and line); vm.cpp.
void load_chunk(lua_State* L, const std::string& path, const std::string& display);
// Pushes a workflow's args (an object) with args.workflow = `display`, the
// file that runs (relative to the project root, else absolute): what a
// session stores to be resumed with the same workflow; vm.cpp.
void push_workflow_args(lua_State* L, nlohmann::json args, const std::string& display);
// workflows/<name>[.lua] under the project, or a path relative to it.
std::string resolve_workflow_path(const App& app, const std::string& name);

}  // namespace orch
