#!/usr/bin/env bash
# An approval is for one action, once: every request has an id that its
# notification names, `orch-host approve --request ID` decides that one, and
# a decision for a request that was already decided, expired or is from an
# older session is refused (exit 1, the message says which) and never
# applied to another task or a newer request.
# A: decided twice; the request's text and webhook body (task, instruction's
#    first lines, request id); who decided, when, through which channel in
#    status --json, the status table and the report.
# B: approval_timeout (on_approval_timeout: pause, the default) expires the
#    request; the resumed session asks again with a new id; the expired one's
#    button/decision is refused and not applied to the new one. skip and
#    approve do what they say.
# C: a resumed session (after kill -9) asking the same again keeps the id;
#    a request of an older session is refused while a newer session waits.
# D: several requests waiting: a decision naming none is refused with their
#    ids; naming one decides that one only. One approval waiting beside a
#    newer question of another task: a bare approve decides the approval.
# E: the webhook and the REST API: `request_id` decides one request; a
#    decided one is 409 with reason "decided"; the channel is kept.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"

# waiting_for N: a live host waits for approval of task N
waiting_for() {
    sj_true "s.get('pending_approval', {}).get('task_id') == '$1'
             and s['pending_approval'].get('kind') == 'approval' and s['host_alive'] is True"
}
request_id() { sj "s['pending_approval']['id']"; }

# refused WHAT WORDS CMD...: CMD exits 1 and its message has WORDS
refused() {
    local what=$1 words=$2 rc=0
    shift 2
    orch "$@" >"$T/refused.out" 2>&1 || rc=$?
    check_eq "$rc" 1 "$what: exit code ($(cat "$T/refused.out"))"
    check "$what: the message says '$words' ($(cat "$T/refused.out"))" grep -q -- "$words" "$T/refused.out"
}

kill_host() {
    local host
    host=$(host_pid_of "$1")
    [ -n "$host" ] || fail "cannot find the orch-host pid"
    kill -KILL "$host"
    expect_eq "$(bg_wait "$2")" 137 "exit code of the killed host"
}

# outbox_payload EVENT: the webhook body of the newest queued notification of EVENT
outbox_payload() {
    python3 - "$ORCH_STATE_DB" "$1" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = [json.loads(json.loads(p)["request"]["body"]) for (p,) in db.execute("SELECT payload FROM outbox ORDER BY id")]
print(json.dumps([r for r in rows if r.get("event") == sys.argv[2]][-1]))
EOF
}

# ------------------------------------------------ A: decided twice
# a webhook sink nobody listens on: the bodies stay in the outbox to read
export N8N_NOTIFY_URL="http://127.0.0.1:$(free_port)/hook"
TASKS=$T/a.md
task_md "$TASKS" 1 "First" backend "Edit src/a.ts first.
Then run the tests. [key:a1]"
task_md "$TASKS" 2 "Second" backend "Then this. [key:a2]"
bg_run "$T/a.out" orch run daily.lua --tasks "$TASKS" --no-input
wait_for waiting_for 1
R1=$(request_id)
body=$(outbox_payload approval_requested)
check_eq "$(jq -r '[.request_id, .request.task, .request.title, .request.instruction] | @json' <<<"$body")" \
    "[$R1,\"1\",\"First\",\"Edit src/a.ts first.\\nThen run the tests. [key:a1]\"]" "A: the webhook body's request"
jq -r .message <<<"$body" >"$T/a-request.txt"
check "A: the request's text names it ($(cat "$T/a-request.txt"))" grep -q "Request #$R1 · task 1" "$T/a-request.txt"
check "A: the request's text quotes the instruction" grep -q "Edit src/a.ts first" "$T/a-request.txt"
check_eq "$(jq -r '.buttons[0][0].data' <<<"$body")" "approve:$R1" "A: the Approve button names the request"

