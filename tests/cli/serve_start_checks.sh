#!/usr/bin/env bash
# What `start` (the webhook's, the REST API's) checks before it answers
# "started": the task file reads and parses (400 naming the file, also when an
# earlier session ran it), a file edited since its session completed is new
# work (not 409 "already ran"), and a list the run would refuse (a branch that
# is checked out, two tasks on one branch: `orch-host check`'s checks) is a
# 400 with nothing stored or left on disk.
source "$(dirname "$0")/lib.bash"

SECRET="webhook-secret-$RANDOM$RANDOM"
export WEBHOOK_SECRET=$SECRET ORCHESTRATOR_AUTH_TOKEN=tok ORCH_TASKS_DIR=$T/tasks
mkdir -p "$ORCH_TASKS_DIR"
F=$ORCH_TASKS_DIR/tasks.json
printf '{"tasks":[{"id":"s1","name":"S1","prompt":"one","branch_name":"s/1"}]}\n' >"$F"
serve_start

start() {  # start STATUS [PARAMS_JSON]: the webhook's start over $F, auto-approved
    expect_req "$1" POST /webhook/command \
        '{"secret":"'"$SECRET"'","command":"start","params":{"task_file":"'"$F"'","auto_approve":true'"${2:-}"'}}'
}
completed() {  # completed SID: the session SID is completed
    [ "$(req GET "/api/status/$1" "" -H 'Authorization: Bearer tok')" = 200 ] &&
        [ "$(rj "r['status']")" = completed ]
}

# --- a completed file: 409; edited: a new session; broken: 400 naming it
start 200
SID1=$(rj "r['session_id']")
wait_for completed "$SID1"
start 409
expect_eq "$(rj "r['status'] == 'completed' and 'already ran every task' in r['message']")" true "the same file again"
printf '{"tasks":[{"id":"s1","name":"S1","prompt":"one","branch_name":"s/1"},
 {"id":"s2","name":"S2","prompt":"two","branch_name":"s/2"}]}\n' >"$F"
start 200
SID2=$(rj "r['session_id']")
[ "$SID2" != "$SID1" ] || fail "the edited file got the old session $SID1"
expect_eq "$(rj "r['total_tasks']")" 2 "tasks of the edited file"
wait_for completed "$SID2"
printf '{"tasks":[' >"$F"
start 400
expect_eq "$(rj "'$F' in r['message']")" true "the broken file is named: $(cat "$T/resp.json")"

# --- a list the run refuses: 400 naming it, no session stored, no file left
printf '{"tasks":[{"id":"a","name":"A","prompt":"one","branch_name":"s/x"},
 {"id":"b","name":"B","prompt":"two","branch_name":"s/x"}]}\n' >"$F"
start 400
expect_eq "$(rj "'/tasks/1/branch_name: task b' in r['message'] and \"task a's branch too\" in r['message']")" true \
    "the shared branch named: $(cat "$T/resp.json")"
CUR=$(git -C "$T/work" rev-parse --abbrev-ref HEAD)
expect_req 400 POST /api/orchestrate '{"tasks":[{"id":"m","name":"M","prompt":"p","branch_name":"'"$CUR"'"}]}' \
    -H 'Authorization: Bearer tok'
expect_eq "$(rj "'is the branch checked out in' in r['error']")" true "the checked-out branch named: $(cat "$T/resp.json")"
# what check refuses at a task's start: a context file outside the allowed folders
expect_req 400 POST /api/orchestrate \
    '{"tasks":[{"id":"cf","name":"CF","prompt":"p","context_files":["../../../../etc/passwd"]}]}' \
    -H 'Authorization: Bearer tok'
expect_eq "$(rj "'context file ../../../../etc/passwd is outside the allowed folders' in r['error']")" true \
    "the outside context file named: $(cat "$T/resp.json")"
expect_eq "$(find "$ORCH_TASKS_DIR/api" -type f 2>/dev/null | wc -l)" 0 "inline task files left by refused lists"
expect_req 200 GET /api/sessions "" -H 'Authorization: Bearer tok'
expect_eq "$(rj "r['count']")" 2 "sessions stored (the two that ran)"

expect_eq "$(serve_stop)" 0 "serve exit code"
note PASS
