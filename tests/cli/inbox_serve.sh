#!/usr/bin/env bash
# `orch-host serve` runs the task inbox too when inbox.enabled is set: a file
# dropped into the folder runs and leaves its artifacts; the inbox is a
# session of the server (status shows it, the webhook's status command sees
# it running there); `orch-host watch` is refused beside it (beside a server
# without the inbox too, saying so); SIGTERM stops both
# (a task running then stays in the folder; the stop logs no error).
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"

export WEBHOOK_SECRET=inbox-secret-$RANDOM
export APPROVAL_MODE=auto
printf 'return { inbox = { enabled = true, max_concurrent = 2 } }\n' >"$T/config.lua"
inbox_task "$ORCH_TASKS_DIR/early.task.md" early high "There before the server [key:early]"
serve_start --config "$T/config.lua"
WAIT_TIMEOUT=120 wait_for done_with early
inbox_task "$ORCH_TASKS_DIR/later.task.md" later medium "Dropped while it serves [key:later]"
WAIT_TIMEOUT=120 wait_for done_with later

# /task "... in /project" from the phone (the webhook's task command): a file
# in the folder whose cwd: is the project as written, which the inbox runs in
# <CLAUDE_BASE_CWD>/project (CLAUDE_ALLOWED_ROOT unset: a full path would be refused)
mkdir -p "$CLAUDE_BASE_CWD/proj"
expect_req 202 POST /webhook/command "{\"secret\": \"$WEBHOOK_SECRET\", \"command\": \"task\",
  \"params\": {\"text\": \"Summarize the notes in /proj [key:phone]\"}}"
PHONE=$(rj "r['task']")
expect_eq "$(rj "r['cwd']")" "$CLAUDE_BASE_CWD/proj" "the reply's folder"
WAIT_TIMEOUT=120 wait_for done_with "$PHONE"
expect_eq "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["status"], r["files_touched"], r["parsed_by"])' \
    "$ORCH_RESULTS_DIR/${PHONE}_result.json")" "completed ['$CLAUDE_BASE_CWD/proj/fake-1.txt'] plain" \
    "the phone task's result (read by the plain parser: no local model here)"
check "the dropped file's result says parsed_by file" grep -q '"parsed_by": *"file"' "$ORCH_RESULTS_DIR/later_result.json"

expect_eq "$(sj "s.get('kind')")" inbox "the latest session's kind"
expect_eq "$(sj "s.get('max_concurrent')")" 2 "the inbox's agents at once (inbox.max_concurrent)"
[ "$(req POST /webhook/status "{\"secret\": \"$WEBHOOK_SECRET\"}")" = 200 ] || fail "webhook status: $(cat "$T/resp.json")"
expect_eq "$(rj "r.get('running_here')")" true "the inbox runs in the server"

RC=0
orch watch --no-input >"$T/watch.out" 2>&1 || RC=$?
expect_eq "$RC" 4 "exit code of watch beside the server"
grep -q "already watched" "$T/watch.out" || fail "watch's message beside the server: $(cat "$T/watch.out")"

# SIGTERM while an agent runs: the task stays in the folder, and the stop is
# no error in the log
inbox_task "$ORCH_TASKS_DIR/held.task.md" held medium "Running at the stop [key:held] [fake:await:never]"
wait_for grep -q "^start held$" "$T/ledger"
kill -TERM "$SERVE_PID"
expect_eq "$(bg_wait "$SERVE_OUT")" 0 "exit code of serve after SIGTERM"
expect_eq "$(session_status)" completed "the inbox session after the server stopped"
[ -f "$ORCH_TASKS_DIR/held.task.md" ] || fail "the task running at the stop left the folder"
! grep -h "] error " "$T"/logs/20*.log || fail "a clean stop logged an error: $(grep -h '] error ' "$T"/logs/20*.log)"
note "ok"

# a server without the inbox (inbox.enabled false) holds the run lock too: a
# watch beside it is refused for that, not as a folder already watched
printf 'return { inbox = { enabled = false } }\n' >"$T/no-inbox.lua"
serve_start --config "$T/no-inbox.lua"
RC=0
orch watch --no-input >"$T/watch2.out" 2>&1 || RC=$?
expect_eq "$RC" 4 "exit code of watch beside a server without the inbox"
! grep -q "already watched" "$T/watch2.out" || fail "watch beside a server without the inbox: $(cat "$T/watch2.out")"
grep -q "another run is active (pid $SERVE_PID, serve on .*the server does not run the inbox: set inbox.enabled" \
    <(tr '\n' ' ' <"$T/watch2.out") || fail "watch's message beside a server without the inbox: $(cat "$T/watch2.out")"
expect_eq "$(serve_stop)" 0 "exit code of the server without the inbox"
note "beside a server without the inbox ok"
