#!/usr/bin/env bash
# The REST API runs the dependency graph (docs/rest-api.md): POST /api/orchestrate
# with an inline JSON task list and max_parallel_agents, POST /api/quick-start
# over tasks/tasks.json, GET /api/status/{id} polled until the session ends.
# The order comes from the stand-in agent's ledger, never from sleeps. Bad
# bodies get 400 (413 over the size limit) with the reason, the inline list's
# errors by JSON pointer into the body, and start nothing.
source "$(dirname "$0")/lib.bash"

TOKEN="graph-token-$RANDOM$RANDOM"
export ORCHESTRATOR_AUTH_TOKEN=$TOKEN
export ORCH_TASKS_DIR=$T/tasks
mkdir -p "$ORCH_TASKS_DIR"
AUTH=(-H "Authorization: Bearer $TOKEN")
export FAKE_CLAUDE_LEDGER=$T/ledger
export APPROVAL_MODE=auto   # no task waits for a person here
touch "$T/ledger"

serve_start

# bad BODY WHAT TEXT...: 400, and the error names every TEXT
bad() {
    local body=$1 what=$2; shift 2
    [ "$(req POST /api/orchestrate "$body" "${AUTH[@]}")" = 400 ] || fail "$what: expected HTTP 400: $(cat "$T/resp.json")"
    local e
    e=$(rj "r.get('error', '')")
    for want in "$@"; do
        case "$e" in *"$want"*) ;; *) fail "$what: the error does not say '$want': $e" ;; esac
    done
}
T1='{"id": "task-1", "name": "One", "description": "One.", "prompt": "One.", "dependencies": []}'
bad '[1, 2]' "a list body" "expected a JSON object body"
bad '"tasks"' "a string body" "expected a JSON object body"
bad '{"tasks": {"id": "task-1"}}' "tasks not an array" "/tasks" "must be an array of tasks, not object"
bad '{"tasks": "tasks/tasks.json"}' "tasks a string" "/tasks" "must be an array of tasks, not string"
bad '{"tasks": [
  {"id": "task-1", "name": "One", "description": "One.", "prompt": "One.", "dependencies": ["task-3"]},
  {"id": "task-2", "name": "Two", "description": "Two.", "prompt": "Two.", "dependencies": []},
  {"id": "task-3", "name": "Three", "description": "Three.", "prompt": "Three.", "dependencies": ["task-1"]}]}' \
    "a cycle" "request body" "task-1 -> task-3 -> task-1"
bad '{"tasks": [
  {"id": "task-1", "name": "One", "description": "One.", "prompt": "One.", "dependencies": []},
  {"id": "task-2", "name": "Two", "description": "Two.", "prompt": "Two.", "dependencies": []},
  {"id": "task-3", "name": "Three", "description": "Three.", "prompt": "Three.", "dependencies": ["task-9"]}]}' \
    "an unknown dependency" "/tasks/2/dependencies/0" "task-9"
bad '{"tasks": ['"$T1"', '"$T1"']}' "duplicate ids" "/tasks/1" "duplicate task id" "task-1"
bad '{"tasks": [{"id": "task-1", "name": "One", "description": "One.", "prompt": 7}]}' "a wrong type" \
    "/tasks/0/prompt" "must be a string"
bad '{"tasks": []}' "an empty list" "request body"
for n in 0 -1 '"x"' 2.5 1e9 1e308 '[2]' true; do
    bad '{"tasks": ['"$T1"'], "max_parallel_agents": '"$n"'}' "max_parallel_agents $n" "max_parallel_agents"
done
bad '{"tasks": ['"$T1"'], "max_parallel_agents": 17}' "max_parallel_agents over the cap" \
    "limit of 16" "server.max_parallel_agents"
bad '{"use_task_file": true, "tasks": ['"$T1"']}' "both a task file and tasks" "not both"
bad '{"task_file": "x.json", "tasks": ['"$T1"']}' "both task_file and tasks" "not both"
bad '{"use_task_file": "yes"}' "use_task_file not a boolean" "use_task_file"
bad '{"use_task_file": false}' "no tasks at all" "use_task_file is false"
bad '{"tasks": ['"$T1"'], "auto_aprove": true, "max_parallel_agent": 2}' "misspelt fields" \
    "unknown fields auto_aprove, max_parallel_agent (known: use_task_file"
bad '{"tasks": ['"$T1"'], "max_cost_usd": "cheap"}' "a day field of a wrong type" "/max_cost_usd" "must be a number"
bad '{"tasks": ['"$T1"'], "by": 123}' "by not a string" "start: by must be a string, not number"
bad '{"task_file": "x.json", "max_cost_usd": 1}' "a day field with a task file" "/max_cost_usd goes with inline"
bad '{"use_task_file": true}' "no tasks/tasks.json yet" "tasks.json"
python3 - "$T/big.json" "$T1" <<'PY'
import sys
t = sys.argv[2]
open(sys.argv[1], "w").write('{"tasks": [' + ", ".join([t.replace('"One."', '"' + "x" * 1000 + '"')] * 300) + ']}')
PY
expect_req 413 POST /api/orchestrate "@$T/big.json" "${AUTH[@]}"

