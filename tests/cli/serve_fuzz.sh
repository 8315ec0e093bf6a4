#!/usr/bin/env bash
# orch-host serve under a loopback fuzz (tests/cli/fixtures/fuzz_serve.py):
# deep nesting, invalid UTF-8, control bytes, truncated and chunked bodies,
# odd methods, paths and headers, and seeded random mutations of valid
# requests, 4 at a time. The server must live through all of it, answer every
# request 4xx with a reason that quotes nothing of the body (2xx where a
# mutation left the request valid), answer /health at the end, and keep its
# memory bounded. A session parked at an approval must still be there.
source "$(dirname "$0")/lib.bash"

export WEBHOOK_SECRET=s ORCHESTRATOR_AUTH_TOKEN=t
cat >"$T/tasks.md" <<'MD'
# Tasks - 2026-12-01

## Task 1: Wait for approval
**Requires Approval:** true
**Description:** parked while the fuzz runs

**Claude Instruction:**
Say hello.
MD
serve_start
expect_req 200 POST /webhook/command "{\"command\":\"start\",\"secret\":\"s\",\"params\":{\"task_file\":\"$T/tasks.md\"}}"
wait_for bash -c "[ \"\$(curl -s -d '{\"secret\":\"s\"}' $URL/webhook/status | python3 -c 'import json,sys; print(json.load(sys.stdin).get(\"status\"))')\" = waiting_approval ]"

SEED=${FUZZ_SEED:-$(date +%s)}
note "seed $SEED (FUZZ_SEED=$SEED replays it)"
python3 "$ORCH_SRC/tests/cli/fixtures/fuzz_serve.py" "${URL##*:}" "$SERVE_PID" "$SEED" "${FUZZ_COUNT:-3000}" \
    >"$T/fuzz.json" || { cat "$T/fuzz.json"; fail "fuzz found answers that break the rules (seed $SEED)"; }
note "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["sent"], "requests:", r["statuses"], "RSS", r["rss_kb_start"], "->", r["rss_kb_end"], "KB")' "$T/fuzz.json")"

kill -0 "$SERVE_PID" 2>/dev/null || fail "the server died under the fuzz: $(tail -5 "$SERVE_OUT")"
expect_req 200 GET /health
grow=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["rss_kb_end"] - r["rss_kb_start"])' "$T/fuzz.json")
sanitized_build || [ "$grow" -lt 40960 ] || fail "RSS grew by $grow KB under the fuzz"
if grep -q PANIC "$SERVE_OUT"; then fail "PANIC in the server output"; fi

# the parked session outlived it, and still takes its approval
expect_req 200 POST /webhook/status '{"secret":"s"}'
expect_eq "$(rj "r['status']")" waiting_approval "session status after the fuzz"
expect_req 200 POST /webhook/approve '{"secret":"s"}'
wait_for bash -c "[ \"\$(curl -s -d '{\"secret\":\"s\"}' $URL/webhook/status | python3 -c 'import json,sys; print(json.load(sys.stdin).get(\"status\"))')\" = completed ]"
expect_eq "$(serve_stop)" 0 "serve exit code after SIGTERM"
note PASS
