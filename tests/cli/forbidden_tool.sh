#!/usr/bin/env bash
# Safety: an agent that tries `git push` is stopped by the host (live check of
# tool_use events), its task fails with an error naming the forbidden command,
# the run exits 1, and the next task still runs.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"
TASKS=$T/tasks.md
task_md "$TASKS" 1 "Ship it" backend "Publish the work. [fake:tool:Bash:git push origin main] [key:p1]"
task_md "$TASKS" 2 "Normal work" backend "Do the next thing. [key:p2]"

bg_run "$T/run.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input
rc=$(bg_wait "$T/run.out")
[ "$rc" = 1 ] || { cat "$T/run.out" >&2; fail "expected exit 1 (a task failed), got $rc"; }
no_agents || fail "agent processes left after the run: $(agent_pids)"

expect_eq "$(task_status 1)" failed "task 1 (forbidden git push)"
err=$(sj "s['tasks'][0].get('error')")
case "$err" in
    *"git push origin main"*) ;;
    *) fail "task 1 error does not name the forbidden command: '$err'" ;;
esac
case "$err" in
    *[Ff]orbidden*|*"policy violation"*) ;;
    *) fail "task 1 error does not say it was a policy violation: '$err'" ;;
esac
expect_eq "$(task_status 2)" completed "task 2 after the violation"
expect_eq "$(session_status)" completed "session status"
expect_eq "$(grep -cx 'start p2' "$T/ledger")" 1 "task 2 ran"
expect_eq "$(grep -cx 'end p2' "$T/ledger")" 1 "task 2 finished"
expect_eq "$(grep -cx 'start p1' "$T/ledger")" 1 "task 1 started once (no retry of a violation)"
python3 - "$T/logs/events.ndjson" <<'EOF2' || fail "events of the violation are wrong"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
fin = [e for e in ev if e.get("event") == "claude_finished" and e.get("task") == "1"]
assert len(fin) == 1 and fin[0].get("ok") is False, fin
assert "git push" in (fin[0].get("error") or ""), fin
tf = [e for e in ev if e.get("event") == "task_finished" and e.get("task") == "1"]
assert len(tf) == 1 and tf[0].get("status") == "failed", tf
EOF2
# the failure was announced (console notification of the run)
grep -qi "fail" "$T/run.out" || fail "the run's output does not report the failed task"
note PASS
