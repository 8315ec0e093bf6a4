// orch-host create-sample [--dir DIR] [--force]
// Mechanism only: workflows/lib/inbox_task_cli.lua writes the sample inbox
// task file (lib/inbox_task's sample) as DIR/sample.task.md, DIR being
// paths.tasks_dir unless --dir says (a relative DIR is from the current
// directory), and refuses to write over one without --force. This prints the
// path it returns, or its message on stderr with its exit code (2).
#include "cli/runtime.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace orch {

using json = nlohmann::json;

int cmd_create_sample(const Args& a) {
    auto rt = make_runtime(a, Services::None);
    json req{{"force", a.has("force")}};
    if (a.has("dir")) {
        std::error_code ec;
        std::filesystem::path dir = std::filesystem::absolute(a.get("dir"), ec);
        req["dir"] = ec ? a.get("dir") : dir.lexically_normal().string();
    }
    json r = rt->vm->call("lib.inbox_task_cli", "create_sample", req);
    int exit = r.value("exit", static_cast<int>(k_exit_bad_input));
    if (exit != k_exit_ok) {
        fprintf(stderr, "orch-host create-sample: %s\n", r.value("message", std::string("failed")).c_str());
        return exit;
    }
    printf("%s\n", r.value("path", std::string()).c_str());
    return k_exit_ok;
}

}  // namespace orch
