#!/usr/bin/env bash
# Inbox tasks waiting for approval hold no agent slot and stop no other task:
# with one agent at a time, two files that ask (requires_approval) wait, and
# a later file that asks nobody runs beside them; the second one that asks
# keeps its place until the first is decided. (At most max_concurrent
# approvals wait at once; everything behind them used to wait too.)
# A file rewritten while its task waits for approval withdraws that wait: the
# new version asks again, and the approval runs what the file says now.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"

drop() {  # drop NAME TYPE PRIORITY [KEY]: a task file; an analyze one asks, a summarize one not (the config)
    cat >"$T/.tmp-task" <<MD
---
id: $1
type: $2
priority: $3
---

# Task $1

**Prompt:**
Work [key:${4:-$1}]
MD
    mv "$T/.tmp-task" "$ORCH_TASKS_DIR/$1.task.md"
}
asking() { drop "$1" analyze high; }

printf 'return { orchestrator = { approval_mode = "required", auto_approve = { "summarize" } } }\n' >"$T/config.lua"
WATCH_OUT=$T/watch.out
bg_run "$WATCH_OUT" orch --config "$T/config.lua" watch --no-input --max-concurrent 1
WATCH_SUB=$BG_PID
wait_for ev_more inbox_started 0
WATCH_PID=$(host_pid_of "$WATCH_SUB")
asking ask1
wait_for sj_true "any(t['id'] == 'ask1' and t['status'] == 'waiting_approval' for t in s['tasks'])"
asking ask2
wait_for ev_has parsed ask2
drop free summarize low
WAIT_TIMEOUT=120 wait_for done_with free
expect_eq "$(sj "[t['status'] for t in s['tasks'] if t['id'] in ('ask1', 'ask2')]")" \
    '["waiting_approval", "pending"]' "the asking tasks while the free one ran"
expect_eq "$(starts ask1) $(starts ask2)" "0 0" "agents of the tasks waiting for approval"
orch approve --task ask1 >/dev/null 2>&1 || fail "approve --task ask1"
wait_for sj_true "any(t['id'] == 'ask2' and t['status'] == 'waiting_approval' for t in s['tasks'])"
orch approve --task ask2 >/dev/null 2>&1 || fail "approve --task ask2"
WAIT_TIMEOUT=120 wait_for done_with ask1
WAIT_TIMEOUT=120 wait_for done_with ask2

waits() { sj_true "any(t['id'] == '$1' and t['status'] == 'waiting_approval' for t in s['tasks'])"; }
asking ask3
wait_for waits ask3
drop ask3 analyze high ask3-new
wait_for sj_true "any(t['id'] == 'ask3' and t['status'] == 'cancelled' for t in s['tasks'])"
expect_eq "$(sj "[t['error'] for t in s['tasks'] if t['id'] == 'ask3'][0]")" \
    "its file was rewritten while it waited for approval: the new version runs in its place" "the first version's end"
wait_for waits ask3-2
orch approve --task ask3-2 >/dev/null 2>&1 || fail "approve --task ask3-2"
WAIT_TIMEOUT=120 wait_for done_with ask3
expect_eq "$(starts ask3) $(starts ask3-new)" "0 1" "agents of the first and the rewritten version"
watch_stop
finish
