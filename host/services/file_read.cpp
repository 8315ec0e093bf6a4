#include "services/file_read.h"

#include <algorithm>
#include <csignal>
#include <mutex>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <new>
#include <sys/stat.h>
#include <unistd.h>

namespace orch {

namespace {

const char* kind_of(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a plain file";
}

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) close(fd);
    }
};

bool fail(ReadError& err, std::string& out, const char* code, std::string message) {
    out.clear();
    err.code = code;
    err.message = std::move(message);
    return false;
}

std::string over_limit(const std::string& path, const std::string& size, size_t max_bytes) {
    return path + ": " + size + " bytes is over the limit of " + std::to_string(max_bytes) + " bytes";
}

bool read_regular(int fd, const std::string& path, size_t max_bytes, std::string& out, ReadError& err) {
    struct stat st;
    if (fstat(fd, &st) != 0) return fail(err, out, "io", path + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail(err, out, "io", path + ": not a regular file: " + kind_of(st.st_mode));
    if (static_cast<unsigned long long>(st.st_size) > max_bytes)
        return fail(err, out, "too_large", over_limit(path, std::to_string(st.st_size), max_bytes));
    out.reserve(static_cast<size_t>(st.st_size));
    char buf[65536];
    for (;;) {
        // never more than max_bytes + 1 in all: that one byte says it grew
        size_t want = std::min(sizeof buf, max_bytes + 1 - out.size());
        ssize_t n = read(fd, buf, want);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(err, out, "io", path + ": " + std::strerror(errno));
        if (n == 0) return true;
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > max_bytes)
            return fail(err, out, "too_large", over_limit(path, "more than " + std::to_string(max_bytes), max_bytes));
    }
}

}  // namespace

bool read_file_limited(const std::string& path, size_t max_bytes, std::string& out, ReadError& err) {
    out.clear();
    max_bytes = std::min(max_bytes, out.max_size() - 1);
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
    Fd f{open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
    if (f.fd < 0) {
        int e = errno;
        struct stat st;  // a socket cannot be opened (ENXIO): say what it is, as for a FIFO
        if (e != ENOENT && stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
            return fail(err, out, "io", path + ": not a regular file: " + kind_of(st.st_mode));
        return fail(err, out, e == ENOENT ? "not_found" : "io", path + ": " + std::strerror(e));
    }
    try {
        return read_regular(f.fd, path, max_bytes, out, err);
    } catch (const std::bad_alloc&) {
        return fail(err, out, "io", path + ": out of memory");
    }
}

bool remove_file(const std::string& path, ReadError& err) {
    if (unlink(path.c_str()) == 0) return true;
    int e = errno;
    err.code = e == ENOENT ? "not_found" : "io";
    struct stat st;
    bool dir = e == EISDIR || ((e == EPERM || e == EACCES) && lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode));
    err.message = path + ": " + (dir ? std::string("is a directory, not a file") : std::strerror(e));
    return false;
}

bool open_for_writing(const std::string& path) {
    // a writer opening the file while the lease is held makes the kernel
    // signal the holder (SIGIO, whose default ends the process)
    static std::once_flag sigio_ignored;
    std::call_once(sigio_ignored, [] { std::signal(SIGIO, SIG_IGN); });
    int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st;
    bool writing = false;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0)
            fcntl(fd, F_SETLEASE, F_UNLCK);
        else
            writing = errno == EAGAIN;
    }
    close(fd);
    return writing;
}

}  // namespace orch
