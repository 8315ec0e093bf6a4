/* maxrss: run a command and report its peak resident set size, exactly.
 *
 *   maxrss OUT_FILE PROGRAM ARG...
 *
 * Forks, execs PROGRAM, waits with wait4 and writes "maxrss_kb K wall_s S"
 * to OUT_FILE; the command's stdout and stderr pass through, and its exit
 * status is maxrss's. K is the kernel's ru_maxrss for the child, which is
 * the larger of the child's own peak and the peaks of the descendants it
 * reaped (for orch-host: the agents it ran). To tell the two apart it also
 * polls the child's own VmHWM in /proc every 10 ms and writes the last value
 * seen as "own_hwm_kb" (a lower bound of the child's own peak, usually exact
 * since the peak is reached long before exit). "own_cpu_s" is the child's
 * own user+sys CPU, its reaped descendants excluded (utime and stime of
 * /proc/PID/stat, read while the exited child is still a zombie), all its
 * threads; "own_user_s", "own_sys_s" and "own_minflt" (page faults) the same
 * split, after it on the line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: maxrss OUT_FILE PROGRAM ARG...\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) { perror("maxrss: fork"); return 2; }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "maxrss: %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    int st;
    struct rusage ru;
    long own_hwm = 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
#ifdef SYS_pidfd_open
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#else
    int pidfd = -1;
#endif
    double own_cpu = -1, own_user = -1, own_sys = -1;
    unsigned long own_minflt = 0;
    char stat_path[64];
    snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", (int)pid);
    long tick = sysconf(_SC_CLK_TCK);
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        int r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
        if (r < 0 && errno != EINTR) { perror("maxrss: waitid"); return 2; }
        if (r == 0 && si.si_pid == pid) {
            FILE *p = fopen(stat_path, "r");
            char buf[1024];
            if (p && fgets(buf, sizeof buf, p)) {
                char *q = strrchr(buf, ')');
                unsigned long ut, stt, mf;
                /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
                if (q && sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %lu %*u %*u %*u %lu %lu", &mf, &ut, &stt) == 3) {
                    own_cpu = (double)(ut + stt) / (double)tick;
                    own_user = (double)ut / (double)tick;
                    own_sys = (double)stt / (double)tick;
                    own_minflt = mf;
                }
            }
            if (p) fclose(p);
            if (wait4(pid, &st, 0, &ru) != pid) { perror("maxrss: wait4"); return 2; }
            break;
        }
        FILE *p = fopen(path, "r");
        if (p) {
            char line[256];
            long v;
            while (fgets(line, sizeof line, p))
                if (sscanf(line, "VmHWM: %ld", &v) == 1 && v > own_hwm) own_hwm = v;
            fclose(p);
        }
        if (pidfd >= 0) {
            struct pollfd pf = {pidfd, POLLIN, 0};
            poll(&pf, 1, 10); /* wakes at once when the child exits */
        } else {
            struct timespec d = {0, 10 * 1000 * 1000};
            nanosleep(&d, NULL);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    FILE *f = fopen(argv[1], "w");
    if (!f) { perror(argv[1]); return 2; }
    fprintf(f, "maxrss_kb %ld own_hwm_kb %ld wall_s %.6f user_s %.3f sys_s %.3f own_cpu_s %.3f own_user_s %.3f "
            "own_sys_s %.3f own_minflt %lu\n", ru.ru_maxrss, own_hwm,
            (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
            ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, own_cpu,
            own_user, own_sys, own_minflt);
    fclose(f);
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    return 128 + WTERMSIG(st);
}
