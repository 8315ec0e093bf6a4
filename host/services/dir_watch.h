// A folder watched for files that are complete (inotify on the event loop,
// no timers, no polling: an idle watch costs nothing). Non-recursive: the
// folder's own entries only; sub-folders are not reported, except one whose
// name ends with Options::suffix (a bad entry for the watcher to refuse).
// Lua-free.
//
// Events, in the order the kernel gave them:
// - Ready: a file was closed after writing (IN_CLOSE_WRITE), moved or renamed
//   into the folder (IN_MOVED_TO), or an entry that is never closed after
//   writing was created: a symlink, a hard link, a FIFO, a socket, a device,
//   a folder named with the suffix (IN_CREATE). A file still open for
//   writing gives nothing yet.
// - Gone: a file was deleted or moved out (IN_DELETE, IN_MOVED_FROM).
// - DirRemoved: the folder itself was removed or moved away. The watch then
//   waits, on the nearest ancestor that still exists, for it to come back
//   (an ancestor that goes too moves the wait further up), and sends Rescan
//   when it does.
// - Rescan: list the folder again: the kernel's event queue overflowed
//   (IN_Q_OVERFLOW), the folder came back, or the watch just started
//   (Options::initial_scan, sent on the loop's next turn).
#pragma once
#include "loop/loop.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace orch {

struct DirEvent {
    enum class Kind { Ready, Gone, DirRemoved, Rescan };
    Kind kind = Kind::Rescan;
    std::string name;  // the file's basename (Ready, Gone); empty otherwise
    std::string path;  // folder + "/" + name (Ready, Gone); empty otherwise
};

// Why a watch could not start. code: "not_found" (no such folder), "io"
// (not a folder, no permission, out of inotify instances or watches);
// message names the folder.
struct WatchError {
    std::string code;
    std::string message;
};

// "ready", "gone", "dir_removed", "rescan": the names the Lua API uses.
const char* dir_event_kind_name(DirEvent::Kind k);

class DirWatch {
public:
    using Callback = std::function<void(const DirEvent&)>;
    struct Options {
        std::string suffix;         // only names ending with it (Ready, Gone); empty: all
        bool initial_scan = false;  // one Rescan on the loop's next turn
    };

    // Starts watching `dir` (an existing folder; a relative path is taken
    // from the current directory). nullptr and `err` when it cannot. The
    // callback runs on the loop thread, from the loop (never inside start).
    static std::unique_ptr<DirWatch> start(Loop& loop, const std::string& dir, Options opts, Callback cb,
                                           WatchError& err);
    ~DirWatch();
    DirWatch(const DirWatch&) = delete;
    DirWatch& operator=(const DirWatch&) = delete;

    // Ends the watch: no callback after this returns. Safe inside the
    // callback (the events read with it are dropped); a second call does nothing.
    void close();
    bool closed() const { return fd_ < 0; }
    const std::string& dir() const { return dir_; }  // absolute
    // Whether the folder is watched now (false between DirRemoved and its Rescan).
    bool present() const { return wd_ >= 0; }

private:
    DirWatch(Loop& loop, std::string dir, Options opts, Callback cb);
    void on_readable();
    // Each returns false when the watch was closed inside the callback.
    bool handle_event(int wd, std::uint32_t mask, const std::string& name);
    bool emit(DirEvent::Kind k, const std::string& name);
    bool folder_went(std::uint32_t mask);
    bool look_for_folder();
    void clear_ancestor();

    Loop& loop_;
    std::string dir_;
    Options opts_;
    Callback cb_;
    int fd_ = -1;
    int wd_ = -1;           // the folder's watch
    int anc_wd_ = -1;       // while the folder is away: the nearest ancestor's watch
    std::string anc_name_;  // the entry of that ancestor on the way to the folder
    TimerId scan_timer_ = 0;
    std::shared_ptr<bool> alive_;  // false once closed: stops a read loop whose callback closed it
};

}  // namespace orch
