#!/usr/bin/env bash
# A task's time is the sum of its runs: one stopped by Ctrl-C/SIGTERM (or its
# host killed) and resumed counts the time before the stop too, in `status`,
# `status --json` (spent_s: the runs before the last) and the report alike.
source "$(dirname "$0")/lib.bash"

TASKS=$T/tasks.md
task_md "$TASKS" 1 "Slow work" backend "Work slowly. [fake:slow:3]"
# secs TEXT: lib/format's duration ("5s", "1m 05s") in seconds
secs() {
    python3 - "$1" <<'EOF2'
import re, sys
unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}
print(sum(int(n) * unit[u] for n, u in re.findall(r"(\d+)([dhms])", sys.argv[1])))
EOF2
}
# task_time_status: the time column of task 1's row in `orch status`
task_time_status() {
    orch status >"$T/status.txt" || fail "status: $(cat "$T/status.txt")"
    # (the cost after it: "$0.0342", or "~$0.0503" when part of it is estimated)
    secs "$(grep -E '^  1 ' "$T/status.txt" | grep -oE '(([0-9]+[dhm] )?[0-9]+[dhms]) +~?\$' | sed 's/ *~\?\$$//')"
}

# --- the first run, stopped after at least 2 s of work (the stand-in's 4th half-second tick)
bg_run "$T/run1.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input
SUB=$BG_PID
worked_2s() { grep -qs '"working... 4"' "$T"/logs/task-*-1-output.log; }
wait_for worked_2s
kill -TERM "$(host_pid_of "$SUB")"
expect_eq "$(bg_wait "$T/run1.out")" 3 "the stopped run's exit code"
expect_eq "$(task_status 1)" paused "the task after the stop"

# --- resumed: a second full run of 3 s
orch resume --no-input >"$T/resume.out" 2>&1 || fail "resume: $(tail -5 "$T/resume.out")"
expect_eq "$(task_status 1)" completed "the task after the resume"

spent=$(sj "s['tasks'][0].get('spent_s') or 0")
python3 -c "import sys; sys.exit(0 if 2 <= float(sys.argv[1]) < 5 else 1)" "$spent" \
    || fail "spent_s (the stopped run's time): $spent"
st=$(task_time_status)
[ "$st" -ge 5 ] && [ "$st" -lt 9 ] || fail "status: task time ${st}s, not the two runs' (>= 2 + 3 s)
$(cat "$T/status.txt")"
orch report --stdout >"$T/report.md" || fail "report: $(cat "$T/report.md")"
rt=$(secs "$(grep -m1 '^- Time, cost, tokens:' "$T/report.md" | sed 's/^- Time, cost, tokens: \([^,]*\),.*/\1/')")
expect_eq "$rt" "$st" "the report's task time against status's"
tt=$(secs "$(grep -m1 '^- Task time:' "$T/report.md" | sed 's/^- Task time: \([^ ]*\( [0-9]*s\)\?\).*/\1/')")
expect_eq "$tt" "$st" "the report's day task time against status's"
note "ok"
