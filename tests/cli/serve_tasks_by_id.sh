#!/usr/bin/env bash
# Commands address one task by id in a parallel session: two tasks of a JSON
# graph started over the REST API wait for approval at once; an approve that
# names no task is refused with both ids (nothing decided), one that names a
# task decides that task's approval only (not the newest), and a task that
# is not in the session is a 404. The other task still waits meanwhile. The
# webhook and the REST API's POST /api/command answer alike.
source "$(dirname "$0")/lib.bash"

TOKEN="ids-token-$RANDOM$RANDOM"
SECRET="ids-secret-$RANDOM$RANDOM"
export ORCHESTRATOR_AUTH_TOKEN=$TOKEN WEBHOOK_SECRET=$SECRET
export ORCH_TASKS_DIR=$T/tasks APPROVAL_MODE=required
mkdir -p "$ORCH_TASKS_DIR"
AUTH=(-H "Authorization: Bearer $TOKEN")

serve_start

expect_req 200 POST /api/orchestrate '{"max_parallel_agents": 2, "tasks": [
  {"id": "task-1", "name": "One", "description": "One.", "prompt": "One. [key:i1]", "requires_approval": true},
  {"id": "task-2", "name": "Two", "description": "Two.", "prompt": "Two. [key:i2]", "requires_approval": true}]}' \
    "${AUTH[@]}"
SID=$(rj "r['session_id']")

# api_status EXPR: GET /api/status/$SID, then EXPR over it is true
api_status() {
    [ "$(req GET "/api/status/$SID" "" "${AUTH[@]}")" = 200 ] && [ "$(rj "$1")" = true ]
}
both_wait="[t['status'] for t in r['tasks']] == ['waiting_approval', 'waiting_approval']"
WAIT_TIMEOUT=120 wait_for api_status "$both_wait and len(r['agents']) == 2"

hook() { expect_req "$1" POST "/webhook/$2" "$3"; }
hook 409 approve '{"secret": "'"$SECRET"'", "session": "'"$SID"'"}'
# in the webhook's words only ("request_id"), not every channel's
expect_eq "$(rj "'(task task-1), #' in r['message'] and '(\"request_id\": ID)' in r['message']
                 and '--request' not in r['message']
                 and '(task task-2)' in r['message']")" true \
    "approve without a task names the waiting requests: $(cat "$T/resp.json")"
hook 404 approve '{"secret": "'"$SECRET"'", "session": "'"$SID"'", "task": "task-9"}'
# the shell's approve, beside the server: the same refusals
RC=0; orch approve --session "$SID" >"$T/cli.out" 2>&1 || RC=$?
# (in the tasks' order; the request ids are in the order they asked, either first)
[ "$RC" -ne 0 ] && grep -qE "#[12] \(task task-1\), #[12] \(task task-2\)" "$T/cli.out" || fail "orch approve without --task (exit $RC): $(cat "$T/cli.out")"
RC=0; orch approve --session "$SID" --task task-9 >"$T/cli.out" 2>&1 || RC=$?
[ "$RC" -ne 0 ] && grep -q "No task task-9" "$T/cli.out" || fail "orch approve --task task-9 (exit $RC): $(cat "$T/cli.out")"

expect_req 409 POST /api/command '{"command": "approve", "params": {"session": "'"$SID"'"}}' "${AUTH[@]}"
expect_req 401 POST /api/command '{"command": "approve", "params": {"task": "task-1"}}'
expect_req 400 POST /api/command '["approve"]' "${AUTH[@]}"

# task-1's request, named by its task (usually the older one: a pending_approval
# without a task is the newest), over the REST API's command route
approve_one() {
    [ "$(req POST /api/command '{"command": "approve", "params": {"session": "'"$SID"'", "task": "task-1"}}' \
        "${AUTH[@]}")" = 200 ]
}
WAIT_TIMEOUT=60 wait_for approve_one
expect_eq "$(rj "[r['status'], r['task']]")" '["ok", "task-1"]' "approve task-1"
WAIT_TIMEOUT=120 wait_for api_status "r['tasks'][0]['status'] == 'completed'"
expect_eq "$(rj "r['tasks'][1]['status']")" waiting_approval "task-2 still waits"

hook 200 approve '{"secret": "'"$SECRET"'", "session": "'"$SID"'"}'  # one waits now: no id needed
expect_eq "$(rj "r['task']")" task-2 "approve of the one waiting"
WAIT_TIMEOUT=120 wait_for api_status "r['status'] == 'completed' and r['completed_tasks'] == 2"
expect_eq "$(serve_stop)" 0 "exit code"
note ok
