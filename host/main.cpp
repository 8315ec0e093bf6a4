// orch-host: argument parsing and dispatch only.
#include "app.h"
#include "cli/cli.h"
#include "services/store.h"

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace {

const char* k_usage = R"(orch-host %s: run Lua workflows that drive Claude Code agents

Usage: orch-host <command> [options]

  run [WORKFLOW] [--tasks FILE] [--auto-approve] [--no-input]
                        run a workflow (default daily.lua, looked up in workflows/)
  serve [--host H] [--port N]
                        the webhook server, Telegram bot and schedules (workflows/serve.lua);
                        sessions started remotely run inside it
  resume [SESSION] [--auto-approve[=false]] [--no-input[=false]]
                        continue a paused or interrupted session with the flags it was
                        started with, unless given again (also: run --resume)
  status [SESSION] [--json]
                        the session, each task's state, durations, cost, tokens
  sessions [--json]     recent sessions
  approve | skip | pause [--session ID] [--by NAME]
                        decide for a waiting session, from any shell
  answer TEXT           answer an agent's question
  tail-events [--task ID] [--lines N] [--follow]
                        the NDJSON event stream
  logs [--lines N] [--follow]
                        today's daily log
  doctor                effective config, claude CLI, folders, database health
  test SPEC.lua...      run Lua specs inside the host
  version

Global options: --root DIR (project folder), --config FILE (default workflows/config.lua)
Exit codes: 0 done, 1 tasks failed, 2 bad input, 3 paused, 4 another run is active, 5 state error
)";

}  // namespace

int main(int argc, char** argv) {
    using namespace orch;
    Args a;
    try {
        a = parse_args(argc, argv);
    } catch (const std::exception& e) {
        fprintf(stderr, "orch-host: %s\n", e.what());
        return k_exit_bad_input;
    }
    const std::string& c = a.command;
    if (c.empty() || c == "help" || a.has("help")) {
        printf(k_usage, ORCH_VERSION);
        return c.empty() && !a.has("help") ? k_exit_bad_input : k_exit_ok;
    }
    if (c == "version" || a.has("version")) {
        printf("orch-host %s\n", ORCH_VERSION);
        return k_exit_ok;
    }
    try {
        if (c == "run") return cmd_run(a);
        if (c == "resume") return cmd_resume(a);
        if (c == "status") return cmd_status(a);
        if (c == "sessions") return cmd_sessions(a);
        if (c == "approve" || c == "skip" || c == "pause" || c == "answer") return cmd_control(a);
        if (c == "tail-events") return cmd_tail_events(a);
        if (c == "logs") return cmd_logs(a);
        if (c == "doctor") return cmd_doctor(a);
        if (c == "test") return cmd_test(a);
        if (c == "serve") return cmd_serve(a);
    } catch (const StoreError& e) {
        fprintf(stderr, "orch-host: %s\n", e.what());
        return k_exit_state_error;
    } catch (const std::exception& e) {
        fprintf(stderr, "orch-host: %s\n", e.what());
        return k_exit_bad_input;
    }
    fprintf(stderr, "orch-host: unknown command '%s' (see orch-host help)\n", c.c_str());
    return k_exit_bad_input;
}
