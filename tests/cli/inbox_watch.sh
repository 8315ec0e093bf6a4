#!/usr/bin/env bash
# The task inbox in the foreground (`orch-host watch`, workflows/inbox.lua):
# files there at start-up run by priority (one agent at a time: the order is
# the stand-in's ledger and the events', never a sleep); a file dropped into
# the running watch runs and leaves its result, its summary and its file in
# processed/, with the inbox's events; a bad file goes to failed/ with the
# reason and the watch goes on; a file still being written is not picked up
# until it is closed (also one open for writing since before the start); the folder removed and made again is watched again;
# status shows the inbox; SIGTERM ends it with 0.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"

# at start-up: low is the oldest, high the newest; they run high, medium, low
inbox_task "$ORCH_TASKS_DIR/low.task.md" low low "Low [key:low]"
inbox_task "$ORCH_TASKS_DIR/med.task.md" med medium "Medium [key:med]"
inbox_task "$ORCH_TASKS_DIR/high.task.md" high high "High [key:high]"
printf 'no front matter\n' >"$ORCH_TASKS_DIR/there-bad.task.md"
# open for writing since before the start: half of it written by a writer
# (not this shell, whose open files the watch would inherit), the rest once
# $T/go says so
mkfifo "$T/go"
(
    exec 7>"$ORCH_TASKS_DIR/opened.task.md"
    inbox_text opened high "Opened [key:opened]" "Opened" | head -c 40 >&7
    : >"$T/opened-half"
    read -r _ <"$T/go"
    inbox_text opened high "Opened [key:opened]" "Opened" | tail -c +41 >&7
) &
wait_for test -e "$T/opened-half"
watch_start --max-concurrent 1
# a bad file there at start-up is refused as a dropped one is: said, with its event
wait_for failed there-bad
wait_for grep -q "there-bad.task.md moved to failed/: .*there-bad.task.md:1: no front matter" "$WATCH_OUT"
expect_eq "$(ev "sum(1 for e in ev if e['event'] == 'parsed' and e.get('ok') is False and 'there-bad' in e['file'])")" \
    1 "the refused start-up file's parsed event"
WAIT_TIMEOUT=120 wait_for done_with low
expect_eq "$(grep '^start ' "$T/ledger" | tr '\n' ' ')" "start high start med start low " "the order of the runs"
for n in low med high; do done_with "$n" || fail "$n: no result, summary or processed file"; done
expect_eq "$(ev "[e['task'] for e in ev if e['event'] == 'claude_started']")" "['high', 'med', 'low']" \
    "claude_started in priority order"
note "start-up files in priority order ok"
expect_eq "$(ev "sum(1 for e in ev if 'opened' in str(e.get('file')))")" 0 "events of the file open for writing"
grep -q "opened.task.md is still being written: it runs once it is closed" "$ORCH_LOGS_DIR/orchestrator.log" ||
    fail "no word of the file still being written at the start"
echo go >"$T/go"
WAIT_TIMEOUT=120 wait_for done_with opened
expect_eq "$(starts opened)" 1 "runs of the file closed after the start"
note "a file open for writing at the start ok"

# one dropped into the running watch
inbox_task "$ORCH_TASKS_DIR/drop.task.md" drop medium "Dropped [key:drop]"
WAIT_TIMEOUT=120 wait_for done_with drop
R=$ORCH_RESULTS_DIR/drop_result.json
expect_eq "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['status'])" "$R")" completed \
    "the result's status"
python3 - "$R" <<'EOF' || fail "the result does not list the file the agent wrote: $(cat "$R")"
import json, sys
r = json.load(open(sys.argv[1]))
touched = json.dumps(r)
assert "fake-" in touched, touched
# the token counts by kind, from claude's usage (summed over the task's runs)
tk = r["tokens"]
assert isinstance(tk["input"], int) and isinstance(tk["output"], int) and tk["input"] + tk["output"] > 0, tk
assert tk["input"] + tk["output"] + (tk["cache_read"] or 0) + (tk["cache_creation"] or 0) == tk["total"], tk
EOF
for e in task_received parsed claude_started claude_finished summarized validated artifacts_written task_archived; do
    [ "$(ev "any(e['event'] == '$e' and (e.get('task') == 'drop' or 'drop' in str(e.get('file'))) for e in ev)")" = true ] \
        || fail "no $e event for the dropped task"
done
note "a dropped file ok"

# a bad file: failed/ with the reason beside it; the watch goes on
printf 'no front matter here\n' >"$ORCH_TASKS_DIR/bad.task.md"
wait_for failed bad
[ -s "$ORCH_TASKS_DIR/failed/bad.task.md.reason" ] || fail "no reason beside failed/bad.task.md"
grep -q "bad.task.md" "$ORCH_TASKS_DIR/failed/bad.task.md.reason" || fail "the reason does not name the file: $(cat "$ORCH_TASKS_DIR/failed/bad.task.md.reason")"
inbox_task "$ORCH_TASKS_DIR/after.task.md" after low "After the bad one [key:after]"
WAIT_TIMEOUT=120 wait_for done_with after
note "a bad file ok"

# written slowly: half, then (once a file written after it was seen) the rest
exec 5>"$ORCH_TASKS_DIR/slow.task.md"
inbox_text slow high "Slow [key:slow]" "Slow" | head -c 40 >&5
inbox_task "$ORCH_TASKS_DIR/probe.task.md" probe low "Probe [key:probe]"
WAIT_TIMEOUT=120 wait_for done_with probe
expect_eq "$(ev "sum(1 for e in ev if 'slow' in str(e.get('file')))")" 0 "events of the half-written file"
inbox_text slow high "Slow [key:slow]" "Slow" | tail -c +41 >&5
exec 5>&-
WAIT_TIMEOUT=120 wait_for done_with slow
expect_eq "$(starts slow)" 1 "runs of the slowly written file"
note "a slowly written file ok"

# the folder removed and made again
mv "$ORCH_TASKS_DIR" "$T/tasks-away"
wait_for ev_has inbox_dir_removed ""
mkdir "$ORCH_TASKS_DIR"
inbox_task "$ORCH_TASKS_DIR/back.task.md" back medium "Back [key:back]"
WAIT_TIMEOUT=120 wait_for done_with back
note "the folder removed and recreated ok"

# status: the inbox session, its queue, its tasks
orch status >"$T/status.txt" || fail "status failed"
grep -q "Inbox" "$T/status.txt" || fail "status does not show the inbox: $(cat "$T/status.txt")"
expect_eq "$(sj "s.get('kind')")" inbox "the session's kind"
expect_eq "$(sj "len(s['tasks'])")" 9 "the inbox session's tasks"

# a second watch is refused while this one runs
RC=0
orch watch --no-input >"$T/second.out" 2>&1 || RC=$?
expect_eq "$RC" 4 "exit code of a second watch"
grep -q "already watched" "$T/second.out" || fail "the second watch's message: $(cat "$T/second.out")"

watch_stop
grep -q "SIGTERM received: stopping the inbox" "$WATCH_OUT" || fail "what SIGTERM says: $(tail -3 "$WATCH_OUT")"
! grep -q "pausing" "$WATCH_OUT" || fail "SIGTERM of watch says it pauses: $(tail -3 "$WATCH_OUT")"
WAIT_TIMEOUT=15 wait_for no_agents
note "ok"
