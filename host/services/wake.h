// Wake-ups between processes that share a state database. A host that waits
// for decisions or commands written by other processes (`orch-host approve`,
// another host's orch.push_command) listens on a unix datagram socket in
// "<database>.wake/" (a directory of mode 0700: only the owner can reach the
// sockets), one socket per process, named by its pid. A writer sends one byte
// to every socket there right after it commits such a row (poke_waiters);
// the listener then reads the database. A poke carries no data: a lost or
// stale one only costs a look, and a listener that gets none still looks at
// its slow fallback interval. Sockets of processes that died are removed by
// the next writer (its send is refused). Lua-free.
#pragma once
#include <string>

namespace orch {

class WakeListener {
public:
    // Binds "<db_path>.wake/<pid>". Throws std::runtime_error on failure.
    explicit WakeListener(const std::string& db_path);
    ~WakeListener();
    WakeListener(const WakeListener&) = delete;
    WakeListener& operator=(const WakeListener&) = delete;

    int fd() const { return fd_; }  // readable when poked (non-blocking)
    // Reads every queued poke; returns how many there were.
    int drain();

private:
    std::string path_;
    int fd_ = -1;
};

// "<db_path>.wake": where the listeners of that database are.
std::string wake_dir(const std::string& db_path);

// One byte to every listener of the database; never throws, never blocks.
// Returns how many listeners were poked.
int poke_waiters(const std::string& db_path);

}  // namespace orch
