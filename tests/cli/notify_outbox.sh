#!/usr/bin/env bash
# Notifications through the durable outbox to an n8n webhook (N8N_NOTIFY_URL).
# A: the sink is up: each notification of the day arrives exactly once.
# B: the sink is down for a whole run: the run still finishes (notify never
#    blocks the workflow) and status works; once the sink is back, the next
#    run delivers every notification the earlier run queued, exactly once.
# C: the same after a longer outage (a 15 s run): the retry backoff of the
#    earlier run must not keep its notifications from the next run.
# Progress notifications (task_started) are coalesced per session
# (notify_coalesce.sh): each arrives at most once (a held one is dropped for
# a newer one of its session, or for any newer one about its task); every
# other type arrives exactly once.
source "$(dirname "$0")/lib.bash"

SINK=$ORCH_SRC/tests/cli/fixtures/notify_sink.py

# start_sink PORT OUT: a sink in the background; prints its port
start_sink() {
    rm -f "$T/ready.$2"
    python3 "$SINK" "$1" "$T/$2" "$T/ready.$2" >"$T/sink.$2.log" 2>&1 &
    BG_PIDS+=($!)
    SINK_PID=$!
    wait_for test -s "$T/ready.$2"
}

# counts FILE SESSION: "event[:task] count" lines for one session's deliveries;
# progress ones as one line "progress ok" when none came twice (a held one
# may be dropped for a newer one of its session or task: notify_coalesce.sh)
counts() {
    { python3 - "$1" "$2" <<'PY'
import collections, json, sys
c, progress = collections.Counter(), []
for line in open(sys.argv[1]):
    d = json.loads(line)
    b = d.get("body")
    assert isinstance(b, dict), d
    if b.get("session") != sys.argv[2]:
        continue
    key = b.get("event", "?") + (":" + str(b["task"]) if b.get("task") is not None else "")
    if b.get("type") == "progress":
        progress.append((b["ts"], key))
    else:
        c[key] += 1
for k in sorted(c):
    print(k, c[k])
keys = [k for _, k in progress]
if c or keys:  # nothing at all for the session: no lines
    print("progress %s" % ("DUPLICATES" if len(set(keys)) != len(keys) else "ok"))
PY
    } | sort
}
expected_day() {  # expected_day TASK_IDS...: a day where every task completes
    { echo "session_completed 1"; echo "session_started 1"
      for t in "$@"; do echo "task_completed:$t 1"; done
      echo "progress ok"; } | sort
}

three_tasks() {
    task_md "$1" 1 "First" backend "One. [key:${2}1]"
    task_md "$1" 2 "Second" backend "Two. [key:${2}2]"
    task_md "$1" 3 "Third" backend "Three. [key:${2}3]"
}

# ------------------------------------------------------------ A: sink up
start_sink 0 a.posts
PORT_A=$(cat "$T/ready.a.posts")
touch "$T/a.posts"
export N8N_NOTIFY_URL=http://127.0.0.1:$PORT_A/webhook/orch
three_tasks "$T/a.md" a
bg_run "$T/a.out" orch run daily.lua --tasks "$T/a.md" --auto-approve --no-input
rc=$(bg_wait "$T/a.out")
[ "$rc" = 0 ] || { cat "$T/a.out" >&2; fail "A: expected exit 0, got $rc"; }
SID_A=$(sj "s['id']")
counts "$T/a.posts" "$SID_A" >"$T/a.counts"
expected_day 1 2 3 >"$T/a.want"
diff -u "$T/a.want" "$T/a.counts" >&2 || fail "A: the notifications that arrived differ from one of each (above)"
python3 - "$T/a.posts" <<'PY' || fail "A: a notification is malformed"
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    assert d["path"] == "/webhook/orch", d
    b = d["body"]
    assert isinstance(b.get("message"), str) and b["message"], b
    assert b.get("type") in ("info", "success", "error", "question", "progress", "warning"), b
PY
kill "$SINK_PID"

