#!/usr/bin/env bash
# Stopping agents. A: SIGINT while an agent works -> exit 3, task and session
# paused, no agent process left; resume re-runs the interrupted task and
# finishes. B: a per-task timeout on an agent whose child escaped with setsid
# and ignores SIGTERM -> the task fails "timed out" and the whole tree is gone.
# C: SIGINT while such a tree runs -> paused, and the tree is gone too.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"

# ---------------------------------------------------------------- A: SIGINT
TASKS=$T/a.md
task_md "$TASKS" 1 "Slow work" backend "Work slowly. [fake:slow:15] [key:a1]"
task_md "$TASKS" 2 "Quick work" backend "Work quickly. [key:a2]"
bg_run "$T/a1.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input
SUB=$BG_PID
# the agent is really working: its stream reached the task's output log
wait_for sj_true "s['tasks'][0]['status'] == 'running'"
wait_for task_log_has 1 "working"
some_agent || fail "A: no agent process found while task 1 runs (the agent check is broken):
$(ps -eo pid,ppid,stat,etime,args | grep -F "$FAKE_CLAUDE" | grep -v grep)
$(cat "$ORCH_LOGS_DIR"/task-*-1-output.log | cut -c1-120)"
HOST=$(host_pid_of "$SUB")
[ -n "$HOST" ] || fail "A: cannot find the orch-host pid"
kill -INT "$HOST"
rc=$(bg_wait "$T/a1.out")
[ "$rc" = 3 ] || { cat "$T/a1.out" >&2; fail "A: SIGINT: expected exit 3, got $rc"; }
left=$(agent_pids)
[ -z "$left" ] || fail "A: agent processes survived the host: $(for p in $left; do tr '\0' ' ' </proc/$p/cmdline; echo; done)"
expect_eq "$(session_status)" paused "A: session after SIGINT"
expect_eq "$(task_status 1)" paused "A: task 1 after SIGINT"
expect_eq "$(task_status 2)" pending "A: task 2 after SIGINT"
expect_eq "$(sj "s['host_alive']")" false "A: host_alive after exit"
expect_eq "$(grep -cx 'start a1' "$T/ledger")" 1 "A: starts of task 1"
expect_eq "$(grep -cx 'end a1' "$T/ledger")" 0 "A: the interrupted agent finished anyway"
grep -q '"event":"interrupted"' "$T/logs/events.ndjson" || fail "A: no interrupted event"

bg_run "$T/a2.out" orch resume --auto-approve --no-input
rc=$(bg_wait "$T/a2.out")
[ "$rc" = 0 ] || { cat "$T/a2.out" >&2; fail "A: resume: expected exit 0, got $rc"; }
expect_eq "$(session_status)" completed "A: session after resume"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "completed"]' "A: tasks after resume"
expect_eq "$(grep -cx 'start a1' "$T/ledger")" 2 "A: task 1 runs (interrupted + resumed)"
expect_eq "$(grep -cx 'end a1' "$T/ledger")" 1 "A: task 1 finished runs"
expect_eq "$(grep -cx 'start a2' "$T/ledger")" 1 "A: task 2 runs"
expect_eq "$(sj "s['tasks'][0].get('error')")" null "A: the old pause error stays on the completed task"

# ------------------------------------------------- B: timeout kills the tree
export CLAUDE_BASE_CWD=$T/work/b
mkdir -p "$CLAUDE_BASE_CWD"
TASKS=$T/b.md
task_md "$TASKS" 1 "Runaway tree" backend "Start a tree. [fake:tree:9] [key:b1]"
task_md "$TASKS" 2 "After it" backend "Then this. [key:b2]"
bg_run "$T/b.out" env CLAUDE_TIMEOUT_SEC=2 "$ORCH_HOST" --root "$ORCH_SRC" run daily.lua --tasks "$TASKS" \
    --auto-approve --no-input
rc=$(bg_wait "$T/b.out")
left=$(agent_pids)
[ -z "$left" ] || fail "B: agent processes survived the timeout: $(for p in $left; do tr '\0' ' ' </proc/$p/cmdline; echo; done)"
[ "$rc" = 1 ] || { cat "$T/b.out" >&2; fail "B: expected exit 1 (a task failed), got $rc"; }
expect_eq "$(task_status 1)" failed "B: task 1 after the timeout"
err=$(sj "s['tasks'][0].get('error')")
case "$err" in *"timed out"*) ;; *) fail "B: task 1 error does not say 'timed out': $err" ;; esac
expect_eq "$(task_status 2)" completed "B: the next task still ran"
# The host gives SIGTERM, then SIGKILL after claude.kill_grace (3 s): it is done
# about 5 s after the start. The escaped child would create this 9 s after it
# started: look 5 s after the host exited (a check, not a synchronisation).
sleep 5
[ ! -e "$CLAUDE_BASE_CWD/tree-survivor.txt" ] || fail "B: tree-survivor.txt appeared: the escaped child survived"

# ---------------------------------------------- C: SIGINT with a tree running
export CLAUDE_BASE_CWD=$T/work/c
mkdir -p "$CLAUDE_BASE_CWD"
TASKS=$T/c.md
task_md "$TASKS" 1 "Runaway tree" backend "Start a tree. [fake:tree:8] [key:c1]"
bg_run "$T/c.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input
SUB=$BG_PID
wait_for sj_true "s['task_file'] == '$TASKS' and s['tasks'][0]['status'] == 'running'"
wait_for task_log_has 1 '"tool_use"'
HOST=$(host_pid_of "$SUB")
[ -n "$HOST" ] || fail "C: cannot find the orch-host pid"
kill -INT "$HOST"
rc=$(bg_wait "$T/c.out")
left=$(agent_pids)
[ -z "$left" ] || fail "C: agent processes survived SIGINT: $(for p in $left; do tr '\0' ' ' </proc/$p/cmdline; echo; done)"
[ "$rc" = 3 ] || { cat "$T/c.out" >&2; fail "C: SIGINT: expected exit 3, got $rc"; }
expect_eq "$(session_status)" paused "C: session after SIGINT"
expect_eq "$(task_status 1)" paused "C: task 1 after SIGINT"
sleep 8   # the child would have written its file 8 s after it started (a check, not a sync)
[ ! -e "$CLAUDE_BASE_CWD/tree-survivor.txt" ] || fail "C: tree-survivor.txt appeared: the escaped child survived"
# the task Ctrl-C stopped, skipped while no host runs: its end says it was paused
orch skip --task 1 --by tester >"$T/c-skip.out" 2>&1 || fail "C: skip of the paused task: $(cat "$T/c-skip.out")"
expect_eq "$(sj "[s['tasks'][0]['status'], s['tasks'][0]['error']]")" '["skipped", "skipped by tester while paused"]' \
    "C: the skipped paused task"
note PASS
