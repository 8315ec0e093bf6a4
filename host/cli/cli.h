// Command-line commands. Each returns the process exit code (app.h ExitCode).
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace orch {

// A command line as the command table (cli/args.cpp) read it.
struct Args {
    std::string command;
    int (*run)(const Args&) = nullptr;  // the command's cmd_* function
    std::vector<std::string> positional;
    // each given option by its first long name: {"limit", "5"}; a flag's value
    // is "true" (or "false" for --auto-approve=false and --no-input=false)
    std::vector<std::pair<std::string, std::string>> options;
    bool has(const std::string& name) const;
    std::string get(const std::string& name, const std::string& dflt = "") const;
};

// Reads argv against the command table into `out`. Returns an exit code when
// the parse ends the run, having printed what it had to: the help or the
// version (0), an error naming the unknown flag, missing or bad value or
// extra argument, with a hint (2); nullopt when `out.run` should run.
std::optional<int> parse_args(int argc, char** argv, Args& out);

int cmd_run(const Args& a);
int cmd_resume(const Args& a);
int cmd_control(const Args& a);  // approve | skip | pause | answer
int cmd_status(const Args& a);
int cmd_doctor(const Args& a);
int cmd_tail_events(const Args& a);
int cmd_logs(const Args& a);
int cmd_test(const Args& a);
int cmd_sessions(const Args& a);
int cmd_report(const Args& a);
int cmd_check(const Args& a);  // cli/check.cpp
int cmd_serve(const Args& a);
int cmd_watch(const Args& a);  // the task inbox in the foreground (run.cpp)
int cmd_clean(const Args& a);  // clean worktrees | artifacts
struct Runtime;
int clean_artifacts(Runtime& rt, const Args& a);  // cli/artifacts.cpp, from cmd_clean (no services)
int cmd_validate_artifacts(const Args& a);  // cli/artifacts.cpp
int cmd_hook(const Args& a);   // hook pre-tool-use: an agent's tool call, asked of the policy
int cmd_create_sample(const Args& a);  // create-sample: the sample inbox task file

// Shared set-up
std::string find_root(const Args& a);
std::string mask_secret(const std::string& v);

}  // namespace orch
