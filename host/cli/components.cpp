// The components doctor and status report: the claude CLI and its version
// (found here), Ollama and the path requests and summaries take (worded by
// workflows/lib/components.lua, run as a task: its probe goes through
// orch.http, which needs the HTTP workers even in the commands that open no
// services).
#include "cli/runtime.h"

#include "services/http_client.h"
#include "services/process.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace orch {

using json = nlohmann::json;

std::string run_capture(const std::string& exe, const std::string& arg) {
    std::string cmd = "timeout 20 '" + exe + "' " + arg + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return "";
    std::array<char, 512> buf{};
    std::string out;
    while (fgets(buf.data(), buf.size(), p)) out += buf.data();
    int rc = pclose(p);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    if (rc != 0) return "";  // a script whose interpreter is missing prints an error, not a version
    return out;
}

// `exe --version`, kept beside the state database for as long as the file
// it names (inode, size, mtime) stays the same: `status` shows it on every call, and
// the real CLI takes about half a second to start
static std::string claude_version(const App& app, const std::string& exe) {
    struct stat st;
    if (stat(exe.c_str(), &st) != 0) return run_capture(exe, "--version");
    std::string key = exe + "\t" + std::to_string(st.st_ino) + "\t" + std::to_string(st.st_size) + "\t" +
                      std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    std::string cache = std::filesystem::path(app.state_db_path()).parent_path() / "claude-version.cache";
    std::ifstream in(cache);
    std::string k, v;
    if (std::getline(in, k) && std::getline(in, v) && k == key && !v.empty()) return v;
    v = run_capture(exe, "--version");
    if (!v.empty() && v.find('\n') == std::string::npos) {  // one line: a version, not an error text
        std::string tmp = cache + ".tmp" + std::to_string(getpid());
        std::ofstream out(tmp);
        out << key << "\n" << v << "\n";
        out.close();
        if (!out || std::rename(tmp.c_str(), cache.c_str()) != 0) std::remove(tmp.c_str());
    }
    return v;
}

json claude_component(const App& app) {
    std::string name = app.config().value("claude", json::object()).value("path", std::string("claude"));
    std::string exe = app.find_program(name);
    json c{{"name", name}, {"exe", exe}, {"version", exe.empty() ? "" : claude_version(app, exe)}};
    struct stat st;  // there, but not a program: said as such, not "not found"
    if (exe.empty() && name.find('/') != std::string::npos && stat(name.c_str(), &st) == 0)
        c["why"] = S_ISDIR(st.st_mode) ? "is a folder" : "is not executable";
    return c;
}

int print_components(Runtime& rt, const json& args) {
    App& app = rt.app;
    if (!app.http) app.http = std::make_unique<HttpWorkers>(app.loop, 1);
    json r;
    try {  // a project without the file, or one that does not load: a FAIL row, not the end of doctor
        int id = rt.vm->start_workflow(resolve_workflow_path(app, "workflows/lib/components_cli.lua"), args);
        app.loop.run([&] { return !rt.vm->task_running(id); });
        r = rt.vm->task_result(id);
    } catch (const std::exception& e) {
        r = json{{"error", e.what()}};
    }
    if (!r.is_object() || !r.contains("rows")) {
        std::string why = r.is_object() && r.contains("error") ? r["error"].get<std::string>() : "no result";
        printf("  FAIL %-22s %s\n", "components", why.c_str());
        return 1;
    }
    for (auto& row : r["rows"]) {
        std::string mark = row.value("mark", std::string("note"));
        printf("  %-4s %-22s %s\n", mark.c_str(), row.value("what", std::string()).c_str(),
               row.value("detail", std::string()).c_str());
    }
    return r.value("problems", 0);
}

}  // namespace orch
