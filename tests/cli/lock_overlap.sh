#!/usr/bin/env bash
# One run at a time: a run waiting for approval holds the lock; a second
# `orch run` is refused with exit 4 and a message naming the active run, and
# starts no agent and no session. status works meanwhile. Once the first run
# has ended, a new run starts normally.
source "$(dirname "$0")/lib.bash"

TASKS=$T/tasks.md
task_md "$TASKS" 1 "Needs a human" backend "Implement it. [key:l1]"
OTHER=$T/other.md
task_md "$OTHER" 1 "Other day" documentation "Write docs. [key:x1]"
export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"

bg_run "$T/run1.out" orch run daily.lua --tasks "$TASKS" --no-input
SUB=$BG_PID
wait_for sj_true "s['status'] == 'waiting_approval' and s['host_alive'] is True and 'pending_approval' in s"
HOST=$(host_pid_of "$SUB")
[ -n "$HOST" ] || fail "cannot find the first run's pid"
SID=$(sj "s['id']")

# --- the overlapping run
orch run daily.lua --tasks "$OTHER" --auto-approve --no-input >"$T/run2.out" 2>"$T/run2.err"
rc=$?
[ "$rc" = 4 ] || fail "second run: expected exit 4, got $rc (stdout: $(cat "$T/run2.out"); stderr: $(cat "$T/run2.err"))"
grep -q "another run is active" "$T/run2.err" || fail "second run: no 'another run is active' message: $(cat "$T/run2.err")"
grep -q "pid $HOST\b" "$T/run2.err" || fail "second run: the message does not name the active run (pid $HOST): $(cat "$T/run2.err")"
grep -q "daily.lua" "$T/run2.err" || fail "second run: the message does not name the workflow: $(cat "$T/run2.err")"
# a refused run leaves no trace: no session, no agent
expect_eq "$(orch sessions --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 1 "sessions after the refused run"
expect_eq "$(grep -c . "$T/ledger")" 0 "agent runs after the refused run"
# resume of the same session while it runs is not a second run either
orch resume --auto-approve --no-input >"$T/resume.out" 2>&1
rc=$?
[ "$rc" != 0 ] || grep -q "Sent resume" "$T/resume.out" || fail "resume while running: exit $rc, $(cat "$T/resume.out")"
expect_eq "$(grep -c . "$T/ledger")" 0 "agent runs after resume-while-running"

# --- status works meanwhile (text and JSON)
orch status >"$T/status.txt" 2>&1 || fail "orch status failed while a run holds the lock: $(cat "$T/status.txt")"
grep -q "$SID" "$T/status.txt" || fail "orch status does not show the session $SID"
grep -q "waiting_approval" "$T/status.txt" || fail "orch status does not show waiting_approval"
expect_eq "$(sj "s['id']")" "$SID" "status --json session id"
expect_eq "$(sj "s['status']")" waiting_approval "status --json status"
expect_eq "$(sj "s['host_alive']")" true "status --json host_alive"
kill -0 "$HOST" 2>/dev/null || fail "the first run died"

# --- end the first run; then a new run is allowed
orch pause --by tester >/dev/null 2>&1 || fail "orch pause failed"
expect_eq "$(bg_wait "$T/run1.out")" 3 "first run after pause"
orch run daily.lua --tasks "$OTHER" --auto-approve --no-input >"$T/run3.out" 2>&1
rc=$?
[ "$rc" = 0 ] || fail "run after the lock was released: expected 0, got $rc: $(cat "$T/run3.out")"
expect_eq "$(grep -cx 'end x1' "$T/ledger")" 1 "the later run's task ran"
expect_eq "$(grep -c ' l1$' "$T/ledger")" 0 "the paused task ran"
note PASS
