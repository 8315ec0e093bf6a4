// Child processes: spawn with pipes, reap on SIGCHLD, and kill a whole agent
// tree. Lua-free. Agents are tagged in their environment (agent_tag) so
// descendants that setsid() away (claude's Bash tool does) are still found;
// the host is a child subreaper so orphans come back to it instead of init.
#pragma once
#include <functional>
#include <string>
#include <sys/types.h>
#include <unordered_map>
#include <vector>

namespace orch {

class Loop;

struct SpawnSpec {
    std::vector<std::string> argv;        // argv[0] is resolved through PATH
    std::vector<std::string> env_extra;   // "K=V" added to (or replacing in) environ
    std::string cwd;
    bool want_stdin = false;
    int nice = 0;                         // added to the host's niceness in the child (0: the same)
};

struct Child {
    pid_t pid = -1;
    int in_fd = -1, out_fd = -1, err_fd = -1;  // non-blocking, close-on-exec
};

// Find an executable: a name with '/' is checked as is, else searched in PATH.
// Returns "" when not found.
std::string find_executable(const std::string& name);

// Throws std::runtime_error with a clear message (e.g. "claude: not found").
Child spawn_child(const SpawnSpec& spec);

// Pids of `root`'s descendants (by ppid) and of every process whose
// environment holds `tag_env` ("ORCH_AGENT_ID=x"); root itself included.
// `unsure` (when given) receives this host's live children whose environment
// read back empty: a process in the middle of an exec, whose tag cannot be
// seen until the exec is done.
std::vector<pid_t> find_tree(pid_t root, const std::string& tag_env, std::vector<pid_t>* unsure = nullptr);
// How many times this process has walked /proc in find_tree (for tests).
long long proc_scans();
void signal_all(const std::vector<pid_t>& pids, int signo);

// Reaps children on SIGCHLD and calls the callback registered for the pid.
class Reaper {
public:
    explicit Reaper(Loop& loop);
    void on_exit(pid_t pid, std::function<void(int wait_status)> cb);
    void forget(pid_t pid) { waiting_.erase(pid); }
    void reap_now();
    // False only when nothing a run started can be running unseen: the host
    // is a child subreaper (a dead process's descendants are reparented to
    // it at once) and each of its children is one registered here. Then a
    // run that has exited left nothing behind, without a walk of /proc.
    // True when the kernel cannot tell (no /proc/self/task/*/children).
    bool may_have_strays() const;

private:
    std::unordered_map<pid_t, std::function<void(int)>> waiting_;
};

// The environment entry that tags a process the host starts:
// ORCH_AGENT_ID=<host pid>-<run>@<state>, <state> being the path of the
// host's state database. Every descendant inherits it.
std::string agent_tag(const std::string& run, const std::string& state);

// SIGKILL the processes tagged for `state` whose host is gone (a host that
// died leaves them: setsid()'d descendants escape PR_SET_PDEATHSIG); returns
// how many.
int kill_orphaned_agents(const std::string& state);

// Make this process a child subreaper (orphaned descendants reparent here).
void become_subreaper();

}  // namespace orch
