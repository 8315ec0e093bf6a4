// Command-line commands. Each returns the process exit code (app.h ExitCode).
#pragma once
#include <string>
#include <vector>

namespace orch {

struct Args {
    std::string command;
    std::vector<std::string> positional;
    std::vector<std::pair<std::string, std::string>> options;  // --name[=value]
    bool has(const std::string& name) const;
    std::string get(const std::string& name, const std::string& dflt = "") const;
};

Args parse_args(int argc, char** argv);  // throws std::runtime_error on bad usage

struct Context;  // root, config path: see cli_common.cpp

int cmd_run(const Args& a);
int cmd_resume(const Args& a);
int cmd_control(const Args& a);  // approve | skip | pause | answer
int cmd_status(const Args& a);
int cmd_doctor(const Args& a);
int cmd_tail_events(const Args& a);
int cmd_logs(const Args& a);
int cmd_test(const Args& a);
int cmd_sessions(const Args& a);
int cmd_serve(const Args& a);

// Shared set-up
std::string find_root(const Args& a);
void load_dotenv(const std::string& path);  // throws with file:line on bad lines
std::string mask_secret(const std::string& v);

}  // namespace orch
