#include "services/process.h"
#include "services/env_overlay.h"

#include "loop/loop.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <algorithm>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace orch {

std::string find_executable(const std::string& name) {
    auto usable = [](const std::string& p) {
        struct stat st;
        return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
    };
    if (name.empty()) return "";
    if (name.find('/') != std::string::npos) return usable(name) ? name : "";
    std::string dirs = env_get("PATH").value_or("/usr/local/bin:/usr/bin:/bin");
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        std::string dir = dirs.substr(start, end - start);
        std::string cand = (dir.empty() ? "." : dir) + "/" + name;
        if (usable(cand)) return cand;
        start = end + 1;
    }
    return "";
}

namespace {

void make_pipe(int fds[2]) {
    if (pipe2(fds, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
}

}  // namespace

Child spawn_child(const SpawnSpec& spec) {
    if (spec.argv.empty()) throw std::runtime_error("spawn: empty command");
    std::string exe = find_executable(spec.argv[0]);
    if (exe.empty()) {
        struct stat st;
        const std::string& name = spec.argv[0];
        if (name.find('/') != std::string::npos && stat(name.c_str(), &st) == 0)
            throw std::runtime_error(name + (S_ISDIR(st.st_mode) ? ": is a directory, not a program"
                                                                 : ": not executable (check its permissions)"));
        throw std::runtime_error(name + ": command not found");
    }
    std::vector<std::string> env = env_merged(spec.env_extra);
    std::vector<char*> argv, envp;
    for (auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    int in[2] = {-1, -1}, out[2], err[2], status[2];
    if (spec.want_stdin) make_pipe(in);
    make_pipe(out);
    make_pipe(err);
    make_pipe(status);
    const char* volatile cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();  // read after vfork
    const int nice_by = spec.nice;
    pid_t parent = getpid();
    sigset_t empty;
    sigemptyset(&empty);

    pid_t pid = vfork();
    if (pid == 0) {
        // Child: only async-signal-safe system calls from here on.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        setpgid(0, 0);
        // lower priority than the host (the kernel caps it at 19): the host's one
        // thread starts and finishes every agent and must not queue behind them
        if (nice_by > 0) setpriority(PRIO_PROCESS, 0, getpriority(PRIO_PROCESS, 0) + nice_by);
        struct sigaction dfl{};
        dfl.sa_handler = SIG_DFL;
        for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGCHLD, SIGHUP, SIGIO}) sigaction(s, &dfl, nullptr);
        sigprocmask(SIG_SETMASK, &empty, nullptr);
        int devnull = -1;
        if (in[0] >= 0) dup2(in[0], 0);
        else if ((devnull = open("/dev/null", O_RDONLY)) >= 0) dup2(devnull, 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        int e = 0;
        if (cwd && chdir(cwd) != 0) e = errno;
        else {
            execve(exe.c_str(), argv.data(), envp.data());
            e = errno;
        }
        [[maybe_unused]] auto n = write(status[1], &e, sizeof e);
        _exit(127);
    }
    int saved = errno;
    for (int fd : {in[0], out[1], err[1], status[1]})
        if (fd >= 0) close(fd);
    if (pid < 0) {
        for (int fd : {in[1], out[0], err[0], status[0]})
            if (fd >= 0) close(fd);
        throw std::runtime_error(std::string("fork: ") + std::strerror(saved));
    }
    int child_errno = 0;
    ssize_t n = read(status[0], &child_errno, sizeof child_errno);
    close(status[0]);
    if (n == static_cast<ssize_t>(sizeof child_errno)) {
        for (int fd : {in[1], out[0], err[0]})
            if (fd >= 0) close(fd);
        waitpid(pid, nullptr, 0);
        std::string what = cwd && access(cwd, X_OK) != 0 ? std::string("cannot enter ") + cwd : exe;
        throw std::runtime_error(what + ": " + std::strerror(child_errno));
    }
    Child c;
    c.pid = pid;
    c.in_fd = in[1];
    c.out_fd = out[0];
    c.err_fd = err[0];
    for (int fd : {c.in_fd, c.out_fd, c.err_fd})
        if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return c;
}

namespace {

// The ppid, and the state letter into *state ('Z' for a zombie).
pid_t read_ppid(const std::string& pid_dir, char* state) {
    std::ifstream f(pid_dir + "/stat");
    std::string s;
    std::getline(f, s);
    auto close_paren = s.rfind(')');
    if (close_paren == std::string::npos || close_paren + 4 > s.size()) return -1;
    // after ") " comes the state letter, then ppid
    *state = s[close_paren + 2];
    return static_cast<pid_t>(std::atoi(s.c_str() + close_paren + 4));
}

enum class Tag { Has, HasNot, Empty };

Tag environ_has(const std::string& pid_dir, const std::string& tag) {
    std::ifstream f(pid_dir + "/environ", std::ios::binary);
    std::string entry;
    bool any = false;
    while (std::getline(f, entry, '\0')) {
        if (entry == tag) return Tag::Has;
        any = true;
    }
    return any ? Tag::HasNot : Tag::Empty;
}

long long g_proc_scans = 0;

}  // namespace

long long proc_scans() { return g_proc_scans; }

std::vector<pid_t> find_tree(pid_t root, const std::string& tag_env, std::vector<pid_t>* unsure) {
    ++g_proc_scans;
    std::unordered_map<pid_t, std::vector<pid_t>> children;
    std::vector<pid_t> found;
    DIR* d = opendir("/proc");
    if (!d) return root > 0 ? std::vector<pid_t>{root} : found;
    pid_t self = getpid();
    while (dirent* e = readdir(d)) {
        char* end;
        long pid = std::strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == self) continue;
        std::string dir = std::string("/proc/") + e->d_name;
        char state = '?';
        pid_t ppid = read_ppid(dir, &state);
        children[ppid].push_back(static_cast<pid_t>(pid));
        if (tag_env.empty()) continue;
        Tag t = environ_has(dir, tag_env);
        if (t == Tag::Has) found.push_back(static_cast<pid_t>(pid));
        if (t == Tag::Empty && unsure && ppid == self && state != 'Z') unsure->push_back(static_cast<pid_t>(pid));
    }
    closedir(d);
    if (root > 0) {
        std::vector<pid_t> stack{root};
        while (!stack.empty()) {
            pid_t p = stack.back();
            stack.pop_back();
            found.push_back(p);
            for (pid_t c : children[p]) stack.push_back(c);
        }
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    return found;
}

void signal_all(const std::vector<pid_t>& pids, int signo) {
    for (pid_t p : pids)
        if (p > 1) kill(p, signo);
}

Reaper::Reaper(Loop& loop) {
    loop.on_signal(SIGCHLD, [this] { reap_now(); });
}

void Reaper::on_exit(pid_t pid, std::function<void(int)> cb) { waiting_[pid] = std::move(cb); }

void Reaper::reap_now() {
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        auto it = waiting_.find(pid);
        if (it == waiting_.end()) continue;  // an orphan we adopted as subreaper
        auto cb = std::move(it->second);
        waiting_.erase(it);
        cb(st);
    }
}

bool Reaper::may_have_strays() const {
    int subreaper = 0;
    if (prctl(PR_GET_CHILD_SUBREAPER, &subreaper) != 0 || !subreaper) return true;
    DIR* d = opendir("/proc/self/task");
    if (!d) return true;
    bool strays = false;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        // a thread that ends meanwhile also makes this true: one walk more
        int fd = open((std::string("/proc/self/task/") + e->d_name + "/children").c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) { strays = true; break; }
        std::string pids;
        char buf[4096];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0) pids.append(buf, static_cast<size_t>(n));
        close(fd);
        if (n < 0) { strays = true; break; }
        for (const char* p = pids.c_str();;) {
            char* end;
            long pid = std::strtol(p, &end, 10);
            if (end == p) break;
            if (!waiting_.count(static_cast<pid_t>(pid))) strays = true;
            p = end;
        }
        if (strays) break;
    }
    closedir(d);
    return strays;
}

