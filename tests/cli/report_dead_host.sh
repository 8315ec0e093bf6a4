#!/usr/bin/env bash
# `orch-host report` of a session whose host was killed (kill -9): its
# Duration, and the time of the task it had in hand, count to when the host
# was last seen (its heartbeat, orchestrator.heartbeat), as `status` says
# (status_dead_host.sh), not to the time the report is made. While the host
# lives, they count to now.
source "$(dirname "$0")/lib.bash"

# shellcheck source=tests/cli/dead_host.bash
source "$(dirname "$0")/dead_host.bash"
dead_host_start
# secs_in FILE: the report's Duration, and the task's time in its table, in seconds ("3s" -> 3)
secs_in() {
    python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
d = re.search(r'^- Duration: (\d+)s$', text, re.M)
t = re.search(r'^\| 1 \| Long work \| backend \| running \| (\d+)s \|', text, re.M)
print(d and d.group(1), t and t.group(1))
PY
}
wait_for past "$started" 3
orch report --stdout >"$T/live.md" 2>&1 || fail "report while the host runs: $(cat "$T/live.md")"
read -r d t <<<"$(secs_in "$T/live.md")"
check "while the host runs: Duration and task time to now, at least 3 s: $d $t" \
    python3 -c "import sys; sys.exit(0 if int(sys.argv[1]) >= 3 and int(sys.argv[2]) >= 3 else 1)" "$d" "$t"
kill -KILL "$(host_pid_of "$BG_PID")"
expect_eq "$(bg_wait "$T/run.out")" 137 "exit code of the killed host"
killed=$(now)
orch report --stdout >"$T/dead1.md" 2>&1 || fail "report after the kill: $(cat "$T/dead1.md")"
read -r d1 t1 <<<"$(secs_in "$T/dead1.md")"
[ "$d1" != None ] && [ "$t1" != None ] || fail "no Duration or task time in the report: $(cat "$T/dead1.md")"
wait_for past "$killed" 2.5
orch report --stdout >"$T/dead2.md" 2>&1 || fail "report 2.5 s after the kill: $(cat "$T/dead2.md")"
check_eq "$(secs_in "$T/dead2.md")" "$d1 $t1" "Duration and task time, 2.5 s after the kill, as at the kill"
orch report >"$T/path.out" 2>&1 || fail "report to its file: $(cat "$T/path.out")"
check_eq "$(secs_in "$(tail -n1 "$T/path.out")")" "$d1 $t1" "the report's file says the same"
finish
