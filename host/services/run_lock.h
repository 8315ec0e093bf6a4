// The run lock: an exclusive flock on <state db>.lock that one host (run,
// serve) holds while it drives sessions of that state, so overlapping runs
// are refused and other commands know whether a host is alive. Lua-free.
#pragma once
#include <string>

namespace orch {

// The lock file of the state database at `state_db` (App::state_db_path()).
std::string run_lock_path(const std::string& state_db);

// The holder's note stays in the file until it releases the lock cleanly: a
// note in a free lock means its host died holding it (kill -9, OOM, a second
// Ctrl-C).
class RunLock {
public:
    explicit RunLock(std::string path) : path_(std::move(path)) {}
    ~RunLock();                             // a clean release: the note is cleared
    bool acquire(const std::string& note);  // false when another process holds it
    std::string holder() const;             // the note the holder wrote
    void renote(const std::string& note);   // the held lock's note, rewritten (serve's port once bound)
    bool held_by_other();                   // probe without keeping it; this process's own lock is not "other"
    void clear_if_free();                   // a dead holder's note, once its leftovers are gone
private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace orch
