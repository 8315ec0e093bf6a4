#!/usr/bin/env bash
# One control policy (workflows/lib/control.lua) for the command line and the
# webhook. A: two like sessions A and B run inside `serve`, taken through the
# same situations; at each, `orch-host approve|skip|answer|pause|resume` acts
# on A and POST /webhook/command on B, and both give the same decision and
# the same message (session ids aside), the exit code following the HTTP
# status (2xx 0, 409 1). `approve` while an agent's question waits is refused
# by both. The sessions run server.session_workflow, a file of the config's,
# and store it as their workflow.
# B: the same refusal from a shell beside `orch-host run`: the question stays
# open, `answer` finishes the day (no empty answer that ends the day with an
# error). The session stores the workflow file that ran.
# C: server.session_workflow must name a file.
source "$(dirname "$0")/lib.bash"

SECRET="webhook-secret-$RANDOM$RANDOM"
export WEBHOOK_SECRET=$SECRET
export ORCH_QUESTIONS_DIR=$T/questions
export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"
# a workflow of the user's own: daily.lua under another name, outside workflows/
cp "$ORCH_SRC/workflows/daily.lua" "$T/my_day.lua"
cat >"$T/config.lua" <<EOF
return { server = { session_workflow = "$T/my_day.lua" } }
EOF

# day FILE: the same day for every session, tasks 2-4 depending on task 1: a
# task whose agent asked holds no slot, and the next would start (and ask its
# approval) while 1 waits for its answer; here each situation comes alone.
day() {
    task_md "$1" 1 "Paginate" documentation "Add pagination. [fake:question] [key:$2-1]"
    task_md "$1" 2 "Create the table" backend "Write the migration. [key:$2-2]"
    task_md "$1" 3 "Server actions" backend "Write the actions. [key:$2-3]"
    task_md "$1" 4 "The page" backend "Write the page. [key:$2-4]"
    awk '/^## Task / { n = $3 + 0 } { print } /^\*\*Requires Approval:/ && n > 1 { print "**Depends On:** 1" }' \
        "$1" >"$1.tmp" && mv "$1.tmp" "$1"
}
day "$T/a.md" a
day "$T/b.md" b

# ssj SID EXPR: a python expression over s = `orch status SID --json`
ssj() {
    orch status "$1" --json >"$T/status-$1.json" || fail "orch status $1 --json failed"
    python3 - "$T/status-$1.json" "$2" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
v = eval("(" + sys.argv[2] + ")", {"s": s})
print("true" if v is True else "false" if v is False else json.dumps(v) if isinstance(v, list) else v)
EOF
}
# waits SID KIND TASK: session SID waits for KIND (approval | question) on TASK
waits() { [ "$(ssj "$1" "s.get('pending_approval', {}).get('kind') == '$2' and s['pending_approval'].get('task_id') == '$3'")" = true ]; }

