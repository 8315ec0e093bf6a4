// orch-host hook pre-tool-use: the command claude runs before each tool call
// of an agent (lib/agent_env writes it into the agent's --settings). Reads
// the hook's JSON on stdin, runs workflows/lib/hook_cli.lua as a task (the
// policy: lib/safety's rules, the tool_blocked event) and exits with what it
// returns: 0 lets the tool run, 2 blocks it with the message on stderr (claude
// gives it to the agent). Every failure here blocks too: a hook that cannot
// ask the policy must not let the call through. No run lock: it runs inside
// a live host's agent.
#include "cli/runtime.h"

#include "services/journal.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

namespace orch {

using json = nlohmann::json;

namespace {

constexpr int k_block = 2;                        // claude's "blocking error" exit code
constexpr size_t k_max_input = 64u * 1024 * 1024;  // a Write's whole content comes in

std::string env_or_empty(const char* name) {
    const char* v = getenv(name);
    return v ? v : "";
}

int block(const std::string& why) {
    fprintf(stderr, "orch-host hook: %s (the tool call is blocked)\n", why.c_str());
    return k_block;
}

}  // namespace

int cmd_hook(const Args& a) {
    std::string which = a.positional.empty() ? "" : a.positional[0];
    if (which != "pre-tool-use") return block("unknown hook '" + which + "' (known: pre-tool-use)");
    try {
        std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
        if (text.size() > k_max_input) return block("stdin: more than 64 MB");
        json event = json::parse(text, nullptr, false);
        if (event.is_discarded() || !event.is_object()) return block("stdin: not a JSON object");
        auto rt = make_runtime(a, Services::Full);
        App& app = rt->app;
        json req{{"event", std::move(event)}};
        std::string session = env_or_empty("ORCH_SESSION_ID"), task = env_or_empty("ORCH_TASK_ID");
        if (!session.empty()) req["session"] = session;
        if (!task.empty()) req["task"] = task;
        int id = rt->vm->start_workflow(resolve_workflow_path(app, "workflows/lib/hook_cli.lua"), req);
        app.loop.run([&] { return !rt->vm->task_running(id); });
        json r = rt->vm->task_result(id);
        if (app.journal) app.journal->flush();
        if (!r.is_object() || !r.contains("exit"))
            return block(r.is_object() && r.contains("error") ? r["error"].dump() : "the policy gave no answer");
        int exit = r.value("exit", k_block);
        std::string msg = r.value("message", std::string());
        if (!msg.empty()) fprintf(stderr, "%s\n", msg.c_str());
        return exit == 0 ? 0 : k_block;
    } catch (const std::exception& e) {
        return block(e.what());
    }
}

}  // namespace orch
