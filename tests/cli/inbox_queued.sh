#!/usr/bin/env bash
# Inbox files that change while their task waits in the queue (one agent at a
# time, held by a first task whose stand-in waits for a line in the ledger):
# one deleted is never run and leaves nothing; one rewritten runs once, as
# rewritten; a skip of a queued one by its id drops it, its file to failed/,
# recorded as the reply words it: skipped (as a day's queued task is).
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"

watch_start --max-concurrent 1
inbox_task "$ORCH_TASKS_DIR/hold.task.md" hold high "Holds the agent [key:hold] [fake:await:go]"
wait_for grep -q "^start hold$" "$T/ledger"

inbox_task "$ORCH_TASKS_DIR/gone.task.md" gone high "Deleted [key:gone]"
inbox_task "$ORCH_TASKS_DIR/redo.task.md" redo medium "First version [key:redo1]" "First"
inbox_task "$ORCH_TASKS_DIR/cancel.task.md" cancel low "Cancelled [key:cancel]"
inbox_task "$ORCH_TASKS_DIR/renamed.task.md" old-id low "Old id [key:oldid]"
wait_for ev_has parsed cancel
wait_for ev_has parsed old-id
inbox_task "$ORCH_TASKS_DIR/renamed.task.md" new-id low "New id [key:newid]"
wait_for ev_has parsed new-id
rm "$ORCH_TASKS_DIR/gone.task.md"
inbox_task "$ORCH_TASKS_DIR/redo.task.md" redo medium "Second version [key:redo2]" "Second"
redo_parsed_twice() { [ "$(ev_count parsed redo)" -ge 2 ]; }
wait_for redo_parsed_twice
orch skip --task cancel --by tester >"$T/cancel.out" 2>&1 || fail "skip --task cancel: $(cat "$T/cancel.out")"
wait_for failed cancel
grep -q "Skipping task cancel" "$T/cancel.out" || fail "the skip's reply: $(cat "$T/cancel.out")"
grep -qF "cancel.task.md: skipped by tester before it ran" "$ORCH_TASKS_DIR/failed/cancel.task.md.reason" \
    || fail "the skipped file's reason: $(cat "$ORCH_TASKS_DIR/failed/cancel.task.md.reason")"
expect_eq "$(sj "[(t['status'], t.get('skipped_by')) for t in s['tasks'] if t['id'] == 'cancel']")" \
    '[["skipped", "tester"]]' "the skipped queued task's record"

echo go >>"$T/ledger"
WAIT_TIMEOUT=120 wait_for done_with redo
expect_eq "$(starts gone)" 0 "runs of the deleted file"
expect_eq "$(starts redo1)" 0 "runs of the first version"
expect_eq "$(starts redo2)" 1 "runs of the rewritten file"
expect_eq "$(starts cancel)" 0 "runs of the cancelled file"
processed gone && fail "the deleted file came back in processed/"
[ -f "$ORCH_TASKS_DIR/failed/gone.task.md" ] && fail "the deleted file came back in failed/"
[ -f "$ORCH_RESULTS_DIR/gone_result.json" ] && fail "the deleted file has a result"
expect_eq "$(sj "[t['title'] for t in s['tasks'] if t['id'] == 'redo']")" '["Second"]' "the rewritten task's title"
# rewritten under a new id: the new task runs under its own id, the old one ends unrun
WAIT_TIMEOUT=120 wait_for test -f "$ORCH_TASKS_DIR/processed/renamed.task.md"
expect_eq "$(starts oldid) $(starts newid)" "0 1" "runs of the file rewritten with a new id"
expect_eq "$(sj "[(t['id'], t['status']) for t in s['tasks'] if t['id'] in ('old-id', 'new-id')]")" \
    '[["old-id", "cancelled"], ["new-id", "completed"]]' "the tasks of the file rewritten with a new id"
expect_eq "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['task_id'])" \
    "$ORCH_RESULTS_DIR/renamed_result.json")" new-id "its result's task_id"
watch_stop
note "ok"
