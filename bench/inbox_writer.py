# bench/inbox_writer.py: the task files of bench/inbox.sh and bench/inbox_instr.sh
# (and the team day's JSON list of the same tasks).
#   json FILE N                   the N tasks as one JSON task list
#   write DIR PREFIX N            N files, each opened, written, closed; prints the ns after the last close
#   one DIR NAME                  one file; prints the ns after its close
#   latency DIR RESULTS STAMPS N PID  one at a time; prints ms close -> agent (STAMPS: bench/stamp_exec.c's)
import json, os, sys, time
def text(name, k):
    return (f"---\nid: {name}\ntype: document\npriority: medium\n---\n# Benchmark task {k}\n\n"
            f"**Prompt:**\nDocument module {k}. Keep it short.\n")
def write(path, body):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, body.encode())
    os.close(fd)
    return time.time_ns()
cmd = sys.argv[1]
if cmd == "json":
    n = int(sys.argv[3])
    tasks = [{"id": f"b-{k:04d}", "name": f"Benchmark task {k}", "type": "documentation",
              "prompt": f"Document module {k}. Keep it short."} for k in range(1, n + 1)]
    json.dump({"tasks": tasks}, open(sys.argv[2], "w"), indent=1)
elif cmd == "write":
    d, prefix, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
    last = 0
    for k in range(1, n + 1):
        last = write(f"{d}/{prefix}-{k:04d}.task.md", text(f"{prefix}-{k:04d}", k))
    print(last)
elif cmd == "one":  # one NAME into DIR, the close's ns
    print(write(f"{sys.argv[2]}/{sys.argv[3]}.task.md", text(sys.argv[3], 0)))
elif cmd == "latency":  # latency DIR RESULTS STAMPS N PID: one at a time; prints ms close -> agent
    d, res, stamps, n, pid = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
    def starts():
        try:
            return [int(l.split()[0]) for l in open(stamps) if l.split()[1:2] != ["--version"]]
        except FileNotFoundError:
            return []
    def until(cond, what, limit=120):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            v = cond()
            if v: return v
            if not os.path.exists(f"/proc/{pid}"): sys.exit(f"bench: the watcher ended while waiting for {what}")
            time.sleep(0.002)
        sys.exit(f"bench: timed out waiting for {what}")
    base = len(starts())
    for k in range(1, n + 1):
        name = f"lat-{k:04d}"
        t = write(f"{d}/{name}.task.md", text(name, k))
        st = until(lambda: len(starts()) >= base + k and starts(), f"the agent of {name}")
        until(lambda: os.path.exists(f"{res}/{name}_result.json"), f"the artifact of {name}")
        print((st[base + k - 1] - t) / 1e6, flush=True)
