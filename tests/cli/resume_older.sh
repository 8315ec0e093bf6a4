#!/usr/bin/env bash
# A session that a newer one over the same task file has replaced is not
# resumed: its decisions would all be refused (older_session), so `resume`
# of it is exit 1 (409) naming the newer session, and nothing runs. The
# newer session still resumes.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"
TASKS=$T/tasks.md
task_md "$TASKS" 1 "Step 1" backend "Do step 1. [key:t1]"

# session A waits for approval, then is paused
bg_run "$T/a.out" orch run daily.lua --tasks "$TASKS" --no-input
wait_for sj_true "'pending_approval' in s and s['host_alive'] is True"
A=$(sj "s['session_id']")
orch pause >"$T/pause.out" 2>&1 || fail "pause: $(cat "$T/pause.out")"
expect_eq "$(bg_wait "$T/a.out")" 3 "exit code of the paused session"
# session B over the same file (a new run: it completes)
orch run daily.lua --tasks "$TASKS" --auto-approve --no-input >"$T/b.out" 2>&1 || fail "session B: $(cat "$T/b.out")"
B=$(sj "s['session_id']")
[ "$B" != "$A" ] || fail "session B got A's id $A"
expect_eq "$(starts t1)" 1 "agents started before the resume"

RC=0
timeout 120 "$ORCH_HOST" --root "$ORCH_SRC" resume --session "$A" >"$T/resume.out" 2>&1 || RC=$?  # (a resume that ran would wait: --no-input)
expect_eq "$RC" 1 "exit code of resuming the older session ($(cat "$T/resume.out"))"
grep -q "Session $A is not resumed: session $B is the newer one over the same task file" "$T/resume.out" \
    || fail "the refusal: $(cat "$T/resume.out")"
expect_eq "$(starts t1)" 1 "agents started after the refused resume"
expect_eq "$(orch status --json "$A" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" paused \
    "session A after the refused resume"
note "ok"
