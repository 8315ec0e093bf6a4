#!/usr/bin/env bash
# /task through the webhook while the local model is slower than the
# request's deadline (server.handler_timeout below ollama.timeout, the fake
# Ollama never answering in time): the model gets what is left of the
# request's time, the plain parser reads the request, and the caller gets its
# 202 with the task's id. It used to be a 503 while the task was queued
# anyway, so a caller's retry ran it twice.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"
command -v node >/dev/null || fail "node is needed for the fake Ollama server"

node "$ORCH_SRC/tests/fake/fake_ollama.js" --port-file "$T/ollama.port" --log "$T/ollama.log" --mode slow \
    >"$T/ollama.out" 2>&1 &
FAKE_PID=$!
wait_for test -s "$T/ollama.port"
export OLLAMA_HOST="127.0.0.1:$(cat "$T/ollama.port")" OLLAMA_ENABLED=true
export WEBHOOK_SECRET=slow-secret-$RANDOM APPROVAL_MODE=auto
printf 'return { inbox = { enabled = true }, server = { handler_timeout = 4 }, ollama = { timeout = 30 } }\n' \
    >"$T/config.lua"
serve_start --config "$T/config.lua"

expect_req 202 POST /webhook/command "{\"secret\": \"$WEBHOOK_SECRET\", \"command\": \"task\",
  \"params\": {\"text\": \"Summarize the notes [key:slow]\"}}"
ID=$(rj "r['task']")
expect_eq "$(rj "r['via']")" plain "the reader of the request"
expect_eq "$(rj "'deadline' in (r.get('fallback') or '')")" true "the reply says why the model did not read it: $(rj r)"
check "the model was asked" grep -q '"path":"/api/chat"' "$T/ollama.log"
check "the log names the request's deadline" grep -q "inbox task $ID .*(read by plain, .*request's deadline" \
    "$T"/logs/20*.log
expect_eq "$(grep -l "key:slow" -r "$ORCH_TASKS_DIR" | wc -l)" 1 "task files holding the request"
expect_eq "$(serve_stop)" 0 "exit code of serve"
kill "$FAKE_PID"
finish
