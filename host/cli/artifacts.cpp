// orch-host validate-artifacts [DIR|FILE] and orch-host clean artifacts --days N [--dry-run]
// Mechanism only: workflows/lib/artifacts_cli.lua checks the inbox's results
// against the shipped schema and prunes old results and summaries; this
// prints what it returns ({exit=, out=, err=}: print_answer) and returns its
// exit code.
// Neither needs the state database or the run lock: the inbox writes each
// artifact atomically, and only old ones are removed.
#include "cli/runtime.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace orch {

using json = nlohmann::json;

namespace {

// a path as the user typed it, made absolute against the current folder
// (the host's file calls resolve relative paths under the project root)
std::string from_cwd(const std::string& p) {
    if (p.empty() || p[0] == '/') return p;
    char buf[4096];
    return getcwd(buf, sizeof buf) ? std::string(buf) + "/" + p : p;
}

}  // namespace

int cmd_validate_artifacts(const Args& a) {
    auto rt = make_runtime(a, Services::None);
    json req = json::object();
    if (!a.positional.empty()) {
        req["path"] = from_cwd(a.positional[0]);
        req["shown"] = a.positional[0];
    }
    return print_answer(rt->vm->call("lib.artifacts_cli", "validate", req, print_out), "validate-artifacts");
}

int clean_artifacts(Runtime& rt, const Args& a) {
    json req{{"dry_run", a.has("dry-run")}, {"force", a.has("force")}};
    if (a.has("days")) req["days"] = a.get("days");
    return print_answer(rt.vm->call("lib.artifacts_cli", "clean", req, print_out), "clean artifacts");
}

}  // namespace orch
