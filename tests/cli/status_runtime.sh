#!/usr/bin/env bash
# `orch-host status` of a session a live host is running shows a runtime that
# grows: now - started, not the time of the session's last update (it used to
# stay frozen while an agent worked). Once the session is paused and the host
# gone, the runtime stops and two calls agree.
source "$(dirname "$0")/lib.bash"

TASKS=$T/tasks.md
task_md "$TASKS" 1 "Long work" backend "Work for ever. [fake:hang]"
bg_run "$T/run.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input
SUB=$BG_PID
wait_for sj_true "s['tasks'][0]['status'] == 'running' and s['host_alive']"

now() { date +%s.%N; }
# the session's last recorded change (started_at or updated_at, the later)
last_change=$(sj "max(s.get('started_at') or 0, s.get('updated_at') or 0)")
started=$(sj "s['started_at']")
# elapsed SINCE: whole seconds from SINCE to now
elapsed() { python3 -c "import sys; print(int(float(sys.argv[1]) - float(sys.argv[2])))" "$(now)" "$1"; }
# at least 3 s past the last update, so a runtime frozen there is visibly short
at_least() { [ "$(elapsed "$1")" -ge "$2" ]; }
wait_for at_least "$last_change" 3

# runtime_s: the runtime `orch-host status` prints, in seconds
runtime_s() {
    orch status >"$T/status.txt" || fail "orch status failed: $(cat "$T/status.txt")"
    python3 - "$T/status.txt" <<'EOF' || fail "no runtime in: $(cat "$T/status.txt")"
import re, sys
# lib/format's duration: "5s", "1m 05s", "2h 03m", "1d 4h"
m = re.search(r"runtime (?:(\d+)([dhm]) )?(\d+)([hms])\b", open(sys.argv[1]).read())
if not m:
    sys.exit(1)
unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}
big = int(m.group(1)) * unit[m.group(2)] if m.group(1) else 0
print(big + int(m.group(3)) * unit[m.group(4)])
EOF
}

floor1=$(elapsed "$started")
r1=$(runtime_s)
[ "$r1" -ge "$floor1" ] ||
    fail "runtime of a running session: ${r1}s, but it started ${floor1}s ago (frozen at the last update?)
$(cat "$T/status.txt")"

# later, it has grown
wait_for at_least "$started" $((r1 + 2))
r2=$(runtime_s)
[ "$r2" -gt "$r1" ] || fail "runtime did not grow: ${r1}s then ${r2}s
$(cat "$T/status.txt")"

# paused, host gone: the runtime stays put
kill -INT "$(host_pid_of "$SUB")"
expect_eq "$(bg_wait "$T/run.out")" 3 "exit code after SIGINT"
expect_eq "$(session_status)" paused "session after SIGINT"
p1=$(runtime_s)
stopped=$(now)
wait_for at_least "$stopped" 2
p2=$(runtime_s)
expect_eq "$p2" "$p1" "runtime of a paused session, two calls 2 s apart"
note "ok (running: ${r1}s then ${r2}s; paused: ${p1}s)"
