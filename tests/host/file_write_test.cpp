// FileWriter: writes queued together land together (one sync for a batch),
// each atomically, in the order given, each outcome its own.
#include "helpers.h"
#include "loop/loop.h"
#include "services/file_write.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <string>
#include <vector>

using namespace orch;

TEST_CASE("FileWriter: many writes queued at once all land, in order, and a failed one names its file") {
    std::string dir = testutil::temp_dir("write");
    testutil::write(dir + "/plain", "a file, not a folder");
    Loop loop;
    std::vector<std::string> order;
    std::string bad_err;
    {
        FileWriter w(loop);
        auto done = [&order](std::string tag) {
            return [&order, tag](bool ok, const std::string&) { order.push_back(tag + (ok ? ":ok" : ":failed")); };
        };
        for (int i = 0; i < 40; ++i)
            w.submit(dir + "/sub/f" + std::to_string(i), "body " + std::to_string(i), done("f" + std::to_string(i)));
        w.submit(dir + "/same", "first", done("same1"));
        w.submit(dir + "/plain/under", "x", [&](bool ok, const std::string& err) {
            order.push_back(ok ? "bad:ok" : "bad:failed");
            bad_err = err;
        });
        w.submit(dir + "/same", "second", done("same2"));
        double end = Loop::now() + 60;
        while (order.size() < 43 && Loop::now() < end) loop.run_once(0.05);
    }
    REQUIRE(order.size() == 43);
    for (int i = 0; i < 40; ++i) {
        CHECK(order[static_cast<size_t>(i)] == "f" + std::to_string(i) + ":ok");
        CHECK(testutil::read(dir + "/sub/f" + std::to_string(i)) == "body " + std::to_string(i));
    }
    CHECK(order[40] == "same1:ok");
    CHECK(order[41] == "bad:failed");
    CHECK(order[42] == "same2:ok");
    CHECK(testutil::read(dir + "/same") == "second");  // two writes of one path: the later one is what stays
    CHECK(bad_err.rfind(dir + "/plain/under: ", 0) == 0);
    int left = 0;  // no temp file stays behind
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
        if (e.path().filename().string().find(".tmp-") != std::string::npos) ++left;
    CHECK(left == 0);
    std::filesystem::remove_all(dir);
}
