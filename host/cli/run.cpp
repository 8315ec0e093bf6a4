// orch-host run WORKFLOW [--tasks FILE] [--auto-approve] [--no-input], and
// orch-host watch (the task inbox, workflows/inbox.lua)
// (resume and run --resume: control.cpp, decided by workflows/lib/control.lua)
#include "cli/runtime.h"

#include "services/journal.h"
#include "services/outbox.h"
#include "services/store.h"

#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace orch {

using json = nlohmann::json;

namespace {

std::string resolve_workflow(const App& app, const std::string& name) {
    struct stat st;
    if (name.find('/') != std::string::npos && stat(name.c_str(), &st) == 0) {
        char buf[4096];
        return realpath(name.c_str(), buf) ? buf : name;
    }
    return resolve_workflow_path(app, name);
}


int exit_code_of(const json& result) {
    if (result.is_number_integer()) return result.get<int>();
    if (result.is_object() && result.contains("exit_code") && result["exit_code"].is_number_integer())
        return result["exit_code"].get<int>();
    return k_exit_ok;
}

}  // namespace

// --NAME or --NAME=true|false (the parser refused any other value); `dflt` when not given
bool flag(const Args& a, const std::string& name, bool dflt) { return a.has(name) ? a.get(name) != "false" : dflt; }

void flush_outbox(App& app) {
    if (!app.outbox || !app.outbox->has_sinks()) return;
    double limit = app.config().value("notify", json::object()).value("flush_seconds", 3.0);
    double deadline = Loop::now() + limit;
    app.outbox->kick();
    while (Loop::now() < deadline) {
        if (!app.outbox->busy() && app.outbox->pending() == 0) return;
        app.loop.run_once(0.05);
    }
    long long left = app.outbox->pending();
    if (left > 0)
        app.journal->log("warn", std::to_string(left) +
                                     " notification(s) not delivered yet; they stay queued and go out on the next run");
}

void recover_after_crash(App& app) {
    become_subreaper();  // what a dead host left was stopped by make_runtime (stop_leftover_agents)
    // We hold the run lock, so whoever waited for a pending approval died
    // with the host that held it before: the session that resumes asks again.
    // At the store's first use: a run that never touches the state leaves it
    // for the next. That use may be the journal's last flush, in ~App, when
    // app.journal is already gone.
    app.store->when_open([&app] {
        int n = app.store->withdraw_pending_approvals("its host stopped", wall_now());
        if (n && app.journal)
            app.journal->log("info", "closed " + std::to_string(n) + " approval(s) left pending by a host that stopped");
        app.store->retry_outbox_now(wall_now());  // what an earlier run could not deliver goes first
    });
}

namespace {
// workflows/inbox.lua (run by `orch-host watch`)
bool ends_with_inbox(const std::string& path) {
    return path.size() >= 9 && path.compare(path.size() - 9, 9, "inbox.lua") == 0;
}
}  // namespace

