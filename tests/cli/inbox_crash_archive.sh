#!/usr/bin/env bash
# A host killed after a task ended but before its file moved out of the
# folder (between the task's end and the ledger's row) leaves the task ended
# on a session still "running", no ledger row and the file in the folder.
# That state is made here from a real run (the file moved back, the row and
# the session's end undone), since no signal can be aimed between two Lua
# statements. The next start settles it: the file moves to processed/, the
# agent does not run again, and the old session is closed.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"
command -v sqlite3 >/dev/null || fail "sqlite3 is needed (scripts/setup.sh installs it)"

inbox_task "$ORCH_TASKS_DIR/ended.task.md" ended medium "Ended [key:ended]"
watch_start
WAIT_TIMEOUT=120 wait_for done_with ended
watch_stop
SID=$(sj "s['id']")
mv "$ORCH_TASKS_DIR/processed/ended.task.md" "$ORCH_TASKS_DIR/ended.task.md"
sqlite3 "$ORCH_STATE_DB" "DELETE FROM kv WHERE key = 'inbox_task:ended';
  UPDATE sessions SET status = 'running', finished_at = NULL WHERE id = '$SID';" || fail "sqlite3"
expect_eq "$(orch status --json "$SID" | python3 -c "import json,sys; print(json.load(sys.stdin)['status'])")" \
    running "the made-up dead host's session"

watch_start
processed ended || fail "the ended task's file was not moved at the start: $(ls -R "$ORCH_TASKS_DIR")"
[ ! -f "$ORCH_TASKS_DIR/ended.task.md" ] || fail "the ended task's file is still in the folder"
wait_for grep -q "inbox: task ended had ended when its host stopped; its file moved to .*processed/ended.task.md now" \
    "$ORCH_LOGS_DIR/orchestrator.log"
expect_eq "$(orch status --json "$SID" | python3 -c "import json,sys; print(json.load(sys.stdin)['status'])")" \
    completed "the dead host's session after the next start"
# the ledger holds it now: the same content dropped again is a duplicate
cp "$ORCH_TASKS_DIR/processed/ended.task.md" "$T/ended.tmp" && mv "$T/ended.tmp" "$ORCH_TASKS_DIR/ended.task.md"
wait_for [ ! -f "$ORCH_TASKS_DIR/ended.task.md" ]
expect_eq "$(starts ended)" 1 "runs of the task that had ended"
watch_stop
note "ok"
