#include "services/dir_watch.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

namespace orch {

namespace {

// The folder: its entries and itself (IN_IGNORED, IN_Q_OVERFLOW and
// IN_UNMOUNT come without asking).
constexpr std::uint32_t k_folder_mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM |
                                        IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
// An ancestor while the folder is away: the next step on the way back appears, or it goes too.
constexpr std::uint32_t k_ancestor_mask = IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
constexpr std::uint32_t k_self_gone = IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT;
// One read takes ~1,300 events of 50 bytes; the kernel queues at most
// fs.inotify.max_queued_events (16,384 by default), so a full queue takes ~13.
// Past this many reads in one wakeup the loop serves others first (epoll is
// level-triggered: the rest is read on its next turn).
constexpr int k_reads_per_wakeup = 64;

std::string absolute(const std::string& dir) {
    std::string d = dir;
    while (d.size() > 1 && d.back() == '/') d.pop_back();
    if (!d.empty() && d[0] == '/') return d;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return d;
    return std::string(cwd) + "/" + d;
}

std::string errno_text(int e) {
    if (e == EMFILE) return "too many inotify instances (fs.inotify.max_user_instances)";
    if (e == ENOSPC) return "the inotify watch limit is reached (fs.inotify.max_user_watches)";
    return std::strerror(e);
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "/a/b" -> "/a" (and "b" in *name); "/a" -> "/".
std::string parent_of(const std::string& p, std::string* name) {
    size_t slash = p.rfind('/');
    if (name) *name = p.substr(slash + 1);
    return slash == 0 ? "/" : p.substr(0, slash);
}

}  // namespace

const char* dir_event_kind_name(DirEvent::Kind k) {
    switch (k) {
    case DirEvent::Kind::Ready: return "ready";
    case DirEvent::Kind::Gone: return "gone";
    case DirEvent::Kind::DirRemoved: return "dir_removed";
    case DirEvent::Kind::Rescan: return "rescan";
    }
    return "rescan";
}

DirWatch::DirWatch(Loop& loop, std::string dir, Options opts, Callback cb)
    : loop_(loop), dir_(std::move(dir)), opts_(std::move(opts)), cb_(std::move(cb)),
      alive_(std::make_shared<bool>(true)) {}

std::unique_ptr<DirWatch> DirWatch::start(Loop& loop, const std::string& dir, Options opts, Callback cb,
                                          WatchError& err) {
    std::string d = absolute(dir);
    auto fail = [&](const std::string& code, const std::string& message) {
        err.code = code;
        err.message = d + ": " + message;
        return nullptr;
    };
    struct stat st;
    if (stat(d.c_str(), &st) != 0) return fail(errno == ENOENT ? "not_found" : "io", std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) return fail("io", "not a folder");
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return fail("io", "cannot watch: " + errno_text(errno));
    int wd = inotify_add_watch(fd, d.c_str(), k_folder_mask);
    if (wd < 0) {
        int e = errno;
        ::close(fd);
        return fail("io", "cannot watch: " + errno_text(e));
    }
    std::unique_ptr<DirWatch> w(new DirWatch(loop, d, std::move(opts), std::move(cb)));
    w->fd_ = fd;
    w->wd_ = wd;
    try {
        DirWatch* self = w.get();
        loop.watch(fd, EPOLLIN, [self](std::uint32_t) { self->on_readable(); });
    } catch (const std::exception& e) {
        w.reset();  // closes fd
        return fail("io", std::string("cannot watch: ") + e.what());
    }
    if (w->opts_.initial_scan) {
        DirWatch* self = w.get();
        w->scan_timer_ = loop.add_timer(0, [self] {
            self->scan_timer_ = 0;
            self->emit(DirEvent::Kind::Rescan, "");
        });
    }
    return w;
}

DirWatch::~DirWatch() { close(); }

void DirWatch::close() {
    if (fd_ < 0) return;
    *alive_ = false;
    if (scan_timer_) loop_.cancel_timer(scan_timer_);
    scan_timer_ = 0;
    loop_.unwatch(fd_);
    ::close(fd_);
    fd_ = wd_ = anc_wd_ = -1;
}

void DirWatch::on_readable() {
    // 64 KB holds ~1,300 events (and events with NAME_MAX names); on the
    // stack, so a callback that destroys this watch leaves it intact.
    alignas(inotify_event) char buf[64 * 1024];
    for (int reads = 0; reads < k_reads_per_wakeup && fd_ >= 0; ++reads) {
        ssize_t n = read(fd_, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // EAGAIN: all read
        for (size_t off = 0; off + sizeof(inotify_event) <= static_cast<size_t>(n);) {
            inotify_event e;
            std::memcpy(&e, buf + off, sizeof e);
            const char* name = buf + off + sizeof e;
            off += sizeof e + e.len;
            if (off > static_cast<size_t>(n)) break;
            std::string nm = e.len ? std::string(name, strnlen(name, e.len)) : std::string();
            if (!handle_event(e.wd, e.mask, nm)) return;  // closed inside the callback
        }
    }
}

bool DirWatch::emit(DirEvent::Kind k, const std::string& name) {
    auto alive = alive_;  // `this` may be gone after the callback
    DirEvent ev;
    ev.kind = k;
    ev.name = name;
    if (!name.empty()) ev.path = dir_ + "/" + name;
    cb_(ev);
    return *alive;
}

bool DirWatch::handle_event(int wd, std::uint32_t mask, const std::string& name) {
    if (mask & IN_Q_OVERFLOW) return emit(DirEvent::Kind::Rescan, "");
    if (wd >= 0 && wd == anc_wd_) {
        if (mask & k_self_gone) {  // the ancestor went too: wait further up
            if (mask & IN_MOVE_SELF) inotify_rm_watch(fd_, anc_wd_);
            anc_wd_ = -1;
            return look_for_folder();
        }
        if (name == anc_name_) return look_for_folder();
        return true;
    }
    if (wd < 0 || wd != wd_) return true;  // a watch already removed (its IN_IGNORED)
    if (mask & k_self_gone) return folder_went(mask);
    // sub-folders are not reported, but for one named with the suffix: a bad
    // entry the watcher refuses (once, when made or moved in)
    if ((mask & IN_ISDIR) && opts_.suffix.empty()) return true;
    if (!opts_.suffix.empty() && !ends_with(name, opts_.suffix)) return true;
    if (mask & (IN_DELETE | IN_MOVED_FROM)) return emit(DirEvent::Kind::Gone, name);
    if (mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) return emit(DirEvent::Kind::Ready, name);
    if (mask & IN_CREATE) {
        // complete at creation: a symlink, a hard link to a file (ln, cp -l);
        // never closed after writing: a folder, a FIFO, a socket, a device
        struct stat st;
        std::string p = dir_ + "/" + name;
        if (lstat(p.c_str(), &st) == 0 && (!S_ISREG(st.st_mode) || st.st_nlink > 1))
            return emit(DirEvent::Kind::Ready, name);
    }
    return true;
}

bool DirWatch::folder_went(std::uint32_t mask) {
    if (mask & IN_MOVE_SELF) inotify_rm_watch(fd_, wd_);  // else it follows the folder to its new name
    wd_ = -1;
    if (!emit(DirEvent::Kind::DirRemoved, "")) return false;
    return look_for_folder();
}

void DirWatch::clear_ancestor() {
    if (anc_wd_ >= 0) inotify_rm_watch(fd_, anc_wd_);
    anc_wd_ = -1;
    anc_name_.clear();
}

// Watches the folder again if it is back (then Rescan), else the nearest
// ancestor that exists, for the next step on the way back. Bounded: a path
// that exists but cannot be watched (a file where the folder was) waits for
// the ancestor's next event instead of trying again at once.
bool DirWatch::look_for_folder() {
    for (int tries = 0; tries < 4; ++tries) {
        int wd = inotify_add_watch(fd_, dir_.c_str(), k_folder_mask);
        if (wd >= 0) {
            clear_ancestor();
            wd_ = wd;
            return emit(DirEvent::Kind::Rescan, "");
        }
        std::string name, p = dir_;
        int awd = -1;
        while (awd < 0 && p != "/") {
            p = parent_of(p, &name);
            awd = inotify_add_watch(fd_, p.c_str(), k_ancestor_mask);
        }
        if (awd < 0) return true;  // not even "/": nothing to wait on
        if (awd != anc_wd_) clear_ancestor();
        anc_wd_ = awd;
        anc_name_ = name;
        // The next step may have appeared before the ancestor's watch began.
        std::string next = p == "/" ? "/" + name : p + "/" + name;
        struct stat st;
        if (lstat(next.c_str(), &st) != 0) return true;
    }
    return true;
}

}  // namespace orch