void become_subreaper() { prctl(PR_SET_CHILD_SUBREAPER, 1); }

namespace {
const std::string k_tag_key = "ORCH_AGENT_ID=";
}

std::string agent_tag(const std::string& run, const std::string& state) {
    return k_tag_key + std::to_string(getpid()) + "-" + run + "@" + state;
}

int kill_orphaned_agents(const std::string& state) {
    DIR* d = opendir("/proc");
    if (!d) return 0;
    int killed = 0;
    const std::string suffix = "@" + state;
    const pid_t self = getpid();
    while (dirent* e = readdir(d)) {
        char* end;
        long pid = std::strtol(e->d_name, &end, 10);
        if (*end || pid <= 1 || pid == self) continue;
        std::ifstream f(std::string("/proc/") + e->d_name + "/environ", std::ios::binary);
        std::string entry;
        while (std::getline(f, entry, '\0')) {
            if (entry.compare(0, k_tag_key.size(), k_tag_key) != 0) continue;
            auto at = entry.find('@');
            if (at == std::string::npos || entry.compare(at, std::string::npos, suffix) != 0) break;
            long host = std::strtol(entry.c_str() + k_tag_key.size(), nullptr, 10);
            if (host > 0 && kill(static_cast<pid_t>(host), 0) != 0 && errno == ESRCH) {
                kill(static_cast<pid_t>(pid), SIGKILL);
                ++killed;
            }
            break;
        }
    }
    closedir(d);
    return killed;
}

}  // namespace orch
