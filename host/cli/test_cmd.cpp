// orch-host test SPEC.lua...: runs Lua specs inside the real host (the same
// sandbox, orch table and loop as workflows), each spec file as a task. A
// spec uses require("orch.testing"); the exit code is the failure count
// (capped), so ctest sees failures, and each failing spec is named on stderr.
#include "cli/runtime.h"

#include "services/store.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace orch {

using json = nlohmann::json;

int cmd_test(const Args& a) {
    if (a.positional.empty()) {
        fprintf(stderr, "orch-host test: give one or more spec files\n");
        return k_exit_bad_input;
    }
    auto rt = make_runtime(a, a.has("no-state") ? Services::None : Services::Full);
    App& app = rt->app;
    app.interactive = false;
    become_subreaper();
    int failures = 0;
    for (const auto& spec : a.positional) {
        char buf[4096];
        std::string path = realpath(spec.c_str(), buf) ? buf : spec;
        int id;
        try {
            id = rt->vm->start_workflow(app.scripts_dir + "/orch/test_runner.lua", json{{"spec", path}});
        } catch (const std::exception& e) {
            fprintf(stderr, "not ok - %s: %s\n", spec.c_str(), e.what());
            ++failures;
            continue;
        }
        app.loop.run([&] { return !rt->vm->task_running(id); });
        json r = rt->vm->task_result(id);
        if (r.is_number_integer() && r.get<int>() == 0) continue;
        if (r.is_number_integer() && r.get<int>() > 0) {
            fprintf(stderr, "not ok - %s: %d failed\n", spec.c_str(), r.get<int>());
            failures += r.get<int>();
        } else if (r.is_object() && r.contains("error")) {
            fprintf(stderr, "not ok - %s aborted: %s\n", spec.c_str(), r["error"].dump().c_str());
            ++failures;
        } else {  // the runner always returns a count: anything else is a broken run
            fprintf(stderr, "not ok - %s: the spec runner returned %s, not a failure count\n", spec.c_str(),
                    r.dump().c_str());
            ++failures;
        }
    }
    return failures > 100 ? 100 : failures;
}

}  // namespace orch
