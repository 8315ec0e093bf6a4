// orch-host approve|skip|cancel [TASK] [--note TEXT] [--session ID] [--by NAME] [--request ID]
//   (TASK: the same as --task ID), pause [--note TEXT], answer TEXT... [--task ID]
// orch-host resume [SESSION] [--auto-approve[=false]] [--no-input[=false]]
//   (or run [WORKFLOW] --resume [--session ID])
// Mechanism only: workflows/lib/control_cli.lua decides, with the same
// lib/control functions as the webhook, Telegram and the schedules, and
// returns the message, the exit code and, for a resume here, the workflow
// and its args; this prints the message (stdout when the exit code is 0,
// else stderr) or runs the workflow under the run lock.
#include "cli/runtime.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <pwd.h>
#include <stdexcept>
#include <unistd.h>

namespace orch {

using json = nlohmann::json;

namespace {

struct BadRequest : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string caller(const Args& a) {
    if (a.has("by")) return a.get("by");
    passwd* pw = getpwuid(getuid());
    return std::string("cli:") + (pw ? pw->pw_name : "user");
}

// What control_cli.run reads from the command line.
json request_of(const Args& a) {
    bool resume = a.command == "resume" || a.command == "run";  // run --resume
    json req{{"command", resume ? "resume" : a.command}, {"by", caller(a)}};
    std::string session = a.get("session");
    if (a.command == "resume" && !a.positional.empty()) session = a.positional[0];
    if (!session.empty()) req["session"] = session;
    if (resume) {
        // --NAME or --NAME=true|false (the parser refused any other value)
        for (const char* flag : {"auto-approve", "no-input"}) {
            std::string key = flag;
            key[key.find('-')] = '_';
            if (a.has(flag)) req[key] = a.get(flag) != "false";
        }
        if (a.has("max-concurrent")) req["max_concurrent"] = std::stoi(a.get("max-concurrent"));
        return req;
    }
    std::string text = a.get("note");
    if (a.command == "answer") {  // its words are the answer; the others' one word is the task
        for (auto& p : a.positional) text += (text.empty() ? "" : " ") + p;
        if (text.empty()) throw BadRequest("answer: TEXT is required (the answer's words)");
    } else if (!a.positional.empty()) {
        req["task"] = a.positional[0];
    }
    req["text"] = text;
    if (a.has("task")) {
        if (req.contains("task") && req["task"] != a.get("task"))
            throw BadRequest(a.command + ": two tasks named, " + req["task"].get<std::string>() + " and --task " +
                             a.get("task") + ": name one");
        req["task"] = a.get("task");
    }
    if (a.has("request")) req["request"] = a.get("request");
    return req;
}

}  // namespace

int cmd_control(const Args& a) {
    json req;
    try {
        req = request_of(a);
    } catch (const BadRequest& e) {
        fprintf(stderr, "orch-host %s\nsee orch-host %s --help\n", e.what(), a.command.c_str());
        return k_exit_bad_input;
    }
    auto rt = make_runtime(a, Services::Full);
    json r = rt->vm->call("lib.control_cli", "run", req);
    const json& run = r.value("run", json::object());
    if (run.contains("workflow")) {
        return run_workflow(*rt, resolve_workflow_path(rt->app, run["workflow"].get<std::string>()),
                            run.value("args", json::object()));
    }
    int exit = r.value("exit", static_cast<int>(k_exit_bad_input));
    std::string message = r.value("message", std::string());
    fprintf(exit == k_exit_ok ? stdout : stderr, "%s\n", message.c_str());
    return exit;
}

int cmd_resume(const Args& a) { return cmd_control(a); }

}  // namespace orch
