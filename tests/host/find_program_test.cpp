// App::find_program: a program by name on PATH, else the project's own
// install under .deps/npm/node_modules/.bin (the pinned claude that
// scripts/install-claude.sh puts there), so a project set up by scripts/
// runs without CLAUDE_CLI_PATH.
#include "app.h"
#include "helpers.h"

#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <string>
#include <sys/stat.h>

namespace {

std::string make_program(const std::string& path) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    testutil::write(path, "#!/bin/sh\nexit 0\n");
    chmod(path.c_str(), 0755);
    return path;
}

struct PathGuard {  // PATH for one test case, put back after it
    std::string old;
    bool had;
    explicit PathGuard(const std::string& v) {
        const char* o = std::getenv("PATH");
        had = o != nullptr;
        if (o) old = o;
        setenv("PATH", v.c_str(), 1);
    }
    ~PathGuard() {
        if (had) setenv("PATH", old.c_str(), 1); else unsetenv("PATH");
    }
};

}  // namespace

TEST_CASE("find_program: PATH first, then the project's .deps/npm/node_modules/.bin") {
    std::string dir = testutil::temp_dir("findprog");
    REQUIRE(!dir.empty());
    orch::App app;
    app.root = dir + "/project";
    std::string pinned = make_program(app.root + "/.deps/npm/node_modules/.bin/claude-x");
    std::filesystem::create_directories(dir + "/bin");
    {
        PathGuard p(dir + "/bin");
        CHECK(app.find_program("claude-x") == pinned);  // not on PATH: the project's install
        CHECK(app.find_program("claude-y") == "");       // neither
        CHECK(app.find_program(dir + "/bin/claude-x") == "");  // a path is taken as given, no fallback
        CHECK(app.find_program("") == "");
        std::string on_path = make_program(dir + "/bin/claude-x");
        CHECK(app.find_program("claude-x") == on_path);  // on PATH: that one wins
    }
    std::filesystem::remove_all(dir);
}
