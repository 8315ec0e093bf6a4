// orch-host: argument parsing (the command table, cli/args.cpp) and dispatch only.
#include "app.h"
#include "cli/cli.h"
#include "lua/vm.h"
#include "services/store.h"

#include <cstdio>
#include <stdexcept>

int main(int argc, char** argv) {
    using namespace orch;
    Args a;
    if (auto done = parse_args(argc, argv, a)) return *done;
    Vm::leave_state_at_exit();  // every command's one Vm lives until the command returns, then the process ends
    try {
        return a.run(a);
    } catch (const StoreError& e) {
        fprintf(stderr, "orch-host: %s\n", e.what());
        return k_exit_state_error;
    } catch (const std::exception& e) {
        fprintf(stderr, "orch-host: %s\n", e.what());
        return k_exit_bad_input;
    }
}
