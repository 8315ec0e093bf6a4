#!/usr/bin/env bash
# A task is `running` only while it holds one of the max_concurrent agent
# slots: the ready tasks behind them stay `pending` and get no worktree
# until a slot is free (they were all marked running, with worktrees, the
# moment they became ready). The stand-in's ledger holds the agents.
# A task approved while every slot is taken is `running`, waiting for a slot
# (it showed waiting_approval, as if nobody had approved it).
# At most max_concurrent tasks wait for approval at once, also when several
# that ask become ready together while one waits (each started saw one wait).
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

# slot_waiting NAME K: a day of three tasks at two agents, tasks 2 and 3
# ([key:K2], [key:K3]) holding both slots until "release", task 1 ([key:K1])
# approved last and waiting for a slot; the run in the background ($T/NAME.out)
slot_waiting() {
    TASKS=$T/$1.md
    task_md "$TASKS" 1 "Approved late" backend "Late. [key:${2}1]"
    task_md "$TASKS" 2 "Holds a slot" backend "Hold. [key:${2}2] [fake:await:release]"
    task_md "$TASKS" 3 "Holds the other" backend "Hold. [key:${2}3] [fake:await:release]"
    bg_run "$T/$1.out" orch run daily.lua --tasks "$TASKS" --no-input --max-concurrent 2
    wait_for sj_true "[t['status'] for t in s['tasks']][:2] == ['waiting_approval', 'waiting_approval']"
    orch approve --task 2 >/dev/null 2>&1 || fail "approve --task 2"
    wait_for sj_true "s['tasks'][2]['status'] == 'waiting_approval'"
    orch approve --task 3 >/dev/null 2>&1 || fail "approve --task 3"
    wait_for grep -q "^start ${2}3$" "$T/ledger"
    orch approve --task 1 >/dev/null 2>&1 || fail "approve --task 1"
    wait_for sj_true "s['tasks'][0].get('slot_wait') is not None"
}
slot_waiting approve a
expect_eq "$(sj "[s['tasks'][0]['status'], [a['task'] for a in s['agents'] if a.get('waiting_slot')]]")" \
    '["running", ["1"]]' "the task approved while the slots are taken"
echo "release" >>"$T/ledger"
rc=$(bg_wait "$T/approve.out")
[ "$rc" = 0 ] || fail "the approved day: expected exit 0, got $rc: $(tail -5 "$T/approve.out")"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "completed", "completed"]' \
    "statuses of the approved day"

# one skipped while it waits for a slot was skipped before it ran (its agent never started)
: >"$T/ledger"
slot_waiting skipw b
orch skip --task 1 --by tester >/dev/null 2>&1 || fail "skip --task 1"
wait_for sj_true "s['tasks'][0]['status'] == 'skipped'"
expect_eq "$(sj "s['tasks'][0]['error']")" "skipped by tester before it ran" "the skip of a task waiting for a slot"
echo "release" >>"$T/ledger"
bg_wait "$T/skipw.out" >/dev/null
expect_eq "$(starts b1)" 0 "runs of the task skipped in the queue"

# two wide: w2 waits for approval while w1 runs; w1's end makes w3 and w4
# ready at once, and both ask: one of them waits its turn (pending)
: >"$T/ledger"
python3 - "$T/waits.json" <<'PY'
import json, sys
ask = {"requires_approval": True}
json.dump({"tasks": [
    {"id": "w1", "name": "Runs", "prompt": "[key:w1] [fake:await:go]"},
    dict(ask, id="w2", name="Asks first", prompt="[key:w2]"),
    dict(ask, id="w3", name="Asks after w1", prompt="[key:w3]", dependencies=["w1"]),
    dict(ask, id="w4", name="Asks after w1 too", prompt="[key:w4]", dependencies=["w1"])]},
    open(sys.argv[1], "w"))
PY
APPROVAL_MODE=auto bg_run "$T/waits.out" orch run daily.lua --tasks "$T/waits.json" --no-input --max-concurrent 2
wait_for sj_true "[t['status'] for t in s['tasks']][:2] == ['running', 'waiting_approval']"
echo go >>"$T/ledger"
wait_for sj_true "s['tasks'][0]['status'] == 'completed' and 'waiting_approval' in [s['tasks'][2]['status'], s['tasks'][3]['status']]"
# approve whatever waits, one request at a time, until the day ends
approve_one() {
    local id
    id=$(sj "([t['id'] for t in s['tasks'] if t['status'] == 'waiting_approval'] + [''])[0]")
    [ -n "$id" ] && orch approve --task "$id" >/dev/null 2>&1
    [ "$(cat "$T/waits.out.rc" 2>/dev/null)" != "" ]
}
wait_for approve_one
expect_eq "$(cat "$T/waits.out.rc")" 0 "the day of approvals: $(tail -3 "$T/waits.out")"
# the most approvals open at once, from the events in their order
most=$(python3 - "$T/logs/events.ndjson" "$(sj "s['id']")" <<'PY'
import json, sys
open_, most = set(), 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("session") != sys.argv[2]:
        continue
    if e["event"] == "approval_requested":
        open_.add(e["task"])
    elif e["event"] == "approval_resolved":
        open_.discard(e["task"])
    most = max(most, len(open_))
print(most)
PY
)
expect_eq "$most" 2 "approvals open at once at two wide"
note "ok"
