#!/usr/bin/env bash
# One progress figure, with one meaning, everywhere: a day of six tasks that
# ends with 1 completed, 2 failed and 3 blocked reads "6/6 finished (100%): 1
# completed, 2 failed, 3 blocked" in `orch-host status` and `sessions`, "6/6
# finished" in the /status message (status --json's message, the webhook's),
# done 6 of total 6 in status --json, and every notification's progress
# {done, total} is the figure its own message shows (the terminal prints the
# same messages).
source "$(dirname "$0")/lib.bash"

SINK=$ORCH_SRC/tests/cli/fixtures/notify_sink.py
python3 "$SINK" 0 "$T/posts" "$T/ready" >"$T/sink.log" 2>&1 &
BG_PIDS+=($!)
wait_for test -s "$T/ready"
export N8N_NOTIFY_URL=http://127.0.0.1:$(cat "$T/ready")/webhook/orch

cat >"$T/day.json" <<'EOF'
{"max_concurrent": 1, "tasks": [
 {"id": "t1", "name": "one", "prompt": "ok"},
 {"id": "t2", "name": "two", "prompt": "[fake:fail]"},
 {"id": "t3", "name": "three", "prompt": "ok", "dependencies": ["t2"]},
 {"id": "t4", "name": "four", "prompt": "[fake:fail]"},
 {"id": "t5", "name": "five", "prompt": "ok", "dependencies": ["t4"]},
 {"id": "t6", "name": "six", "prompt": "ok", "dependencies": ["t5"]}
]}
EOF
ORCH_WORKSPACE_MODE=off orch run daily.lua --tasks "$T/day.json" --auto-approve --no-input >"$T/run.out" 2>&1
rc=$?
expect_eq "$rc" 1 "the exit code of a day with failed tasks ($(tail -5 "$T/run.out"))"
SID=$(sj "s['id']")
FIGURE="6/6 finished (100%): 1 completed, 2 failed, 3 blocked"

orch status >"$T/status.out" 2>&1 || fail "status: $(cat "$T/status.out")"
grep -qF "Progress  $FIGURE   cost" "$T/status.out" || fail "status: $(sed -n 4p "$T/status.out")"
orch sessions >"$T/sessions.out" 2>&1 || fail "sessions: $(cat "$T/sessions.out")"
grep "^$SID " "$T/sessions.out" | grep -qF "$FIGURE" || fail "sessions: $(cat "$T/sessions.out")"
expect_eq "$(sj "[s['done'], s['total'], s['completed'], s['failed'], s['blocked']]")" "[6, 6, 1, 2, 3]" \
    "status --json's counts"
expect_eq "$(sj "'Progress: 6/6 finished (100%)' in s['message']")" true "the /status message: $(sj "s['message']")"

# every message that shows the figure is delivered with those numbers as its
# progress, and the terminal printed the same messages
orch status >/dev/null  # (the run flushed its outbox as it finished)
python3 - "$T/posts" "$SID" "$T/run.out" <<'PY' || fail "the notifications' progress (above)"
import json, re, sys
run = open(sys.argv[3]).read()
shown, last = 0, None
for line in open(sys.argv[1]):
    b = json.loads(line)["body"]
    if b.get("session") != sys.argv[2]:
        continue
    p = b.get("progress")
    if p is None:  # (the session's start is no runner's note)
        continue
    assert p["total"] == 6, b
    last = p
    m = re.search(r"Progress: (\d+)/(\d+) finished \(\d+%\)(?:: (.*))?", b["message"])
    if not m:
        continue
    shown += 1
    done, total = int(m.group(1)), int(m.group(2))
    assert [done, total] == [p["done"], p["total"]], (p, b["message"])
    ended = sum(int(n) for n in re.findall(r"(\d+) [a-z ]+", m.group(3) or ""))
    assert ended == done, ("the ways the finished tasks ended do not add up to the figure", b["message"])
    assert m.group(0) in run, ("the terminal did not print", m.group(0))
assert shown >= 3, ("messages with the figure", shown)
assert last == {"done": 6, "total": 6}, ("the last notification's progress", last)
PY
note "ok"
