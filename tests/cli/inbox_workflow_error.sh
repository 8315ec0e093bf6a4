#!/usr/bin/env bash
# A Lua error in the workflow while an inbox task runs (here: the prompt
# policy, edited badly) pauses the inbox with that error as the reason:
# status says paused, the error is logged and notified once, the task stays
# unfinished (its file in the folder) and the next files wait; the notice
# says to fix the workflow and restart (a resume in the same process would
# meet the same loaded code). Fixed and restarted, the inbox runs them all.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"

P=$T/proj  # a project whose workflows are a copy, so one can be broken
mkdir -p "$P"
cp -r "$ORCH_SRC/workflows" "$ORCH_SRC/docs" "$P/"
PROMPT=$P/workflows/lib/prompt.lua
cp "$PROMPT" "$T/prompt.lua.good"
python3 - "$PROMPT" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
anchor = "function M.for_inbox(t)\n"
assert anchor in s, "prompt.lua has no for_inbox(t)"
s = s.replace(anchor, anchor + '  if tostring(t.instruction or ""):find("[boom]", 1, true) then error("boom in the prompt policy") end\n', 1)
open(p, "w").write(s)
PY
ORCH_SRC=$P
watch_start --max-concurrent 1
inbox_task "$ORCH_TASKS_DIR/bad.task.md" bad high "Breaks the policy [boom] [key:bad]"
paused() { [ "$(sj "s['status']")" = paused ]; }
wait_for paused
expect_eq "$(sj "'boom in the prompt policy' in (s.get('pause_reason') or '')")" true "the pause's reason names the error"
inbox_task "$ORCH_TASKS_DIR/next.task.md" next medium "Waits [key:next]"
wait_for ev_has parsed next
expect_eq "$(starts next)" 0 "runs of a file dropped while paused"
expect_eq "$(ev_count session_paused)" 1 "session_paused events"
[ -f "$ORCH_TASKS_DIR/bad.task.md" ] || fail "the failing task's file left the folder"
grep -q "workflow error" "$T/logs/"*.log || fail "the workflow error is not in the log"

grep -q "restart the inbox" "$WATCH_OUT" || fail "the notice does not say to restart: $(tail -5 "$WATCH_OUT")"

# fixed: the workflow's modules are read again at the next start, which runs
# the failed task again from its file, and the one that waited
cp "$T/prompt.lua.good" "$PROMPT"
sed -i 's/ \[boom\]//' "$ORCH_TASKS_DIR/bad.task.md"
watch_stop
watch_start --max-concurrent 1
WAIT_TIMEOUT=120 wait_for done_with next
WAIT_TIMEOUT=120 wait_for done_with bad
expect_eq "$(starts bad)" 1 "runs of the fixed task"
watch_stop
note "ok"
