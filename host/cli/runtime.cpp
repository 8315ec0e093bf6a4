#include "cli/runtime.h"

#include "services/file_write.h"
#include "services/journal.h"
#include "services/store.h"

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace orch {

std::unique_ptr<Runtime> make_runtime(const Args& a, Services services) {
    auto rt = std::make_unique<Runtime>();
    App& app = rt->app;
    app.root = find_root(a);
    struct stat st;
    app.scripts_dir = stat((app.root + "/scripts/orch/init.lua").c_str(), &st) == 0
                          ? app.root + "/scripts"
                          : std::string(ORCH_SOURCE_DIR) + "/scripts";
    rt->config_file = a.get("config", "workflows/config.lua");
    app.config_files.init(app.root + "/.env", app.path_from_root(rt->config_file), a.has("config"));
    app.config_files.load_dotenv();
    rt->vm = std::make_unique<Vm>(app);
    rt->vm->load_config(app.path_from_root(rt->config_file), a.has("config"));
    if (services != Services::None) app.open_services(services == Services::ReadOnly);
    stop_leftover_agents(app);
    return rt;
}

std::unique_ptr<Runtime> read_only_runtime(const Args& a) {
    auto rt = make_runtime(a, Services::None);
    if (access(rt->app.state_db_path().c_str(), F_OK) == 0) rt->app.open_services(true);
    return rt;
}

int print_answer(const nlohmann::json& r, const std::string& cmd) {
    if (!r.is_object() || !r.contains("exit")) {
        std::string why = "no result";
        if (auto e = r.find("error"); e != r.end())  // (end() for a value that is no object)
            why = e->is_string() ? e->get<std::string>() : e->dump();
        fprintf(stderr, "orch-host %s: %s\n", cmd.c_str(), why.c_str());
        return k_exit_bad_input;
    }
    int exit = r["exit"].is_number_integer() ? r["exit"].get<int>() : static_cast<int>(k_exit_bad_input);
    std::string err = r.value("err", std::string());
    if (auto it = r.find("out"); it != r.end() && it->is_string()) {
        const std::string& out = it->get_ref<const std::string&>();
        FILE* to = exit == k_exit_ok || !err.empty() ? stdout : stderr;
        fputs(out.c_str(), to);
        if (!out.empty() && out.back() != '\n') fputc('\n', to);
    }
    std::istringstream lines(err);
    for (std::string line; std::getline(lines, line);) fprintf(stderr, "orch-host %s: %s\n", cmd.c_str(), line.c_str());
    return exit;
}

// A piece of 4 KB or more goes to fd 1 in one write(2) after what stdio
// holds: through stdio, each went out as 4 KB writes and the rest (272 writes
// for a 10,000-task status, not 136). A failed write is dropped, as fwrite's was.
void print_out(std::string_view text) {
    if (text.size() < 4096) {
        fwrite(text.data(), 1, text.size(), stdout);
        return;
    }
    fflush(stdout);
    (void)write_all(STDOUT_FILENO, text.data(), text.size());
}

std::string lock_path(const App& app) { return run_lock_path(app.state_db_path()); }

std::string tasks_path(const App& app, const std::string& file) {
    if (!file.empty() && file[0] == '/') return file;
    // there from here: made absolute, a symlink kept as one (its name, not
    // its target's, picks the parser; the inbox's rules see the link)
    std::error_code ec;
    if (std::filesystem::exists(file, ec)) {
        auto abs = std::filesystem::absolute(file, ec);
        if (!ec) return abs.lexically_normal().string();
    }
    return app.root + "/" + file;
}

// A host of this state that died (kill -9, OOM) may have left its agents'
// escaped children at work: every command that starts on the state stops
// them. Not while the run lock is held: its owner is alive and these are its
// agents. (Only tags whose host is gone count, so a run that takes the lock
// meanwhile is safe too.)
void stop_leftover_agents(App& app) {
    RunLock probe(lock_path(app));
    // the /proc scan only after a host died holding the lock: every command
    // runs this, and a clean end leaves no note
    if (probe.held_by_other() || probe.holder().empty()) return;
    int n = kill_orphaned_agents(app.state_db_path());
    probe.clear_if_free();
    if (n == 0) return;
    std::string msg = "stopped " + std::to_string(n) + " agent process(es) left by a host that died";
    if (app.journal) app.journal->log("warn", msg);
    else fprintf(stderr, "orch-host: %s\n", msg.c_str());
}

}  // namespace orch