# ------------------------------------------------------- B: sink down, then up
# hold a port without listening: every delivery is refused
rm -f "$T/ready.hold"
python3 "$SINK" --hold 0 "$T/ready.hold" >/dev/null 2>&1 &
HOLD_PID=$!
BG_PIDS+=($HOLD_PID)
wait_for test -s "$T/ready.hold"
PORT_B=$(cat "$T/ready.hold")
export N8N_NOTIFY_URL=http://127.0.0.1:$PORT_B/webhook/orch
three_tasks "$T/b.md" b
bg_run "$T/b.out" orch run daily.lua --tasks "$T/b.md" --auto-approve --no-input
rc=$(bg_wait "$T/b.out")
[ "$rc" = 0 ] || { cat "$T/b.out" >&2; fail "B: with the sink down: expected exit 0, got $rc"; }
SID_B=$(sj "s['id']")
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "completed", "completed"]' "B: tasks with the sink down"
orch status >/dev/null 2>&1 || fail "B: orch status failed after a run with the sink down"
grep -q "not delivered yet" "$T"/logs/*.log || fail "B: the daily log does not say notifications are still queued"

# the sink comes back on the same port; any later run flushes the outbox
kill "$HOLD_PID"
wait "$HOLD_PID" 2>/dev/null
start_sink "$PORT_B" b.posts
touch "$T/b.posts"
task_md "$T/c.md" 1 "Trivial" documentation "Tiny. [key:c1]"
bg_run "$T/c.out" orch run daily.lua --tasks "$T/c.md" --auto-approve --no-input
rc=$(bg_wait "$T/c.out")
[ "$rc" = 0 ] || { cat "$T/c.out" >&2; fail "B: the later run: expected exit 0, got $rc"; }
SID_C=$(sj "s['id']")
[ "$SID_C" != "$SID_B" ] || fail "B: the later run did not start a new session"
counts "$T/b.posts" "$SID_B" >"$T/b.counts"
expected_day 1 2 3 >"$T/b.want"
diff -u "$T/b.want" "$T/b.counts" >&2 ||
    fail "B: the queued notifications of the earlier run did not arrive exactly once with the next run (diff above)"
counts "$T/b.posts" "$SID_C" >"$T/c.counts"
expected_day 1 >"$T/c.want"
diff -u "$T/c.want" "$T/c.counts" >&2 || fail "B: the later run's own notifications (diff above)"
# nothing of session A was sent again
expect_eq "$(counts "$T/b.posts" "$SID_A" | wc -l)" 0 "B: notifications of session A delivered again"
kill "$SINK_PID"

# ----------------------------------------- C: a long outage, then a later run
rm -f "$T/ready.hold"
python3 "$SINK" --hold 0 "$T/ready.hold" >/dev/null 2>&1 &
HOLD_PID=$!
BG_PIDS+=($HOLD_PID)
wait_for test -s "$T/ready.hold"
PORT_C=$(cat "$T/ready.hold")
export N8N_NOTIFY_URL=http://127.0.0.1:$PORT_C/webhook/orch
# while this agent works for 15 s, the session_started and task_started
# notifications are retried with backoff (1, 2, 4, 8 s, ...)
task_md "$T/d.md" 1 "Long work" backend "Work a while. [fake:slow:15] [key:d1]"
bg_run "$T/d.out" orch run daily.lua --tasks "$T/d.md" --auto-approve --no-input
rc=$(WAIT_TIMEOUT=120 bg_wait "$T/d.out")
[ "$rc" = 0 ] || { cat "$T/d.out" >&2; fail "C: with the sink down: expected exit 0, got $rc"; }
SID_D=$(sj "s['id']")
kill "$HOLD_PID"
wait "$HOLD_PID" 2>/dev/null
start_sink "$PORT_C" d.posts
touch "$T/d.posts"
task_md "$T/e.md" 1 "Trivial" documentation "Tiny. [key:e1]"
bg_run "$T/e.out" orch run daily.lua --tasks "$T/e.md" --auto-approve --no-input
rc=$(bg_wait "$T/e.out")
[ "$rc" = 0 ] || { cat "$T/e.out" >&2; fail "C: the later run: expected exit 0, got $rc"; }
counts "$T/d.posts" "$SID_D" >"$T/d.counts"
expected_day 1 >"$T/d.want"
diff -u "$T/d.want" "$T/d.counts" >&2 ||
    fail "C: after a long outage, the next run did not deliver the earlier run's notifications (diff above)"
note PASS
