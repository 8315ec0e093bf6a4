#!/usr/bin/env bash
# A plain day: three tasks with --auto-approve run to the end. Checks the exit
# code, the stored state (status --json), the per-task output logs, the event
# stream's order, the daily log, the report, and the flags claude was given.
source "$(dirname "$0")/lib.bash"

TASKS=$T/tasks.md
task_md "$TASKS" 1 "Add the model" backend "Create the model. [key:t1]"
# a database task: a checkpoint after it, except with --auto-approve
task_md "$TASKS" 2 "Add the table" database "Create the migration file. [key:t2]" true
task_md "$TASKS" 3 "Add the page" frontend "Create the page. [key:t3]"

export FAKE_CLAUDE_ARGS_LOG=$T/args.log
export FAKE_CLAUDE_LEDGER=$T/ledger
day_before=$(date +%F)
bg_run "$T/run.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input
rc=$(bg_wait "$T/run.out")
day_after=$(date +%F)
[ "$rc" = 0 ] || { cat "$T/run.out" >&2; fail "run exit code: expected 0, got $rc"; }

# --- state
expect_eq "$(session_status)" completed "session status"
expect_eq "$(sj "len(s['tasks'])")" 3 "number of tasks"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "completed", "completed"]' "task statuses"
expect_eq "$(sj "[t['id'] for t in s['tasks']]")" '["1", "2", "3"]' "task ids"
expect_eq "$(sj "all(isinstance(t.get('cost_usd'), (int, float)) and t['cost_usd'] > 0 for t in s['tasks'])")" true \
    "cost_usd > 0 for every task"
expect_eq "$(sj "all(isinstance(t.get('tokens'), int) and t['tokens'] > 0 for t in s['tasks'])")" true \
    "tokens > 0 for every task"
expect_eq "$(sj "all(t.get('started_at') and t.get('completed_at') and t['completed_at'] >= t['started_at'] for t in s['tasks'])")" \
    true "started_at <= completed_at for every task"
expect_eq "$(sj "abs(s['cost_usd'] - sum(t['cost_usd'] for t in s['tasks'])) < 1e-9")" true "session cost is the sum"
expect_eq "$(sj "s['completed_tasks']")" 3 "completed_tasks"
expect_eq "$(sj "s['host_alive']")" false "host_alive after the run"
expect_eq "$(sj "'pending_approval' in s")" false "nothing pending"

# --- output logs: the raw stream-json of each run
for i in 1 2 3; do
    log=$(sj "s['tasks'][$i - 1]['output_log']")
    [ -f "$log" ] || fail "task $i: output_log $log does not exist"
    csess=$(sj "s['tasks'][$i - 1]['claude_session']")
    python3 - "$log" "$csess" <<'EOF' || fail "task $i: output log $log is not the raw stream"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
objs = [json.loads(l) for l in lines]          # every line is one JSON object
assert len(objs) >= 3, len(objs)
assert objs[0]["type"] == "system" and objs[0]["subtype"] == "init", objs[0]
assert objs[-1]["type"] == "result" and objs[-1]["is_error"] is False, objs[-1]
assert objs[-1]["session_id"] == sys.argv[2], (objs[-1]["session_id"], sys.argv[2])
assert any(o["type"] == "assistant" for o in objs)
EOF
done

# --- the event stream, in order
EV=$T/logs/events.ndjson
[ -s "$EV" ] || fail "no $EV"
python3 - "$EV" <<'EOF' || fail "events.ndjson order is wrong"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
names = [e.get("event") for e in evs]
want = ["session_started", "task_started", "claude_started", "claude_finished", "task_finished", "session_completed"]
def idx(name, task=None, start=0):
    for i in range(start, len(evs)):
        if evs[i].get("event") == name and (task is None or evs[i].get("task") == task):
            return i
    raise AssertionError(f"no {name} for task {task} after #{start}: {names}")
