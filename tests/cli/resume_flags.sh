#!/usr/bin/env bash
# A session keeps the flags it was started with: after `run --auto-approve`
# and a kill -9, a plain `run daily.lua --resume` and then a plain `resume` go on
# without waiting for approval (the tasks' type asks for one otherwise).
# An explicit flag on resume overrides the stored one (--auto-approve=false too).
# A task file edited since the session started: the resume says it runs the stored tasks.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"

# kill_when_running N SUB OUT: once task N's agent works, kill -9 the host of SUB
# (the agents run 12 s: a loaded machine takes seconds per status poll, and
# the kill must land while the agent still works)
kill_when_running() {
    wait_for sj_true "s['tasks'][$1 - 1]['status'] == 'running' and s['host_alive'] is True"
    wait_for task_log_has "$1" "working"
    local host
    host=$(host_pid_of "$2")
    [ -n "$host" ] || fail "cannot find the orch-host pid"
    kill -KILL "$host"
    expect_eq "$(bg_wait "$3")" 137 "exit code of the killed host"
}

# asked_or_ended OUT: the bg_run job OUT ended, or its live host waits for a decision
asked_or_ended() { [ -s "$1.rc" ] || sj_true "'pending_approval' in s and s['host_alive'] is True"; }

TASKS=$T/tasks.md
for i in 1 2 3; do task_md "$TASKS" $i "Step $i" backend "Do step $i. [fake:slow:12] [key:t$i]"; done
bg_run "$T/run1.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input
kill_when_running 1 "$BG_PID" "$T/run1.out"
check_eq "$(sj "[s.get('auto_approve'), s.get('no_input')]")" "[true, true]" "the flags stored with the session"

bg_run "$T/run2.out" orch run daily.lua --resume
SUB=$BG_PID
wait_for sj_true "s['tasks'][1]['status'] == 'running' or 'pending_approval' in s or s['status'] == 'completed'"
check_eq "$(sj "s.get('pending_approval')")" null "run --resume: a wait for approval"
if [ "$(sj "'pending_approval' in s")" = true ]; then orch approve >/dev/null 2>&1; fi
kill_when_running 2 "$SUB" "$T/run2.out"

bg_run "$T/run3.out" orch resume
wait_for asked_or_ended "$T/run3.out"
check_eq "$(sj "s.get('pending_approval')")" null "resume: a wait for approval"
while [ ! -s "$T/run3.out.rc" ] && [ "$(sj "'pending_approval' in s")" = true ]; do
    orch approve >/dev/null 2>&1
    wait_for asked_or_ended "$T/run3.out"
done
rc=$(bg_wait "$T/run3.out")
[ "$rc" = 0 ] || { cat "$T/run3.out" >&2; fail "resume: expected exit 0, got $rc"; }
check_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "completed", "completed"]' "statuses at the end"
check_eq "$(grep -c '"event":"approval_requested"' "$T/logs/events.ndjson")" 0 "approvals asked"

# killed_waiting NAME KEY OUT: a one-task day NAME.md that waits for approval, its host killed
killed_waiting() {
    TASKS=$T/$1.md
    task_md "$TASKS" 1 "$1" backend "Do it. [key:$2]"
    bg_run "$3" orch run daily.lua --tasks "$TASKS" --no-input
    local sub=$BG_PID
    wait_for sj_true "s['task_file'] == '$TASKS' and 'pending_approval' in s and s['host_alive'] is True"
    kill -KILL "$(host_pid_of "$sub")"
    expect_eq "$(bg_wait "$3")" 137 "exit code of the killed host"
}

# An explicit flag wins: a session started without --auto-approve resumes with it.
killed_waiting manual m1 "$T/m1.out"
sed -i 's/Do it\./Do it now./' "$TASKS"  # edited while the host was down: the resume says it runs the stored task
bg_run "$T/m2.out" orch resume --auto-approve
rc=$(bg_wait "$T/m2.out")
[ "$rc" = 0 ] || { cat "$T/m2.out" >&2; fail "resume --auto-approve: expected exit 0, got $rc"; }
check_eq "$(task_status 1)" completed "resume --auto-approve: task 1"
check "resume of an edited file says so ($(cat "$T/m2.out"))" grep -q "$TASKS changed since session .* started" "$T/m2.out"
check "a resume of an unedited file says nothing of it" bash -c '! grep -q "changed since session" "$1"' _ "$T/run3.out"

# ... and one whose file is gone since says that too
killed_waiting gone g1 "$T/g1.out"
rm "$TASKS"
bg_run "$T/g2.out" orch resume --auto-approve
rc=$(bg_wait "$T/g2.out")
[ "$rc" = 0 ] || { cat "$T/g2.out" >&2; fail "resume of a deleted file: expected exit 0, got $rc"; }
check "resume of a deleted file says so ($(cat "$T/g2.out"))" grep -q "$TASKS cannot be read now (.*): the resume runs" \
    "$T/g2.out"

# ... and --auto-approve=false turns a stored one off
TASKS=$T/off.md
task_md "$TASKS" 1 "Auto" backend "Work a while. [fake:slow:12] [key:o1]"
bg_run "$T/o1.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input
kill_when_running 1 "$BG_PID" "$T/o1.out"
bg_run "$T/o2.out" orch resume --auto-approve=false
wait_for asked_or_ended "$T/o2.out"
check_eq "$(sj "s.get('pending_approval', {}).get('task_id')")" 1 "resume --auto-approve=false: the wait"
orch approve >/dev/null 2>&1
rc=$(bg_wait "$T/o2.out")
[ "$rc" = 0 ] || { cat "$T/o2.out" >&2; fail "resume --auto-approve=false: expected exit 0, got $rc"; }
check_eq "$(sj "s.get('auto_approve')")" false "the flag stored after resume --auto-approve=false"

# a flag's value is true or false, nothing else
orch run daily.lua --tasks "$TASKS" --auto-approve=maybe >"$T/bad.out" 2>&1
check_eq "$?" 2 "--auto-approve=maybe: exit code"
check "--auto-approve=maybe: the error names the flag ($(cat "$T/bad.out"))" grep -q -- "--auto-approve=maybe" "$T/bad.out"
finish
