#!/usr/bin/env bash
# orchestrator.retry_failed (ORCH_RETRY_FAILED): a task whose agent run fails
# runs again from its prompt, up to N more times, each retry recorded as a
# task_retried event; it counts as failed only when the last run fails too.
# Without the setting a failed run is final. (An API error is transient and
# retried by orchestrator.retry_transient instead: tests/cli/retry_transient.sh;
# the failure here is an agent that exits without a result.)
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger
retried() { event_names task_retried | wc -l; }

# --- an agent that always fails: 1 + 2 runs, then failed
task_md "$T/always.md" 1 "Always fails" backend "Do it. [fake:exit:3] [key:a1]"
: >"$T/logs/events.ndjson"
ORCH_RETRY_FAILED=2 bg_run "$T/always.out" orch run daily.lua --tasks "$T/always.md" --auto-approve --no-input
rc=$(bg_wait "$T/always.out")
expect_eq "$rc" 1 "always failing: exit code"
expect_eq "$(starts a1)" 3 "always failing: agent runs (1 + retry_failed 2)"
expect_eq "$(retried)" 2 "always failing: task_retried events"
expect_eq "$(task_status 1)" failed "always failing: task status"
expect_eq "$(sj "s['tasks'][0].get('attempts')")" 3 "always failing: attempts recorded"
python3 - "$T/logs/events.ndjson" <<'PY' || fail "task_retried events carry attempt, of and the error"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if '"task_retried"' in l]
ev = [e for e in ev if e.get("event") == "task_retried"]
assert [(e["attempt"], e["of"]) for e in ev] == [(2, 3), (3, 3)], ev
assert all("code 3" in e.get("error", "") for e in ev), ev
PY

# --- an agent that fails once: the retry completes the task
cat >"$T/flaky" <<SH
#!/bin/sh
# the first run fails (the stand-in's fail mode), the others succeed
if [ ! -e "$T/flaky.once" ]; then : >"$T/flaky.once"; FAKE_CLAUDE_MODE=exit:3 exec "$FAKE_CLAUDE" "\$@"; fi
exec "$FAKE_CLAUDE" "\$@"
SH
chmod +x "$T/flaky"
task_md "$T/flaky.md" 1 "Fails once" backend "Do it. [key:f1]"
: >"$T/logs/events.ndjson"
CLAUDE_CLI_PATH=$T/flaky ORCH_RETRY_FAILED=1 bg_run "$T/flaky.out" orch run daily.lua --tasks "$T/flaky.md" \
    --auto-approve --no-input
rc=$(bg_wait "$T/flaky.out")
expect_eq "$rc" 0 "failing once: exit code"
expect_eq "$(starts f1)" 2 "failing once: agent runs"
expect_eq "$(retried)" 1 "failing once: task_retried events"
expect_eq "$(task_status 1)" completed "failing once: task status"

# --- the default: no retries
task_md "$T/once.md" 1 "Fails, no retry" backend "Do it. [fake:exit:3] [key:n1]"
: >"$T/logs/events.ndjson"
bg_run "$T/once.out" orch run daily.lua --tasks "$T/once.md" --auto-approve --no-input
rc=$(bg_wait "$T/once.out")
expect_eq "$rc" 1 "no retry_failed: exit code"
expect_eq "$(starts n1)" 1 "no retry_failed: agent runs"
expect_eq "$(retried)" 0 "no retry_failed: task_retried events"
note PASS
