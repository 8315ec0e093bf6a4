#!/usr/bin/env bash
# Slow clients cannot starve orch-host serve: with 4 workers, 24 clients
# trickling a request head a byte at a time, 24 idle kept-alive connections
# and 8 clients that stop in the middle of a small body, /health is still
# answered every time; each trickler and each body staller gets 408 once
# server.header_timeout has passed (a body of up to 64 KB is waited for
# before a worker takes the request), and the server goes on.
source "$(dirname "$0")/lib.bash"

cat >"$T/config.lua" <<'CFG'
return { server = { threads = 4, queue = 8, header_timeout = 3 } }
CFG
serve_start --config "$T/config.lua"
python3 "$ORCH_SRC/tests/cli/fixtures/slow_clients.py" "${URL##*:}" 24 8 >"$T/slow.json" || fail "slow_clients.py failed"
note "$(cat "$T/slow.json")"
expect_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["health"])' "$T/slow.json")" \
    "['200', '200', '200', '200', '200', '200', '200', '200', '200', '200']" "/health while 48 slow clients hold connections"
expect_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["trickle"])' "$T/slow.json")" \
    "{'408': 24}" "what the tricklers got"
expect_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["idle_answered"])' "$T/slow.json")" 24 \
    "idle kept-alive clients answered first"
expect_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["body"])' "$T/slow.json")" \
    "{'408': 8}" "what the clients stopped in a body got"
expect_req 200 GET /health
expect_eq "$(serve_stop)" 0 "serve exit code after SIGTERM"
note PASS
