// orch-host approve|skip|pause|answer [TEXT] [--session ID] [--by NAME]
// A pending approval is resolved in the database (the waiting session sees it
// within its poll interval); otherwise the command is queued for the running
// session (pause, skip of the running task). While no host runs (the run
// lock is free), approve or skip of a pending approval is kept for the
// session to apply when it resumes; anything else is refused.
#include "cli/runtime.h"

#include "services/journal.h"
#include "services/store.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <pwd.h>
#include <unistd.h>

namespace orch {

using json = nlohmann::json;

namespace {

std::string caller(const Args& a) {
    if (a.has("by")) return a.get("by");
    passwd* pw = getpwuid(getuid());
    return std::string("cli:") + (pw ? pw->pw_name : "user");
}

}  // namespace

bool waits_while_down(const json& approval) { return approval.value("kind", std::string()) == "approval"; }

int cmd_control(const Args& a) {
    auto rt = make_runtime(a, Services::Full);
    App& app = rt->app;
    Store& store = *app.store;
    const std::string& cmd = a.command;
    std::string sid = a.has("session") ? a.get("session") : store.latest_session_id().value_or("");
    if (sid.empty()) {
        fprintf(stderr, "orch-host %s: no session yet\n", cmd.c_str());
        return k_exit_bad_input;
    }
    std::string text;
    for (auto& p : a.positional) text += (text.empty() ? "" : " ") + p;
    if (cmd == "answer" && text.empty()) {
        fprintf(stderr, "orch-host answer: give the answer text, e.g. orch-host answer \"use pattern B\"\n");
        return k_exit_bad_input;
    }
    std::string by = caller(a);
    auto pending = store.pending_approval(sid);
    RunLock probe(lock_path(app));
    bool live = probe.held_by_other();
    if (pending && !live && (cmd == "pause" || !waits_while_down(*pending))) pending.reset();  // refused below
    if (pending && cmd != "resume") {
        std::string kind = pending->value("kind", std::string("approval"));
        std::string action = cmd == "answer" ? "answer" : cmd;
        if (kind == "question" && cmd == "approve") action = "answer";
        if (kind != "question" && cmd == "answer") {
            fprintf(stderr, "orch-host answer: task %s waits for an approval, not an answer; use approve or skip\n",
                    pending->value("task_id", std::string("?")).c_str());
            return k_exit_bad_input;
        }
        long long id = (*pending)["id"].get<long long>();
        if (store.resolve_approval(id, action, text, by, wall_now())) {
            printf("%s: task %s of session %s (%s)%s\n", action.c_str(),
                   pending->value("task_id", std::string("?")).c_str(), sid.c_str(), by.c_str(),
                   live ? "" : "; the session is not running: this applies when it resumes (orch-host resume)");
            return k_exit_ok;
        }
        fprintf(stderr, "orch-host %s: the approval is no longer pending (someone else decided, or a host took "
                        "the session over)\n", cmd.c_str());
        return k_exit_task_failures;
    }
    if (!live) {
        auto s = store.load_session(sid);
        std::string status = s ? s->value("status", std::string("?")) : "?";
        fprintf(stderr, "orch-host %s: session %s is not running (status: %s)%s\n", cmd.c_str(), sid.c_str(),
                status.c_str(), cmd == "pause" || cmd == "skip" ? "" : "; nothing is waiting");
        return k_exit_task_failures;
    }
    if (cmd == "approve" || cmd == "answer") {
        fprintf(stderr, "orch-host %s: nothing is waiting for %s in session %s\n", cmd.c_str(),
                cmd == "answer" ? "an answer" : "approval", sid.c_str());
        return k_exit_task_failures;
    }
    store.push_command(sid, cmd, json{{"text", text}}.dump(), by, wall_now());
    printf("Sent %s to the running session %s.\n", cmd.c_str(), sid.c_str());
    return k_exit_ok;
}

}  // namespace orch
