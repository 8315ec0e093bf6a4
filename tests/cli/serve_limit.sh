#!/usr/bin/env bash
# The usage-limit gate is server-wide (lib/limits): in `orch-host serve`, a
# session whose agent hits the usage limit holds back the agents of another
# session started meanwhile; both go on once the limit resets, the parked one
# continuing its own claude session.
source "$(dirname "$0")/lib.bash"

api_setup limit
export APPROVAL_MODE=auto
printf 'return { orchestrator = { limit_jitter = 0.5 } }\n' >"$T/config.lua"
serve_start --config "$T/config.lua"

task() { printf '{"tasks": [{"id": "%s", "name": "%s", "description": "x", "prompt": "%s", "dependencies": []}]}' "$@"; }

expect_req 200 POST /api/orchestrate "$(task a1 "Hits the limit" "Work. [fake:limit:5] [key:a1]")" "${AUTH[@]}"
SA=$(rj "r['session_id']")
wait_for grep -q '"event":"task_waiting_limit"' "$T/logs/events.ndjson"
expect_req 200 POST /api/orchestrate "$(task b1 "Another session" "Work. [key:b1]")" "${AUTH[@]}"
SB=$(rj "r['session_id']")
[ "$SA" != "$SB" ] || fail "two sessions expected"
done_session() { [ "$(req GET "/api/status/$1" "" "${AUTH[@]}")" = 200 ] && [ "$(rj "r['status']")" = completed ]; }
WAIT_TIMEOUT=120 wait_for done_session "$SA"
WAIT_TIMEOUT=120 wait_for done_session "$SB"
check_eq "$(grep -c '^start b1$' "$T/ledger")" 1 "session B's agent ran once"
gate="[e for e in ev if e['event'] == 'usage_limit'][0]"
check_eq "$(ev "sorted((e['session'], bool(e.get('resume'))) for e in ev if e['event'] == 'claude_started' and e['ts'] >= $gate['until'] - 0.05)")" \
    "$(python3 -c "print(sorted([('$SA', True), ('$SB', False)]))")" "after the reset: A's continuation and B's agent"
check_eq "$(ev "sum(1 for e in ev if e['event'] == 'claude_started' and $gate['ts'] < e['ts'] < $gate['until'] - 0.05)")" \
    0 "no agent started in any session while the gate was closed"
check_eq "$(ev "sum(1 for e in ev if e['event'] == 'usage_limit')")" 1 "one gate"
serve_stop
finish