orch approve --request "$R1" --by tester >"$T/a1.out" 2>&1 || fail "A: approve --request $R1: $(cat "$T/a1.out")"
wait_for waiting_for 2
R2=$(request_id)
[ "$R2" != "$R1" ] || fail "A: task 2's request has task 1's id $R1"
refused "A: the same request decided twice" "already decided" approve --request "$R1" --by tester
refused "A: skip of a decided request" "already decided" skip --request "$R1" --by tester
refused "A: a request that does not exist" "No approval request #999" approve --request 999
check_eq "$(sj "[s['pending_approval']['id'], s['tasks'][1]['status']]")" "[$R2, \"waiting_approval\"]" \
    "A: task 2 still waits on its own request after the refusals"
orch skip --request "$R2" --by tester >/dev/null 2>&1 || fail "A: skip --request $R2"
expect_eq "$(bg_wait "$T/a.out")" 0 "A: exit code"
check_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "skipped"]' "A: statuses"
check_eq "$(sj "[(a['request_id'], a['action'], a['by'], a['channel'], a['at'] > 0)
                 for t in s['tasks'] for a in t.get('approvals', [])]")" \
    "[[$R1, \"approve\", \"tester\", \"cli\", true], [$R2, \"skip\", \"tester\", \"cli\", true]]" \
    "A: the decisions kept on the tasks"
orch status >"$T/a-status.txt" 2>&1
check "A: status lists the decisions ($(cat "$T/a-status.txt"))" \
    grep -q "approve by tester (cli) at .*, request #$R1" "$T/a-status.txt"
orch report --stdout >"$T/a-report.md" 2>&1
check "A: the report says who decided ($(grep -n Decided "$T/a-report.md"))" \
    grep -q -- "- Decided: approve by tester (cli) at .* UTC, request #$R1" "$T/a-report.md"
export N8N_NOTIFY_URL=

# ------------------------------------- B: expired, then a stale decision after the re-ask
printf 'return { orchestrator = { approval_timeout = 1 } }\n' >"$T/timeout.lua"
TASKS=$T/b.md
task_md "$TASKS" 1 "Timed" backend "Do it. [key:b1]"
bg_run "$T/b1.out" orch --config "$T/timeout.lua" run daily.lua --tasks "$TASKS" --no-input
expect_eq "$(bg_wait "$T/b1.out")" 3 "B: exit code once approval_timeout paused the session"
check_eq "$(sj "[s['status'], s['tasks'][0]['status']]")" '["paused", "pending"]' "B: after the timeout"
check_eq "$(sj "[(a['action'], a['by'], a['channel']) for a in s['tasks'][0]['approvals']]")" \
    '[["pause", "approval_timeout", "timer"]]' "B: the timeout's decision kept on the task"
B1=$(sj "s['tasks'][0]['approvals'][0]['request_id']")
refused "B: approve of the expired request while paused" "expired" approve --request "$B1"
bg_run "$T/b2.out" orch resume --no-input
wait_for waiting_for 1
B2=$(request_id)
[ "$B2" != "$B1" ] || fail "B: the re-ask after an expiry kept the expired id $B1"
refused "B: approve of the expired request after the re-ask" "expired" approve --request "$B1"
check_eq "$(sj "[s['pending_approval']['id'], s['tasks'][0]['status']]")" "[$B2, \"waiting_approval\"]" \
    "B: the new request still waits"
check_eq "$(grep -c 'start b1' "$T/ledger")" 0 "B: runs of task 1 before its approval"
orch approve --request "$B2" >/dev/null 2>&1 || fail "B: approve --request $B2"
expect_eq "$(bg_wait "$T/b2.out")" 0 "B: exit code"
check_eq "$(grep -c 'start b1' "$T/ledger")" 1 "B: runs of task 1"

# on_approval_timeout = "skip": the task is skipped; "approve": it runs
printf 'return { orchestrator = { approval_timeout = 1, on_approval_timeout = "skip" } }\n' >"$T/skip.lua"
printf 'return { orchestrator = { approval_timeout = 1, on_approval_timeout = "approve" } }\n' >"$T/go.lua"
TASKS=$T/b2.md
task_md "$TASKS" 1 "Skipped" backend "Do it. [key:b21]"
orch --config "$T/skip.lua" run daily.lua --tasks "$TASKS" --no-input >"$T/b2.out" 2>&1 ||
    fail "B: on_approval_timeout skip: exit $? ($(tail -3 "$T/b2.out"))"
