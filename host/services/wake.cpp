#include "services/wake.h"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace orch {

namespace {

// A socket address for dir/name. A path longer than sun_path (108 bytes) is
// reached through the open directory: /proc/self/fd/<dirfd>/name.
bool make_addr(const std::string& dir, int dirfd, const std::string& name, sockaddr_un& a) {
    std::memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    std::string p = dir + "/" + name;
    if (p.size() >= sizeof a.sun_path) {
        if (dirfd < 0) return false;
        p = "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
        if (p.size() >= sizeof a.sun_path) return false;
    }
    std::memcpy(a.sun_path, p.c_str(), p.size() + 1);
    return true;
}

}  // namespace

std::string wake_dir(const std::string& db_path) { return db_path + ".wake"; }

WakeListener::WakeListener(const std::string& db_path) {
    std::string dir = wake_dir(db_path);
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw std::runtime_error("wake socket: cannot create " + dir + ": " + std::strerror(errno));
    struct stat st;
    if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
        throw std::runtime_error("wake socket: " + dir + " is not a directory of this user");
    if ((st.st_mode & 077) != 0) chmod(dir.c_str(), 0700);
    int dirfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    std::string name = std::to_string(getpid());
    sockaddr_un a;
    bool ok = make_addr(dir, dirfd, name, a);
    fd_ = ok ? socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) : -1;
    if (fd_ >= 0) {
        unlinkat(dirfd, name.c_str(), 0);  // a socket left by an earlier process with this pid
        if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            close(fd_);
            fd_ = -1;
        }
    }
    int saved = errno;
    if (dirfd >= 0) close(dirfd);
    if (fd_ < 0)
        throw std::runtime_error("wake socket: cannot listen in " + dir + ": " +
                                 (ok ? std::strerror(saved) : "path too long"));
    path_ = dir + "/" + name;
    chmod(path_.c_str(), 0600);
}

WakeListener::~WakeListener() {
    if (fd_ >= 0) close(fd_);
    if (!path_.empty()) unlink(path_.c_str());
}

int WakeListener::drain() {
    int n = 0;
    char buf[64];
    while (recv(fd_, buf, sizeof buf, 0) >= 0) ++n;
    return n;
}

int poke_waiters(const std::string& db_path) {
    std::string dir = wake_dir(db_path);
    DIR* d = opendir(dir.c_str());
    if (!d) return 0;
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int poked = 0;
    while (s >= 0) {
        dirent* e = readdir(d);
        if (!e) break;
        if (e->d_name[0] == '.') continue;
        sockaddr_un a;
        if (!make_addr(dir, dirfd(d), e->d_name, a)) continue;
        char one = 1;
        if (sendto(s, &one, 1, MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&a), sizeof a) == 1) ++poked;
        else if (errno == ECONNREFUSED) unlinkat(dirfd(d), e->d_name, 0);  // its process is gone
        else if (errno == EAGAIN) ++poked;  // its queue is full: it has pokes to read already
    }
    if (s >= 0) close(s);
    closedir(d);
    return poked;
}

}  // namespace orch
