#include "app.h"

#include "services/file_write.h"
#include "services/http_client.h"
#include "services/journal.h"
#include "services/outbox.h"
#include "services/process.h"
#include "services/store.h"

#include <filesystem>
#include <nlohmann/json.hpp>

namespace orch {

namespace fs = std::filesystem;

App::App() : config_(std::make_unique<nlohmann::json>(nlohmann::json::object())) {}

App::~App() {
    outbox.reset();
    files.reset();  // the queued writes land, before the loop goes away
    http.reset();  // joins workers before the loop goes away
    journal.reset();
    store.reset();
}

namespace {

// The sinks of notify.sinks, as scripts/orch/config().lua resolved them (the
// n8n and telegram.chat_id defaults among them): the host needs each one's
// name and secret only; Lua builds the requests (scripts/orch/notify.lua).
void add_sinks(Outbox& outbox, const nlohmann::json& config) {
    auto notify = config.value("notify", nlohmann::json::object());
    auto interval = notify.find("progress_interval");
    if (interval != notify.end() && interval->is_number()) outbox.set_progress_interval(interval->get<double>());
    auto attempts = notify.find("max_attempts");
    if (attempts != notify.end() && attempts->is_number()) outbox.set_max_attempts(attempts->get<long long>());
    auto sinks = notify.find("sinks");
    if (sinks == notify.end() || !sinks->is_object()) return;
    for (auto& [name, spec] : sinks->items()) {
        Sink sink;
        if (spec.is_object() && spec.contains("secret") && spec["secret"].is_string())
            sink.secret = spec["secret"].get<std::string>();
        outbox.add_sink(name, std::move(sink));
    }
}

}  // namespace

std::string App::find_program(const std::string& name) const {
    std::string exe = find_executable(name);
    if (!exe.empty() || name.empty() || name.find('/') != std::string::npos) return exe;
    return find_executable(root + "/.deps/npm/node_modules/.bin/" + name);
}

std::string App::path_from_root(const std::string& p) const {
    if (p.empty() || p[0] == '/') return p;
    return root + "/" + p;
}

std::string App::state_db_path() const {
    std::string db = "state/orch.db";
    auto paths = config().find("paths");
    if (paths != config().end() && paths->is_object()) db = paths->value("state_db", db);
    db = path_from_root(db);
    if (db != state_db_given_) {
        std::error_code ec;
        auto canon = fs::weakly_canonical(db, ec);
        state_db_resolved_ = ec ? db : canon.string();
        state_db_given_ = db;
    }
    return state_db_resolved_;
}

std::string App::next_agent_tag(const std::string& kind) {
    // once: the path's canonical spelling costs a stat and a readlink per part
    if (tag_state.empty()) tag_state = state_db_path();
    return agent_tag(kind + std::to_string(++run_serial), tag_state);
}

void App::open_services(bool read_only_store) {
    auto paths = config().value("paths", nlohmann::json::object());
    std::string db = state_db_path();
    std::string logs = path_from_root(paths.value("logs_dir", std::string("logs")));
    std::error_code ec;
    if (!read_only_store) {
        fs::create_directories(fs::path(db).parent_path(), ec);
        fs::create_directories(logs, ec);
    }
    store = std::make_unique<Store>(db, read_only_store, /*defer=*/true);  // opened at its first use
    if (!read_only_store) {
        auto log = config().value("log", nlohmann::json::object());
        MainLogSize main_log;
        main_log.max_bytes = static_cast<size_t>(log.value("main_log_kb", 1024.0) * 1024);
        main_log.files = static_cast<size_t>(log.value("main_log_files", 3.0));
        journal = std::make_unique<Journal>(logs, store.get(), false, main_log);
        journal->set_file_level(log.value("level", std::string("info")));
        // Event rows outside a transaction wait up to 0.2 s for one: a fast
        // task's claude_started and agent_tool rows then commit with its
        // task_finished instead of in two commits of their own.
        journal->set_flush_scheduler([this] {
            loop.add_timer(0.2, [this] {
                try {
                    journal->flush();
                } catch (const std::exception& e) {
                    journal->log("error", std::string("recording events: ") + e.what());
                }
            });
        });
        http = std::make_unique<HttpWorkers>(loop, 2);
        outbox = std::make_unique<Outbox>(loop, *store, *http, *journal);
        add_sinks(*outbox, config());
    }
}

}  // namespace orch
