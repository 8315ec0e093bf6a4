#!/usr/bin/env bash
# Transient and permanent agent errors (lib/agent_outcome, lib/policy next_try):
# A: a 529 overloaded the CLI gave up on runs again after a backoff (event
#    `retry` with the attempt and the reason) and completes;
# B: one that never clears fails after orchestrator.retry_transient retries;
# C: a stalled agent (no stream line for claude.stall_timeout) is stopped,
#    recorded as agent_stalled with its last event, and retried per policy;
# D: an authentication error (401) is not retried: the whole session pauses
#    with one notification, no task fails, and the task is pending again, so a
#    resume (after the key is fixed) runs every task.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger ORCH_RETRY_BACKOFF=0.2 ORCH_RETRY_BACKOFF_MAX=0.5
events_json() { ev "json.dumps([e for e in ev if e.get('event') == '$1'])"; }  # events_json NAME: those events, a JSON list

# --- A: overloaded twice, then fine
rm -f "$T/work"/fake-flaky*.count
task_md "$T/flaky.md" 1 "Overloaded twice" backend "Do it. [fake:flaky:2] [key:a1]"
: >"$T/logs/events.ndjson"
ORCH_RETRY_TRANSIENT=3 bg_run "$T/flaky.out" orch run daily.lua --tasks "$T/flaky.md" --auto-approve --no-input
rc=$(bg_wait "$T/flaky.out")
expect_eq "$rc" 0 "transient: exit code"
expect_eq "$(task_status 1)" completed "transient: task status"
expect_eq "$(starts a1)" 3 "transient: agent runs (2 overloaded, 1 fine)"
python3 - "$(events_json retry)" <<'PY' || fail "transient: retry events carry the attempt, the reason and the backoff"
import json, sys
ev = json.loads(sys.argv[1])
assert [e["attempt"] for e in ev] == [2, 3], ev
assert all(e["kind"] == "transient" and "overloaded" in e["reason"] for e in ev), ev
assert [e["delay"] for e in ev] == [0.2, 0.4], ev
PY
expect_eq "$(grep -c 'Retrying' "$T/flaky.out")" 2 "transient: one notification per retry"

# --- A2: a markdown day keeps file order through a retry's backoff: task 2
# starts once task 1 is done, not while task 1 waits to try again
rm -f "$T/work"/fake-flaky*.count
task_md "$T/order.md" 1 "Overloaded twice" backend "Do it. [fake:flaky:2] [key:o1]"
task_md "$T/order.md" 2 "Then this" backend "Do it. [key:o2]"
ORCH_RETRY_TRANSIENT=3 ORCH_RETRY_BACKOFF=1 ORCH_RETRY_BACKOFF_MAX=2 bg_run "$T/order.out" orch run daily.lua --tasks "$T/order.md" \
    --auto-approve --no-input
expect_eq "$(bg_wait "$T/order.out")" 0 "in order: exit code"
last_o1=$(grep -n -x "end o1" "$T/ledger" | tail -n1 | cut -d: -f1)
first_o2=$(grep -n -x "start o2" "$T/ledger" | head -n1 | cut -d: -f1)
check "task 2 started after task 1's last run ended ($(cat "$T/ledger"))" test "$last_o1" -lt "$first_o2"

# --- A3: a pause during a markdown day's backoff (the task keeps its slot,
# lib/agent_slots keep) ends the wait at once: the task is paused, not run
# again before the resume nor failed, and the resume runs it
rm -f "$T/work"/fake-flaky*.count
task_md "$T/pause.md" 1 "Overloaded once" backend "Do it. [fake:flaky:1] [key:p1]"
: >"$T/logs/events.ndjson"
ORCH_RETRY_TRANSIENT=3 ORCH_RETRY_BACKOFF=600 ORCH_RETRY_BACKOFF_MAX=600 bg_run "$T/pause.out" orch run daily.lua \
    --tasks "$T/pause.md" --auto-approve --no-input
wait_for test "$(event_names retry | wc -l)" -ge 1
orch pause >"$T/pause-cmd.out" 2>&1 || fail "pause during the backoff: $(cat "$T/pause-cmd.out")"
expect_eq "$(bg_wait "$T/pause.out")" 3 "pause during the backoff: exit code (paused)"
expect_eq "$(task_status 1)" paused "pause during the backoff: task status"
expect_eq "$(starts p1)" 1 "pause during the backoff: agent runs before the resume"
ORCH_RETRY_BACKOFF=0.2 bg_run "$T/pause-resume.out" orch resume --auto-approve --no-input
expect_eq "$(bg_wait "$T/pause-resume.out")" 0 "pause during the backoff: the resume's exit code"
expect_eq "$(task_status 1)" completed "pause during the backoff: task status after the resume"
expect_eq "$(starts p1)" 2 "pause during the backoff: agent runs after the resume"

# --- A4: a host killed during a backoff: the resume goes on counting the
# attempts (attempt 3 of 4 next, not 2 again) and waits out the backoff left
rm -f "$T/work"/fake-flaky*.count
task_md "$T/crash.md" 1 "Overloaded twice" backend "Do it. [fake:flaky:2] [key:k1]"
: >"$T/logs/events.ndjson"
export ORCH_RETRY_TRANSIENT=3 ORCH_RETRY_BACKOFF=8 ORCH_RETRY_BACKOFF_MAX=8
bg_run "$T/crash.out" orch run daily.lua --tasks "$T/crash.md" --auto-approve --no-input
wait_for test "$(event_names retry | wc -l)" -ge 1
kill_resume "$BG_PID" "$T/crash.out" 0
unset ORCH_RETRY_TRANSIENT; export ORCH_RETRY_BACKOFF=0.2 ORCH_RETRY_BACKOFF_MAX=0.5  # as set above
expect_eq "$(task_status 1)" completed "killed in the backoff: task status after the resume"
expect_eq "$(starts k1)" 3 "killed in the backoff: agent runs (2 overloaded, 1 fine)"
expect_eq "$(ev "[e['attempt'] for e in ev if e['event'] == 'retry']")" "[2, 3]" \
    "killed in the backoff: the retries' attempts go on after the resume"
