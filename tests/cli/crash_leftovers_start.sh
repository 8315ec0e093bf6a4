#!/usr/bin/env bash
# kill -9 of the host while an agent's tool child runs in its own session and
# ignores SIGTERM. The next command that starts on the state stops what the
# dead host left, whatever the command (here `status`, not `resume`); while
# the host is alive, the same command never touches its agents.
source "$(dirname "$0")/lib.bash"

TASKS=$T/tasks.md
# the child sleeps 30 s, then writes tree-survivor.txt into the work tree
task_md "$TASKS" 1 "Runaway tree" backend "Start a tree. [fake:tree:30] [key:o1]"
bg_run "$T/run.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input
SUB=$BG_PID
wait_for sj_true "s['tasks'][0]['status'] == 'running'"
wait_for task_log_has 1 '"tool_use"'
# the agent and its setsid child: both tagged, both alive
wait_for eval '[ "$(agent_pids | wc -l)" -ge 2 ]'
before=$(agent_pids | sort | tr '\n' ' ')

# a live host: status (and the other commands) leave its agents alone
orch status >"$T/status-live.out" 2>&1 || fail "status while the host runs failed: $(cat "$T/status-live.out")"
orch sessions >/dev/null 2>&1
orch doctor >/dev/null 2>&1
expect_eq "$(agent_pids | sort | tr '\n' ' ')" "$before" "agent processes after status/sessions/doctor beside a live host"
grep -q "left by a host that died" "$T/status-live.out" && fail "status claims to have stopped agents of a live host"

HOST=$(host_pid_of "$SUB")
[ -n "$HOST" ] || fail "cannot find the orch-host pid"
kill -KILL "$HOST"
expect_eq "$(bg_wait "$T/run.out")" 137 "exit code of the killed host"
some_agent || fail "nothing of the agent survived the kill -9: the test cannot show the clean-up"

# the host starts again, with a command that is not resume
orch status >"$T/status-dead.out" 2>&1 || fail "status after the crash failed: $(cat "$T/status-dead.out")"
WAIT_TIMEOUT=20 wait_for no_agents
grep -q "stopped [0-9]* agent process(es) left by a host that died" "$T/status-dead.out" ||
    fail "status did not say it stopped the dead host's agents: $(cat "$T/status-dead.out")"
[ ! -e "$T/work/tree-survivor.txt" ] || fail "tree-survivor.txt appeared: the crashed run's child kept working"
note PASS
