// orch-host clean worktrees [--force] [--dry-run] | clean tasks [--all] [--dry-run]
// | clean artifacts --days N [--dry-run] | clean agents --days N [--dry-run]
// | clean logs --days N [--dry-run]
// (artifacts: cli/artifacts.cpp)
// Mechanism only: runs workflows/lib/clean_cli.lua as a task (its git
// commands go through orch.exec), under the run lock so no running session's
// agent loses the worktree it works in, and prints what it returns
// ({exit=, out=, err=}: print_answer).
#include "cli/runtime.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace orch {

using json = nlohmann::json;

int cmd_clean(const Args& a) {
    std::string what = a.positional.empty() ? "" : a.positional[0];
    json req{{"what", what},
             {"force", a.has("force")},
             {"all", a.has("all")},
             {"dry_run", a.has("dry-run")},
             {"days", a.has("days") ? json(a.get("days")) : json(false)}};
    // the target and its flags (lib/clean_args), before the lock: a wrong
    // command is exit 2 whether or not a host runs
    auto rt = make_runtime(a, Services::None);
    json bad = rt->vm->call("lib.clean_args", "check", req);
    if (bad.is_object()) return print_answer(bad, "clean");
    if (what == "artifacts") return clean_artifacts(*rt, a);
    App& app = rt->app;
    app.open_services();
    RunLock lock(lock_path(app));
    // clean tasks moves only files the ledger has as processed, beside a running
    // host; with --all it would take files the host may be running
    // clean agents and clean logs keep every unfinished task's folder and logs
    // (and logs today's daily log), so they run beside a host too
    bool tasks = what == "tasks";
    bool beside_host = what == "agents" || what == "logs";
    if (!beside_host && (!tasks || a.has("all")) && !lock.acquire("pid " + std::to_string(getpid()) + ", clean")) {
        if (tasks) {
            fprintf(stderr,
                    "orch-host clean tasks --all: a host is running (%s); it may be running these task files.\n"
                    "Clean when it has ended, or without --all (only the files already processed move).\n",
                    lock.holder().c_str());
            return k_exit_locked;
        }
        fprintf(stderr,
                "orch-host clean: another run is active (%s); its agents may be working in these worktrees.\n"
                "Clean when it has ended.\n",
                lock.holder().c_str());
        return k_exit_locked;
    }
    int id = rt->vm->start_workflow(resolve_workflow_path(app, "workflows/lib/clean_cli.lua"), req);
    app.loop.run([&] { return !rt->vm->task_running(id); });
    return print_answer(rt->vm->task_result(id), "clean " + what);
}

}  // namespace orch
