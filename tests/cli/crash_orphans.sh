#!/usr/bin/env bash
# kill -9 of the host while an agent's tool child runs in its own session
# (the real CLI starts Bash tools with setsid). The agent
# itself dies with the host (PDEATHSIG), but its escaped child must not keep
# working on the project: at the latest, `resume` must find and stop what the
# crashed run left behind before it starts the task again.
source "$(dirname "$0")/lib.bash"

TASKS=$T/tasks.md
# the child sleeps 10 s, then writes tree-survivor.txt into the work tree
task_md "$TASKS" 1 "Runaway tree" backend "Start a tree. [fake:tree:10] [key:o1]"
bg_run "$T/run.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input
SUB=$BG_PID
wait_for sj_true "s['tasks'][0]['status'] == 'running'"
wait_for task_log_has 1 '"tool_use"'
HOST=$(host_pid_of "$SUB")
[ -n "$HOST" ] || fail "cannot find the orch-host pid"
kill -KILL "$HOST"
expect_eq "$(bg_wait "$T/run.out")" 137 "exit code of the killed host"
note "after kill -9: $(agent_pids | wc -l) agent process(es) left"

# resume: the rerun times out quickly (its own tree is killed by the timeout)
CLAUDE_TIMEOUT_SEC=1 orch resume --auto-approve --no-input >"$T/resume.out" 2>&1
rc=$?
[ "$rc" = 1 ] || { cat "$T/resume.out" >&2; fail "resume: expected exit 1 (the rerun times out), got $rc"; }
left=$(agent_pids)
[ -z "$left" ] || fail "processes of the crashed run survive the resume: $(for p in $left; do
    echo "pid $p ppid $(awk '{print $4}' /proc/$p/stat 2>/dev/null) sid $(awk '{print $6}' /proc/$p/stat 2>/dev/null): $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)"; done)"
# the escaped child would write its file 10 s after it started (a check, not a sync)
for _ in $(seq 1 110); do [ -e "$T/work/tree-survivor.txt" ] && break; sleep 0.1; done
[ ! -e "$T/work/tree-survivor.txt" ] || fail "tree-survivor.txt appeared: the crashed run's escaped agent child kept working (neither the kill -9 nor the resume stopped it)"
note PASS
