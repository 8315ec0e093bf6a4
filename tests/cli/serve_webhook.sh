#!/usr/bin/env bash
# orch-host serve, the webhook API (docs/webhook-api.md) over loopback with a real client:
# every route with the right secret, a wrong one and a bad body; a session
# started by a webhook waits at a checkpoint and /webhook/approve makes it
# go on; `orch-host approve` from a shell resolves the next approval exactly
# once; a second start gets "already running"; skip of a running task stops
# its agent; pause and resume; logs; /health; the access log; no secret in
# any log or in the database.
source "$(dirname "$0")/lib.bash"

SECRET="webhook-secret-$RANDOM$RANDOM"
export WEBHOOK_SECRET=$SECRET
export ORCH_TASKS_DIR=$T/tasks   # /task writes its task files there
export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"
TASKS=$T/tasks.md
task_md "$TASKS" 1 "Create the table" database "Write the migration. [key:t1]"
task_md "$TASKS" 2 "Server actions" backend "Write the actions. [key:t2] [fake:hang]"
task_md "$TASKS" 3 "The page" frontend "Write the page. [key:t3]"

serve_start

# --- /health, unknown routes, wrong methods: JSON answers
expect_req 200 GET /health
expect_eq "$(rj "r['status']")" ok "/health status"
expect_eq "$(rj "r['version'] != '' and isinstance(r['uptime'], int)")" true "/health version and uptime"
expect_req 404 GET /no/such/route
expect_eq "$(rj "'error' in r")" true "404 body is JSON with an error"
expect_req 405 GET /webhook/status
expect_eq "$(rj "r['allow']")" '["POST"]' "405 names the allowed method"

# --- every route refuses a wrong or missing secret, and runs nothing
for route in command status approve pause resume skip logs answer; do
    expect_req 401 POST /webhook/$route '{"secret":"wrong","command":"start","params":{"task_file":"'"$TASKS"'"}}'
    expect_req 401 POST /webhook/$route '{"command":"start"}'
done
expect_eq "$(orch sessions --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 0 \
    "sessions after refused calls"

# --- bad bodies
expect_req 400 POST /webhook/command '{"secret":'
expect_eq "$(rj "r['error'].startswith('malformed JSON') and 'column' in r['error'] and 'request_id' in r")" true \
    "malformed JSON names the reason"
# a number beyond a double is refused by the parser after it is read: the reason says that and where
expect_req 400 POST /webhook/command '{"max_parallel_agents": 1e400}'
expect_eq "$(rj "r['error']")" "malformed JSON: number out of range at line 1, column 25" \
    "a number out of range names the reason and where"
expect_req 400 POST /webhook/command '[1,2]'
expect_req 400 POST /webhook/command '{"secret":"'"$SECRET"'"}'
expect_eq "$(rj "'command' in r['error']")" true "missing command is named"
expect_req 400 POST /webhook/command '{"secret":"'"$SECRET"'","command":"launch-missiles"}'
expect_eq "$(rj "'unknown command' in r['message']")" true "unknown command"
expect_req 400 POST /webhook/command '{"secret":"'"$SECRET"'","command":"start","params":"x"}'
expect_req 400 POST /webhook/command '{"secret":"'"$SECRET"'","command":"start","params":{"task_file":"'"$T"'/missing.md"}}'
expect_eq "$(rj "'cannot read the task file' in r['message']")" true "missing task file"
printf '# Tasks\n\n## Task 1: no type\n' >"$T/bad.md"
expect_req 400 POST /webhook/command '{"secret":"'"$SECRET"'","command":"start","params":{"task_file":"'"$T"'/bad.md"}}'
expect_eq "$(rj "'bad.md:' in r['message']")" true "task file errors name file:line"
# a body over the limit (256 KB by default)
head -c 400000 /dev/zero | tr '\0' x >"$T/big.txt"
got=$(curl -s -o "$T/resp.json" -w '%{http_code}' -X POST --data-binary @"$T/big.txt" "$URL/webhook/status")
expect_eq "$got" 413 "oversized body"
# `curl -d` (application/x-www-form-urlencoded, as the docs' examples send it)
# with a JSON body over 8 KB: read as the JSON it is, up to the same limit;
# a multipart body is refused unread
python3 -c 'import sys; sys.stdout.write("{\"secret\":\"" + sys.argv[1] + "\",\"pad\":\"" + "a" * 9000 + "\"}")' \
    "$SECRET" >"$T/form.txt"
