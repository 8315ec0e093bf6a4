#include "services/run_lock.h"

#include "services/file_read.h"

#include <fcntl.h>
#include <mutex>
#include <set>
#include <sys/file.h>
#include <unistd.h>

namespace orch {

namespace {

// The lock files this process holds. A probe of one of them from here would
// conflict with our own flock (a second open file description) and report a
// live "other" host: ourselves.
std::mutex g_held_mu;
std::set<std::string> g_held;

bool held_here(const std::string& path) {
    std::lock_guard<std::mutex> g(g_held_mu);
    return g_held.count(path) > 0;
}

}  // namespace

std::string run_lock_path(const std::string& state_db) { return state_db + ".lock"; }

RunLock::~RunLock() {
    if (fd_ < 0) return;
    [[maybe_unused]] int rc = ftruncate(fd_, 0);  // no note: this host ended cleanly
    close(fd_);                                   // releases the flock
    std::lock_guard<std::mutex> g(g_held_mu);
    g_held.erase(path_);
}

void RunLock::clear_if_free() {
    int fd = open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) [[maybe_unused]] int rc = ftruncate(fd, 0);
    close(fd);  // releases the flock
}

bool RunLock::acquire(const std::string& note) {
    fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return true;  // cannot lock (read-only folder): the store will report it
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        close(fd_);
        fd_ = -1;
        return false;
    }
    if (ftruncate(fd_, 0) == 0) {
        [[maybe_unused]] auto n = pwrite(fd_, note.data(), note.size(), 0);
    }
    std::lock_guard<std::mutex> g(g_held_mu);
    g_held.insert(path_);
    return true;
}

std::string RunLock::holder() const {  // the note acquire() wrote; "" if unreadable
    std::string note;
    ReadError err;
    read_file_limited(path_, 4096, note, err);
    return note;
}

bool RunLock::held_by_other() {
    if (held_here(path_)) return false;
    int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool held = flock(fd, LOCK_SH | LOCK_NB) != 0;
    close(fd);
    return held;
}

}  // namespace orch
