#include "helpers.h"
#include "services/run_lock.h"

#include <csignal>
#include <doctest/doctest.h>
#include <string>
#include <sys/file.h>
#include <fcntl.h>
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
        char ok = other.acquire("pid " + std::to_string(getpid()) + ", other") ? 'y' : 'n';
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

TEST_CASE("run lock: a probe of another command at the moment a run starts does not refuse the run") {
    std::string path = run_lock_path(testutil::temp_dir("run-lock-probe") + "/orch.db");
    { RunLock make(path); REQUIRE(make.acquire("pid 1, made")); }  // the file exists, no note
    int held[2], go[2];
    REQUIRE(pipe(held) == 0);
    REQUIRE(pipe(go) == 0);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {  // `orch-host status`: held_by_other's shared flock, for a moment
        int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
        char c = flock(fd, LOCK_SH | LOCK_NB) == 0 ? 'y' : 'n';
        [[maybe_unused]] auto n = write(held[1], &c, 1);
        n = read(go[0], &c, 1);
        usleep(30000);
        close(fd);
        _exit(0);
    }
    char c = 0;
    REQUIRE(read(held[0], &c, 1) == 1);
    REQUIRE(c == 'y');
    RunLock run(path);
    [[maybe_unused]] auto n = write(go[1], "g", 1);
    CHECK(run.acquire("pid " + std::to_string(getpid()) + ", run"));  // it failed at once before
    waitpid(child, nullptr, 0);
    for (int fd : {held[0], held[1], go[0], go[1]}) close(fd);
}