got=$(curl -s -o "$T/resp.json" -w '%{http_code}' --data-binary @"$T/form.txt" "$URL/webhook/status")
expect_eq "$got" 200 "a 9 KB JSON body sent as a form: $(cat "$T/resp.json")"
got=$(curl -s -o "$T/resp.json" -w '%{http_code}' --data-binary @"$T/big.txt" \
    -H 'Content-Type: application/x-www-form-urlencoded' "$URL/webhook/status")
expect_eq "$got" 413 "an oversized form body"
got=$(curl -s -o "$T/resp.json" -w '%{http_code}' -F "f=@$T/form.txt" "$URL/webhook/status")
expect_eq "$got $(rj "r['error']")" "415 multipart bodies are not accepted: send JSON" "a multipart body"

# --- status before any session
expect_req 200 POST /webhook/status '{"secret":"'"$SECRET"'"}'
expect_eq "$(rj "r['status']")" idle "status with no session"
expect_req 404 POST /webhook/status '{"secret":"'"$SECRET"'","session":"20990101-000000"}'  # one named that is not there

# --- start: the session runs inside the server and waits at task 1 (database)
expect_req 200 POST /webhook/command '{"secret":"'"$SECRET"'","command":"start","params":{"task_file":"'"$TASKS"'"}}'
expect_eq "$(rj "r['status']")" started "start status"
expect_eq "$(rj "r['total_tasks']")" 3 "start total_tasks"
SID=$(rj "r['session_id']")
waiting_for() { sj_true "s['status'] == 'waiting_approval' and s.get('pending_approval', {}).get('task_id') == '$1'"; }
wait_for waiting_for 1
expect_req 409 POST /webhook/command '{"secret":"'"$SECRET"'","command":"start","params":{"task_file":"'"$TASKS"'"}}'
expect_eq "$(rj "r['status'] == 'already_running' and r['session_id'] == '$SID'")" true "second start"
expect_eq "$(orch sessions --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 1 \
    "one session after two starts"

expect_req 200 POST /webhook/status '{"secret":"'"$SECRET"'"}'
expect_eq "$(rj "[r['task'], r['total'], r['status'], r['waiting']['task']]")" '[1, 3, "waiting_approval", "1"]' \
    "status fields"
expect_eq "$(rj "'Waiting for approval' in r['message']")" true "status message text"
expect_eq "$(grep -c . "$T/ledger")" 0 "agent runs before approval"

# --- approve over the webhook: task 1 runs; task 2 waits (approve it from a shell)
expect_req 200 POST /webhook/approve '{"secret":"'"$SECRET"'","by":"n8n-test"}'
expect_eq "$(rj "r['message']")" "Executing task 1: Create the table" "approve message"
wait_for waiting_for 2
expect_eq "$(task_status 1)" completed "task 1 after the webhook approve"
expect_eq "$(grep -c '^start t1' "$T/ledger")" 1 "task 1 ran once"

orch approve --by shell >"$T/approve.out" 2>&1 || fail "orch approve failed: $(cat "$T/approve.out")"
# the same approval again over the webhook: nothing is waiting any more
expect_req 409 POST /webhook/approve '{"secret":"'"$SECRET"'"}'
# task 2 hangs: skip it while running -> its agent is stopped
wait_for sj_true "s['tasks'][1]['status'] == 'running'"
wait_for grep -q '^start t2' "$T/ledger"
expect_req 200 POST /webhook/skip '{"secret":"'"$SECRET"'"}'
expect_eq "$(rj "'Skipping task 2' in r['message']")" true "skip of the running task"
wait_for sj_true "s['tasks'][1]['status'] == 'skipped'"
wait_for test -z "$(agent_pids)"

# --- task 3 asks too (required mode); approve through /webhook/command
wait_for waiting_for 3
expect_req 200 POST /webhook/command '{"secret":"'"$SECRET"'","command":"approve","params":{"by":"telegram:42"}}'
wait_for sj_true "s['status'] == 'completed'"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "skipped", "completed"]' "final statuses"
expect_eq "$(grep -c '^start t3' "$T/ledger")" 1 "task 3 ran once"
expect_req 200 POST /webhook/status '{"secret":"'"$SECRET"'"}'
expect_eq "$(rj "r['status']")" completed "webhook status at the end"
# starting the finished file again is refused unless forced
expect_req 409 POST /webhook/command '{"secret":"'"$SECRET"'","command":"start","params":{"task_file":"'"$TASKS"'"}}'
expect_eq "$(rj "r['status'] == 'completed' and r['session_id'] == '$SID' and 'force' in r['message']")" true \
    "start of a finished file"