i = idx("session_started")
for t in ["1", "2", "3"]:
    for n in ["task_started", "claude_started", "claude_finished", "task_finished"]:
        i = idx(n, t, i + 1)
end = idx("session_completed", None, i + 1)
for n in want:
    c = names.count(n)
    exp = 3 if n not in ("session_started", "session_completed") else 1
    assert c == exp, f"{n} x{c}, expected {exp}"
assert end == max(k for k, x in enumerate(names) if x in want), "session_completed is not last"
sess = {e.get("session") for e in evs if e.get("event") in want}
assert len(sess) == 1, sess
fin = [e for e in evs if e.get("event") == "claude_finished"]
assert all(e.get("ok") is True and e.get("exit_code") == 0 for e in fin), fin
EOF
# tail-events prints the same lines
orch tail-events --lines 1000 >"$T/tail.out" || fail "tail-events failed"
cmp -s "$T/tail.out" "$EV" || fail "tail-events --lines 1000 differs from events.ndjson"
orch tail-events --task 2 --lines 1000 >"$T/tail2.out" || fail "tail-events --task failed"
RC=0
orch tail-events --task nope >"$T/tail-nope.out" 2>&1 || RC=$?
expect_eq "$RC" 1 "tail-events of a task with no events: exit"
grep -q "^no events of task nope in .*events.ndjson$" "$T/tail-nope.out" || fail "tail-events --task nope: $(cat "$T/tail-nope.out")"
python3 -c '
import json,sys
ev=[json.loads(l) for l in open(sys.argv[1])]
assert ev and all(e.get("task")=="2" for e in ev), ev
assert "task_started" in [e["event"] for e in ev]' "$T/tail2.out" || fail "tail-events --task 2 is wrong"

# --- daily log and report
if [ -s "$T/logs/$day_before.log" ]; then daily=$T/logs/$day_before.log; else daily=$T/logs/$day_after.log; fi
[ -s "$daily" ] || fail "no daily log logs/$day_before.log ($(ls "$T/logs"))"
if [ -s "$T/results/$day_before-report.md" ]; then rep=$T/results/$day_before-report.md; else rep=$T/results/$day_after-report.md; fi
[ -s "$rep" ] || fail "no report results/$day_before-report.md ($(ls "$T/results"))"
for title in "Add the model" "Add the table" "Add the page"; do
    grep -qF "$title" "$rep" || fail "the report does not name task '$title'"
done

# --- each task ran once, to the end
for k in t1 t2 t3; do
    expect_eq "$(grep -cx "start $k" "$T/ledger")" 1 "ledger starts of $k"
    expect_eq "$(grep -cx "end $k" "$T/ledger")" 1 "ledger ends of $k"
done

# --- the flags claude got
[ "$(wc -l <"$T/args.log")" -eq 3 ] || fail "expected 3 claude runs in the args log, got $(wc -l <"$T/args.log")"
python3 - "$T/args.log" <<'EOF' || fail "claude's flags are wrong: $(tr '\037' ' ' <"$T/args.log")"
import sys
for line in open(sys.argv[1], encoding="utf-8"):
    a = line.rstrip("\n").split("\x1f")[1:]
    def after(flag):
        assert flag in a, f"{flag} missing in {a}"
        return a[a.index(flag) + 1]
    assert "-p" in a or "--print" in a, a
    assert after("--output-format") == "stream-json", a
    assert "--verbose" in a, a
    assert after("--permission-mode") == "acceptEdits", a
    denied = " ".join(v for f, v in zip(a, a[1:]) if f in ("--disallowedTools", "--disallowed-tools"))
    for rule in ["Bash(git commit:*)", "Bash(git push:*)", "Bash(git add:*)", "Bash(rm -rf:*)"]:
        assert rule in denied, f"{rule} not disallowed: {a}"
    assert "--dangerously-skip-permissions" not in a, a
EOF
note PASS
