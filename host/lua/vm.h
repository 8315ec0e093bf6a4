// The Lua side of the host, behind a Lua-free interface so main.cpp and the
// commands never include lua.h. One Vm per process, owned by the loop thread.
#pragma once
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace orch {

struct App;
struct VmState;
class ServerCall;

class Vm {
public:
    explicit Vm(App& app);
    ~Vm();
    // For a process that ends when its Vm goes: the destructor then leaves
    // the Lua state to the exit instead of freeing it object by object
    // (lua_close was a tenth of `run trivial.lua`'s start-up). Safe because
    // nothing in the state holds more than memory: no io library, and the
    // finalisers only drop a reference (orch.every's) or close an inotify fd
    // the exit closes too (orch.watch_dir's). Sanitizer builds
    // close it anyway, so leak checks stay meaningful.
    static void leave_state_at_exit();

    // Runs scripts/orch/config.lua's load(); fills app.config(). Throws
    // std::runtime_error naming the file and field on a bad config.
    // app.config() gets the sections the host reads (claude, control, lua,
    // notify, paths, server); Lua has all of it as orch.config.
    void load_config(const std::string& config_file, bool must_exist = false);
    // The whole effective config (every section and _sources), for doctor.
    nlohmann::json config_json();
    // Starts `path` (a workflow file) as a task with `args` as its first
    // argument. Returns the task id. Throws on syntax errors (message names
    // the file and line).
    // route_window: orch.route may be called until the workflow first waits
    // (serve's workflow registers its routes there).
    int start_workflow(const std::string& path, const nlohmann::json& args, bool route_window = false);
    bool routes_open() const;
    // Answers a webhook request with the Lua routes (orch._serve_request), as a task.
    void handle_request(std::shared_ptr<ServerCall> call);
    bool task_running(int id) const;
    // The finished task's first result converted to JSON, or {"error": msg}.
    nlohmann::json task_result(int id) const;
    size_t live_tasks() const;
    // The error of the first orch.spawn task that failed with no orch.wait
    // taking its error (not then, not later); "" when there is none.
    std::string unwaited_failure() const;
    // Cancels every waiting task (their waits return a "cancelled" error).
    void cancel_all(const std::string& reason);
    // Calls the handlers registered with orch.on(event, fn), each as a task.
    void dispatch(const std::string& event, const nlohmann::json& payload);
    // Calls a function of a module with JSON args, synchronously (no yields).
    // With on_text, a string field `text_key` of the returned table is handed
    // to it as it is in Lua (not copied), or a text source's (lua/text_source.h)
    // in pieces as it writes them (a 10,000-task status is 8 MB), and left out
    // of the returned JSON.
    nlohmann::json call(const std::string& module, const std::string& fn, const nlohmann::json& args,
                        const std::function<void(std::string_view)>& on_text = {}, const char* text_key = "out");

private:
    std::unique_ptr<VmState> st_;
};

}  // namespace orch