# --- logs: lines param, bounded
expect_req 200 POST /webhook/logs '{"secret":"'"$SECRET"'","lines":3}'
expect_eq "$(rj "r['lines'] == 3 and len(r['logs'].splitlines()) == 3")" true "logs lines=3"
# out of 1..200 (docs/webhook-api.md): refused naming the field, never clamped
for v in 100000 0 '"abc"'; do
    expect_req 400 POST /webhook/command '{"secret":"'"$SECRET"'","command":"logs","params":{"lines":'"$v"'}}'
    expect_eq "$(rj "'lines must be a whole number from 1 to 200' in r['message']")" true "logs lines=$v"
done
expect_req 400 POST /webhook/logs '{"secret":"'"$SECRET"'","lines":500}'
# params: an object, and the flags booleans
expect_req 400 POST /webhook/command '{"secret":"'"$SECRET"'","command":"status","params":[1]}'
expect_req 400 POST /webhook/command '{"secret":"'"$SECRET"'","command":"start","params":{"auto_approve":"yes"}}'
expect_eq "$(rj "'params.auto_approve must be a boolean' in r['message']")" true "auto_approve=yes"
expect_req 200 POST /webhook/command '{"secret":"'"$SECRET"'","command":"help"}'
expect_eq "$(rj "'/approve' in r['message']")" true "help text"

# --- pause and resume over the webhook, on a second session
TASKS2=$T/tasks2.md
task_md "$TASKS2" 1 "Docs" documentation "Write docs. [key:u1]"
task_md "$TASKS2" 2 "More backend" backend "Backend. [key:u2]" true
expect_req 200 POST /webhook/command '{"secret":"'"$SECRET"'","command":"start","params":{"task_file":"'"$TASKS2"'"}}'
SID2=$(rj "r['session_id']")
wait_for sj_true "s['id'] == '$SID2' and s['status'] == 'waiting_approval'"
expect_req 200 POST /webhook/pause '{"secret":"'"$SECRET"'"}'
wait_for sj_true "s['id'] == '$SID2' and s['status'] == 'paused'"
expect_req 409 POST /webhook/command '{"secret":"'"$SECRET"'","command":"start","params":{"task_file":"'"$TASKS2"'"}}'
expect_eq "$(rj "r['status'] == 'paused' and r['session_id'] == '$SID2' and '/resume' in r['message']")" true \
    "start of a paused file points to resume"
expect_req 200 POST /webhook/resume '{"secret":"'"$SECRET"'"}'
wait_for sj_true "s['id'] == '$SID2' and s['status'] == 'waiting_approval' and s.get('pending_approval', {}).get('task_id') == '2'"
# the same from a shell: `orch-host resume` hands the command to the server
orch pause --by shell >/dev/null 2>&1 || fail "orch pause beside serve failed"
wait_for sj_true "s['id'] == '$SID2' and s['status'] == 'paused'"
orch resume >"$T/resume.out" 2>&1 || fail "orch resume beside serve failed: $(cat "$T/resume.out")"
grep -q "Sent resume" "$T/resume.out" || fail "resume beside serve: $(cat "$T/resume.out")"
wait_for sj_true "s['id'] == '$SID2' and s['status'] == 'waiting_approval' and s.get('pending_approval', {}).get('task_id') == '2'"
expect_req 200 POST /webhook/command '{"secret":"'"$SECRET"'","command":"approve"}'
wait_for sj_true "s['id'] == '$SID2' and s['status'] == 'completed'"
expect_eq "$(grep -c '^start u2' "$T/ledger")" 1 "u2 ran once"

# --- an agent's question, answered over the webhook (claude --resume)
export ORCH_QUESTIONS_DIR=$T/questions
TASKS3=$T/tasks3.md
task_md "$TASKS3" 1 "Pagination" documentation "Paginate. [key:q1] [fake:question]"
expect_req 200 POST /webhook/command '{"secret":"'"$SECRET"'","command":"start","params":{"task_file":"'"$TASKS3"'"}}'
SID3=$(rj "r['session_id']")
wait_for sj_true "s['id'] == '$SID3' and s.get('pending_approval', {}).get('kind') == 'question'"
expect_req 200 POST /webhook/status '{"secret":"'"$SECRET"'"}'
expect_eq "$(rj "r['waiting']['kind']")" question "status shows the question"
expect_req 409 POST /webhook/approve '{"secret":"'"$SECRET"'"}'
expect_req 400 POST /webhook/answer '{"secret":"'"$SECRET"'"}'
expect_req 200 POST /webhook/answer '{"secret":"'"$SECRET"'","text":"use pattern B"}'
wait_for sj_true "s['id'] == '$SID3' and s['status'] == 'completed'"

