// services/dir_watch when the folder itself goes and comes back, when an
// ancestor goes too, and when the kernel's event queue overflows. Waits poll
// the loop for the expected events with a generous deadline.
#include "helpers.h"
#include "loop/loop.h"
#include "services/dir_watch.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace orch;
namespace fs = std::filesystem;

namespace {

struct Recorder {
    std::vector<DirEvent> events;
    std::unique_ptr<DirWatch> w;
    std::string kinds() const {
        std::string out;
        for (const auto& e : events) {
            if (!out.empty()) out += " ";
            out += dir_event_kind_name(e.kind);
            if (!e.name.empty()) out += ":" + e.name;
        }
        return out;
    }
    size_t count(DirEvent::Kind k) const {
        size_t n = 0;
        for (const auto& e : events) n += e.kind == k;
        return n;
    }
};

void start(Loop& loop, Recorder& r, const std::string& dir) {
    WatchError err;
    r.w = DirWatch::start(loop, dir, {}, [&r](const DirEvent& e) { r.events.push_back(e); }, err);
    REQUIRE_MESSAGE(r.w, err.message);
}

template <typename F>
bool run_until(Loop& loop, F done, double limit = 60) {
    double end = Loop::now() + limit;
    while (!done() && Loop::now() < end) loop.run_once(0.05);
    return done();
}

// A few loop turns: events the kernel queued by now are delivered.
void settle(Loop& loop) {
    for (int i = 0; i < 5; ++i) loop.run_once(0.02);
}

void touch(const std::string& path) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    close(fd);
}

}  // namespace

TEST_CASE("dir_watch: a folder removed and recreated gives dir_removed, then rescan, and is watched again") {
    Loop loop;
    std::string base = testutil::temp_dir("watch-folder");
    std::string dir = base + "/tasks";
    REQUIRE(mkdir(dir.c_str(), 0755) == 0);
    Recorder r;
    start(loop, r, dir);
    touch(dir + "/a");
    REQUIRE(rmdir(dir.c_str()) != 0);  // not empty
    REQUIRE(unlink((dir + "/a").c_str()) == 0);
    REQUIRE(rmdir(dir.c_str()) == 0);
    REQUIRE(run_until(loop, [&] { return r.count(DirEvent::Kind::DirRemoved) == 1; }));
    CHECK(!r.w->present());
    settle(loop);
    CHECK(r.kinds() == "ready:a gone:a dir_removed");  // once, though the kernel says it twice
    REQUIRE(mkdir(dir.c_str(), 0755) == 0);
    REQUIRE(run_until(loop, [&] { return r.count(DirEvent::Kind::Rescan) == 1; }));
    CHECK(r.w->present());
    touch(dir + "/b");
    REQUIRE(run_until(loop, [&] { return r.count(DirEvent::Kind::Ready) == 2; }));
    CHECK(r.kinds() == "ready:a gone:a dir_removed rescan ready:b");
    fs::remove_all(base);
}

TEST_CASE("dir_watch: a folder moved away is no longer followed; one moved back in is") {
    Loop loop;
    std::string base = testutil::temp_dir("watch-folder");
    std::string dir = base + "/tasks";
    REQUIRE(mkdir(dir.c_str(), 0755) == 0);
    Recorder r;
    start(loop, r, dir);
    REQUIRE(rename(dir.c_str(), (base + "/old").c_str()) == 0);
    REQUIRE(run_until(loop, [&] { return r.count(DirEvent::Kind::DirRemoved) == 1; }));
    touch(base + "/old/in-the-old-one");  // not the watched path any more
    settle(loop);
    CHECK(r.kinds() == "dir_removed");
    REQUIRE(rename((base + "/old").c_str(), dir.c_str()) == 0);
    REQUIRE(run_until(loop, [&] { return r.count(DirEvent::Kind::Rescan) == 1; }));
    touch(dir + "/c");
    REQUIRE(run_until(loop, [&] { return r.count(DirEvent::Kind::Ready) == 1; }));
    CHECK(r.kinds() == "dir_removed rescan ready:c");
    fs::remove_all(base);
}

