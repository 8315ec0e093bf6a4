#!/usr/bin/env bash
# The optional local model against a loopback fake of the Ollama HTTP API
# (tests/fake/fake_ollama.js): a real Ollama cannot be installed on these
# machines, so this server answers the documented shapes, on a port chosen
# free at run time. Each path: the model used (via = "ollama") and each
# fallback with its reason (slow, garbage, wrong shape, 500, model not
# installed, unknown type, '..', echo, down), then what doctor and status say
# (reachable, version, models; not found; quick when it hangs). A hung server
# costs one timeout, then the plain path at once (the fake counts the requests).
source "$(dirname "$0")/lib.bash"
command -v node >/dev/null || fail "node is needed for the fake Ollama server"

# start_fake NAME [ARGS...]: the fake server in the background; sets PORT
start_fake() {
    local name=$1; shift
    rm -f "$T/$name.port"
    node "$ORCH_SRC/tests/fake/fake_ollama.js" --port-file "$T/$name.port" --log "$T/$name.log" "$@" \
        >"$T/$name.out" 2>&1 &
    FAKE_PID=$!
    wait_for test -s "$T/$name.port"
    PORT=$(cat "$T/$name.port")
}
stop_fake() { kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null; }

spec() { orch test "$ORCH_SRC/tests/cli/fixtures/ollama/paths.lua" >"$T/spec-$1.out" 2>&1 || {
    cat "$T/spec-$1.out" >&2; fail "the $1 paths failed"; }; }

# --- up: every path through the real orch.http
start_fake up
export OLLAMA_HOST="127.0.0.1:$PORT"   # the bare host:port form, as Ollama reads it
OLLAMA_CASE=up spec up
check "the fake saw /api/chat with a format" grep -q '"path":"/api/chat".*"format":{' "$T/up.log"
check "the fake saw /api/generate with stream false" grep -q '"path":"/api/generate".*"stream":false' "$T/up.log"

orch doctor >"$T/doctor-up.out" 2>&1 || { cat "$T/doctor-up.out" >&2; check_eq "doctor exit" 0 "doctor with Ollama up"; }
check "doctor: reachable" grep -qE "ok +Ollama +reachable at http://127.0.0.1:$PORT, version 0.5.7-fake" "$T/doctor-up.out"
check "doctor: models" grep -qE "ok +Ollama models +llama3.1:8b \(the configured llama3.1:8b is among them\)" "$T/doctor-up.out"
orch status >"$T/status-up.out" 2>&1 || fail "status failed: $(cat "$T/status-up.out")"
check "status: the claude CLI and its version" grep -qE "ok +claude CLI +$FAKE_CLAUDE \(.+\)" "$T/status-up.out"
check "status: Ollama" grep -qE "ok +Ollama +reachable at http://127.0.0.1:$PORT" "$T/status-up.out"
OLLAMA_MODEL=qwen2:7b OLLAMA_ENABLED=true orch doctor >"$T/doctor-nomodel.out" 2>&1
check_eq "$?" 1 "doctor exit with enabled = true and the model not installed"
check "doctor: the model missing" grep -q "the configured qwen2:7b is not among them: ollama pull qwen2:7b" "$T/doctor-nomodel.out"
stop_fake

# --- down: the port refuses (the server stopped)
OLLAMA_CASE=down spec down
orch doctor >"$T/doctor-down.out" 2>&1
check "doctor: not found" grep -qE "note +Ollama +not found: .*connection refused.*the plain parser and summary are used" \
    "$T/doctor-down.out"
orch status >"$T/status-down.out" 2>&1 || fail "status failed: $(cat "$T/status-down.out")"
check "status: not found" grep -q "the plain parser and summary are used" "$T/status-down.out"
OLLAMA_ENABLED=true orch doctor >/dev/null 2>&1
check_eq "$?" 1 "doctor exit with enabled = true and Ollama down"

# --- a server that accepts and never answers: one timeout, then the plain path at
# once for a minute (said once in the log); doctor gives up after its short look
start_fake hang --mode slow
OLLAMA_HOST="http://127.0.0.1:$PORT" OLLAMA_CASE=hang spec hang
check_eq "$(grep -c '"path":"/api/' "$T/hang.log")" 3 \
    "requests the hung fake saw: the two with a caller's budget, then one for five calls"
check_eq "$(grep -c "local model: Ollama at http://127.0.0.1:$PORT gave no answer.*not tried again for 60 s" \
    "$ORCH_LOGS_DIR/orchestrator.log")" 1 \
    "log lines saying the hang is remembered"
OLLAMA_HOST="http://127.0.0.1:$PORT" orch doctor >"$T/doctor-hang.out" 2>&1
check "doctor: no answer within the look's limit" grep -q "gave no answer within 3 s (the look's limit)" "$T/doctor-hang.out"
stop_fake
finish
