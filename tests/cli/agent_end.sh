#!/usr/bin/env bash
# How a task's agent ends, and what is left of it. Three tasks in one day:
#  1. the agent exits 0 leaving a child in its own session that ignores
#     SIGTERM and would write into the work tree 30 s later: the task
#     completes, and by then the child is gone;
#  2. the agent prints its result line and never exits: the task completes
#     with its result and cost (not after the task timeout), nothing of it left;
#  3. the result line has absurd numbers (cost 1e308, 9.2e18 tokens) and NUL,
#     ESC and BEL bytes in its text: the numbers are refused with a logged
#     reason, and the messages and the report show the bytes escaped.
source "$(dirname "$0")/lib.bash"

cat >"$T/absurd.ndjson" <<'EOF'
{"type":"result","subtype":"success","is_error":false,"duration_ms":1200,"num_turns":1,"result":"done\u0000 with a NUL, \u001b[2Jan ESC and a bell\u0007","session_id":"absurd-1","total_cost_usd":1e308,"usage":{"input_tokens":9200000000000000000,"output_tokens":5},"permission_denials":[]}
EOF
TASKS=$T/tasks.md
task_md "$TASKS" 1 "Leaves a child" backend "Start a dev server. [fake:detach:30] [key:d1]"
task_md "$TASKS" 2 "Never exits" backend "Print the result and stay. [fake:linger] [key:l1]"
task_md "$TASKS" 3 "Absurd result" backend "Report nonsense. [fake:replay:$T/absurd.ndjson] [key:a1]"

# without the result line ending the run, task 2 would fail as timed out
day_before=$(date +%F)
CLAUDE_TIMEOUT_SEC=300 orch run daily.lua --tasks "$TASKS" --auto-approve --no-input >"$T/run.out" 2>&1
rc=$?
day_after=$(date +%F)
[ "$rc" = 0 ] || { cat "$T/run.out" >&2; fail "run exit code: expected 0, got $rc"; }
check_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "completed", "completed"]' "task statuses"

# --- 1: the child the agent left is stopped before the task is reported
child=$(head -n1 "$T/work/detached.pid" 2>/dev/null)
[ -n "$child" ] || fail "the agent of task 1 wrote no detached.pid"
alive() { [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
check "the child the agent of task 1 left (pid $child) still runs after the task completed" eval '! alive "$child"'
check "agent processes are left after the run: $(agent_pids | tr '\n' ' ')" no_agents
check "detached-survivor.txt exists: the left child wrote into the work tree" test ! -e "$T/work/detached-survivor.txt"

# --- 2: the result of an agent that never exits counts
check_eq "$(sj "s['tasks'][1].get('cost_usd')")" 0.034215 "task 2 cost"
check_eq "$(sj "s['tasks'][1].get('result')")" done "task 2 result"

# --- 3: absurd numbers refused, control bytes escaped
check_eq "$(sj "s['tasks'][2].get('cost_usd') == 0")" true "task 3 cost is 0 (1e308 refused)"
check_eq "$(sj "s['tasks'][2].get('tokens')")" 5 "task 3 tokens (9.2e18 refused)"
if [ -s "$T/logs/$day_before.log" ]; then daily=$T/logs/$day_before.log; else daily=$T/logs/$day_after.log; fi
check "the daily log gives no reason for the refused cost" grep -qF "total_cost_usd = 1e+308 refused" "$daily"
check "the daily log gives no reason for the refused tokens" grep -qF "input_tokens = 9200000000000000000 refused" "$daily"
if [ -s "$T/results/$day_before-report.md" ]; then rep=$T/results/$day_before-report.md; else rep=$T/results/$day_after-report.md; fi
[ -s "$rep" ] || fail "no report in $T/results ($(ls "$T/results"))"
raw_control() {  # FILE holds a control byte other than tab and newline
    python3 -c 'import re, sys; sys.exit(0 if re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", open(sys.argv[1], "rb").read()) else 1)' "$1"
}
check "the report holds raw control bytes" eval '! raw_control "$rep"'
check "the report does not show the result's NUL and ESC escaped" grep -qF 'done\x00 with a NUL, \x1b[2Jan ESC and a bell\x07' "$rep"
# the task_completed message, printed on the terminal as it is sent
check "the messages hold raw control bytes" eval '! raw_control "$T/run.out"'
check "the task_completed message does not show the result escaped" grep -qF 'done\x00 with a NUL, \x1b[2Jan ESC' "$T/run.out"
finish
