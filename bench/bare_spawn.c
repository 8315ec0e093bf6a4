/* bare_spawn: the floor for orch-host's per-task overhead.
 *
 * Runs the same stand-in agent N times with posix_spawn, J children in
 * flight at once: each child gets the prompt on a stdin pipe (closed after
 * the write, as the host does), its stdout and stderr are read to EOF, and it
 * is reaped with waitpid. Nothing is parsed, logged or stored: that is the
 * work the host adds, and what the benchmark measures.
 *
 *   bare_spawn -n N [-j J] [-p PROMPT_FILE] [-C DIR] [-e KEY=VAL]... -- PROGRAM ARG...
 *   bare_spawn -d EDGES [-j J] ... -- PROGRAM ARG...
 *
 * -d: run a dependency graph instead of N independent children, the floor
 *     for a DAG run: EDGES has one line per task, "ID DEP_ID..." (positive
 *     integers), in the task file's order. A task starts as soon as every
 *     task it depends on has exited, J at most in flight, the first ready
 *     one in file order first (as the host's scheduler picks). N is the
 *     number of lines. Exit 1 when a dependency is unknown or the graph
 *     cannot finish (a cycle).
 * -C: the children's working directory (the parent changes into it once).
 * -e: added to the inherited environment (the host adds ORCH_SESSION_ID,
 *     ORCH_TASK_ID and ORCH_AGENT_ID; pass the same names).
 * Prints "tasks N wall_s S per_task_ms M bytes B" on stdout. Exit 1 when a
 * child could not start or did not exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct kid {
    pid_t pid;
    long task; /* the line of EDGES (with -d) */
    int out, err; /* -1 once at EOF */
};

static char *prompt;
static size_t prompt_len;
static char **child_argv, **child_env;
static long long total_bytes;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "bare_spawn: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void start(struct kid *k) {
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) die("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    int rc = posix_spawn(&k->pid, child_argv[0], &fa, NULL, child_argv, child_env);
    posix_spawn_file_actions_destroy(&fa);
    if (rc) { errno = rc; die(child_argv[0]); }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    size_t off = 0; /* prompts are far below the pipe buffer; a plain write */
    while (off < prompt_len) {
        ssize_t w = write(in[1], prompt + off, prompt_len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break; /* EPIPE: the child does not read stdin */
        off += (size_t)w;
    }
    close(in[1]);
    k->out = out[0];
    k->err = err[0];
}

/* Reads what is there; returns 1 at EOF. */
static int drain(int fd) {
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("read");
        if (n == 0) return 1;
        total_bytes += n;
        if ((size_t)n < sizeof buf) return 0; /* back to poll */
    }
}

static int finish(struct kid *k) {
    int st;
    while (waitpid(k->pid, &st, 0) < 0)
        if (errno != EINTR) die("waitpid");
    k->pid = 0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* --- -d: the graph ------------------------------------------------------ */
static long ntasks, *waiting, *first_out, *outs; /* dependents of t: outs[first_out[t] .. first_out[t+1]) */
static long *heap, nheap; /* ready tasks, smallest line first */

static void heap_push(long t) {
    long i = nheap++;
    while (i > 0 && heap[(i - 1) / 2] > t) { heap[i] = heap[(i - 1) / 2]; i = (i - 1) / 2; }
    heap[i] = t;
}

static long heap_pop(void) {
    long top = heap[0], last = heap[--nheap], i = 0;
    for (;;) {
        long c = 2 * i + 1;
        if (c >= nheap) break;
        if (c + 1 < nheap && heap[c + 1] < heap[c]) c++;
        if (heap[c] >= last) break;
        heap[i] = heap[c];
        i = c;
    }
    if (nheap) heap[i] = last;
    return top;
}

_Noreturn static void graph_fail(const char *path, long line, const char *what) {
    fprintf(stderr, "bare_spawn: %s:%ld: %s\n", path, line, what);
    exit(1);
}

/* Reads EDGES: the tasks in file order, their dependents, the ready heap. */
static void load_graph(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) die(path);
    long cap = 1024, ncap = 4096, nedges = 0, maxid = 0;
    long *ids = malloc(cap * sizeof *ids), *line_of_edge = malloc(ncap * sizeof(long)),
         *dep_id = malloc(ncap * sizeof(long));
    char *buf = NULL;
    size_t bcap = 0;
    while (getline(&buf, &bcap, f) > 0) {
        char *p = buf, *end;
        long id = strtol(p, &end, 10);
        if (end == p || id <= 0) graph_fail(path, ntasks + 1, "expected a positive task id");
        if (ntasks == cap) ids = realloc(ids, (cap *= 2) * sizeof *ids);
        ids[ntasks] = id;
        if (id > maxid) maxid = id;
        for (p = end;; p = end) {
            long d = strtol(p, &end, 10);
            if (end == p) break;
            if (d <= 0) graph_fail(path, ntasks + 1, "expected a positive dependency id");
            if (nedges == ncap) {
                ncap *= 2;
                line_of_edge = realloc(line_of_edge, ncap * sizeof(long));
                dep_id = realloc(dep_id, ncap * sizeof(long));
            }
            line_of_edge[nedges] = ntasks;
            dep_id[nedges++] = d;
        }
        ntasks++;
    }
    free(buf);
    fclose(f);
    if (ntasks <= 0) graph_fail(path, 1, "no tasks");
    long *pos = malloc((maxid + 1) * sizeof *pos);
    for (long i = 0; i <= maxid; i++) pos[i] = -1;
    for (long t = 0; t < ntasks; t++) {
        if (pos[ids[t]] >= 0) graph_fail(path, t + 1, "duplicate task id");
        pos[ids[t]] = t;
    }
    waiting = calloc((size_t)ntasks, sizeof *waiting);
    first_out = calloc((size_t)ntasks + 1, sizeof *first_out);
    outs = malloc((nedges + 1) * sizeof *outs);
    heap = malloc(ntasks * sizeof *heap);
    for (long e = 0; e < nedges; e++) {
        if (dep_id[e] > maxid || pos[dep_id[e]] < 0) graph_fail(path, line_of_edge[e] + 1, "unknown dependency id");
        dep_id[e] = pos[dep_id[e]]; /* now a line */
        waiting[line_of_edge[e]]++;
        first_out[dep_id[e] + 1]++;
    }
    for (long t = 0; t < ntasks; t++) first_out[t + 1] += first_out[t];
    long *fill = calloc((size_t)ntasks, sizeof *fill);
    for (long e = 0; e < nedges; e++) outs[first_out[dep_id[e]] + fill[dep_id[e]]++] = line_of_edge[e];
    for (long t = 0; t < ntasks; t++)
        if (!waiting[t]) heap_push(t);
    free(fill);
    free(pos);
    free(ids);
    free(line_of_edge);
    free(dep_id);
}

