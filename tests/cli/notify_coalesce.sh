#!/usr/bin/env bash
# Progress coalescing and exactly-once delivery through the outbox (n8n sink).
# A: a burst of 20 progress notifications, then a question and an error, with
#    the sink up: the question and the error arrive exactly once and in that
#    order; fewer than 20 progress ones arrive, none twice, the newest among
#    them; every outbox row is settled (sent or coalesced), none lost.
# B: the sink is down for the first part of a run and comes back mid-run:
#    every non-progress notification arrives exactly once and in order,
#    progress ones at most once each with the newest among them.
source "$(dirname "$0")/lib.bash"

SINK=$ORCH_SRC/tests/cli/fixtures/notify_sink.py
WF=$ORCH_SRC/tests/cli/fixtures/notify_burst.lua
# a finishing run waits for its deliveries (the default 3 s is short on a loaded machine)
cat >"$T/config.lua" <<'LUA'
return { notify = { flush_seconds = 60, progress_interval = 5 } }
LUA

# start_sink PORT NAME: the stand-in webhook in the background, posts to $T/NAME
start_sink() {
    rm -f "$T/ready.$2"
    touch "$T/$2"
    python3 "$SINK" "$1" "$T/$2" "$T/ready.$2" >"$T/sink.$2.log" 2>&1 &
    BG_PIDS+=($!)
    SINK_PID=$!
    wait_for test -s "$T/ready.$2"
}

# check_posts POSTS SESSION LAST_PROGRESS [MAX_PROGRESS]: prints problems, one a
# line; nothing when every non-progress notification (by seq) arrived exactly
# once and in order, no progress one twice, the one numbered LAST_PROGRESS
# arrived, and at most MAX_PROGRESS progress ones in all
check_posts() {
    python3 - "$@" <<'PY'
import collections, json, sys
posts, session, last = sys.argv[1], sys.argv[2], int(sys.argv[3])
most = int(sys.argv[4]) if len(sys.argv) > 4 else None
others, progress = [], []
for line in open(posts):
    b = json.loads(line)["body"]
    if b.get("session") != session:
        continue
    (progress if b["type"] == "progress" else others).append(b["seq"])
seqs = sorted(others)
dups = [s for s, n in collections.Counter(others + progress).items() if n > 1]
if dups: print("arrived more than once: seq", dups)
if others != seqs: print("non-progress out of order:", others)
if last not in progress: print("the newest progress (seq %d) is missing; got %s" % (last, progress))
if most is not None and len(progress) > most: print("%d progress notifications, expected at most %d" % (len(progress), most))
print("non-progress:", " ".join(map(str, seqs)), file=sys.stderr)
print("progress:", " ".join(map(str, progress)), file=sys.stderr)
PY
}
# non_progress POSTS SESSION: the seq numbers of the non-progress notifications, sorted
non_progress() {
    python3 - "$1" "$2" <<'PY'
import json, sys
print(" ".join(str(s) for s in sorted(json.loads(l)["body"]["seq"] for l in open(sys.argv[1])
      if json.loads(l)["body"].get("session") == sys.argv[2] and json.loads(l)["body"]["type"] != "progress")))
PY
}
# outbox_rows SESSION: "settled/all sent coalesced failed" for the session's rows
outbox_rows() {
    python3 - "$ORCH_STATE_DB" "$1" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = [(d, e) for p, d, e in db.execute("SELECT payload, delivered_at, last_error FROM outbox")
        if json.loads(p).get("session") == sys.argv[2]]
settled = sum(1 for d, _ in rows if d is not None)
sent = sum(1 for d, e in rows if d is not None and e is None)
coalesced = sum(1 for d, e in rows if d is not None and e and e.startswith("coalesced"))
failed = sum(1 for d, e in rows if d is not None and e and e.startswith("failed"))
print("%d/%d %d %d %d" % (settled, len(rows), sent, coalesced, failed))
PY
}

# --------------------------------------------------------- A: a burst, sink up
start_sink 0 a.posts
export N8N_NOTIFY_URL=http://127.0.0.1:$(cat "$T/ready.a.posts")/webhook/orch
bg_run "$T/a.out" orch --config "$T/config.lua" run "$WF" burst "$T"
rc=$(bg_wait "$T/a.out")
[ "$rc" = 0 ] || { cat "$T/a.out" >&2; fail "A: expected exit 0, got $rc"; }
problems=$(check_posts "$T/a.posts" coalesce-burst 20 19 2>"$T/a.summary")
cat "$T/a.summary"
[ -z "$problems" ] || fail "A: $problems"
expect_eq "$(non_progress "$T/a.posts" coalesce-burst)" "21 22" "A: the question and the error"
read -r settled sent coalesced failed <<<"$(outbox_rows coalesce-burst)"
expect_eq "$settled" "22/22" "A: outbox rows settled"
expect_eq "$((sent + coalesced))" 22 "A: rows sent or coalesced ($sent sent, $coalesced coalesced)"
expect_eq "$failed" 0 "A: rows failed"
expect_eq "$(wc -l <"$T/a.posts")" "$sent" "A: posts received against rows marked sent"
kill "$SINK_PID"

# ------------------------------------------- B: sink down, back in mid-run
rm -f "$T/ready.hold"
python3 "$SINK" --hold 0 "$T/ready.hold" >/dev/null 2>&1 &   # bound, not listening: refused
HOLD_PID=$!
BG_PIDS+=($HOLD_PID)
wait_for test -s "$T/ready.hold"
PORT_B=$(cat "$T/ready.hold")
export N8N_NOTIFY_URL=http://127.0.0.1:$PORT_B/webhook/orch
mkdir -p "$T/b"
bg_run "$T/b.out" orch --config "$T/config.lua" run "$WF" outage "$T/b"
wait_for test -e "$T/b/phase1"
# deliveries were tried and refused while the sink was down
log_has() { grep -qs -- "$1" "$T"/logs/*.log; }  # the glob is expanded at each try
wait_for log_has "notification to n8n failed"
kill "$HOLD_PID"
wait "$HOLD_PID" 2>/dev/null
start_sink "$PORT_B" b.posts
touch "$T/b/go"
rc=$(bg_wait "$T/b.out")
[ "$rc" = 0 ] || { cat "$T/b.out" >&2; fail "B: expected exit 0, got $rc"; }
problems=$(check_posts "$T/b.posts" coalesce-outage 16 2>"$T/b.summary")
cat "$T/b.summary"
[ -z "$problems" ] || fail "B: $problems"
# phase 1: 1 info, 5 question, 6 warning, 9 error, 10 success; phase 2: 14 info,
# 15 question, 17 error, 18 success (the rest are progress)
expect_eq "$(non_progress "$T/b.posts" coalesce-outage)" "1 5 6 9 10 14 15 17 18" "B: non-progress notifications"
read -r settled sent coalesced failed <<<"$(outbox_rows coalesce-outage)"
expect_eq "$settled" "18/18" "B: outbox rows settled"
expect_eq "$failed" 0 "B: rows failed"
expect_eq "$(wc -l <"$T/b.posts")" "$sent" "B: posts received against rows marked sent"
note PASS
