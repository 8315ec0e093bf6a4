#!/usr/bin/env bash
# An inbox's status while paused: a task whose approval wait the pause
# withdrew (pending again) and a file dropped meanwhile both wait to start,
# and `queued` counts both; the runtime stops at the pause, though the
# session row still records the dropped file, and a resume leaves the
# paused time out.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"
export ORCH_QUESTIONS_DIR=$T/questions

printf 'return { orchestrator = { approval_mode = "required" } }\n' >"$T/config.lua"
WATCH_OUT=$T/watch.out
bg_run "$WATCH_OUT" orch --config "$T/config.lua" watch --no-input
wait_for ev_more inbox_started 0
inbox_task "$ORCH_TASKS_DIR/ask1.task.md" ask1 high "Ask [key:ask1]"
wait_for sj_true "any(t['id'] == 'ask1' and t['status'] == 'waiting_approval' for t in s['tasks'])"
orch pause --by tester >"$T/pause.out" 2>&1 || fail "pause: $(cat "$T/pause.out")"
wait_for sj_true "s['status'] == 'paused' and s['tasks'][0]['status'] == 'pending'"
inbox_task "$ORCH_TASKS_DIR/q3.task.md" q3 medium "Later [key:q3]"
wait_for ev_has parsed q3
wait_for sj_true "len(s['tasks']) == 2"
check_eq "$(sj "s['queued']")" 2 "queued while paused: the withdrawn one and the dropped one"
orch status >"$T/status.out" 2>&1
check "status says queued 2: $(grep Inbox "$T/status.out")" grep -q "queued 2" "$T/status.out"
check_eq "$(sj "s['runtime'] <= s['paused_at'] - s['started_at'] + 0.001")" true \
    "runtime while paused ends at the pause (updated_at moved on: $(sj "[s['runtime'], s['paused_at'], s['updated_at']]"))"
finish
