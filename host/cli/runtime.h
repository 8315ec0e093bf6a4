// The parts a command needs: App + Vm with the config loaded, services open.
#pragma once
#include "app.h"
#include "cli/cli.h"
#include "lua/vm.h"
#include "services/run_lock.h"

#include <memory>

namespace orch {

struct Runtime {
    App app;
    std::unique_ptr<Vm> vm;
    std::string config_file;
};

enum class Services { None, ReadOnly, Full };

// Throws std::runtime_error (config errors name the file and field).
std::unique_ptr<Runtime> make_runtime(const Args& a, Services services);
// Read-only services, or none when nothing has run yet (no database file):
// the commands that only read the state (status, sessions, report).
std::unique_ptr<Runtime> read_only_runtime(const Args& a);

std::string lock_path(const App& app);
// --tasks FILE as a workflow gets it: absolute; a relative one from the cwd
// when it is there, else from the project root (run, check)
std::string tasks_path(const App& app, const std::string& file);
// a switch such as --auto-approve: given alone or =true is true, =false false (cli/run.cpp)
bool flag(const Args& a, const std::string& name, bool dflt);

// Every command (make_runtime): stop the agents a crashed host of this state
// left running, unless a live host holds the run lock.
void stop_leftover_agents(App& app);
// Shared by run and serve (run.cpp), with the run lock held: become the
// agents' subreaper, withdraw the approvals a crashed host left pending,
// retry undelivered notifications first.
void recover_after_crash(App& app);

// Runs the workflow file at `workflow_path` with `args` under the run lock (a
// second host is refused, exit 4), until it ends; its exit code (run.cpp).
int run_workflow(Runtime& rt, const std::string& workflow_path, nlohmann::json args);
// Give queued notifications up to notify.flush_seconds to go out.
void flush_outbox(App& app);
// workflows/<name>[.lua] under the project, or a path relative to it (vm.cpp).
std::string resolve_workflow_path(const App& app, const std::string& name);

// A command's answer, as its Lua returns it: {exit=, out=, err=}. out goes to
// stdout when exit is 0 or err says what failed (the rest was done), else to
// stderr; each line of err to stderr after "orch-host CMD: "; an answer with
// no exit (the Lua failed) is that error, exit 2. Returns the exit code.
int print_answer(const nlohmann::json& r, const std::string& cmd);
// A text for stdout as Vm::call hands it over (the whole of a Lua string, or
// a text source's pieces: a 10,000-task `status --json` is 8 MB).
void print_out(std::string_view text);

// components.cpp: `exe arg` with a 20 s limit, its output (stderr too) without
// the last newline; "" when it cannot run.
std::string run_capture(const std::string& exe, const std::string& arg);
// {name, exe ("" when not found), version}: claude.path looked up on PATH and asked --version.
nlohmann::json claude_component(const App& app);
// Prints the rows of workflows/lib/components_cli.lua (args: {claude=} to
// include the CLI) under the current heading; the number of FAIL rows.
int print_components(Runtime& rt, const nlohmann::json& args);

}  // namespace orch