TEST_CASE("dir_watch: an ancestor that goes too moves the wait up, and both coming back gives one rescan") {
    Loop loop;
    std::string base = testutil::temp_dir("watch-folder");
    std::string parent = base + "/p", dir = parent + "/tasks";
    fs::create_directories(dir);
    Recorder r;
    start(loop, r, dir);

    SUBCASE("the folder first, then its parent, while the watch waits") {
        REQUIRE(rmdir(dir.c_str()) == 0);
        REQUIRE(run_until(loop, [&] { return r.count(DirEvent::Kind::DirRemoved) == 1; }));
        REQUIRE(rmdir(parent.c_str()) == 0);
        settle(loop);
    }
    SUBCASE("both at once") {
        fs::remove_all(parent);
        REQUIRE(run_until(loop, [&] { return r.count(DirEvent::Kind::DirRemoved) == 1; }));
        settle(loop);
    }
    CHECK(r.kinds() == "dir_removed");
    REQUIRE(mkdir(parent.c_str(), 0755) == 0);
    settle(loop);
    CHECK(r.kinds() == "dir_removed");  // the parent alone is not the folder
    REQUIRE(mkdir(dir.c_str(), 0755) == 0);
    REQUIRE(run_until(loop, [&] { return r.count(DirEvent::Kind::Rescan) == 1; }));
    touch(dir + "/d");
    REQUIRE(run_until(loop, [&] { return r.count(DirEvent::Kind::Ready) == 1; }));
    CHECK(r.kinds() == "dir_removed rescan ready:d");
    fs::remove_all(base);
}

TEST_CASE("dir_watch: the folder and its parent recreated together give one rescan") {
    Loop loop;
    std::string base = testutil::temp_dir("watch-folder");
    std::string parent = base + "/p", dir = parent + "/tasks";
    fs::create_directories(dir);
    Recorder r;
    start(loop, r, dir);
    fs::remove_all(parent);
    REQUIRE(run_until(loop, [&] { return r.count(DirEvent::Kind::DirRemoved) == 1; }));
    fs::create_directories(dir);  // both before the loop hears of p
    REQUIRE(run_until(loop, [&] { return r.count(DirEvent::Kind::Rescan) == 1; }));
    settle(loop);
    CHECK(r.kinds() == "dir_removed rescan");
    fs::remove_all(base);
}

TEST_CASE("dir_watch: a file where the folder was is waited past, not retried in a loop") {
    Loop loop;
    std::string base = testutil::temp_dir("watch-folder");
    std::string dir = base + "/tasks";
    REQUIRE(mkdir(dir.c_str(), 0755) == 0);
    Recorder r;
    start(loop, r, dir);
    REQUIRE(rmdir(dir.c_str()) == 0);
    REQUIRE(run_until(loop, [&] { return r.count(DirEvent::Kind::DirRemoved) == 1; }));
    touch(dir);  // a file named like the folder
    settle(loop);
    CHECK(r.kinds() == "dir_removed");
    REQUIRE(unlink(dir.c_str()) == 0);
    REQUIRE(mkdir(dir.c_str(), 0755) == 0);
    REQUIRE(run_until(loop, [&] { return r.count(DirEvent::Kind::Rescan) == 1; }));
    CHECK(r.kinds() == "dir_removed rescan");
    fs::remove_all(base);
}

TEST_CASE("dir_watch: closing while the folder is away ends the wait too") {
    Loop loop;
    std::string base = testutil::temp_dir("watch-folder");
    std::string dir = base + "/tasks";
    REQUIRE(mkdir(dir.c_str(), 0755) == 0);
    Recorder r;
    start(loop, r, dir);
    REQUIRE(rmdir(dir.c_str()) == 0);
    REQUIRE(run_until(loop, [&] { return r.count(DirEvent::Kind::DirRemoved) == 1; }));
    r.w->close();
    REQUIRE(mkdir(dir.c_str(), 0755) == 0);
    settle(loop);
    CHECK(r.kinds() == "dir_removed");
    fs::remove_all(base);
}

TEST_CASE("dir_watch: an overflowed kernel queue gives rescan") {
    // Two events a file (created, closed) past fs.inotify.max_queued_events,
    // written while the loop does not read: the kernel drops the rest and
    // queues IN_Q_OVERFLOW. The limit is the system's (16,384 by default);
    // a system set much higher is not flooded.
    long max_events = 0;
    std::ifstream("/proc/sys/fs/inotify/max_queued_events") >> max_events;
    if (max_events <= 0 || max_events > 100000) {
        MESSAGE("fs.inotify.max_queued_events is " << max_events << ": overflow not tried");
        return;
    }
    Loop loop;
    std::string dir = testutil::temp_dir("watch-overflow");
    Recorder r;
    start(loop, r, dir);
    long files = max_events / 2 + 100;
    for (long i = 0; i < files; ++i) touch(dir + "/f" + std::to_string(i));
    REQUIRE(run_until(loop, [&] { return r.count(DirEvent::Kind::Rescan) == 1; }));
    settle(loop);
    CHECK(r.count(DirEvent::Kind::Rescan) == 1);
    CHECK(r.count(DirEvent::Kind::Ready) < static_cast<size_t>(files));
    CHECK(r.events.back().kind == DirEvent::Kind::Rescan);  // after what was queued before it
    touch(dir + "/after");  // and it goes on
    REQUIRE(run_until(loop, [&] { return r.events.back().name == "after"; }));
    fs::remove_all(dir);
}