# cli WHAT ARGS...: run orch-host ARGS; CLI_RC, CLI_MSG (stdout when 0, else stderr; the other must be empty)
cli() {
    local what=$1; shift
    CLI_RC=0
    orch "$@" >"$T/cli.out" 2>"$T/cli.err" || CLI_RC=$?
    if [ "$CLI_RC" = 0 ]; then
        CLI_MSG=$(cat "$T/cli.out")
        check "$what: CLI stderr is empty ($(cat "$T/cli.err"))" test ! -s "$T/cli.err"
    else
        CLI_MSG=$(cat "$T/cli.err")
        check "$what: CLI stdout is empty ($(cat "$T/cli.out"))" test ! -s "$T/cli.out"
    fi
}
# hook COMMAND PARAMS_JSON: POST /webhook/command; HOOK_HTTP, HOOK_MSG
hook() {
    HOOK_HTTP=$(req POST /webhook/command '{"secret":"'"$SECRET"'","command":"'"$1"'","params":'"$2"'}')
    HOOK_MSG=$(rj "r.get('message')")
}
# same WHAT WANT_HTTP WANT_RC: CLI (on A) and webhook (on B) agree, ids aside
# (a decision a message names is each session's own: its request number and
# who made it, through which channel, are the same words with other values)
same() {
    check_eq "$HOOK_HTTP" "$2" "$1: webhook HTTP status ($HOOK_MSG)"
    check_eq "$CLI_RC" "$3" "$1: CLI exit code ($CLI_MSG)"
    local c=${CLI_MSG//$A/SID} h=${HOOK_MSG//$B/SID} by='s/Request #[0-9]+/Request #N/; s/decided: ([a-z]+) by .* \(([a-z]+)\)\./decided: \1 by WHO./'
    check_eq "$(sed -E "$by" <<<"$c")" "$(sed -E "$by" <<<"$h")" "$1: the CLI's message is the webhook's"
}

# ------------------------------------------- A: CLI and webhook, side by side
serve_start --config "$T/config.lua"
hook start '{"task_file":"'"$T/a.md"'"}'
A=$(rj "r['session_id']")
hook start '{"task_file":"'"$T/b.md"'"}'
B=$(rj "r['session_id']")
[ -n "$A" ] && [ -n "$B" ] && [ "$A" != "$B" ] || fail "two sessions expected, got '$A' and '$B'"
check_eq "$(ssj "$A" "s.get('workflow')")" "$T/my_day.lua" "A: the workflow stored (server.session_workflow)"
wait_for waits "$A" question 1
wait_for waits "$B" question 1

# a question waits: approve is refused (409), the question stays open
cli "approve on a question" approve --session "$A" --by shell
hook approve '{"session":"'"$B"'"}'
same "approve on a question" 409 1
check "approve on a question: the message says to answer it ($CLI_MSG)" grep -q "asked a question: answer it" <<<"$CLI_MSG"
QUESTION_REFUSAL=$CLI_MSG
check "approve on a question: A still asks" waits "$A" question 1
check "approve on a question: B still asks" waits "$B" question 1
# answer
cli "answer" answer use pattern B --session "$A" --by shell
hook answer '{"session":"'"$B"'","text":"use pattern B"}'
same "answer" 200 0
check_eq "$CLI_MSG" "Answer sent to task 1" "answer: message"
wait_for waits "$A" approval 2
wait_for waits "$B" approval 2
check_eq "$(ssj "$A" "s['tasks'][0]['result']")" "Resumed with answer: use pattern B" "answer: A's task 1 result"
# an approval waits: answer is refused, approve runs the task
cli "answer on an approval" answer some text --session "$A"
hook answer '{"session":"'"$B"'","text":"some text"}'
same "answer on an approval" 409 1
cli "approve" approve --session "$A" --by shell
hook approve '{"session":"'"$B"'"}'
same "approve" 200 0
check_eq "$CLI_MSG" "Executing task 2: Create the table" "approve: message"
wait_for waits "$A" approval 3
wait_for waits "$B" approval 3
# status: the CLI's --json carries the webhook's status reply, field for field
# (running_here is the server's own; message holds a runtime that ticks)
req POST /webhook/command '{"secret":"'"$SECRET"'","command":"status","params":{"session":"'"$B"'"}}' >/dev/null
cp "$T/resp.json" "$T/hook-status.json"
orch status "$B" --json >"$T/cli-status.json" || fail "orch status $B --json failed"
python3 - "$T/hook-status.json" "$T/cli-status.json" <<'EOF_PY' || fail "status: the CLI's view and the webhook's disagree"
import json, sys
hook, cli = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = [k for k in hook if k not in ("running_here", "message") and cli.get(k) != hook[k]]
for k in bad:
    print("  %s: webhook %r, cli %r" % (k, hook[k], cli.get(k)), file=sys.stderr)
if hook.get("waiting", {}).get("task") != "3" or hook.get("task") != 3:
    bad.append("webhook: not waiting on task 3: %r" % hook)
    print("  " + bad[-1], file=sys.stderr)
sys.exit(1 if bad else 0)
EOF_PY
note "status: the CLI's --json and the webhook's status agree"
# skip
cli "skip" skip --session "$A" --by shell
hook skip '{"session":"'"$B"'"}'
same "skip" 200 0
wait_for waits "$A" approval 4
wait_for waits "$B" approval 4
check_eq "$(ssj "$A" "s['tasks'][2]['status']")" skipped "skip: A's task 3"
# pause: the sessions end paused
cli "pause" pause --session "$A" --by shell
hook pause '{"session":"'"$B"'"}'
same "pause" 200 0
wait_for test "$(ssj "$A" "s['status']")" = paused
wait_for test "$(ssj "$B" "s['status']")" = paused
# nothing waits in a paused session
cli "approve while paused" approve --session "$A"
hook approve '{"session":"'"$B"'"}'
same "approve while paused" 409 1
cli "pause while paused" pause --session "$A"
hook pause '{"session":"'"$B"'"}'
same "pause while paused" 200 0
# resume: the server runs both again (the CLI's resume is handed to it)
cli "resume" resume "$A"
check_eq "$CLI_RC" 0 "resume: CLI exit code ($CLI_MSG)"
check "resume: the CLI hands it to the server ($CLI_MSG)" grep -q "Sent resume" <<<"$CLI_MSG"
hook resume '{"session":"'"$B"'"}'
check_eq "$HOOK_HTTP" 200 "resume: webhook HTTP status ($HOOK_MSG)"
wait_for waits "$A" approval 4
wait_for waits "$B" approval 4
cli "approve after resume" approve --session "$A"
hook approve '{"session":"'"$B"'"}'
same "approve after resume" 200 0
wait_for test "$(ssj "$A" "s['status']")" = completed
wait_for test "$(ssj "$B" "s['status']")" = completed
# a completed session: nothing to resume, nothing to skip
cli "resume of a completed session" resume "$A"
hook resume '{"session":"'"$B"'"}'
same "resume of a completed session" 200 0
cli "skip in a completed session" skip --session "$A"
hook skip '{"session":"'"$B"'"}'
same "skip in a completed session" 409 1
# no such session
cli "no such session" approve --session no-such-session
hook approve '{"session":"no-such-session"}'
same "no such session" 404 1
check_eq "$(ssj "$A" "[t['status'] for t in s['tasks']]")" '["completed", "completed", "skipped", "completed"]' \
    "A: statuses at the end"
check_eq "$(ssj "$B" "[t['status'] for t in s['tasks']]")" '["completed", "completed", "skipped", "completed"]' \
    "B: statuses at the end"
expect_eq "$(serve_stop)" 0 "serve's exit code"

# ------------------------------------- B: beside `orch-host run`, no server
TASKS=$T/c.md
task_md "$TASKS" 1 "Paginate" documentation "Add pagination. [fake:question] [key:c1]"
bg_run "$T/run.out" orch run "$T/my_day.lua" --tasks "$TASKS" --no-input
wait_for sj_true "s.get('task_file') == '$TASKS' and s.get('pending_approval', {}).get('kind') == 'question'"
C=$(sj "s['id']")
check_eq "$(sj "s.get('workflow')")" "$T/my_day.lua" "B: the workflow stored (run FILE)"
cli "beside run: approve on a question" approve --by shell
check_eq "$CLI_RC" 1 "beside run: approve on a question: exit code ($CLI_MSG)"
check_eq "$CLI_MSG" "$QUESTION_REFUSAL" "beside run: approve on a question: the webhook's message"
check "beside run: the question is still open" waits "$C" question 1
cli "beside run: answer" answer use pattern A --by shell
check_eq "$CLI_RC" 0 "beside run: answer: exit code ($CLI_MSG)"
rc=$(bg_wait "$T/run.out")
check_eq "$rc" 0 "beside run: the day's exit code ($(cat "$T/run.out"))"
check "beside run: no empty prompt ($(cat "$T/run.out"))" bash -c "! grep -q 'prompt must be a non-empty string' '$T/run.out'"
check_eq "$(sj "s['tasks'][0]['result']")" "Resumed with answer: use pattern A" "beside run: task 1 result"
# once no host runs: a completed session has nothing to resume
cli "resume, no host" resume "$C"
check_eq "$CLI_RC" 0 "resume, no host: exit code"
check_eq "$CLI_MSG" "Session $C is already completed; nothing to resume." "resume, no host: message"

# ----------------------------------------- C: server.session_workflow is checked
printf 'return { server = { session_workflow = "  " } }\n' >"$T/bad.lua"
rc=0
orch --config "$T/bad.lua" status >"$T/bad.out" 2>&1 || rc=$?
check_eq "$rc" 2 "an empty server.session_workflow: exit code"
check "an empty server.session_workflow is named ($(cat "$T/bad.out"))" grep -q "'server.session_workflow'" "$T/bad.out"
finish
