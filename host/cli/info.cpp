// orch-host status [--json] [SESSION] | sessions [--json] | tail-events | logs
#include "cli/runtime.h"

#include "services/file_write.h"
#include "services/journal.h"

#include <cstdio>
#include <deque>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>

namespace orch {

using json = nlohmann::json;

namespace {

// lib.status_cli's answer {exit=, out= | err=}: out is written as it is,
// from the Lua string itself or in pieces as a text source writes them
// (a 10,000-task status is 8 MB: Vm::call), err after
// "orch-host CMD: " on stderr; its exit code.
// A piece of 4 KB or more (the text source's are 64 KB) goes to fd 1 in one
// write(2) after what stdio holds: through stdio, each went out as a 4 KB
// write and the rest (272 writes for a 10,000-task status, not 136). A
// failed write is dropped, as fwrite's was.
void print_out(std::string_view text) {
    if (text.size() < 4096) {
        fwrite(text.data(), 1, text.size(), stdout);
        return;
    }
    fflush(stdout);
    (void)write_all(STDOUT_FILENO, text.data(), text.size());
}

int print_answer(const json& r, const std::string& cmd) {
    std::string err = r.value("err", std::string());
    if (!err.empty()) fprintf(stderr, "orch-host %s: %s\n", cmd.c_str(), err.c_str());
    return r.value("exit", static_cast<int>(k_exit_bad_input));
}

}  // namespace

// Mechanism only: workflows/lib/status_cli.lua builds the view (lib/control's
// status, the webhook's) and the text (lib/format_status); a state database
// failure inside it is exit 5 (Vm::call).
int cmd_status(const Args& a) {
    auto rt = read_only_runtime(a);
    json req{{"command", "status"}, {"json", a.has("json")}, {"state", rt->app.store != nullptr}};
    std::string sid = a.positional.empty() ? a.get("session") : a.positional[0];
    if (!sid.empty()) req["session"] = sid;
    int exit = print_answer(rt->vm->call("lib.status_cli", "run", req, print_out), "status");
    if (exit != k_exit_ok || a.has("json")) return exit;
    printf("\nComponents\n");
    print_components(*rt, json{{"claude", claude_component(rt->app)}});
    return exit;
}

int cmd_sessions(const Args& a) {
    auto rt = read_only_runtime(a);
    json req{{"command", "sessions"},
             {"json", a.has("json")},
             {"state", rt->app.store != nullptr},
             {"limit", std::stoi(a.get("limit", "20"))}};
    return print_answer(rt->vm->call("lib.status_cli", "run", req, print_out), "sessions");
}

namespace {

void tail_file(const std::string& path, size_t lines, const std::string& filter_task, bool follow) {
    std::ifstream f(path);
    if (!f) throw std::runtime_error(path + ": no such file (nothing logged yet)");
    std::deque<std::string> last;
    std::string line;
    auto keep = [&](const std::string& l) {
        if (filter_task.empty()) return true;
        json j = json::parse(l, nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("task")) return false;
        const json& t = j["task"];
        return (t.is_string() ? t.get<std::string>() : t.dump()) == filter_task;
    };
    while (std::getline(f, line)) {
        if (!keep(line)) continue;
        last.push_back(line);
        if (last.size() > lines) last.pop_front();
    }
    for (auto& l : last) printf("%s\n", l.c_str());
    fflush(stdout);
    if (!follow) return;
    f.clear();
    for (;;) {
        while (std::getline(f, line)) {
            if (f.eof()) break;  // partial line: wait for the rest
            if (keep(line)) printf("%s\n", line.c_str());
        }
        fflush(stdout);
        f.clear();
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
}

}  // namespace

int cmd_tail_events(const Args& a) {
    auto rt = make_runtime(a, Services::None);
    std::string logs = rt->app.path_from_root(
        rt->app.config().value("paths", json::object()).value("logs_dir", std::string("logs")));
    tail_file(logs + "/events.ndjson", std::stoul(a.get("lines", "20")), a.get("task"), a.has("follow"));
    return k_exit_ok;
}

int cmd_logs(const Args& a) {
    auto rt = make_runtime(a, Services::None);
    std::string logs = rt->app.path_from_root(
        rt->app.config().value("paths", json::object()).value("logs_dir", std::string("logs")));
    Journal probe(logs, nullptr, false);
    tail_file(probe.daily_log_path(), std::stoul(a.get("lines", "30")), "", a.has("follow"));
    return k_exit_ok;
}

}  // namespace orch
