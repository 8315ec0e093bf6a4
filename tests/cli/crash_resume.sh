#!/usr/bin/env bash
# kill -9 of the host at three moments of a 20-task day, each followed by
# `resume`: at the end every task is completed once, nothing reported done is
# lost, and no task that was reported completed runs again. Only a task that
# was running when the host died may run a second time.
source "$(dirname "$0")/lib.bash"

N=20
TASKS=$T/tasks.md
for i in $(seq 1 $N); do
    # slow:2 keeps each agent busy long enough that a kill right after task k
    # is reported completed always hits task k+1 mid-run, never between its
    # agent's last line and the commit of its result
    task_md "$TASKS" "$i" "Step $i" backend "Do step $i. [fake:slow:2] [key:t$i]"
done
export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"

RUNNING_AT_KILL=()
declare -A COMPLETED_BEFORE   # task id -> 1, reported completed before some kill

# crash_after K: wait until K tasks are completed, then kill -9 the host
crash_after() {
    local k=$1 sub=$2
    wait_for sj_true "sum(1 for t in s['tasks'] if t['status'] == 'completed') >= $k"
    local host
    host=$(host_pid_of "$sub")
    [ -n "$host" ] || fail "cannot find the orch-host pid (after $k completed)"
    kill -KILL "$host"
    local rc
    rc=$(bg_wait "$T/run.$k.out")
    expect_eq "$rc" 137 "exit code of the killed host"
    # what the store says right after the crash
    sj "s['host_alive']" >"$T/alive"
    expect_eq "$(cat "$T/alive")" false "host_alive after kill -9"
    local id
    for id in $(sj "' '.join(t['id'] for t in s['tasks'] if t['status'] == 'running')"); do
        # a task reported completed before an earlier kill must never run again
        [ -z "${COMPLETED_BEFORE[$id]:-}" ] || fail "task $id runs again after it was reported completed"
        RUNNING_AT_KILL+=("$id")
    done
    for id in $(sj "' '.join(t['id'] for t in s['tasks'] if t['status'] == 'completed')"); do
        COMPLETED_BEFORE[$id]=1
    done
    local n
    n=$(sj "sum(1 for t in s['tasks'] if t['status'] == 'completed')")
    [ "$n" -ge "$k" ] || fail "after kill -9: $n completed, but $k were reported before"
    note "killed after $n completed (running: ${RUNNING_AT_KILL[*]:-none})"
    # the orphaned agent must not go on working on its own (check, with a bound)
    WAIT_TIMEOUT=15 wait_for no_agents
}

bg_run "$T/run.3.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input
crash_after 3 "$BG_PID"
bg_run "$T/run.8.out" orch resume --auto-approve --no-input
crash_after 8 "$BG_PID"
bg_run "$T/run.14.out" orch resume --auto-approve --no-input
crash_after 14 "$BG_PID"
bg_run "$T/final.out" orch resume --auto-approve --no-input
WAIT_TIMEOUT=300
rc=$(bg_wait "$T/final.out")
WAIT_TIMEOUT=60
[ "$rc" = 0 ] || { cat "$T/final.out" >&2; fail "final resume: expected exit 0, got $rc"; }

expect_eq "$(session_status)" completed "session status at the end"
expect_eq "$(completed_count)" $N "completed tasks"
expect_eq "$(sj "len(s['tasks'])")" $N "tasks in the session"
expect_eq "$(orch sessions --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 1 \
    "sessions (resume must continue the same one)"

for i in $(seq 1 $N); do
    k=t$i
    expect_eq "$(grep -cx "end $k" "$T/ledger")" 1 "ledger: 'end $k' lines (finished agent runs)"
    # 1 start, plus 1 for each kill that hit it mid-run; a task reported completed
    # before a kill is never started again
    at_kill=0
    for r in "${RUNNING_AT_KILL[@]}"; do [ "$r" = "$i" ] && at_kill=$((at_kill + 1)); done
    [ $at_kill -le 1 ] || fail "task $i was running at $at_kill kills: it ran again after a resume completed it?"
    expect_eq "$(grep -cx "start $k" "$T/ledger")" $((1 + at_kill)) "ledger: 'start $k' lines (running at a kill: $at_kill)"
done
expect_eq "${#RUNNING_AT_KILL[@]}" 3 "tasks running at the three kills"
# each task's stored numbers belong to one finished run
expect_eq "$(sj "all(t['cost_usd'] > 0 and t['tokens'] > 0 for t in s['tasks'])")" true "cost and tokens of every task"
note PASS
