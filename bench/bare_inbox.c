// bench/bare_inbox.c: the floor of the inbox's close -> agent latency
// (bench/inbox.sh). An inotify watch on DIR; for each NAME.task.md closed
// after writing or moved in, one at a time: read the file, posix_spawn the
// agent (the argv after --) with the file on its stdin, read its output to
// EOF, waitpid, then create RESULTS/NAME_result.json (empty) as the inbox's
// artifact. Says "ready" on stderr once its watch is in place; runs until
// killed.
//
//   bare_inbox DIR RESULTS -- AGENT ARGV...
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

static const char k_suffix[] = ".task.md";

static void run_one(const char* dir, const char* results, const char* name, char** argv) {
    char path[PATH_MAX], out[PATH_MAX], buf[65536];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int in = open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0) return;
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) { close(in); return; }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in);
    close(pipefd[1]);
    if (rc == 0) {
        while (read(pipefd[0], buf, sizeof buf) > 0) {}
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    }
    close(pipefd[0]);
    size_t n = strlen(name) - (sizeof k_suffix - 1);
    snprintf(out, sizeof out, "%s/%.*s_result.json", results, (int)n, name);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) close(fd);
}

int main(int argc, char** argv) {
    if (argc < 5 || strcmp(argv[3], "--") != 0) {
        fprintf(stderr, "usage: bare_inbox DIR RESULTS -- AGENT ARGV...\n");
        return 2;
    }
    int fd = inotify_init1(IN_CLOEXEC);
    if (fd < 0 || inotify_add_watch(fd, argv[1], IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
        perror("inotify");
        return 1;
    }
    fprintf(stderr, "ready\n");  // the watch is in place
    char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t len = read(fd, buf, sizeof buf);
        if (len < 0 && errno == EINTR) continue;
        if (len <= 0) return 1;
        for (char* p = buf; p < buf + len;) {
            struct inotify_event* ev = (struct inotify_event*)p;
            size_t l = ev->len ? strlen(ev->name) : 0;
            if (l > sizeof k_suffix - 1 && strcmp(ev->name + l - (sizeof k_suffix - 1), k_suffix) == 0)
                run_one(argv[1], argv[2], ev->name, argv + 4);
            p += sizeof *ev + ev->len;
        }
    }
}
