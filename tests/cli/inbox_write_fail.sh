#!/usr/bin/env bash
# An inbox task whose artifacts cannot be written (the results folder cannot
# be made: a file stands where it should be) is not reported done: it ends
# failed with the write error (never recorded as completed; one that failed
# keeps its own reason first), and its file goes to failed/ with that reason;
# the watch goes on. A task whose cwd: names
# a folder that is not there is refused with the reason, and no agent runs.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"

: >"$T/blocker"
export ORCH_RESULTS_DIR=$T/blocker/results
watch_start
inbox_task "$ORCH_TASKS_DIR/lost.task.md" lost medium "Its result cannot be written [key:lost]"
WAIT_TIMEOUT=120 wait_for failed lost
grep -q "artifacts not written" "$ORCH_TASKS_DIR/failed/lost.task.md.reason" \
    || fail "the reason does not say the artifacts were not written: $(cat "$ORCH_TASKS_DIR/failed/lost.task.md.reason")"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["failed"]' "the task's status"
expect_eq "$(sj "s['tasks'][0]['error'].startswith('artifacts not written')")" true "the task's error"
expect_eq "$(ev "any(e['event'] == 'task_finished' and e.get('status') == 'completed' for e in ev)")" false \
    "a task_finished as completed"
expect_eq "$(ev "any(e['event'] == 'artifacts_written' and e.get('ok') is False for e in ev)")" true \
    "artifacts_written with ok false"
# its notice says failed, and nothing in it says completed (the summary of the run is of what was not kept)
wait_for grep -q "Failed" "$WATCH_OUT"
! grep -q "Status: completed" "$WATCH_OUT" || fail "the failed task's notice says completed: $(cat "$WATCH_OUT")"

# a task whose agent failed, and whose artifacts cannot be written either: its
# own reason first, then the write error (tried once)
inbox_task "$ORCH_TASKS_DIR/both.task.md" both medium "Fails, and its result cannot be written [key:both] [fake:fail]"
WAIT_TIMEOUT=120 wait_for failed both
grep -q "failed: API Error: 500 .*; artifacts not written: " "$ORCH_TASKS_DIR/failed/both.task.md.reason" \
    || fail "the reason of a failed task whose artifacts failed: $(cat "$ORCH_TASKS_DIR/failed/both.task.md.reason")"
expect_eq "$(grep -o "artifacts not written" "$ORCH_TASKS_DIR/failed/both.task.md.reason" | wc -l)" 1 \
    "the write error, once"

# a working directory that is not there: refused with the reason, before any agent runs
cat >"$T/where.tmp" <<'EOF'
---
id: where
type: analyze
cwd: /no-such-project
---

# Somewhere else

**Prompt:**
Work in a folder that does not exist [key:where]
EOF
mv "$T/where.tmp" "$ORCH_TASKS_DIR/where.task.md"
WAIT_TIMEOUT=120 wait_for failed where
grep -q "failed: cwd: /no-such-project: no folder no-such-project under CLAUDE_BASE_CWD" \
    "$ORCH_TASKS_DIR/failed/where.task.md.reason" \
    || fail "the reason does not name the folder as written: $(cat "$ORCH_TASKS_DIR/failed/where.task.md.reason")"
expect_eq "$(starts where)" 0 "runs of a task whose folder is refused"
watch_stop
note "ok"
