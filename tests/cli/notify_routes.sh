#!/usr/bin/env bash
# Notification routing and dead rows, against stand-in sinks on loopback (an
# n8n webhook, fixtures/notify_sink.py, and the Bot API, fixtures/fake_bot_api.py).
# A: the defaults: every notification to n8n and to the telegram.chat_id chat.
# B: "failures also to a second chat, progress only to n8n" is a change of
#    workflows/config.lua alone (a sink and two routes): the same workflow,
#    the same environment; each sink gets what the routes say.
# C: a sink that answers 500 for one row (as the shipped n8n flow does for a
#    message it cannot route) and 400 for another: the 400 row is dead at
#    once, the 500 row after notify.max_attempts answers; the rows behind
#    them arrive; `status` and `doctor` show both dead rows with the reason.
source "$(dirname "$0")/lib.bash"

SINK=$ORCH_SRC/tests/cli/fixtures/notify_sink.py
WF=$ORCH_SRC/tests/cli/fixtures/notify_routes.lua

# start_sink NAME [--refuse STATUS:MESSAGE]...: the webhook stand-in; posts to $T/NAME
start_sink() {
    local name=$1
    shift
    rm -f "$T/ready.$name"
    touch "$T/$name"
    python3 "$SINK" "$@" 0 "$T/$name" "$T/ready.$name" >"$T/sink.$name.log" 2>&1 &
    BG_PIDS+=($!)
    wait_for test -s "$T/ready.$name"
}
# messages FILE: the "message" of each webhook post, in order, one a line
messages() { python3 -c 'import json,sys; [print(json.loads(l)["body"].get("message")) for l in open(sys.argv[1])]' "$1"; }
# chat_texts CHAT: the texts the Bot API got for one chat, in order
chat_texts() {
    python3 - "$T/calls" "$1" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    c = json.loads(l)
    if str(c["body"]["chat_id"]) == sys.argv[2]:
        print(c["body"]["text"])
PY
}
lines() { printf '%s\n' "$@"; }

rm -f "$T/ready.api"
touch "$T/calls"
python3 "$ORCH_SRC/tests/cli/fixtures/fake_bot_api.py" 0 "$T/calls" "$T/ready.api" >"$T/api.log" 2>&1 &
BG_PIDS+=($!)
wait_for test -s "$T/ready.api"
export TELEGRAM_BOT_TOKEN="4242:AAroute-SECRET" TELEGRAM_CHAT_ID=1001 \
       TELEGRAM_API_BASE="http://127.0.0.1:$(cat "$T/ready.api")"

# ------------------------------------------------------------ A: the defaults
start_sink a.posts
export N8N_NOTIFY_URL=http://127.0.0.1:$(cat "$T/ready.a.posts")/webhook/orch
cat >"$T/plain.lua" <<'LUA'
return { notify = { flush_seconds = 60 } }
LUA
bg_run "$T/a.out" orch --config "$T/plain.lua" run "$WF"
rc=$(bg_wait "$T/a.out")
[ "$rc" = 0 ] || { cat "$T/a.out" >&2; fail "A: expected exit 0, got $rc"; }
expect_eq "$(messages "$T/a.posts")" "$(lines progress error success info)" "A: n8n"
expect_eq "$(chat_texts 1001)" "$(lines progress error success info)" "A: chat 1001"
expect_eq "$(chat_texts 2002)" "" "A: chat 2002"

