// The host's parts, wired once per process by main.cpp. Lua-free: the Lua
// layer (host/lua/) reaches services through this struct.
#pragma once
#include "loop/loop.h"
#include "services/config_files.h"
#include "services/process.h"

#include <memory>
#include <set>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace orch {

class Store;
class Journal;
class HttpWorkers;
class FileWriter;
class Outbox;

enum ExitCode {
    k_exit_ok = 0,
    k_exit_task_failures = 1,
    k_exit_bad_input = 2,
    k_exit_paused = 3,
    k_exit_locked = 4,
    k_exit_state_error = 5,
    k_exit_interrupted = 130,
};

struct App {
    App();
    ~App();

    std::string root;             // project folder holding workflows/ and scripts/
    std::string scripts_dir;      // where scripts/orch/*.lua live
    Loop loop;
    Reaper reaper{loop};
    std::unique_ptr<Store> store;
    std::unique_ptr<Journal> journal;
    std::unique_ptr<HttpWorkers> http;
    std::unique_ptr<FileWriter> files;  // orch.write_file's off_loop writes, made on first use
    std::unique_ptr<Outbox> outbox;
    // The effective config's sections the host reads (Vm::load_config); an
    // object. Behind a pointer so that app.h does not bring json.hpp along.
    nlohmann::json& config() const { return *config_; }
    ConfigFiles config_files;     // .env and the config file: what a reload (orch.reload_config) looks at
    bool interactive = false;     // stdin and stdout are terminals and prompts are allowed
    bool interrupted = false;     // SIGINT/SIGTERM seen
    std::string control_session;  // the session this process drives (event tags; `run`)
    std::uint64_t run_serial = 0; // makes agent tags unique
    std::string tag_state;        // state_db_path() for agent tags, found at the first agent
    std::string state_error;      // a state database failure seen inside Lua (exit 5)
    mutable std::string state_db_given_, state_db_resolved_;  // state_db_path's last answer
    std::unique_ptr<nlohmann::json> config_;

    // Opens store, journal, outbox from the config's paths. Throws on failure.
    void open_services(bool read_only_store = false);
    std::string path_from_root(const std::string& p) const;
    // A program by name: as given when it has a '/', else on PATH, else the
    // copy scripts/ installed for the project (.deps/npm/node_modules/.bin:
    // the pinned claude). "" when none is there.
    std::string find_program(const std::string& name) const;
    // paths.state_db, absolute and without symlinks or "..": one spelling per database.
    // Resolved once per configured path (the loop thread's; each call resolved it anew).
    std::string state_db_path() const;
    // The environment tag of the next process this host starts (process.h agent_tag).
    std::string next_agent_tag(const std::string& kind);
};

}  // namespace orch
