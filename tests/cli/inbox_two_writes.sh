#!/usr/bin/env bash
# A task file written by two separate opens (open-write-close, then
# open-append-close): the first close finds it incomplete and refuses it, the
# second close brings the file again. One file leaves one outcome: its new
# version replaces the refused one in failed/ (no failed/x.1.task.md beside
# it), and a fixed copy that then runs leaves nothing in failed/.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"

watch_start --max-concurrent 1
F=$ORCH_TASKS_DIR/two.task.md
inbox_text two high "Two [key:two]" "Two" >"$T/full"
head -n 5 "$T/full" >"$T/part1"      # the front matter alone: no prompt
tail -n +6 "$T/full" >"$T/part2"

refusals() { ev "sum(1 for e in ev if e['event'] == 'parsed' and e.get('ok') is False and e['file'] == '$F')"; }
refused() { [ "$(refusals)" -ge "$1" ]; }
cat "$T/part1" >"$F"
wait_for refused 1                   # the first close: refused, moved to failed/
cat "$T/part2" >>"$F"                # the second open: the rest, a file of its own now
wait_for refused 2
failed_names() { (cd "$ORCH_TASKS_DIR/failed" && ls -A | tr '\n' ' '); }
expect_eq "$(failed_names)" "two.task.md two.task.md.reason " "failed/ after the second close"
grep -q "no front matter" "$ORCH_TASKS_DIR/failed/two.task.md.reason" ||
    fail "the reason is not the second version's: $(cat "$ORCH_TASKS_DIR/failed/two.task.md.reason")"
cmp -s "$T/part2" "$ORCH_TASKS_DIR/failed/two.task.md" || fail "failed/ holds another version than the last"
grep -q "two.task.md was written again: its version refused before (.*failed/two.task.md) is replaced" "$T/logs/orchestrator.log" ||
    fail "the replacement is not logged: $(tail -5 "$T/logs/orchestrator.log")"

# the whole file, dropped again: it runs, and failed/ keeps no earlier version of it
inbox_task "$F" two high "Two [key:two]" "Two"
WAIT_TIMEOUT=120 wait_for done_with two
expect_eq "$(failed_names)" "" "failed/ once the file ran"
watch_stop
finish
