#!/usr/bin/env bash
# Inbox tasks that end without running: each skipped one says who or why once
# (in its failed/NAME.task.md.reason and its result's error) and leaves the
# same artifacts (a result and a summary) wherever it was skipped: at its
# approval (a person, approval_timeout), in the queue (skip --task), by the
# spent budget. One whose file is deleted while it waits for approval is
# dropped as a queued one is: cancelled, its request withdrawn, nothing run.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"

# reason_is NAME TEXT: the first line of failed/NAME.task.md.reason
reason_is() {
    expect_eq "$(head -n1 "$ORCH_TASKS_DIR/failed/$1.task.md.reason")" "$ORCH_TASKS_DIR/$1.task.md: $2" \
        "the reason of $1"
}
# skipped_with NAME ERROR: its result (skipped, with ERROR), its summary, its reason
skipped_with() {
    wait_for failed "$1"
    wait_for test -f "$ORCH_SUMMARIES_DIR/$1_summary.txt"
    expect_eq "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["status"], "|", r["error"])' \
        "$ORCH_RESULTS_DIR/$1_result.json")" "skipped | $2" "the result of $1"
    reason_is "$1" "$2"
}
task_is() { [ "$(sj "[t['status'] for t in s['tasks'] if t['id'] == '$1']")" = "[\"$2\"]" ]; }

# A: waiting for approval (no --auto-approve): a file deleted, a person's skip
bg_run "$T/a.out" orch watch --no-input
A_SUB=$BG_PID
wait_for ev_has inbox_started ""
inbox_task "$ORCH_TASKS_DIR/del.task.md" del high "I was deleted [key:del]"
wait_for ev_has approval_requested del
rm "$ORCH_TASKS_DIR/del.task.md"
wait_for task_is del cancelled
expect_eq "$(sj "[t.get('error') for t in s['tasks'] if t['id'] == 'del']")" \
    '["its file was deleted while it waited for approval"]' "the deleted file's task"
orch approve --task del >"$T/approve.out" 2>&1 && fail "approve of the dropped task: $(cat "$T/approve.out")"
[ -f "$ORCH_RESULTS_DIR/del_result.json" ] && fail "the deleted file's task has a result"

inbox_task "$ORCH_TASKS_DIR/a1.task.md" a1 high "Skipped at its approval [key:a1]"
wait_for ev_has approval_requested a1
orch skip --by tester >"$T/skip.out" 2>&1 || fail "skip: $(cat "$T/skip.out")"
skipped_with a1 "skipped by tester while it waited for approval"
kill -TERM "$(host_pid_of "$A_SUB")"
expect_eq "$(bg_wait "$T/a.out")" 0 "A: exit code of watch"
expect_eq "$(starts del)$(starts a1)" 00 "A: runs of del and a1"

# B: approval_timeout with on_approval_timeout = "skip"
printf 'return { orchestrator = { approval_timeout = 1, on_approval_timeout = "skip" } }\n' >"$T/skip.lua"
bg_run "$T/b.out" orch --config "$T/skip.lua" watch --no-input
B_SUB=$BG_PID
inbox_task "$ORCH_TASKS_DIR/a2.task.md" a2 high "Nobody decides [key:a2]"
skipped_with a2 "skipped: no decision within approval_timeout (on_approval_timeout is skip)"
kill -TERM "$(host_pid_of "$B_SUB")"
expect_eq "$(bg_wait "$T/b.out")" 0 "B: exit code of watch"

# C: one agent at a time, held by h1: q1 skipped while queued; then the budget
# (two runs spend it) skips b3, still queued
export MAX_DAILY_COST_USD=0.05
watch_start --max-concurrent 1
inbox_task "$ORCH_TASKS_DIR/h1.task.md" h1 high "Holds the agent [key:h1] [fake:await:go]"
wait_for grep -q "^start h1$" "$T/ledger"
inbox_task "$ORCH_TASKS_DIR/q1.task.md" q1 high "Skipped in the queue [key:q1]"
inbox_task "$ORCH_TASKS_DIR/b2.task.md" b2 medium "Spends the budget [key:b2]"
inbox_task "$ORCH_TASKS_DIR/b3.task.md" b3 low "Skipped by the budget [key:b3]"
wait_for ev_has parsed b3
orch skip --task q1 --by tester >"$T/q1.out" 2>&1 || fail "skip --task q1: $(cat "$T/q1.out")"
skipped_with q1 "skipped by tester before it ran"
echo go >>"$T/ledger"
WAIT_TIMEOUT=120 skipped_with b3 "skipped: budget"
expect_eq "$(starts q1)$(starts b3)" 00 "C: runs of q1 and b3"
watch_stop

# D: the budget spent (two runs, after C's two: the day's earlier sessions'
# $0.068 count), then raised in the config file while the inbox watches: the
# next file runs (the inbox reads its config again)
unset MAX_DAILY_COST_USD
printf 'return { budget = { max_cost_usd = 0.12 } }\n' >"$T/config.lua"
watch_start --max-concurrent 1 --config "$T/config.lua"
inbox_task "$ORCH_TASKS_DIR/d1.task.md" d1 high "Spends [key:d1]"
inbox_task "$ORCH_TASKS_DIR/d2.task.md" d2 medium "Spends the rest [key:d2]"
WAIT_TIMEOUT=120 wait_for done_with d2
inbox_task "$ORCH_TASKS_DIR/d3.task.md" d3 medium "Over the budget [key:d3]"
WAIT_TIMEOUT=120 skipped_with d3 "skipped: budget"
printf 'return { budget = { max_cost_usd = 50 } }\n' >"$T/config.lua.tmp" && mv "$T/config.lua.tmp" "$T/config.lua"
inbox_task "$ORCH_TASKS_DIR/d4.task.md" d4 medium "Under the raised budget [key:d4]"
WAIT_TIMEOUT=120 wait_for done_with d4
expect_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' \
    "$ORCH_RESULTS_DIR/d4_result.json")" completed "D: the file after the budget was raised"
expect_eq "$(starts d3)$(starts d4)" 01 "D: runs of d3 and d4"
watch_stop
note PASS
