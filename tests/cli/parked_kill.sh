#!/usr/bin/env bash
# kill -9 of the host while three tasks are parked at once: one on a usage
# limit, one on its agent's question, one on an approval. After `resume` all
# three are still parked (the two that ran are not asked for approval again,
# the approval keeps its request id), and each continues when its own event
# arrives: the limit's reset, the answer, the decision. Every task completes
# once, each claude session is continued, not started again, and the cost
# counts each run once.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger FAKE_CLAUDE_ARGS_LOG=$T/args.log
touch "$T/ledger" "$T/args.log"
printf 'return { orchestrator = { limit_jitter = 0.5 } }\n' >"$T/config.lua"
count_events() { ev "sum(1 for e in ev if e.get('event') == '$1' and str(e.get('task')) == '$2')"; }  # EVENT TASK
resumed_with() {  # the claude runs (args log) that had --resume SESSION
    python3 - "$T/args.log" "$1" <<'PY'
import sys
runs = [l.rstrip("\n").split("\x1f")[1:] for l in open(sys.argv[1], encoding="utf-8")]
print(sum(1 for r in runs if "--resume" in r and r[r.index("--resume") + 1] == sys.argv[2]))
PY
}
statuses() { sj "[t['status'] for t in s['tasks']]"; }

TASKS=$T/day.md
task_md "$TASKS" 1 "Hits the limit" backend "Work. [fake:limit:45] [key:p1]"
task_md "$TASKS" 2 "Asks" backend "Work. [fake:question] [key:p2]"
task_md "$TASKS" 3 "Waits for a yes" backend "Work. [key:p3]"
# approval_mode required (the default): every task asks first
bg_run "$T/run1.out" orch run daily.lua --config "$T/config.lua" --tasks "$TASKS" --no-input --max-concurrent 3
wait_for sj_true "[t['status'] for t in s['tasks']] == ['waiting_approval'] * 3"
orch approve --task 2 >"$T/a2.out" 2>&1 || fail "approve task 2: $(cat "$T/a2.out")"
wait_for sj_true "s['tasks'][1]['status'] == 'waiting_answer'"
orch approve --task 1 >"$T/a1.out" 2>&1 || fail "approve task 1: $(cat "$T/a1.out")"
wait_for sj_true "s['tasks'][0]['status'] == 'waiting_limit'"
expect_eq "$(statuses)" '["waiting_limit", "waiting_answer", "waiting_approval"]' "parked three ways"
REQ3=$(sj "s['tasks'][2].get('approval_request')")
LIMIT_SID=$(sj "s['tasks'][0].get('limit_session')")
QUESTION_SID=$(sj "s['tasks'][1].get('question_session')")
[ "$LIMIT_SID" != null ] && [ "$QUESTION_SID" != null ] && [ "$REQ3" != null ] ||
    fail "parked tasks lack their session or request: $LIMIT_SID $QUESTION_SID $REQ3"

HOST=$(host_pid_of "$BG_PID")
[ -n "$HOST" ] || fail "cannot find the orch-host pid"
kill -KILL "$HOST"
expect_eq "$(bg_wait "$T/run1.out")" 137 "exit code of the killed host"
expect_eq "$(statuses)" '["waiting_limit", "waiting_answer", "waiting_approval"]' "after kill -9"

bg_run "$T/run2.out" orch resume --config "$T/config.lua" --no-input
wait_for sj_true "s['host_alive'] is True and s['tasks'][2]['status'] == 'waiting_approval'
                  and s.get('pending_approval', {}).get('task_id') is not None"
expect_eq "$(statuses)" '["waiting_limit", "waiting_answer", "waiting_approval"]' "after the resume"
expect_eq "$(count_events approval_requested 1)" 1 "task 1 (it ran, then parked) asked for approval again"
expect_eq "$(count_events approval_requested 2)" 1 "task 2 (it ran, then asked) asked for approval again"
expect_eq "$(sj "s['tasks'][2].get('approval_request')")" "$REQ3" "task 3's request id after the resume"

# the limit resets: task 1 continues its own claude session; 2 and 3 still wait for people
WAIT_TIMEOUT=120 wait_for sj_true "s['tasks'][0]['status'] == 'completed'"
expect_eq "$(resumed_with "$LIMIT_SID")" 1 "task 1: runs that continued its claude session"
expect_eq "$(sj "[t['status'] for t in s['tasks'][1:]]")" '["waiting_answer", "waiting_approval"]' \
    "tasks 2 and 3 once the limit reset"

orch answer --task 2 "use B" --by tester >"$T/ans.out" 2>&1 || fail "answer: $(cat "$T/ans.out")"
wait_for sj_true "s['tasks'][1]['status'] == 'completed'"
expect_eq "$(sj "s['tasks'][1]['result']")" "Resumed with answer: use B" "task 2 got the answer"
expect_eq "$(resumed_with "$QUESTION_SID")" 1 "task 2: runs that continued its claude session"
expect_eq "$(task_status 3)" waiting_approval "task 3 after the answer"

orch approve --request "$REQ3" >"$T/a3.out" 2>&1 || fail "approve request $REQ3: $(cat "$T/a3.out")"
rc=$(bg_wait "$T/run2.out")
[ "$rc" = 0 ] || fail "the resumed day: expected exit 0, got $rc: $(tail -5 "$T/run2.out")"
expect_eq "$(statuses)" '["completed", "completed", "completed"]' "statuses at the end"
for k in p1 p2 p3; do expect_eq "$(starts $k)" 1 "agent runs of $k started fresh"; done
# runs with a result: task 1's resumed run (the limited one reports none), task 2's
# asking run and its resumed one, task 3's
expect_eq "$(sj "round(s['cost_usd'], 6)")" "$(python3 -c 'print(round(4 * 0.034215, 6))')" "the day's cost"
WAIT_TIMEOUT=15 wait_for no_agents
note "ok"
