#!/usr/bin/env bash
# Two sessions of one `orch-host serve` over one repository: the task
# branches and worktrees the orchestrator makes for one session while the
# other's task runs are not that task's doing, so neither session's safety
# check after the run counts them (lib/safety_after). Session A's agent runs
# until session B's agent has started (so B's branch x/two is new during A's
# run); both tasks complete.
source "$(dirname "$0")/lib.bash"

api_setup two
serve_start

task() {
    printf '{"tasks": [{"id": "%s", "name": "%s", "prompt": "%s", "branch_name": "%s"}], "auto_approve": true}' "$@"
}
expect_req 200 POST /api/orchestrate "$(task x1 X1 "Work. [fake:await:start x2] [key:x1]" x/one)" "${AUTH[@]}"
SA=$(rj "r['session_id']")
wait_for grep -q '^start x1$' "$T/ledger"
expect_req 200 POST /api/orchestrate "$(task x2 X2 "Work. [key:x2]" x/two)" "${AUTH[@]}"
SB=$(rj "r['session_id']")
[ "$SA" != "$SB" ] || fail "two sessions expected"
WAIT_TIMEOUT=120 wait_for api_completed "$SA"
WAIT_TIMEOUT=120 wait_for api_completed "$SB"
for sid in "$SA" "$SB"; do
    orch status --json "$sid" >"$T/s.json" || fail "status $sid"
    check_eq "$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["tasks"][0]; print(t["status"], t.get("safety_violation") or t.get("error") or "")' "$T/s.json")" \
        "completed " "session $sid's task"
done
check_eq "$(ev "sum(1 for e in ev if e['event'] == 'safety_violation')")" 0 "safety violations"
check_eq "$(git -C "$T/work" for-each-ref --format='%(refname:short)' refs/heads/x | sort | tr '\n' ' ')" \
    "x/one x/two " "the task branches"
serve_stop >/dev/null
finish
