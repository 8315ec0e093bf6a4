#include "helpers.h"
#include "services/run_lock.h"

#include <csignal>
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace orch;

TEST_CASE("run lock: the holder's own process is not another host; another process is") {
    std::string path = run_lock_path(testutil::temp_dir("run-lock") + "/orch.db");
    RunLock probe(path);
    CHECK_FALSE(probe.held_by_other());  // no file yet
    {
        RunLock held(path);
        REQUIRE(held.acquire("pid here"));
        // orch.host_running() in the host that runs (serve): its own lock
        CHECK_FALSE(probe.held_by_other());
        CHECK(held.holder() == "pid here");
    }
    CHECK_FALSE(probe.held_by_other());  // released
    CHECK(probe.holder().empty());       // cleanly: no note left

    // another process holds it: seen, and not taken
    int ready[2];
    REQUIRE(pipe(ready) == 0);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        RunLock other(path);
        char ok = other.acquire("pid other") ? 'y' : 'n';
        [[maybe_unused]] auto n = write(ready[1], &ok, 1);
        pause();  // until killed
        _exit(0);
    }
    char ok = 0;
    REQUIRE(read(ready[0], &ok, 1) == 1);
    CHECK(ok == 'y');
    CHECK(probe.held_by_other());
    RunLock mine(path);
    CHECK_FALSE(mine.acquire("pid here"));
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    close(ready[0]);
    close(ready[1]);
    CHECK_FALSE(probe.held_by_other());
}
