#!/usr/bin/env bash
# An inbox task whose agent failed transiently waits to retry (the backoff):
# its agent is gone and holds no slot, so `status` shows it waiting_retry with
# when its next attempt starts (the table's second line, retry_at in --json,
# the agents list), never a running agent; a bare skip during the wait ends it (the one task
# in hand).
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"

export ORCH_RETRY_TRANSIENT=2 ORCH_RETRY_BACKOFF=600 ORCH_RETRY_BACKOFF_MAX=600  # a wait the test outlasts
watch_start --max-concurrent 1
inbox_task "$ORCH_TASKS_DIR/fl.task.md" fl high "Overloaded once [fake:flaky:1] [key:fl]"
wait_for ev_has retry fl
wait_for no_agents
RETRY_TS=$(ev "[e['ts'] for e in ev if e['event'] == 'retry'][0]")
check_eq "$(sj "[t['status'] for t in s['tasks']]")" '["waiting_retry"]' "the task's status during the backoff"
check_eq "$(sj "abs(s['tasks'][0]['retry_at'] - $RETRY_TS - 600) < 5")" true "its retry_at: the retry's time + the backoff"
check_eq "$(sj "[(a['task'], a['status'], abs(a['retry_at'] - s['tasks'][0]['retry_at']) < 0.01) for a in s['agents']]")" \
    '[["fl", "waiting_retry", true]]' "the agents in hand"
orch status >"$T/status.txt" || fail "status: $(cat "$T/status.txt")"
check "the status table says when it tries again: $(cat "$T/status.txt")" \
    grep -q "↳ waiting to retry: attempt 2 at 20[0-9-]* [0-9:]*$" "$T/status.txt"
check_eq "$(grep -c '^  fl .*waiting_retry' "$T/status.txt")" 2 "fl's row and agent line saying waiting_retry"
check_eq "$(grep -c '^  fl .*running' "$T/status.txt")" 0 "fl's lines saying running"
orch skip >"$T/skip.out" 2>&1 || fail "skip (the one task in hand): $(cat "$T/skip.out")"
check_eq "$(cat "$T/skip.out")" "Skipping task fl: it was waiting for a retry; no agent was running, none is stopped" \
    "skip's reply (no agent to stop)"
wait_for failed fl
check_eq "$(sj "[t['status'] for t in s['tasks']] + s['agents']")" '["skipped"]' "after the skip"
check_eq "$(starts fl)" 1 "agent runs (the retry never started)"
watch_stop
finish
