#!/usr/bin/env bash
# orch-host serve under bad conditions: a handler that raises answers 500 with
# a request id (the traceback only in the log); one that takes too long
# answers 503 and the server keeps serving; replies of every shape; path
# parameters that try to leave their segment; orch.route after the load is
# refused; 1000 connections at once are all answered with a bounded number of
# threads; bad server workflows and a busy port are refused with a clear
# message and exit 2; a second server or run is refused by the lock (exit 4).
source "$(dirname "$0")/lib.bash"

FIX=$ORCH_SRC/tests/cli/fixtures
cat >"$T/config.lua" <<CFG
return { server = { workflow = "$FIX/serve_routes.lua", handler_timeout = 2, threads = 4, queue = 8 } }
CFG
serve_start --config "$T/config.lua"

expect_req 200 GET /fast
expect_eq "$(rj "r")" '{"ok": true}' "/fast"

# --- bound to loopback only by default
case $URL in http://127.0.0.1:*) ;; *) fail "default bind address: $URL" ;; esac
python3 - "${URL##*:}" <<'PY' || fail "the listening socket is not on 127.0.0.1 only"
import sys
port = "%04X" % int(sys.argv[1])
rows = [l.split() for l in open("/proc/net/tcp").readlines()[1:]] + \
       [l.split() for l in open("/proc/net/tcp6").readlines()[1:]]
listening = [r[1] for r in rows if r[1].endswith(":" + port) and r[3] == "0A"]
assert listening == ["0100007F:" + port], listening
PY

# --- a Lua error: 500, request id, traceback in the log only
expect_req 500 GET /boom
RID=$(rj "r['request_id']")
[ -n "$RID" ] || fail "500 without a request id"
if grep -q kaboom "$T/resp.json"; then fail "the error message leaked to the caller"; fi
wait_for grep -q "\[$RID\]) aborted: .*kaboom in the handler" "$T/logs/$(date +%F).log"
grep -A3 "\[$RID\]) aborted" "$T/logs/$(date +%F).log" | grep -q "stack traceback" || fail "no traceback in the log"
expect_req 500 GET /bad-reply
expect_eq "$(rj "'request_id' in r")" true "bad reply answered 500"

# --- too slow: 503 after handler_timeout, and the server goes on serving
expect_req 503 GET /slow
expect_eq "$(rj "'did not answer in time' in r['error']")" true "503 body"
expect_req 200 GET /fast

# --- reply shapes
expect_req 200 GET /text
expect_eq "$(cat "$T/resp.json")" "plain words" "text reply"
expect_req 201 GET /created
expect_req 204 GET /nothing
expect_req 500 GET /nil-err
got=$(curl -s -D "$T/headers" -o "$T/resp.json" -w '%{http_code}' "$URL/custom")
expect_eq "$got" 202 "orch.reply status"
grep -qi '^content-type: text/html' "$T/headers" || fail "orch.reply content type: $(cat "$T/headers")"
grep -qi '^x-extra: 1' "$T/headers" || fail "orch.reply header"
expect_req 200 POST '/echo?a=1&b=two%20words' '{"x":[1,2,{"y":null}]}' -A probe/1
expect_eq "$(rj "[r['json'], r['args'], r['agent']]")" '[{"x": [1, 2, {}]}, {"a": "1", "b": "two words"}, "probe/1"]' \
    "request fields"

# --- path parameters stay one plain segment
expect_req 200 GET /files/report-1.md
expect_eq "$(rj "r['name']")" report-1.md "a plain parameter"
for bad in '..' '.hidden' '..%2F..%2Fetc%2Fpasswd' 'a%2Fb' 'x..y'; do
    expect_req 404 GET "/files/$bad" "" --path-as-is
done

# --- the registration window closed with the load
wait_for test -n "$(orch doctor >/dev/null 2>&1; sqlite3 "$ORCH_STATE_DB" "select value from kv where key='late_route'" 2>/dev/null)"
late=$(sqlite3 "$ORCH_STATE_DB" "select value from kv where key='late_route'")
python3 -c 'import json,sys; v=json.loads(sys.argv[1]); assert v["ok"] is False and "while the server workflow loads" in v["err"], v' "$late" \
    || fail "orch.route after the load: $late"

# --- 1000 connections at once: all answered, threads bounded
PORT=${URL##*:}
python3 "$FIX/many_connections.py" 127.0.0.1 "$PORT" 1000 /fast "$SERVE_PID" >"$T/burst.json" || fail "burst client failed"
note "burst: $(cat "$T/burst.json")"
expect_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["statuses"])' "$T/burst.json")" \
    "{'200': 1000}" "statuses of 1000 concurrent requests"
threads=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_threads"])' "$T/burst.json")
[ "$threads" -le 16 ] || fail "peak threads $threads with a pool of 4"
expect_req 200 GET /fast

# --- a request head over 16 KB: one 431, and the connection closed
big=$(python3 - "${URL##*:}" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 20000 + b"\r\n\r\n")
got = b""
while True:
    piece = s.recv(65536)
    if not piece:
        break
    got += piece
print(got.count(b"HTTP/1.1 "), got.split(b"\r\n")[0].decode())
PY
)
expect_eq "$big" "1 HTTP/1.1 431 Request Header Fields Too Large" "a 20 KB head: the answers"
expect_req 200 GET /fast

# --- the lock: a second server, or a run, is refused while this one serves
orch serve --port 0 >"$T/second.out" 2>&1; rc=$?
expect_eq "$rc" 4 "second serve exit code"
grep -q "serve on" "$T/second.out" || fail "second serve message: $(cat "$T/second.out")"
printf '' >"$T/empty.md"
orch run daily.lua --tasks "$T/empty.md" --no-input >"$T/run.out" 2>&1; rc=$?
expect_eq "$rc" 4 "run beside serve exit code"
grep -q "webhook/command" "$T/run.out" || fail "run beside serve should say how to start through the server: $(cat "$T/run.out")"

expect_eq "$(serve_stop)" 0 "exit code after SIGTERM"

# --- bad server workflows and a busy port: exit 2 with the reason
cat >"$T/dup.lua" <<CFG
return { server = { workflow = "$FIX/serve_dup_route.lua" } }
CFG
orch serve --port 0 --config "$T/dup.lua" >"$T/dup.out" 2>&1; rc=$?
expect_eq "$rc" 2 "duplicate route exit code"
grep -q "GET /twice is already registered" "$T/dup.out" || fail "duplicate route message: $(cat "$T/dup.out")"
printf 'orch.route("GET", "/x", function()\n' >"$T/syntax.lua"
cat >"$T/syn.lua" <<CFG
return { server = { workflow = "$T/syntax.lua" } }
CFG
orch serve --port 0 --config "$T/syn.lua" >"$T/syn.out" 2>&1; rc=$?
expect_eq "$rc" 2 "syntax error exit code"
grep -q "syntax.lua:[0-9]" "$T/syn.out" || fail "syntax error should name file:line: $(cat "$T/syn.out")"
python3 -c 'import socket,time,sys
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(1); print(s.getsockname()[1], flush=True); time.sleep(120)' >"$T/busy.port" &
wait_for test -s "$T/busy.port"
orch serve --port "$(cat "$T/busy.port")" >"$T/busy.out" 2>&1; rc=$?
expect_eq "$rc" 2 "busy port exit code"
grep -q "cannot listen on 127.0.0.1:$(cat "$T/busy.port")" "$T/busy.out" || fail "busy port message: $(cat "$T/busy.out")"
orch serve --port 70000 >"$T/badport.out" 2>&1; rc=$?
expect_eq "$rc" 2 "bad --port exit code"
note ok