check_eq "$(sj "[s['tasks'][0]['status'], s['tasks'][0]['skipped_by']]")" '["skipped", "approval_timeout"]' \
    "B: on_approval_timeout skip"
# said on the terminal and in status, as a budget skip is
check "B: the terminal says the timeout skipped it: $(tail -5 "$T/b2.out")" \
    grep -q "Approval timed out: Task 1/1" "$T/b2.out"
check "B: the terminal says what followed" grep -q "on_approval_timeout is skip" "$T/b2.out"
check "B: status gives the skip's reason: $(orch status 2>&1 | grep -A1 Skipped)" \
    bash -c '"$0" --root "$1" status | grep -q "↳ skipped: no decision within approval_timeout"' "$ORCH_HOST" "$ORCH_SRC"
TASKS=$T/b3.md
task_md "$TASKS" 1 "Approved" backend "Do it. [key:b31]"
orch --config "$T/go.lua" run daily.lua --tasks "$TASKS" --no-input >"$T/b3.out" 2>&1 ||
    fail "B: on_approval_timeout approve: exit $? ($(tail -3 "$T/b3.out"))"
check_eq "$(sj "[s['tasks'][0]['status'], s['tasks'][0]['approvals'][0]['action']]")" '["completed", "approve"]' \
    "B: on_approval_timeout approve"
check_eq "$(grep -c 'start b31' "$T/ledger")" 1 "B: runs of the task approved by its timeout"

# ------------------------------- C: the same id after a restart; an older session's request
TASKS=$T/c.md
task_md "$TASKS" 1 "First" backend "Do it. [key:c1]"
bg_run "$T/c1.out" orch run daily.lua --tasks "$TASKS" --no-input
wait_for waiting_for 1
C1=$(request_id)
A_SESSION=$(sj "s['id']")
kill_host "$BG_PID" "$T/c1.out"
bg_run "$T/c2.out" orch resume --no-input
wait_for waiting_for 1
check_eq "$(request_id)" "$C1" "C: the resumed session's request id"
kill_host "$BG_PID" "$T/c2.out"
bg_run "$T/c3.out" orch run daily.lua --tasks "$TASKS" --no-input   # a new session over the same file
wait_for sj_true "s['id'] != '$A_SESSION' and s.get('pending_approval', {}).get('task_id') == '1'
                  and s['host_alive'] is True"
C2=$(request_id)
[ "$C2" != "$C1" ] || fail "C: the new session's request has the old one's id"
refused "C: a request of an older session" "is from session $A_SESSION" approve --request "$C1"
check_eq "$(sj "[s['pending_approval']['id'], s['tasks'][0]['status']]")" "[$C2, \"waiting_approval\"]" \
    "C: the newer session's request still waits"
orch approve --request "$C2" >/dev/null 2>&1 || fail "C: approve --request $C2"
expect_eq "$(bg_wait "$T/c3.out")" 0 "C: exit code"
check_eq "$(grep -c 'start c1' "$T/ledger")" 1 "C: runs of task 1"

# ------------------------------------------- D: several wait
# two_waiting NAME INSTR1 INSTR2: a two-task day run 2 wide (its output $T/NAME.out)
# until both tasks wait for approval
two_waiting() {
    TASKS=$T/$1.md
    task_md "$TASKS" 1 "One" backend "$2"
    task_md "$TASKS" 2 "Two" backend "$3"
    bg_run "$T/$1.out" orch run daily.lua --tasks "$TASKS" --no-input --max-concurrent 2
    wait_for sj_true "[t['status'] for t in s['tasks']] == ['waiting_approval', 'waiting_approval']"
}
request_of() { orch status --json | jq -r ".tasks[$(($1 - 1))].approval_request"; }  # request_of N: task N's

