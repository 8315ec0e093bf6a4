// orch-host report [SESSION|DATE] [--stdout]
// Mechanism only: workflows/lib/report_cli.lua finds the session (an id, a
// day's latest, or the latest) in the state database and writes its report
// with workflows/lib/report.lua, as the end of the day does; this prints the
// path it returns (with --stdout, the report itself), or its message on
// stderr with its exit code. A state database that cannot be read is exit 5,
// as for status.
#include "cli/runtime.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace orch {

using json = nlohmann::json;

int cmd_report(const Args& a) {
    auto rt = read_only_runtime(a);
    json req{{"stdout", a.has("stdout")}, {"state", rt->app.store != nullptr}};
    if (!a.positional.empty()) req["target"] = a.positional[0];
    json r;
    try {
        r = rt->vm->call("lib.report_cli", "run", req);
    } catch (const std::exception& e) {
        if (rt->app.state_error.empty()) throw;
        fprintf(stderr, "orch-host report: %s\n", rt->app.state_error.c_str());
        return k_exit_state_error;
    }
    int exit = r.value("exit", static_cast<int>(k_exit_bad_input));
    if (exit != k_exit_ok) {
        fprintf(stderr, "orch-host report: %s\n", r.value("message", std::string("failed")).c_str());
        return exit;
    }
    if (r.contains("text")) {
        std::string text = r["text"].get<std::string>();
        fwrite(text.data(), 1, text.size(), stdout);
    } else {
        printf("%s\n", r.value("path", std::string()).c_str());
    }
    return k_exit_ok;
}

}  // namespace orch
