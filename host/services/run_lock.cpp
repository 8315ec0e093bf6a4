#include "services/run_lock.h"

#include "services/file_read.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
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

// A probe (held_by_other, clear_if_free, in any process) holds the flock for
// microseconds; a host holds it for its life and names its live pid in the
// note ("pid 123, ..."). So a lock found held while the note names no live
// process is looked at again, every 10 ms for up to a second, before it
// counts as held: a `status` probing at the moment a `run` starts must not
// make that run fail as "another run is active", nor a resume think a host runs.
constexpr int kProbeTries = 100;
constexpr useconds_t kProbeWaitUs = 10000;

bool names_live_process(const std::string& note) {
    if (note.compare(0, 4, "pid ") != 0) return false;
    long pid = strtol(note.c_str() + 4, nullptr, 10);
    if (pid <= 0 || pid == getpid()) return false;
    return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
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

void RunLock::renote(const std::string& note) {
    if (fd_ < 0) return;
    if (ftruncate(fd_, 0) == 0) {
        [[maybe_unused]] auto n = pwrite(fd_, note.data(), note.size(), 0);
    }
}

bool RunLock::acquire(const std::string& note) {
    fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return true;  // cannot lock (read-only folder): the store will report it
    for (int i = 0; flock(fd_, LOCK_EX | LOCK_NB) != 0; ++i) {
        if (errno != EWOULDBLOCK || i >= kProbeTries || names_live_process(holder())) {
            close(fd_);
            fd_ = -1;
            return false;
        }
        usleep(kProbeWaitUs);
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
    bool held = false;
    for (int i = 0; flock(fd, LOCK_SH | LOCK_NB) != 0; ++i) {
        if (errno != EWOULDBLOCK || i >= kProbeTries || names_live_process(holder())) {
            held = true;
            break;
        }
        usleep(kProbeWaitUs);
    }
    close(fd);
    return held;
}

}  // namespace orch