# --- /progress and /cancel: cancel a pending task, then the running one
TASKS4=$T/tasks4.md
task_md "$TASKS4" 1 "Long docs" documentation "Docs. [key:w1] [fake:slow:600]"
task_md "$TASKS4" 2 "More docs" documentation "Docs. [key:w2]"
expect_req 200 POST /webhook/command '{"secret":"'"$SECRET"'","command":"start","params":{"task_file":"'"$TASKS4"'"}}'
SID4=$(rj "r['session_id']")
wait_for grep -q '^start w1' "$T/ledger"
expect_req 200 POST /webhook/command '{"secret":"'"$SECRET"'","command":"progress","params":{"task":"1"}}'
expect_eq "$(rj "'task_started' in r['message'] and r['session_id'] == '$SID4'")" true "progress of task 1"
expect_req 400 POST /webhook/command '{"secret":"'"$SECRET"'","command":"cancel"}'
# a command that names no task lists the ones to pick from (a phone cannot tap "/cancel <task_id>")
expect_eq "$(rj "r['message']")" \
    "cancel: which task? (\"task\": ID); the unfinished tasks of session $SID4: 1 (running), 2 (pending)" \
    "cancel without a task"
expect_req 400 POST /webhook/command '{"secret":"'"$SECRET"'","command":"progress"}'
expect_eq "$(rj "r['message']")" \
    "progress: which task? (/progress <task_id>); the unfinished tasks of session $SID4: 1 (running), 2 (pending)" \
    "progress without a task"
expect_req 404 POST /webhook/command '{"secret":"'"$SECRET"'","command":"cancel","params":{"task":"9"}}'
expect_req 200 POST /webhook/command '{"secret":"'"$SECRET"'","command":"cancel","params":{"task":"2"}}'
expect_req 200 POST /webhook/command '{"secret":"'"$SECRET"'","command":"cancel","params":{"task":"1"}}'
wait_for sj_true "s['id'] == '$SID4' and s['status'] == 'completed'"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["cancelled", "cancelled"]' "cancelled tasks"
expect_eq "$(grep -c '^start w2' "$T/ledger")" 0 "a cancelled pending task ran"
wait_for test -z "$(agent_pids)"

# --- /task: a one-task session from a sentence, under ORCH_TASKS_DIR/adhoc
expect_req 400 POST /webhook/command '{"secret":"'"$SECRET"'","command":"task","params":{"text":"   "}}'
expect_req 200 POST /webhook/command '{"secret":"'"$SECRET"'","command":"task","params":{"text":"Create a pijama directory [key:z1]\nwith a README"}}'
SID5=$(rj "r['session_id']")
expect_eq "$(rj "r['total_tasks']")" 1 "/task makes one task"
ls "$T"/tasks/adhoc/*.md >/dev/null 2>&1 || fail "/task wrote no task file under tasks/adhoc"
wait_for sj_true "s['id'] == '$SID5' and s['status'] == 'waiting_approval'"
expect_eq "$(sj "s['tasks'][0]['title']")" "Create a pijama directory [key:z1] with a README" "/task title"
expect_req 200 POST /webhook/approve '{"secret":"'"$SECRET"'"}'
wait_for sj_true "s['id'] == '$SID5' and s['status'] == 'completed'"
expect_eq "$(grep -c '^start z1' "$T/ledger")" 1 "the /task task ran once"

# --- the access log: method, path, status, latency, caller; never the secret
ACCESS=$T/logs/webhook-access.log
expect_req 200 GET /health
# the log is flushed within a second: wait for the last request's line
last_is_health() { tail -n 1 "$ACCESS" | grep -q '"GET /health" 200'; }
wait_for last_is_health
grep -qE '127\.0\.0\.1:[0-9]+ "POST /webhook/approve" 200 [0-9]+ [0-9.]+ms ' "$ACCESS" \
    || fail "access log line shape: $(tail -n 3 "$ACCESS")"
grep -q '"GET /no/such/route" 404' "$ACCESS" || fail "404 not in the access log"
if grep -rqa -- "$SECRET" "$T/logs" "$T/state"; then fail "the webhook secret appears in logs or state"; fi

# --- SIGTERM: the server stops cleanly
rc=$(serve_stop)
expect_eq "$rc" 0 "serve exit code after SIGTERM"
note ok
