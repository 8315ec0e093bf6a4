#!/usr/bin/env bash
# Approvals across a kill -9 of the host waiting at one, then `resume`.
# A: the dead host's pending row is closed when a host takes the session
#    over: while the next task runs, `status` shows no wait and
#    `orch-host approve` says it was already decided, by whom (non-zero).
# B: `orch-host approve` while the host is down is recorded and applied by
#    the resumed session, which runs that task without asking again; `pause`
#    while the host is down is refused (nothing runs to pause).
# C: the same for a checkpoint (skip while the host is down): the resumed
#    session does not run the skipped task.
# D: a clean stop (SIGTERM) at an approval keeps it open like a kill -9:
#    `approve` while the host is down is recorded, and the resumed session
#    runs the task without asking again.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"

# waiting_for N: a live host waits for approval of task N
waiting_for() {
    sj_true "s.get('pending_approval', {}).get('task_id') == '$1'
             and s['pending_approval'].get('kind') == 'approval' and s['host_alive'] is True"
}

# kill_host SUB OUT: kill -9 the orch-host of the bg_run job SUB (output OUT)
kill_host() {
    local host
    host=$(host_pid_of "$1")
    [ -n "$host" ] || fail "cannot find the orch-host pid"
    kill -KILL "$host"
    expect_eq "$(bg_wait "$2")" 137 "exit code of the killed host"
}

# pending_rows: the approvals still pending in the store, as "id:task" words
pending_rows() {
    python3 - "$ORCH_STATE_DB" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(" ".join(f"{i}:{t}" for i, t in db.execute("SELECT id, task_id FROM approvals WHERE status='pending'")))
EOF
}

# asked_or_ended OUT: the bg_run job OUT ended, or its live host waits for a decision
asked_or_ended() { [ -s "$1.rc" ] || sj_true "'pending_approval' in s and s['host_alive'] is True"; }

# --------------------------------------------- A: no stale wait after resume
TASKS=$T/a.md
task_md "$TASKS" 1 "Slow first" backend "Work a while. [fake:slow:10] [key:a1]"
task_md "$TASKS" 2 "Second" backend "Then this. [key:a2]"
bg_run "$T/a1.out" orch run daily.lua --tasks "$TASKS" --no-input
wait_for waiting_for 1
kill_host "$BG_PID" "$T/a1.out"
check_eq "$(sj "s.get('pending_approval', {}).get('task_id')")" 1 "A: the wait shown while the host is down"

bg_run "$T/a2.out" orch resume --no-input
wait_for waiting_for 1
orch approve --by tester >"$T/a-approve1.out" 2>&1 || fail "A: approve after resume failed: $(cat "$T/a-approve1.out")"
wait_for sj_true "s['tasks'][0]['status'] == 'running'"
check_eq "$(sj "s.get('pending_approval')")" null "A: the wait status shows while task 1 runs"
check_eq "$(pending_rows)" "" "A: approvals pending in the store while task 1 runs"
if orch approve --by tester >"$T/a-approve2.out" 2>&1; then
    check "A: approve while nothing waits exits non-zero ($(cat "$T/a-approve2.out"))" false
fi
check "A: a second approve is told who decided ($(cat "$T/a-approve2.out"))" \
    grep -q "already decided: approve by tester (cli)" "$T/a-approve2.out"
expect_eq "$(task_status 1)" running "A: task 1 still runs after the checks (they raced its end)"
wait_for waiting_for 2
orch approve --by tester >/dev/null 2>&1 || fail "A: approve of task 2 failed"
rc=$(bg_wait "$T/a2.out")
[ "$rc" = 0 ] || { cat "$T/a2.out" >&2; fail "A: resumed run: expected exit 0, got $rc"; }
check_eq "$(grep -cx 'start a1' "$T/ledger")" 1 "A: runs of task 1"

# ------------------------------------- B: approve while the host is down
TASKS=$T/b.md
task_md "$TASKS" 1 "First" backend "Do it. [key:b1]"
task_md "$TASKS" 2 "Second" backend "Then this. [key:b2]"
bg_run "$T/b1.out" orch run daily.lua --tasks "$TASKS" --no-input
wait_for waiting_for 1
kill_host "$BG_PID" "$T/b1.out"
if orch pause --by tester >"$T/b-pause.out" 2>&1; then
    check "B: pause while the host is down exits non-zero ($(cat "$T/b-pause.out"))" false
fi
check "B: pause while the host is down says it is not running ($(cat "$T/b-pause.out"))" \
    grep -q "not running" "$T/b-pause.out"
orch approve --by tester >"$T/b-approve.out" 2>&1 ||
    fail "B: approve while the host is down failed: $(cat "$T/b-approve.out")"