int run_workflow(Runtime& rt, const std::string& workflow_path, json args) {
    App& app = rt.app;
    RunLock lock(lock_path(app));
    char note[256];
    snprintf(note, sizeof note, "pid %d, workflow %s", getpid(), workflow_path.c_str());
    if (!lock.acquire(note)) {
        const std::string& holder = lock.holder();
        const bool serve = holder.find("serve on") != std::string::npos;
        if (ends_with_inbox(workflow_path) && (holder.find("running the inbox") != std::string::npos ||
                                               holder.find("inbox.lua") != std::string::npos)) {
            fprintf(stderr,
                    "orch-host watch: the inbox is already watched (%s): a server runs it when inbox.enabled is "
                    "set, or another `orch-host watch` does; refusing to watch the folder twice.\n",
                    lock.holder().c_str());
            return k_exit_locked;
        }
        const char* hint = !serve ? ""
                           : ends_with_inbox(workflow_path)
                               ? "; the server does not run the inbox: set inbox.enabled and restart it to have it do so"
                               : "; the server starts sessions itself (POST /webhook/command {\"command\": \"start\"})";
        fprintf(stderr,
                "orch-host: another run is active (%s); refusing to start an overlapping run.\n"
                "Use `orch-host status` to see it, or `orch-host pause` to stop it%s.\n",
                holder.c_str(), hint);
        return k_exit_locked;
    }
    recover_after_crash(app);
    app.interactive = !args.value("no_input", false) && isatty(0) && isatty(1);
    args["interactive"] = app.interactive;
    int signals = 0;
    const bool watching = ends_with_inbox(workflow_path);
    auto on_stop = [&](const char* name) {
        ++signals;
        app.interrupted = true;
        if (signals == 1) {
            app.journal->log("warn", std::string(name) + (watching
                ? " received: stopping the inbox (a running agent stops; its file stays in the folder and runs "
                  "at the next start)..."
                : " received: pausing (stopping the running agent)..."));
            app.journal->event("interrupted", app.control_session, "", json{{"signal", name}});
            rt.vm->cancel_all("interrupted");
        } else {
            fprintf(stderr, "orch-host: second %s: exiting now\n", name);
            std::_Exit(k_exit_interrupted);
        }
    };
    app.loop.on_signal(SIGINT, [&] { on_stop("SIGINT"); });
    app.loop.on_signal(SIGTERM, [&] { on_stop("SIGTERM"); });
    app.loop.on_signal(SIGHUP, [&] { on_stop("SIGHUP"); });
    int id = rt.vm->start_workflow(workflow_path, args);
    app.outbox->kick();  // anything left from an earlier run goes out now
    app.loop.run([&] { return !rt.vm->task_running(id); });
    json result = rt.vm->task_result(id);
    flush_outbox(app);
    if (result.is_object() && result.contains("error") && result.size() == 1) {
        fprintf(stderr, "orch-host: workflow %s failed: %s\n", workflow_path.c_str(),
                result["error"].get<std::string>().c_str());
        return app.state_error.empty() ? k_exit_bad_input : k_exit_state_error;
    }
    // A task the workflow spawned died of an error nobody took (orch.wait
    // returns it): a workflow error, where the run would otherwise count as
    // a success (0, or 3: paused); a failure code of its own stays.
    int code = exit_code_of(result);
    std::string lost = rt.vm->unwaited_failure();
    if (!lost.empty() && (code == k_exit_ok || code == k_exit_paused)) {
        fprintf(stderr, "orch-host: workflow %s: a task it spawned failed and nothing waited for it: %s\n",
                workflow_path.c_str(), lost.c_str());
        return k_exit_bad_input;
    }
    return code;
}

int cmd_run(const Args& a) {
    if (a.has("resume")) return cmd_resume(a);  // `run --resume`, the older spelling of `resume`
    auto rt = make_runtime(a, Services::Full);
    std::string wf = resolve_workflow(rt->app, a.positional.empty() ? "daily.lua" : a.positional[0]);
    json args = json::object();
    if (a.has("tasks")) args["tasks"] = tasks_path(rt->app, a.get("tasks"));
    args["auto_approve"] = flag(a, "auto-approve", false);
    args["no_input"] = flag(a, "no-input", false);
    if (a.has("session")) args["session"] = a.get("session");
    if (a.has("max-concurrent")) args["max_concurrent"] = std::stoi(a.get("max-concurrent"));
    json extra = json::array();
    for (size_t i = 1; i < a.positional.size(); ++i) extra.push_back(a.positional[i]);
    args["argv"] = extra;
    return run_workflow(*rt, wf, args);
}

// orch-host watch [--auto-approve] [--no-input] [--max-concurrent N]: the task
// inbox in the foreground (workflows/inbox.lua), until SIGTERM or Ctrl-C;
// under the run lock like run, so a server or another watch is not doubled
int cmd_watch(const Args& a) {
    auto rt = make_runtime(a, Services::Full);
    json args = json::object();
    args["auto_approve"] = flag(a, "auto-approve", false);
    args["no_input"] = flag(a, "no-input", false);
    if (a.has("max-concurrent")) args["max_concurrent"] = std::stoi(a.get("max-concurrent"));
    args["started_by"] = "watch";
    return run_workflow(*rt, resolve_workflow_path(rt->app, "inbox.lua"), args);
}

}  // namespace orch
