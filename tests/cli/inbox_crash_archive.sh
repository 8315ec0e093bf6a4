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
note "ended before the move ok"

# killed for real while its acceptance command runs (the agent done, the task
# not yet ended): the next start does not pay for a second run; the task needs
# review, its result and cost kept, its artifacts written, its file in processed/
cat >"$T/.tmp-task" <<'MD'
---
id: checking
type: analyze
priority: medium
---

# Checked for a long time

**Prompt:**
Work [key:checking]

**Success Criteria:**
- [ ] `sleep 47` passes
MD
watch_start
mv "$T/.tmp-task" "$ORCH_TASKS_DIR/checking.task.md"
wait_for grep -q "^end checking$" "$T/ledger"
wait_for pgrep -f "sleep 47"
SID=$(sj "s['id']")
kill -KILL "$WATCH_PID"
bg_wait "$WATCH_OUT" >/dev/null
pkill -f "sleep 47" || true
watch_start
WAIT_TIMEOUT=120 wait_for done_with checking
expect_eq "$(starts checking)" 1 "agent runs of the task whose host died during its checks"
expect_eq "$(orch status --json "$SID" | python3 -c "import json,sys
t = [t for t in json.load(sys.stdin)['tasks'] if t['id'] == 'checking'][0]
print(t['status'], t['result'], t['cost_usd'] > 0)")" "needs_review done True" "the task, settled at the next start"
expect_eq "$(python3 -c "import json,sys; r = json.load(open(sys.argv[1])); print(r['status'], r['result'])" \
    "$ORCH_RESULTS_DIR/checking_result.json")" "needs_review done" "its result file"
watch_stop
note "ok"