check "B: approve names task 1 and the resume ($(cat "$T/b-approve.out"))" \
    grep -q "task 1.*resume" "$T/b-approve.out"
check_eq "$(sj "s.get('pending_approval')")" null "B: a wait shown after the approve"

bg_run "$T/b2.out" orch resume --no-input
wait_for asked_or_ended "$T/b2.out"
check_eq "$(sj "s.get('pending_approval', {}).get('task_id')")" 2 "B: the first wait of the resumed session"
check_eq "$(task_status 1)" completed "B: task 1 once the resumed session waits"
if [ "$(sj "s.get('pending_approval', {}).get('task_id')")" = 1 ]; then   # asked again: go on
    orch approve --by tester >/dev/null 2>&1
    wait_for waiting_for 2
fi
check "B: the resumed session told of an approval for task 1 ($(grep -n 'Approval needed' "$T/b2.out"))" \
    bash -c "! grep -q 'Approval needed: Task 1' '$T/b2.out'"
orch approve --by tester >/dev/null 2>&1 || fail "B: approve of task 2 failed"
rc=$(bg_wait "$T/b2.out")
[ "$rc" = 0 ] || { cat "$T/b2.out" >&2; fail "B: resumed run: expected exit 0, got $rc"; }
check_eq "$(grep -cx 'start b1' "$T/ledger")" 1 "B: runs of task 1"
sid=$(sj "s['id']")
check_eq "$(python3 - "$T/logs/events.ndjson" "$sid" <<'EOF'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
print([(e.get("task"), e.get("action"), e.get("by")) for e in ev
       if e.get("event") == "approval_resolved" and e.get("session") == sys.argv[2]])
EOF
)" "[('1', 'approve', 'tester'), ('2', 'approve', 'tester')]" "B: the decisions recorded"

# ------------------------------- C: skip at a checkpoint while the host is down
# database is a checkpoint_after type; testing is auto-approved: task 2 is
# asked only because of the checkpoint after task 1
TASKS=$T/c.md
task_md "$TASKS" 1 "Migration" database "Migrate. [key:c1]"
task_md "$TASKS" 2 "Tests" testing "Test it. [key:c2]"
task_md "$TASKS" 3 "More tests" testing "Test more. [key:c3]"
bg_run "$T/c1.out" orch run daily.lua --tasks "$TASKS" --no-input
wait_for waiting_for 1
orch approve --by tester >/dev/null 2>&1 || fail "C: approve of task 1 failed"
wait_for waiting_for 2
kill_host "$BG_PID" "$T/c1.out"
orch skip --by tester >"$T/c-skip.out" 2>&1 || fail "C: skip while the host is down failed: $(cat "$T/c-skip.out")"
bg_run "$T/c2.out" orch resume --no-input
wait_for asked_or_ended "$T/c2.out"
check_eq "$(sj "s.get('pending_approval')")" null "C: a wait of the resumed session"
rc=$(bg_wait "$T/c2.out")
[ "$rc" = 0 ] || { cat "$T/c2.out" >&2; fail "C: resumed run: expected exit 0, got $rc"; }
check_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "skipped", "completed"]' "C: statuses at the end"
check_eq "$(grep -c ' c2$' "$T/ledger")" 0 "C: runs of the skipped task 2"

# ------------------------------- D: SIGTERM at an approval, approve while down
TASKS=$T/d.md
task_md "$TASKS" 1 "Approve at the stop" backend "Do it. [key:d1]"
bg_run "$T/d1.out" orch run daily.lua --tasks "$TASKS" --no-input
wait_for waiting_for 1
kill -TERM "$(host_pid_of "$BG_PID")"
expect_eq "$(bg_wait "$T/d1.out")" 3 "D: exit code after SIGTERM (paused)"
orch approve --by tester >"$T/d-approve.out" 2>&1 \
    || fail "D: approve while the host is down after a clean stop: $(cat "$T/d-approve.out")"
check "D: the approval is recorded for the resume ($(cat "$T/d-approve.out"))" grep -q "applies when it resumes" \
    "$T/d-approve.out"
orch status >"$T/d-status.out" 2>&1
check "D: status says the recorded decision ($(cat "$T/d-status.out"))" \
    grep -q "approve recorded (by tester): it applies when the session resumes" "$T/d-status.out"
bg_run "$T/d2.out" orch resume --no-input
rc=$(bg_wait "$T/d2.out")
[ "$rc" = 0 ] || { cat "$T/d2.out" >&2; fail "D: resumed run: expected exit 0, got $rc"; }
check_eq "$(task_status 1)" completed "D: task 1 after the resume"
check_eq "$(grep -c '^start d1$' "$T/ledger")" 1 "D: task 1's runs"
finish
