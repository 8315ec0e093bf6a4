// Runs `claude -p --output-format stream-json --verbose ...` through
// ProcessRun: writes the raw stream to the task's output log, parses each
// line, hands events to a callback, and summarises the final result the way
// a run is judged: exit 0 AND is_error false AND no permission denials.
// Lua-free: options and results are JSON-shaped.
#pragma once
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace orch {

class Loop;
class Reaper;
class ProcessRun;

struct ClaudeOptions {
    std::string binary;            // resolved path or name
    std::string prompt;
    std::string cwd;
    std::string model;
    std::string permission_mode;
    std::string append_system_prompt;
    std::string resume;
    std::string allowed_tools;     // comma separated
    std::string disallowed_tools;  // comma separated
    std::vector<std::string> extra_args;
    std::vector<std::string> env;  // "K=V"
    std::string log_path;          // raw stream goes here ("" = none)
    std::string agent_tag;         // "K=V" unique per run, for tree kills (process.h agent_tag)
    std::vector<std::string> event_types;  // stream types on_event wants ({} = all); result/system always parsed
    double timeout = 0;
    double stall_timeout = 0;      // no stream line for this long stops the tree (result: stalled); 0 = off
    double kill_grace = 3.0;
    int max_turns = 0;
    int nice = 0;                  // the agent's niceness above the host's (SpawnSpec::nice)
    long long max_log_bytes = 64ll << 20;
};

std::vector<std::string> claude_argv(const ClaudeOptions& o);

class ClaudeRun {
public:
    // on_event gets each parsed stream line; returning a non-empty string stops
    // the agent as a policy violation with that reason.
    using EventFn = std::function<std::string(const nlohmann::json& ev)>;
    using DoneFn = std::function<void(nlohmann::json result)>;

    // Throws std::runtime_error when claude cannot be started.
    static std::shared_ptr<ClaudeRun> start(Loop& loop, Reaper& reaper, ClaudeOptions opts,
                                            EventFn on_event, DoneFn on_done);
    void cancel(const std::string& reason);

    struct State;

private:
    std::shared_ptr<State> st_;
};

}  // namespace orch
