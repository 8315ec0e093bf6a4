#!/usr/bin/env bash
# Approvals from another shell: a run under --no-input (no terminal) waits for
# remote decisions. approve -> the task runs; skip -> skipped; pause -> the run
# exits 3 with the session paused; resume continues at the first unfinished
# task and waits again; approve finishes the day. No task runs twice.
source "$(dirname "$0")/lib.bash"

TASKS=$T/tasks.md
for i in 1 2 3 4; do task_md "$TASKS" $i "Backend work $i" backend "Implement part $i. [key:t$i]"; done
export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"

# waiting_for N: the session waits for approval of task N (pending row + statuses)
waiting_for() {
    sj_true "s['status'] == 'waiting_approval' and s.get('pending_approval', {}).get('task_id') == '$1'
             and s.get('pending_approval', {}).get('kind') == 'approval'
             and s['tasks'][$1 - 1]['status'] == 'waiting_approval' and s['host_alive'] is True"
}

bg_run "$T/run1.out" orch run daily.lua --tasks "$TASKS" --no-input
RUN1=$BG_PID

# --- task 1: approve
wait_for waiting_for 1
expect_eq "$(grep -c . "$T/ledger")" 0 "agent runs before any approval"
orch approve --by tester >"$T/approve1.out" 2>&1 || fail "orch approve failed: $(cat "$T/approve1.out")"
grep -q "task 1" "$T/approve1.out" || fail "approve did not name task 1: $(cat "$T/approve1.out")"

# --- task 2: skip
wait_for waiting_for 2
expect_eq "$(task_status 1)" completed "task 1 after approve"
orch skip --by tester >"$T/skip.out" 2>&1 || fail "orch skip failed: $(cat "$T/skip.out")"

# --- task 3: pause
wait_for waiting_for 3
expect_eq "$(task_status 2)" skipped "task 2 after skip"
orch pause --by tester >"$T/pause.out" 2>&1 || fail "orch pause failed: $(cat "$T/pause.out")"
rc=$(bg_wait "$T/run1.out")
[ "$rc" = 3 ] || { cat "$T/run1.out" >&2; fail "run after pause: expected exit 3, got $rc"; }
expect_eq "$(session_status)" paused "session status after pause"
expect_eq "$(task_status 3)" pending "task 3 after pause (not started)"
expect_eq "$(task_status 4)" pending "task 4 after pause"
expect_eq "$(sj "'pending_approval' in s")" false "a pending approval left after pause"
expect_eq "$(sj "s['host_alive']")" false "host_alive after the paused run exited"
expect_eq "$(grep -c '^start t3' "$T/ledger")" 0 "task 3 ran although paused"
# approve with nothing waiting and no run: refused
if orch approve >"$T/approve-none.out" 2>&1; then fail "orch approve with nothing waiting succeeded"; fi

# --- resume: waits for task 3 again, then task 4
bg_run "$T/run2.out" orch resume --no-input
wait_for waiting_for 3
orch approve --by tester >/dev/null 2>&1 || fail "orch approve (task 3) failed"
wait_for waiting_for 4
expect_eq "$(task_status 3)" completed "task 3 after approve"
orch approve --by tester >/dev/null 2>&1 || fail "orch approve (task 4) failed"
rc=$(bg_wait "$T/run2.out")
[ "$rc" = 0 ] || { cat "$T/run2.out" >&2; fail "resumed run: expected exit 0, got $rc"; }

expect_eq "$(session_status)" completed "session status at the end"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "skipped", "completed", "completed"]' "final statuses"
for k in t1 t3 t4; do
    expect_eq "$(grep -cx "start $k" "$T/ledger")" 1 "ledger starts of $k"
    expect_eq "$(grep -cx "end $k" "$T/ledger")" 1 "ledger ends of $k"
done
expect_eq "$(grep -c ' t2$' "$T/ledger")" 0 "the skipped task 2 ran"
# the approvals were recorded with who decided
python3 - "$T/logs/events.ndjson" <<'EOF' || fail "approval_resolved events are wrong"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
res = [(e.get("task"), e.get("action"), e.get("by")) for e in ev if e.get("event") == "approval_resolved"]
want = [("1", "approve", "tester"), ("2", "skip", "tester"), ("3", "pause", "tester"),
        ("3", "approve", "tester"), ("4", "approve", "tester")]
assert res == want, res
EOF
note PASS
