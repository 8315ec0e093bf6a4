// orch-host check [--tasks FILE] [--auto-approve] [--max-concurrent N]:
// the task file read and judged as `run` would before its first agent, the
// plan printed. Mechanism only: workflows/lib/check_cli.lua runs as a task
// (its git commands go through orch.exec) and returns {exit=, out=}
// (print_answer): out goes to stdout when the file is good (exit 0), else
// to stderr (exit 2).
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
    return print_answer(rt->vm->task_result(id), "check");
}

}  // namespace orch