two_waiting d "One. [key:d1]" "Two. [key:d2]"
D1=$(request_of 1)
D2=$(request_of 2)
refused "D: approve naming no request while two wait" "#$D1 (task 1), #$D2 (task 2)" approve
orch approve --request "$D2" >/dev/null 2>&1 || fail "D: approve --request $D2"
wait_for grep -q -x "end d2" "$T/ledger"
check_eq "$(sj "s['tasks'][0]['status']")" waiting_approval "D: task 1 after its neighbour's approval"
orch skip --request "$D1" >/dev/null 2>&1 || fail "D: skip --request $D1"
expect_eq "$(bg_wait "$T/d.out")" 0 "D: exit code"
check_eq "$(sj "[t['status'] for t in s['tasks']]")" '["skipped", "completed"]' "D: statuses"
# one approval waiting, and a newer question of the other task: a bare
# approve is for the approval (it was refused as "task 2 asks a question")
two_waiting d2 "One. [key:q1]" "Ask. [key:q2] [fake:question]"
Q2=$(request_of 2)
orch approve --request "$Q2" >/dev/null 2>&1 || fail "D: approve --request $Q2"
wait_for sj_true "[t['status'] for t in s['tasks']] == ['waiting_approval', 'waiting_answer']"
orch approve >"$T/d2-approve.out" 2>&1 || fail "D: a bare approve beside a question: $(cat "$T/d2-approve.out")"
wait_for grep -q -x "end q1" "$T/ledger"
check_eq "$(sj "s['tasks'][1]['status']")" waiting_answer "D: the asking task after the bare approve"
orch answer --task 2 "go on" >/dev/null 2>&1 || fail "D: answer task 2"
expect_eq "$(bg_wait "$T/d2.out")" 0 "D: exit code of the day with a question"
check_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "completed"]' "D: statuses after the question"
# ------------------------------------------- E: webhook and REST
export WEBHOOK_SECRET=s3cret ORCHESTRATOR_AUTH_TOKEN=t0ken
TASKS=$T/e.md
task_md "$TASKS" 1 "One" backend "One. [key:e1]"
task_md "$TASKS" 2 "Two" backend "Two. [key:e2]"
serve_start
expect_req 200 POST /webhook/command '{"secret":"s3cret","command":"start","params":{"task_file":"'"$TASKS"'"}}'
wait_for waiting_for 1
expect_req 200 POST /webhook/status '{"secret":"s3cret"}'
E1=$(rj "r['waiting']['request_id']")
expect_req 200 POST /webhook/approve '{"secret":"s3cret","request_id":'"$E1"',"by":"ops"}'
check_eq "$(rj "[r['request_id'], r['task']]")" "[$E1, \"1\"]" "E: the webhook's approve"
expect_req 409 POST /webhook/approve '{"secret":"s3cret","request_id":'"$E1"'}'
check_eq "$(rj "r['reason']")" decided "E: the webhook's second approve of the same request"
wait_for waiting_for 2
E2=$(request_id)
AUTH=(-H "Authorization: Bearer t0ken")
expect_req 409 POST /api/command '{"command":"skip","params":{"request_id":'"$E1"'}}' "${AUTH[@]}"
check_eq "$(rj "r['reason']")" decided "E: REST skip of task 1's decided request"
check_eq "$(sj "s['tasks'][1]['status']")" waiting_approval "E: task 2 after the refused REST skip"
expect_req 200 POST /api/command '{"command":"approve","params":{"request_id":'"$E2"'}}' "${AUTH[@]}"
wait_for sj_true "s['status'] == 'completed'"
check_eq "$(sj "[(a['request_id'], a['by'], a['channel']) for t in s['tasks'] for a in t['approvals']]")" \
    "[[$E1, \"ops\", \"webhook\"], [$E2, \"api:127.0.0.1\", \"rest\"]]" "E: who decided, through which channel"
expect_eq "$(serve_stop)" 0 "E: serve exit code"
finish
