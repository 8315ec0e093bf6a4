#!/usr/bin/env bash
# A host killed while a task's acceptance command runs, its agent done: the
# resume does not pay for the agent again. It judges that run again (the
# command runs again, the after-run safety check against the state kept from
# before the run), with the agent's result and cost as they were.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"
# the acceptance command waits until the ledger says go (the kill comes first)
cat >"$T/d.json" <<JSON
{"tasks": [{"id": "a", "name": "A", "prompt": "x [key:a]", "branch_name": "t/a",
  "verify": ["until grep -q '^go$' '$T/ledger'; do sleep 0.05; done; echo checked"]}]}
JSON
bg_run "$T/r1.out" orch run --tasks "$T/d.json" --auto-approve --no-input
SUB=$BG_PID
wait_for grep -q '^end a$' "$T/ledger"
wait_for pgrep -f "until grep.*$T/ledger"
COST=$(sj "s['tasks'][0]['cost_usd']")
expect_eq "$(sj "s['tasks'][0].get('agent_done', {}).get('result')")" done "the agent's end, kept on the task"
kill_resume "$SUB" "$T/r1.out" 0
expect_eq "$(starts a)" 1 "agent runs of the task whose host died during its checks"
expect_eq "$(sj "[s['tasks'][0]['status'], s['tasks'][0]['result'], s['tasks'][0]['cost_usd'] == $COST]")" \
    '["completed", "done", true]' "the task, judged at the resume"
expect_eq "$(sj "s['tasks'][0]['verify_results'][0]['output'].strip()")" checked "its acceptance command, run again"
expect_eq "$(sj "[s['tasks'][0].get('agent_done'), s['tasks'][0].get('safety_before')]")" '[null, null]' \
    "the kept run and state, once judged"
grep -q "task a: its agent had finished before its host stopped: its checks run again, not the agent" \
    "$T/logs/orchestrator.log" || fail "the resume does not say it judges the finished run"
finish
