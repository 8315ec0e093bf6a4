// orch-host check [--tasks FILE] [--auto-approve] [--max-concurrent N]:
// the task file read and judged as `run` would before its first agent, the
// plan printed. Mechanism only: workflows/lib/check_cli.lua runs as a task
// (its git commands go through orch.exec) and returns {exit=, out=}; out
// goes to stdout when the file is good (exit 0), else to stderr (exit 2).
// The state is opened read-only (when there is one): a check writes nothing,
// and sees the other sessions' unfinished tasks in the worktrees it looks at.
#include "cli/runtime.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace orch {

using json = nlohmann::json;

int cmd_check(const Args& a) {
    auto rt = read_only_runtime(a);
    App& app = rt->app;
    json req{{"command", "check"}, {"auto_approve", flag(a, "auto-approve", false)}, {"state", app.store != nullptr}};
    if (a.has("tasks")) req["tasks"] = tasks_path(app, a.get("tasks"));
    if (a.has("max-concurrent")) req["max_concurrent"] = std::stoi(a.get("max-concurrent"));
    int id = rt->vm->start_workflow(resolve_workflow_path(app, "workflows/lib/check_cli.lua"), req);
    app.loop.run([&] { return !rt->vm->task_running(id); });
    json r = rt->vm->task_result(id);
    if (!r.is_object() || !r.contains("exit")) {
        fprintf(stderr, "orch-host check: %s\n", r.is_object() && r.contains("error") ? r["error"].dump().c_str()
                                                                                      : "no result");
        return k_exit_bad_input;
    }
    int exit = r.value("exit", static_cast<int>(k_exit_bad_input));
    std::string out = r.value("out", std::string());
    fprintf(exit == k_exit_ok ? stdout : stderr, "%s\n", out.c_str());
    return exit;
}

}  // namespace orch
