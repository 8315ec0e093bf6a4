// orch-host doctor: the effective config (secrets masked) and where each
// value came from, whether claude is found and its version, the folders, and
// the state database's health. Exit 1 when something needs fixing.
#include "cli/runtime.h"

#include "services/journal.h"
#include "services/process.h"
#include "services/store.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>

namespace orch {

using json = nlohmann::json;

namespace {

bool secret_key(const std::string& k) {
    for (const char* s : {"secret", "token", "password", "api_key", "apikey"})
        if (k.find(s) != std::string::npos) return true;
    return false;
}

void print_config(const json& j, const std::string& prefix, const json& sources,
                  const std::map<std::string, std::string>& from_dotenv) {
    for (auto& [k, v] : j.items()) {
        if (k == "_sources") continue;
        std::string key = prefix.empty() ? k : prefix + "." + k;
        if (v.is_object() && !v.empty()) {
            print_config(v, key, sources, from_dotenv);
            continue;
        }
        std::string shown = v.is_string() ? v.get<std::string>() : v.dump();
        if (secret_key(k) && v.is_string()) shown = v.get<std::string>().empty() ? "(not set)" : mask_secret(shown);
        std::string src = sources.contains(key) ? sources[key].get<std::string>() : "default";
        if (src.rfind("env ", 0) == 0 && from_dotenv.count(src.substr(4))) src += " (.env)";
        printf("  %-34s %-40s %s\n", key.c_str(), shown.c_str(), src.c_str());
    }
}

// the first credential of the environment claude reads, masked: "ANTHROPIC_API_KEY sk****cd"
std::string credential() {
    for (const char* name : {"ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_AUTH_TOKEN"}) {
        const char* v = getenv(name);
        if (v && *v) return std::string(name) + " " + mask_secret(v) + " (from the environment)";
    }
    return "";
}

// Whether a `claude --version` answer ("2.1.197 (Claude Code)") is a version
// whose PreToolUse hooks were seen to fire in -p mode: 2.1.197 (the pinned
// one) and 2.1.332 were; older ones were not checked.
bool hooks_checked(const std::string& version) {
    int a = 0, b = 0, c = 0;
    if (sscanf(version.c_str(), "%d.%d.%d", &a, &b, &c) != 3) return false;
    return std::make_tuple(a, b, c) >= std::make_tuple(2, 1, 197);
}

// the folder of the state database (the agents' folders are under it)
std::string paths_dir(const App& app) {
    std::string db = app.state_db_path();
    auto slash = db.rfind('/');
    return slash == std::string::npos ? "." : db.substr(0, slash);
}

// " (changed <local time>)" from the file's mtime, or " (none)"
std::string changed_at(const std::string& path) {
    FileStamp st = stamp_of(path);
    if (!st.exists) return " (none)";
    return " (changed " + iso_time(static_cast<double>(st.mtime_ns) / 1e9) + ")";
}

bool writable_dir(const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && access(p.c_str(), W_OK) == 0;
}

}  // namespace

int cmd_doctor(const Args& a) {
    auto rt = make_runtime(a, Services::None);
    App& app = rt->app;
    int problems = 0;
    auto check = [&](bool ok, const std::string& what, const std::string& detail) {
        printf("  %s %-22s %s\n", ok ? "ok  " : "FAIL", what.c_str(), detail.c_str());
        if (!ok) ++problems;
    };
    printf("orch-host %s\n\nProject\n", ORCH_VERSION);
    check(true, "root", app.root);
    // when they last changed: a running host picks a change up before its
    // next task (orch.reload_config; its daily log says "config reloaded")
    check(true, "config", app.config_files.config_path() + changed_at(app.config_files.config_path()));
    check(true, ".env", app.config_files.dotenv_path() + changed_at(app.config_files.dotenv_path()));
    printf("\nEffective config (secrets masked)\n");
    json whole = rt->vm->config_json();
    print_config(whole, "", whole.value("_sources", json::object()), app.config_files.owned());

    printf("\nClaude CLI\n");
    // the binary and its version: lib/components' row, as status shows it
    auto claude = app.config().value("claude", json::object());
    json found = claude_component(app);
    problems += print_components(*rt, json{{"claude", found}, {"ollama", false}});
    std::string v = found.value("version", std::string());
    if (!v.empty()) {
        bool fires = hooks_checked(v);
        printf("  %s %-22s %s\n", fires ? "ok  " : "note", "PreToolUse hook",
               fires ? "fires in -p mode (checked with 2.1.197 and 2.1.332): tool calls are asked before they run"
                     : "not checked with this version: forbidden tool calls are stopped in the stream, "
                       "after they started");
    }
    std::string cred = credential();
    printf("  %s %-22s %s\n", cred.empty() ? "note" : "ok  ", "credentials",
           cred.empty() ? "none in the environment (ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN): agents run with "
                          "config dirs of their own, which hold no login"
                        : cred.c_str());
    printf("  %s %-22s %s\n", "ok  ", "agent config dirs",
           (app.path_from_root(paths_dir(app)) + "/agents/<session>-<task> (CLAUDE_CONFIG_DIR, one per task)")
               .c_str());

    printf("\nLocal model (Ollama)\n");
    problems += print_components(*rt, json::object());

    printf("\nSchedules\n");  // lib/schedule's check, the one serve runs before it starts them
    problems += print_components(*rt, json{{"ollama", false}, {"schedules", true}});

    printf("\nFolders\n");
    auto paths = app.config().value("paths", json::object());
    for (const char* k : {"tasks_dir", "logs_dir", "results_dir", "summaries_dir", "questions_dir", "feedback_dir"}) {
        std::string p = app.path_from_root(paths.value(k, std::string()));
        if (p.empty()) continue;
        struct stat st;
        bool exists = stat(p.c_str(), &st) == 0;
        check(!exists || writable_dir(p), k, p + (exists ? "" : " (created on first use)"));
    }
    std::string cwd = app.path_from_root(claude.value("base_cwd", std::string(".")));
    check(writable_dir(cwd), "claude.base_cwd", cwd);

    printf("\nState database\n");
    std::string db = app.path_from_root(paths.value("state_db", std::string("state/orch.db")));
    struct stat st;
    if (stat(db.c_str(), &st) != 0) {
        check(true, "state_db", db + " (created on first run)");
    } else {
        try {
            Store store(db, true);
            std::string ic = store.integrity_check();
            check(ic == "ok", "integrity", ic);
            check(true, "schema", "version " + std::to_string(store.schema_version()));
            check(true, "sessions", std::to_string(store.list_sessions(1000).size()));
            check(true, "outbox pending", std::to_string(store.outbox_pending()));
            long long dead = store.outbox_dead_count();
            printf("  %s %-22s %s\n", dead ? "note" : "ok  ", "outbox dead",
                   dead ? (std::to_string(dead) + " notification(s) a sink refused for good; the newest:").c_str() : "0");
            for (auto& d : store.outbox_dead(3))
                printf("       #%lld to %s: %s\n", d.value("id", 0LL), d.value("sink", std::string()).c_str(),
                       d.value("last_error", std::string()).substr(0, 160).c_str());
        } catch (const std::exception& e) {
            check(false, "state_db", e.what());
        }
    }
    RunLock probe(lock_path(app));
    printf("  %s %-22s %s\n", "ok  ", "run lock", probe.held_by_other() ? ("held: " + probe.holder()).c_str() : "free");
    printf("\n%s\n", problems ? "Some checks failed." : "All checks passed.");
    return problems ? k_exit_task_failures : k_exit_ok;
}

}  // namespace orch
