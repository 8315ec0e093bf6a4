#!/usr/bin/env bash
# The session a command means when it names none is the same from the
# command line as from the webhook: with two sessions in one `serve`, the
# older still running (it waits for approval) and the newer completed,
# `orch-host status`, `approve` and `pause` beside the server mean the
# running one (the webhook's default: the newest session running), not the
# newest stored. `pause` of a session that has ended is refused (exit 1,
# HTTP 409), where it used to answer ok and pause nothing.
source "$(dirname "$0")/lib.bash"

api_setup def
serve_start

# task ID NAME PROMPT BRANCH AUTO: a one-task list for /api/orchestrate
task() {
    printf '{"tasks": [{"id": "%s", "name": "%s", "prompt": "%s", "branch_name": "%s"}], "auto_approve": %s}' "$@"
}
st() {  # st SID EXPR: EXPR of GET /api/status/SID's answer r
    [ "$(req GET "/api/status/$1" "" "${AUTH[@]}")" = 200 ] && rj "$2"
}
expect_req 200 POST /api/orchestrate "$(task a1 A1 "Work. [key:a1]" d/one false)" "${AUTH[@]}"
SA=$(rj "r['session_id']")
WAIT_TIMEOUT=120 wait_for eval '[ "$(st "$SA" "r[\"tasks\"][0][\"status\"]")" = waiting_approval ]'
expect_req 200 POST /api/orchestrate "$(task b1 B1 "Work. [key:b1]" d/two true)" "${AUTH[@]}"
SB=$(rj "r['session_id']")
[ "$SA" != "$SB" ] || fail "two sessions expected"
WAIT_TIMEOUT=120 wait_for eval '[ "$(st "$SB" "r[\"status\"]")" = completed ]'

check_eq "$(sj "s['session_id']")" "$SA" "status' default session beside the server"
orch pause --session "$SB" >"$T/pause-b.out" 2>&1 && fail "pause of the completed session: exit 0 ($(cat "$T/pause-b.out"))"
check "the refusal says so ($(cat "$T/pause-b.out"))" grep -q "Session $SB is completed; nothing to pause" "$T/pause-b.out"
orch approve --by tester >"$T/approve.out" 2>&1 || fail "approve (no session named): $(cat "$T/approve.out")"
WAIT_TIMEOUT=120 wait_for eval '[ "$(st "$SA" "r[\"status\"]")" = completed ]'
check_eq "$(grep -c '^start a1$' "$T/ledger")" 1 "runs of session A's task"
serve_stop >/dev/null
finish
