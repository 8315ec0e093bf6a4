// stamp_exec: an exec wrapper the latency benches put in front of the stand-in
// claude. First thing it appends "NS ARGV1" (CLOCK_REALTIME nanoseconds and its
// first argument) to $STAMP_FILE, then it execs $STAMP_EXEC with its argv.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char** argv) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char line[128];
    int n = snprintf(line, sizeof line, "%lld %s\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec,
                     argc > 1 ? argv[1] : "-");
    int fd = open(getenv("STAMP_FILE"), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) { (void)!write(fd, line, (size_t)n); close(fd); }
    argv[0] = getenv("STAMP_EXEC");
    execv(argv[0], argv);
    return 127;
}
