// read_file_limited: regular files only, never blocking, never past the limit.
#include "helpers.h"
#include "services/file_read.h"

#include <doctest/doctest.h>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

using namespace orch;

TEST_CASE("read_file_limited reads a regular file up to and at its limit") {
    std::string dir = testutil::temp_dir("read");
    testutil::write(dir + "/ten", "0123456789");
    std::string out;
    ReadError err;
    CHECK(read_file_limited(dir + "/ten", 10, out, err));
    CHECK(out == "0123456789");
    CHECK_FALSE(read_file_limited(dir + "/ten", 9, out, err));
    CHECK(err.code == "too_large");
    CHECK(err.message == dir + "/ten: 10 bytes is over the limit of 9 bytes");
    CHECK(out.empty());
    testutil::write(dir + "/empty", "");
    CHECK(read_file_limited(dir + "/empty", 0, out, err));
    CHECK(out.empty());
    std::filesystem::remove_all(dir);
}

TEST_CASE("read_file_limited refuses what is not a regular file, naming it") {
    std::string dir = testutil::temp_dir("read");
    std::string out = "stale";
    ReadError err;
    REQUIRE(mkfifo((dir + "/fifo").c_str(), 0600) == 0);  // no writer: a blocking open would hang here
    CHECK_FALSE(read_file_limited(dir + "/fifo", 100, out, err));
    CHECK(err.code == "io");
    CHECK(err.message == dir + "/fifo: not a regular file: a FIFO");
    CHECK(out.empty());
    CHECK_FALSE(read_file_limited("/dev/zero", 100, out, err));
    CHECK(err.message == "/dev/zero: not a regular file: a character device");
    CHECK_FALSE(read_file_limited(dir, 100, out, err));
    CHECK(err.message == dir + ": not a regular file: a directory");
    {  // a socket cannot even be opened (ENXIO): said as the others are
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        REQUIRE(fd >= 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::string sp = dir + "/sock";
        REQUIRE(sp.size() < sizeof a.sun_path);
        std::memcpy(a.sun_path, sp.c_str(), sp.size() + 1);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        CHECK_FALSE(read_file_limited(sp, 100, out, err));
        CHECK(err.message == sp + ": not a regular file: a socket");
        close(fd);
    }
    CHECK_FALSE(read_file_limited(dir + "/missing", 100, out, err));
    CHECK(err.code == "not_found");
    CHECK(err.message.find(dir + "/missing: ") == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("read_file_limited stops at limit + 1 when the size says nothing") {
    // /proc files are regular with st_size 0: only reading finds their length
    std::string out;
    ReadError err;
    CHECK_FALSE(read_file_limited("/proc/self/status", 16, out, err));
    CHECK(err.code == "too_large");
    CHECK(err.message == "/proc/self/status: more than 16 bytes is over the limit of 16 bytes");
    CHECK(read_file_limited("/proc/self/status", k_read_limit_default, out, err));
    CHECK(out.find("Name:") == 0);
}

TEST_CASE("open_for_writing: a file with a writer, then closed; what it cannot tell is false") {
    std::string dir = testutil::temp_dir("writing");
    std::string f = dir + "/t.task.md";
    int fd = open(f.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    CHECK(write(fd, "half", 4) == 4);
    CHECK(open_for_writing(f));
    int rd = open(f.c_str(), O_RDONLY | O_CLOEXEC);  // a reader is no writer
    close(fd);
    CHECK_FALSE(open_for_writing(f));
    close(rd);
    CHECK_FALSE(open_for_writing(f));
    CHECK_FALSE(open_for_writing(dir));
    CHECK_FALSE(open_for_writing(dir + "/missing"));
    std::filesystem::remove_all(dir);
}