# ------------------------------------------------- B: routes, config only
: >"$T/calls"
start_sink b.posts
export N8N_NOTIFY_URL=http://127.0.0.1:$(cat "$T/ready.b.posts")/webhook/orch
cat >"$T/routes.lua" <<'LUA'
return { notify = {
  flush_seconds = 60,
  sinks = { oncall = { kind = "telegram", chat_id = 2002 } },
  routes = {
    { types = { "progress" }, sinks = { "n8n" } },                  -- progress only to n8n
    { types = { "error" }, sinks = { "default", "oncall" } },       -- failures also to the on-call chat
  },
} }
LUA
bg_run "$T/b.out" orch --config "$T/routes.lua" run "$WF"
rc=$(bg_wait "$T/b.out")
[ "$rc" = 0 ] || { cat "$T/b.out" >&2; fail "B: expected exit 0, got $rc"; }
expect_eq "$(messages "$T/b.posts")" "$(lines progress error success info)" "B: n8n"
expect_eq "$(chat_texts 1001)" "$(lines error success info)" "B: chat 1001 (no progress)"
expect_eq "$(chat_texts 2002)" "error" "B: the on-call chat 2002 (failures only)"
grep -q "oncall" <(orch --config "$T/routes.lua" doctor 2>&1) || fail "B: doctor does not show the oncall sink"
! grep -rlF -- "AAroute-SECRET" "$T/logs" "$T/b.out" "$ORCH_STATE_DB" >&2 || fail "B: the bot token is in the files above"

# -------------------------------------------------- C: dead rows
unset TELEGRAM_BOT_TOKEN
start_sink c.posts --refuse 500:poison --refuse 400:bad
export N8N_NOTIFY_URL=http://127.0.0.1:$(cat "$T/ready.c.posts")/webhook/orch
cat >"$T/dead.lua" <<'LUA'
return { notify = { flush_seconds = 60, max_attempts = 3 } }
LUA
bg_run "$T/c.out" orch --config "$T/dead.lua" run "$WF" first:info poison:error middle:success bad:warning behind:info
rc=$(WAIT_TIMEOUT=120 bg_wait "$T/c.out")
[ "$rc" = 0 ] || { cat "$T/c.out" >&2; fail "C: expected exit 0, got $rc"; }
expect_eq "$(messages "$T/c.posts")" "$(lines first poison poison poison middle bad behind)" \
    "C: the 500 row tried max_attempts times, the 400 row once, the rows behind delivered"
python3 - "$ORCH_STATE_DB" <<'PY' || fail "C: the outbox rows are not as expected (above)"
import json, sys, sqlite3
db = sqlite3.connect(sys.argv[1])
bad = []
rows = {}
for p, d, dead, err, n in db.execute("SELECT payload, delivered_at, dead_at, last_error, refusals FROM outbox "
                                     "WHERE sink = 'n8n' ORDER BY id"):
    m = json.loads(json.loads(p)["request"]["body"]).get("message")
    if m in ("first", "poison", "middle", "bad", "behind"):
        rows[m] = (d, dead, err, n)
for m in ("first", "middle", "behind"):
    if rows[m][1] is not None or rows[m][2] is not None:
        bad.append("%s: %s" % (m, rows[m]))
if rows["poison"][1] is None or rows["poison"][2] != "failed: HTTP 500 (3 refusals; notify.max_attempts)" \
        or rows["poison"][3] != 3:
    bad.append("poison: %s" % (rows["poison"],))
if rows["bad"][1] is None or rows["bad"][2] != "failed: HTTP 400":
    bad.append("bad: %s" % (rows["bad"],))
for b in bad:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
orch status >"$T/status.out" 2>&1 || { cat "$T/status.out" >&2; fail "C: status failed"; }
grep -q "Notifications  2 dead" "$T/status.out" || { cat "$T/status.out" >&2; fail "C: status does not count the dead rows"; }
grep -q "to n8n  error .*failed: HTTP 500 (3 refusals" "$T/status.out" ||
    { cat "$T/status.out" >&2; fail "C: status does not show the 500 row and its reason"; }
orch doctor >"$T/doctor.out" 2>&1
grep -q "outbox dead .*2 notification(s) a sink refused for good" "$T/doctor.out" ||
    { cat "$T/doctor.out" >&2; fail "C: doctor does not show the dead rows"; }
grep -q "to n8n: failed: HTTP 400" "$T/doctor.out" || { cat "$T/doctor.out" >&2; fail "C: doctor does not show the 400 row"; }
grep -qs "to n8n failed for good (HTTP 500" "$T"/logs/*.log || fail "C: the daily log does not report the dead row"
note PASS