python3 - "$T/logs/events.ndjson" <<'PY' || fail "killed in the backoff: the resumed attempt waited out the backoff"
import json, sys
from datetime import datetime
ev = [json.loads(l) for l in open(sys.argv[1])]
first = [e for e in ev if e["event"] == "retry"][0]
starts = [e for e in ev if e["event"] == "claude_started"]
t = lambda e: datetime.fromisoformat(e["ts"]).timestamp()
assert t(starts[1]) - t(first) >= 7.9, (first, starts)
PY

# --- B: overloaded for good: 1 + retry_transient runs, then failed
task_md "$T/over.md" 1 "Always overloaded" backend "Do it. [fake:api_error:529] [key:b1]"
: >"$T/logs/events.ndjson"
ORCH_RETRY_TRANSIENT=2 bg_run "$T/over.out" orch run daily.lua --tasks "$T/over.md" --auto-approve --no-input
rc=$(bg_wait "$T/over.out")
expect_eq "$rc" 1 "transient for good: exit code"
expect_eq "$(task_status 1)" failed "transient for good: task status"
expect_eq "$(starts b1)" 3 "transient for good: agent runs (1 + retry_transient 2)"
expect_eq "$(event_names retry | wc -l)" 2 "transient for good: retry events"

# --- C: a stalled agent, long before the whole-task timeout
task_md "$T/stall.md" 1 "Stalls" backend "Do it. [fake:hang] [key:c1]"
: >"$T/logs/events.ndjson"
start=$SECONDS
CLAUDE_STALL_TIMEOUT_SEC=1 ORCH_RETRY_TRANSIENT=1 bg_run "$T/stall.out" orch run daily.lua \
    --tasks "$T/stall.md" --auto-approve --no-input
rc=$(bg_wait "$T/stall.out")
expect_eq "$rc" 1 "stall: exit code"
expect_eq "$(task_status 1)" failed "stall: task status"
expect_eq "$(sj "s['tasks'][0]['error']")" "stalled: no output for 1 s" "stall: the task's error"
expect_eq "$(starts c1)" 2 "stall: agent runs (1 + retry_transient 1)"
python3 - "$(events_json agent_stalled)" "$(events_json retry)" <<'PY' || fail "stall: agent_stalled events with the last event, then a retry"
import json, sys
st, rt = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert len(st) == 2, st
assert all(e["last_event"] == {"type": "system", "subtype": "init"} for e in st), st
assert len(rt) == 1 and rt[0]["reason"].startswith("stalled"), rt
PY
check "stall: stopped long before claude.timeout (1800 s)" test $((SECONDS - start)) -lt 120
check "stall: no agent left" no_agents

# --- D: a bad key pauses the session once; a resume runs every task
cat >"$T/badkey" <<SH
#!/bin/sh
# 401 until the key is "fixed"
if [ ! -e "$T/key.fixed" ]; then FAKE_CLAUDE_MODE=api_error:401 exec "$FAKE_CLAUDE" "\$@"; fi
exec "$FAKE_CLAUDE" "\$@"
SH
chmod +x "$T/badkey"
: >"$T/auth.md"
for i in 1 2 3; do task_md "$T/auth.md" $i "Task $i" backend "Do task $i. [key:d$i]"; done
: >"$T/logs/events.ndjson"
CLAUDE_CLI_PATH=$T/badkey ORCH_RETRY_TRANSIENT=3 ORCH_RETRY_FAILED=3 bg_run "$T/auth.out" \
    orch run daily.lua --tasks "$T/auth.md" --auto-approve --no-input
rc=$(bg_wait "$T/auth.out")
expect_eq "$rc" 3 "bad key: exit code (paused)"
expect_eq "$(session_status)" paused "bad key: session status"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["pending", "pending", "pending"]' "bad key: every task pending"
expect_has() { case "$1" in *"$2"*) ;; *) fail "$3: '$1' lacks '$2'" ;; esac; }
expect_has "$(sj "s['tasks'][0].get('error')")" "claude cannot run: HTTP 401" "bad key: the task says why"
expect_eq "$(starts d1)" 1 "bad key: no retry of a permanent error"
expect_eq "$(( $(starts d2) + $(starts d3) ))" 0 "bad key: no other task started"
expect_eq "$(grep -c 'Claude cannot run' "$T/auth.out")" 1 "bad key: one notification"
expect_eq "$(grep -c 'Orchestrator Paused' "$T/auth.out")" 0 "bad key: no second, generic pause notice"
expect_eq "$(event_names task_failed retry | wc -l)" 0 "bad key: no task failed, none retried"
: >"$T/key.fixed"
CLAUDE_CLI_PATH=$T/badkey bg_run "$T/auth2.out" orch resume --auto-approve --no-input
rc=$(bg_wait "$T/auth2.out")
expect_eq "$rc" 0 "bad key fixed: resume exit code"
expect_eq "$(completed_count)" 3 "bad key fixed: every task completed"
expect_eq "$(starts d1)" 2 "bad key fixed: the first task ran again"
finish