/* Task T exited: its dependents that wait for nothing else become ready. */
static void graph_done(long t) {
    for (long e = first_out[t]; e < first_out[t + 1]; e++)
        if (--waiting[outs[e]] == 0) heap_push(outs[e]);
}

int main(int argc, char **argv) {
    long n = 0, jobs = 1;
    const char *prompt_file = NULL, *dir = NULL, *edges = NULL;
    char *extra[64];
    int nextra = 0, opt;
    signal(SIGPIPE, SIG_IGN);
    while ((opt = getopt(argc, argv, "+n:j:p:C:e:d:")) != -1) {
        switch (opt) {
        case 'n': n = atol(optarg); break;
        case 'j': jobs = atol(optarg); break;
        case 'p': prompt_file = optarg; break;
        case 'C': dir = optarg; break;
        case 'e': if (nextra < 64) extra[nextra++] = optarg; break;
        case 'd': edges = optarg; break;
        default: return 2;
        }
    }
    if (edges) {
        load_graph(edges);
        n = ntasks;
    }
    if (n <= 0 || jobs <= 0 || optind >= argc) {
        fprintf(stderr, "usage: bare_spawn {-n N | -d EDGES} [-j J] [-p PROMPT_FILE] [-C DIR] [-e K=V]... -- PROGRAM ARG...\n");
        return 2;
    }
    child_argv = argv + optind;
    if (prompt_file) {
        FILE *f = fopen(prompt_file, "rb");
        if (!f) die(prompt_file);
        struct stat st;
        fstat(fileno(f), &st);
        prompt = malloc((size_t)st.st_size + 1);
        prompt_len = fread(prompt, 1, (size_t)st.st_size, f);
        fclose(f);
    }
    /* environ with the extra variables replacing or adding */
    size_t ne = 0;
    while (environ[ne]) ne++;
    child_env = calloc(ne + (size_t)nextra + 1, sizeof *child_env);
    size_t m = 0;
    for (size_t i = 0; i < ne; i++) {
        int replaced = 0;
        for (int x = 0; x < nextra; x++) {
            size_t klen = strcspn(extra[x], "=") + 1;
            if (strncmp(environ[i], extra[x], klen) == 0) replaced = 1;
        }
        if (!replaced) child_env[m++] = environ[i];
    }
    for (int x = 0; x < nextra; x++) child_env[m++] = extra[x];
    if (dir && chdir(dir)) die(dir);

    struct kid *kids = calloc((size_t)jobs, sizeof *kids);
    struct pollfd *pfd = calloc((size_t)jobs * 2, sizeof *pfd);
    long started = 0, finished = 0, failed = 0;
    double t0 = now();
    while (finished < n) {
        for (long j = 0; j < jobs && started < n && (!edges || nheap); j++)
            if (!kids[j].pid) {
                if (edges) kids[j].task = heap_pop();
                start(&kids[j]);
                started++;
            }
        int np = 0;
        for (long j = 0; j < jobs; j++) {
            if (!kids[j].pid) continue;
            if (kids[j].out >= 0) pfd[np++] = (struct pollfd){kids[j].out, POLLIN, 0};
            if (kids[j].err >= 0) pfd[np++] = (struct pollfd){kids[j].err, POLLIN, 0};
        }
        if (np == 0) { /* nothing in flight, nothing ready: a cycle */
            fprintf(stderr, "bare_spawn: %s: %ld of %ld tasks can never start (a cycle)\n", edges, n - finished, n);
            return 1;
        }
        if (poll(pfd, (nfds_t)np, -1) < 0) {
            if (errno == EINTR) continue;
            die("poll");
        }
        for (int i = 0; i < np; i++) {
            if (!pfd[i].revents) continue;
            for (long j = 0; j < jobs; j++) {
                struct kid *k = &kids[j];
                if (!k->pid) continue;
                int *fd = k->out == pfd[i].fd ? &k->out : k->err == pfd[i].fd ? &k->err : NULL;
                if (!fd) continue;
                if (drain(*fd)) { close(*fd); *fd = -1; }
                if (k->out < 0 && k->err < 0) {
                    if (!finish(k)) failed++;
                    finished++;
                    if (edges) graph_done(k->task);
                }
                break;
            }
        }
    }
    double wall = now() - t0;
    printf("tasks %ld wall_s %.6f per_task_ms %.4f bytes %lld\n", n, wall, wall * 1000 / n, total_bytes);
    if (failed) {
        fprintf(stderr, "bare_spawn: %ld of %ld children failed\n", failed, n);
        return 1;
    }
    return 0;
}