# quick-start: 404 without tasks/tasks.json, 400 naming the file and field when it is bad
expect_req 404 POST /api/quick-start "" "${AUTH[@]}"
expect_eq "$(rj "'tasks.json' in r['error']")" true "quick-start says which file is missing"
echo '{"tasks": [{"id": "task-1", "name": "One", "description": "One.", "prompt": "One.", "dependencies": ["nope"]}]}' \
    >"$ORCH_TASKS_DIR/tasks.json"
expect_req 400 POST /api/quick-start "" "${AUTH[@]}"
expect_eq "$(rj "'tasks.json' in r['error'] and '/tasks/0/dependencies/0' in r['error']")" true \
    "quick-start names the bad file's field: $(cat "$T/resp.json")"

expect_eq "$(orch sessions --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 0 \
    "sessions after refused calls"
[ ! -e "$ORCH_TASKS_DIR/api" ] || [ -z "$(ls -A "$ORCH_TASKS_DIR/api")" ] || fail "a refused list was written"

# --- the example graph inline, two agents at once: task-1 and task-3 each wait
# until the other has started (neither ends unless both run at once), task-2 after task-1
GRAPH='{"max_parallel_agents": 2, "auto_approve": true, "max_cost_usd": 50, "tasks": [
  {"id": "task-1", "name": "Schema", "description": "The schema.", "branch_name": "feature/notes-schema",
   "prompt": "Write the schema. [key:t1] [fake:await:start t3]", "dependencies": []},
  {"id": "task-2", "name": "API", "description": "The API.", "branch_name": "feature/notes-api",
   "prompt": "Write the API. [key:t2]", "dependencies": ["task-1"]},
  {"id": "task-3", "name": "UI", "description": "The UI.", "branch_name": "feature/notes-ui",
   "prompt": "Write the UI. [key:t3] [fake:await:start t1]", "dependencies": []}]}'
expect_req 200 POST /api/orchestrate "$GRAPH" "${AUTH[@]}"
expect_eq "$(rj "[r['status'], r['total_tasks'], r['message']]")" \
    '["started", 3, "Orchestration started successfully"]' "orchestrate reply"
SID=$(rj "r['session_id']")

# status_done: GET /api/status/$SID, succeeds once the session has ended
status_done() {
    [ "$(req GET "/api/status/$SID" "" "${AUTH[@]}")" = 200 ] &&
        [ "$(rj "r['status'] in ('completed', 'failed', 'paused')")" = true ]
}
WAIT_TIMEOUT=240 wait_for status_done
expect_eq "$(rj "[r['session_id'], r['status'], r['total_tasks'], r['completed_tasks'], r['failed_tasks'], r['in_progress_tasks'], r['pending_tasks'], r['max_parallel_agents']]")" \
    "[\"$SID\", \"completed\", 3, 3, 0, 0, 0, 2]" "status counts"
expect_eq "$(rj "[(t['id'], t['status'], t['dependencies'], t['branch_name']) for t in r['tasks']]")" \
    '[["task-1", "completed", [], "feature/notes-schema"], ["task-2", "completed", ["task-1"], "feature/notes-api"], ["task-3", "completed", [], "feature/notes-ui"]]' \
    "status tasks"
expect_eq "$(rj "all(t.get('cost_usd') and t.get('started_at') for t in r['tasks']) and r['agents'] == []")" true \
    "tasks carry cost and start; no agent left"

line_no() { grep -n -x -- "$1" "$T/ledger" | head -n1 | cut -d: -f1 || true; }
before() {
    local a b
    a=$(line_no "$1"); b=$(line_no "$2")
    [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] || fail "ledger: '$1' should come before '$2': $(cat "$T/ledger")"
}
before "start t1" "end t3"
before "start t3" "end t1"
before "end t1" "start t2"

# the inline list is a task file of its own (a resume reads it again)
FILE=$(rj "r['task_file']")
case "$FILE" in "$ORCH_TASKS_DIR/api/"*.json) ;; *) fail "inline tasks kept as '$FILE'" ;; esac
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [t["id"] for t in d["tasks"]] == ["task-1","task-2","task-3"]' \
    "$FILE" || fail "the kept task list: $(cat "$FILE")"
# the body's budget went into that file, and the session has it
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["max_cost_usd"] == 50' "$FILE" ||
    fail "the kept task list has no max_cost_usd: $(cat "$FILE")"
expect_eq "$(orch status --json "$SID" | python3 -c "import json,sys; print(json.load(sys.stdin).get('budget_usd'))")" \
    50 "the session's budget from the body"

# --- quick-start over the example tasks/tasks.json (dependencies, no stand-in keys)
cp "$ORCH_SRC/tasks/tasks.json" "$ORCH_TASKS_DIR/tasks.json"
: >"$T/ledger"
expect_req 200 POST /api/quick-start "" "${AUTH[@]}"
expect_eq "$(rj "[r['status'], r['total_tasks'], r['task_file']]")" \
    "[\"started\", 3, \"$ORCH_TASKS_DIR/tasks.json\"]" "quick-start reply"
SID=$(rj "r['session_id']")
WAIT_TIMEOUT=240 wait_for status_done
expect_eq "$(rj "[r['status'], r['completed_tasks'], r['failed_tasks']]")" '["completed", 3, 0]' "quick-start run"
expect_eq "$(rj "r['tasks'][1]['started_at'] >= r['tasks'][0]['completed_at']")" true "task-2 started after task-1 ended"

expect_eq "$(serve_stop)" 0 "exit code"
note ok
