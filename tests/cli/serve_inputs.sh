#!/usr/bin/env bash
# orch-host serve, a `start` whose task_file is not a regular file: a FIFO
# (nobody ever writes to it) or /dev/zero. Each answers 400 at once, naming
# the path and what it is, and the event loop never waits on it: /health
# answers 200 while the start is in flight and after it; no session is stored.
source "$(dirname "$0")/lib.bash"

SECRET="webhook-secret-$RANDOM$RANDOM"
export WEBHOOK_SECRET=$SECRET
mkfifo "$T/tasks.fifo"

serve_start
expect_req 200 GET /health

# start_body FILE: the authenticated start of FILE
start_body() { printf '{"secret":"%s","command":"start","params":{"task_file":"%s"}}' "$SECRET" "$1"; }

# --- a FIFO: the start is sent in the background, /health asked meanwhile
( curl -s -o "$T/fifo.json" -w '%{http_code}' --max-time 60 -H 'Content-Type: application/json' \
    --data-binary "$(start_body "$T/tasks.fifo")" "$URL/webhook/command" >"$T/fifo.code" ) &
expect_req 200 GET /health
wait_for test -s "$T/fifo.code"
expect_eq "$(cat "$T/fifo.code")" 400 "start of a FIFO: HTTP status"
cp "$T/fifo.json" "$T/resp.json"
expect_eq "$(rj "'$T/tasks.fifo: not a regular file: a FIFO' in r['message']")" true \
    "start of a FIFO names the path and what it is: $(cat "$T/resp.json")"
expect_req 200 GET /health

# --- /dev/zero: refused before a byte is read
expect_req 400 POST /webhook/command "$(start_body /dev/zero)"
expect_eq "$(rj "'/dev/zero: not a regular file: a character device' in r['message']")" true \
    "start of /dev/zero: $(cat "$T/resp.json")"
expect_req 200 GET /health

expect_eq "$(orch sessions --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 0 \
    "sessions after the refused starts"
expect_eq "$(serve_stop)" 0 "serve exit code"
note PASS
