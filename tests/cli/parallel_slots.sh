#!/usr/bin/env bash
# A task is `running` only while it holds one of the max_concurrent agent
# slots: the ready tasks behind them stay `pending` and get no worktree
# until a slot is free (they were all marked running, with worktrees, the
# moment they became ready). The stand-in's ledger holds the agents.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"
J=$T/tasks.json
python3 - "$J" <<'PY'
import json, sys
tasks = [{"id": "t%d" % i, "name": "T%d" % i, "description": "d", "dependencies": [],
          "prompt": "Do it. [key:t%d] [fake:await:go]" % i} for i in range(1, 5)]
json.dump({"tasks": tasks}, open(sys.argv[1], "w"))
PY
bg_run "$T/run.out" orch run daily.lua --tasks "$J" --auto-approve --no-input --max-concurrent 2
wait_for sj_true "sorted(t['status'] for t in s['tasks']).count('running') >= 2"
expect_eq "$(sj "sorted(t['status'] for t in s['tasks'])")" '["pending", "pending", "running", "running"]' \
    "at 2 wide, two tasks run and two wait"
expect_eq "$(ls "$T/work/agent_workspaces" | wc -l)" 2 "worktrees made: only the running tasks'"
echo go >>"$T/ledger"
rc=$(bg_wait "$T/run.out")
[ "$rc" = 0 ] || fail "run: expected exit 0, got $rc: $(tail -5 "$T/run.out")"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "completed", "completed", "completed"]' "statuses"
note "ok"
