// services/dir_watch: the folder watch on a real loop and a real folder.
// Every wait polls the loop for the expected events with a generous deadline.
#include "helpers.h"
#include "loop/loop.h"
#include "services/dir_watch.h"
#include "services/file_read.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <filesystem>
#include <set>
#include <sys/stat.h>
#include <string>
#include <unistd.h>
#include <vector>

using namespace orch;
namespace fs = std::filesystem;

namespace {

struct Seen {
    std::vector<DirEvent> events;
    std::string kinds() const {  // "ready:a gone:b rescan"
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

template <typename F>
bool run_until(Loop& loop, F done, double limit = 60) {
    double end = Loop::now() + limit;
    while (!done() && Loop::now() < end) loop.run_once(0.05);
    return done();
}

// Drives the loop until it has nothing queued for a moment: what was not
// seen by then would have been already (the kernel queues events at once).
void settle(Loop& loop) {
    for (int i = 0; i < 5; ++i) loop.run_once(0.02);
}

std::unique_ptr<DirWatch> watch(Loop& loop, const std::string& dir, Seen& seen, DirWatch::Options o = {}) {
    WatchError err;
    auto w = DirWatch::start(loop, dir, o, [&seen](const DirEvent& e) { seen.events.push_back(e); }, err);
    REQUIRE_MESSAGE(w, err.message);
    return w;
}

}  // namespace

TEST_CASE("dir_watch: a file closed after writing is ready, with its name and path") {
    Loop loop;
    std::string dir = testutil::temp_dir("watch");
    Seen seen;
    auto w = watch(loop, dir, seen);
    testutil::write(dir + "/a.task.md", "hello");
    REQUIRE(run_until(loop, [&] { return seen.count(DirEvent::Kind::Ready) == 1; }));
    CHECK(seen.kinds() == "ready:a.task.md");
    CHECK(seen.events[0].path == dir + "/a.task.md");
    fs::remove_all(dir);
}

TEST_CASE("dir_watch: a file still open for writing gives nothing until it is closed") {
    Loop loop;
    std::string dir = testutil::temp_dir("watch");
    Seen seen;
    auto w = watch(loop, dir, seen);
    int fd = open((dir + "/slow.task.md").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "part", 4) == 4);
    // a marker written after: once it is seen, the open file's events were read too
    testutil::write(dir + "/marker", "x");
    REQUIRE(run_until(loop, [&] { return seen.count(DirEvent::Kind::Ready) == 1; }));
    CHECK(seen.kinds() == "ready:marker");
    close(fd);
    REQUIRE(run_until(loop, [&] { return seen.count(DirEvent::Kind::Ready) == 2; }));
    CHECK(seen.kinds() == "ready:marker ready:slow.task.md");
    fs::remove_all(dir);
}

TEST_CASE("dir_watch: a rename into the folder is ready, a delete and a move out are gone") {
    Loop loop;
    std::string dir = testutil::temp_dir("watch");
    std::string outside = testutil::temp_dir("watch-out");
    testutil::write(outside + "/x.task.md", "x");
    Seen seen;
    DirWatch::Options o;
    o.suffix = ".task.md";
    auto w = watch(loop, dir, seen, o);
    REQUIRE(rename((outside + "/x.task.md").c_str(), (dir + "/x.task.md").c_str()) == 0);
    REQUIRE(run_until(loop, [&] { return seen.events.size() == 1; }));
    CHECK(seen.kinds() == "ready:x.task.md");
    // atomic writes (temp + rename): the temp name is filtered out by the suffix
    testutil::write(dir + "/y.task.md.tmp-1", "y");
    REQUIRE(rename((dir + "/y.task.md.tmp-1").c_str(), (dir + "/y.task.md").c_str()) == 0);
    REQUIRE(unlink((dir + "/x.task.md").c_str()) == 0);
    REQUIRE(rename((dir + "/y.task.md").c_str(), (outside + "/y.task.md").c_str()) == 0);
    REQUIRE(run_until(loop, [&] { return seen.events.size() == 4; }));
    CHECK(seen.kinds() == "ready:x.task.md ready:y.task.md gone:x.task.md gone:y.task.md");
    fs::remove_all(dir);
    fs::remove_all(outside);
}

TEST_CASE("dir_watch: a symlink is ready when created; sub-folders are not reported") {
    Loop loop;
    std::string dir = testutil::temp_dir("watch");
    Seen seen;
    auto w = watch(loop, dir, seen);
    REQUIRE(mkdir((dir + "/processed").c_str(), 0755) == 0);
    REQUIRE(rename((dir + "/processed").c_str(), (dir + "/failed").c_str()) == 0);
    REQUIRE(rmdir((dir + "/failed").c_str()) == 0);
    REQUIRE(symlink("/etc/hostname", (dir + "/link.task.md").c_str()) == 0);
    REQUIRE(run_until(loop, [&] { return !seen.events.empty(); }));
    settle(loop);
    CHECK(seen.kinds() == "ready:link.task.md");
    fs::remove_all(dir);
}

TEST_CASE("dir_watch: a FIFO or a folder named with the suffix is ready once, when made or moved in") {
    // neither is ever closed after writing: without this they would give
    // nothing until the next rescan; the watcher refuses them as bad files
    Loop loop;
    std::string dir = testutil::temp_dir("watch");
    std::string away = testutil::temp_dir("watch-away");
    Seen seen;
    DirWatch::Options o;
    o.suffix = ".task.md";
    auto w = watch(loop, dir, seen, o);
    REQUIRE(mkfifo((dir + "/pipe.task.md").c_str(), 0644) == 0);
    REQUIRE(mkdir((dir + "/folder.task.md").c_str(), 0755) == 0);
    REQUIRE(mkdir((away + "/moved.task.md").c_str(), 0755) == 0);
    REQUIRE(rename((away + "/moved.task.md").c_str(), (dir + "/moved.task.md").c_str()) == 0);
    REQUIRE(mkdir((dir + "/processed").c_str(), 0755) == 0);  // not named so: not reported
    REQUIRE(run_until(loop, [&] { return seen.events.size() >= 3; }));
    settle(loop);
    CHECK(seen.kinds() == "ready:pipe.task.md ready:folder.task.md ready:moved.task.md");
    // moved out (as to failed/) or removed: gone, as a file is
    REQUIRE(rename((dir + "/folder.task.md").c_str(), (dir + "/processed/folder.task.md").c_str()) == 0);
    REQUIRE(rmdir((dir + "/moved.task.md").c_str()) == 0);
    REQUIRE(run_until(loop, [&] { return seen.events.size() >= 5; }));
    settle(loop);
    CHECK(seen.kinds() == "ready:pipe.task.md ready:folder.task.md ready:moved.task.md gone:folder.task.md "
                          "gone:moved.task.md");
    fs::remove_all(dir);
    fs::remove_all(away);
}

TEST_CASE("dir_watch: a hard link made into the folder is ready at once (it is never written there)") {
    Loop loop;
    std::string dir = testutil::temp_dir("watch");
    std::string outside = testutil::temp_dir("watch-out");
    testutil::write(outside + "/h.task.md", "body");
    Seen seen;
    auto w = watch(loop, dir, seen);
    REQUIRE(link((outside + "/h.task.md").c_str(), (dir + "/h.task.md").c_str()) == 0);
    REQUIRE(run_until(loop, [&] { return !seen.events.empty(); }));
    settle(loop);
    CHECK(seen.kinds() == "ready:h.task.md");
    fs::remove_all(dir);
    fs::remove_all(outside);
}

TEST_CASE("dir_watch: a burst of 500 files is seen whole, each once") {
    Loop loop;
    std::string dir = testutil::temp_dir("watch");
    Seen seen;
    DirWatch::Options o;
    o.suffix = ".task.md";
    auto w = watch(loop, dir, seen, o);
    for (int i = 0; i < 500; ++i) testutil::write(dir + "/t" + std::to_string(i) + ".task.md", "body");
    REQUIRE(run_until(loop, [&] { return seen.events.size() >= 500; }));
    settle(loop);
    std::set<std::string> names;
    for (const auto& e : seen.events) {
        CHECK(e.kind == DirEvent::Kind::Ready);
        names.insert(e.name);
    }
    CHECK(seen.events.size() == 500);
    CHECK(names.size() == 500);
    fs::remove_all(dir);
}

TEST_CASE("dir_watch: initial_scan sends one rescan on the next turn") {
    Loop loop;
    std::string dir = testutil::temp_dir("watch");
    Seen seen;
    DirWatch::Options o;
    o.initial_scan = true;
    auto w = watch(loop, dir, seen, o);
    CHECK(seen.events.empty());  // never inside start
    REQUIRE(run_until(loop, [&] { return !seen.events.empty(); }));
    settle(loop);
    CHECK(seen.kinds() == "rescan");
    fs::remove_all(dir);
}

TEST_CASE("dir_watch: close ends it, also from inside its own callback") {
    Loop loop;
    std::string dir = testutil::temp_dir("watch");
    Seen seen;
    std::unique_ptr<DirWatch> w;
    WatchError err;
    w = DirWatch::start(loop, dir, {}, [&](const DirEvent& e) {
        seen.events.push_back(e);
        w->close();
    }, err);
    REQUIRE(w);
    for (int i = 0; i < 3; ++i) testutil::write(dir + "/f" + std::to_string(i), "x");
    REQUIRE(run_until(loop, [&] { return !seen.events.empty(); }));
    settle(loop);
    testutil::write(dir + "/later", "x");
    settle(loop);
    CHECK(seen.events.size() == 1);  // the other events of that read are dropped
    CHECK(w->closed());
    w->close();  // twice: nothing
    // destroyed inside its callback: also safe
    Seen seen2;
    std::unique_ptr<DirWatch> w2;
    w2 = DirWatch::start(loop, dir, {}, [&](const DirEvent& e) {
        seen2.events.push_back(e);
        w2.reset();
    }, err);
    REQUIRE(w2);
    testutil::write(dir + "/g1", "x");
    testutil::write(dir + "/g2", "x");
    REQUIRE(run_until(loop, [&] { return !seen2.events.empty(); }));
    settle(loop);
    CHECK(seen2.events.size() == 1);
    CHECK(!w2);
    fs::remove_all(dir);
}

TEST_CASE("dir_watch: several watches at once each see their own folder") {
    Loop loop;
    std::string a = testutil::temp_dir("watch-a"), b = testutil::temp_dir("watch-b");
    Seen sa, sb;
    auto wa = watch(loop, a, sa);
    auto wb = watch(loop, b, sb);
    testutil::write(a + "/one", "1");
    testutil::write(b + "/two", "2");
    REQUIRE(run_until(loop, [&] { return !sa.events.empty() && !sb.events.empty(); }));
    settle(loop);
    CHECK(sa.kinds() == "ready:one");
    CHECK(sb.kinds() == "ready:two");
    fs::remove_all(a);
    fs::remove_all(b);
}

TEST_CASE("dir_watch: a missing folder or a file is refused, naming it") {
    Loop loop;
    std::string dir = testutil::temp_dir("watch");
    WatchError err;
    auto w = DirWatch::start(loop, dir + "/nope", {}, [](const DirEvent&) {}, err);
    CHECK(!w);
    CHECK(err.code == "not_found");
    CHECK(err.message.find(dir + "/nope: ") == 0);
    testutil::write(dir + "/file", "x");
    w = DirWatch::start(loop, dir + "/file", {}, [](const DirEvent&) {}, err);
    CHECK(!w);
    CHECK(err.message == dir + "/file: not a folder");
    fs::remove_all(dir);
}
