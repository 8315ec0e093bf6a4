#!/usr/bin/env bash
# Usage limits park the day (lib/limits, lib/agent_outcome):
# A: an agent that hits the usage limit (a rejected rate_limit_event) is
#    waiting_limit, not failed; one notification says when work resumes; no
#    agent starts before then; at that time the task continues its own claude
#    session (--resume) and the others start. Nothing fails.
# B: the older result text ("usage limit reached|<epoch>") parks the same way.
# C: a rate_limit_event that is only a warning is logged and changes nothing.
# D: kill -9 of the host while a task is parked: `resume` waits for the stored
#    time, then continues that task's own session.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger FAKE_CLAUDE_ARGS_LOG=$T/args.log
printf 'return { orchestrator = { limit_jitter = 0.5 } }\n' >"$T/config.lua"
day() { orch run daily.lua --config "$T/config.lua" --auto-approve --no-input "$@"; }
RESUME_KEY="The usage limit that stopped you has res"

# --- A: task 1 hits the limit; task 3 may not start an agent before the reset
: >"$T/a.md"
task_md "$T/a.md" 1 "Hits the limit" backend "Work. [fake:limit:4] [key:l1]"
task_md "$T/a.md" 2 "Works a while" backend "Work. [fake:slow:1] [key:l2]"
task_md "$T/a.md" 3 "Comes later" backend "Work. [key:l3]"
: >"$T/logs/events.ndjson"
bg_run "$T/a.out" day --tasks "$T/a.md" --max-concurrent 2
wait_for sj_true "s['tasks'][0]['status'] == 'waiting_limit'"
orch status >"$T/a.status" 2>&1 || true
check "A: status shows the parked task" grep -q "waiting_limit" "$T/a.status"
check "A: status says when work resumes" grep -q "usage limit: work resumes at .* UTC" "$T/a.status"
rc=$(bg_wait "$T/a.out")
expect_eq "$rc" 0 "A: exit code"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "completed", "completed"]' "A: every task completed"
check_eq "$(grep -c 'Usage limit reached' "$T/a.out")" 1 "A: one notification"
check_eq "$(ev "sum(1 for e in ev if e['event'] == 'usage_limit')")" 1 "A: one usage_limit gate"
check_eq "$(ev "sum(1 for e in ev if e['event'] in ('task_failed', 'retry'))")" 0 "A: nothing failed or retried"
check_eq "$(starts "$RESUME_KEY")" 1 "A: one continuation run"
sid=$(ev "[e for e in ev if e['event'] == 'task_waiting_limit'][0]['session']")
claude_sid=$(sj "s['tasks'][0].get('claude_session')")
check "A: the continuation resumed the task's own claude session ($claude_sid)" \
    grep -q $'\x1f--resume\x1f'"$claude_sid" "$T/args.log"
check_eq "$(sj "s['tasks'][0]['result'].startswith('Resumed with answer: The usage limit')")" true \
    "A: task 1's result is its resumed session's"
# every agent start after the limit (task 3, task 1's continuation) came after the gate's time
gate="[e for e in ev if e['event'] == 'usage_limit'][0]"
check_eq "$(ev "all(e['ts'] >= $gate['until'] - 0.05 for e in ev if e['event'] == 'claude_started' and e['ts'] > $gate['ts'])")" \
    true "A: no agent started while the gate was closed"
check_eq "$(ev "len([e for e in ev if e['event'] == 'claude_started' and e.get('task') == '3'])")" 1 "A: task 3 ran once"
check "A: no agent left" no_agents

# --- B: the result text alone parks too, until the time it names
: >"$T/b.md"
task_md "$T/b.md" 1 "Old text" backend "Work. [fake:limit_text:3] [key:t1]"
: >"$T/logs/events.ndjson"
bg_run "$T/b.out" day --tasks "$T/b.md"
rc=$(bg_wait "$T/b.out")
expect_eq "$rc" 0 "B: exit code"
expect_eq "$(task_status 1)" completed "B: task completed"
check_eq "$(ev "[e for e in ev if e['event'] == 'usage_limit'][0]['resets_at'] > 0")" true "B: the reset time read from the text"
check_eq "$(grep -c 'Usage limit reached' "$T/b.out")" 1 "B: one notification"

# --- C: a warning changes nothing
: >"$T/c.md"
task_md "$T/c.md" 1 "Warned" backend "Work. [fake:rate_warning] [key:w1]"
: >"$T/logs/events.ndjson"
bg_run "$T/c.out" day --tasks "$T/c.md"
rc=$(bg_wait "$T/c.out")
expect_eq "$rc" 0 "C: exit code"
expect_eq "$(task_status 1)" completed "C: task completed"
check "C: the warning is logged" grep -q "rate limit allowed_warning (five_hour, 90% used" "$T/c.out"
check_eq "$(ev "sum(1 for e in ev if e['event'] in ('usage_limit', 'task_waiting_limit'))")" 0 "C: no park"
check_eq "$(starts w1)" 1 "C: one run"

# --- D: kill -9 while parked; resume waits for the stored time, then continues the session
: >"$T/d.md"
task_md "$T/d.md" 1 "Parked across a crash" backend "Work. [fake:limit:6] [key:k1]"
: >"$T/logs/events.ndjson"
bg_run "$T/d1.out" day --tasks "$T/d.md"
SUB=$BG_PID
wait_for sj_true "s['tasks'][0]['status'] == 'waiting_limit'"
HOST=$(host_pid_of "$SUB")
[ -n "$HOST" ] || fail "D: cannot find the orch-host pid"
kill -KILL "$HOST"
rc=$(bg_wait "$T/d1.out")
expect_eq "$rc" 137 "D: the killed host"
expect_eq "$(task_status 1)" waiting_limit "D: still parked after the crash"
parked_sid=$(sj "s['tasks'][0].get('limit_session')")
check "D: the parked session is stored" test -n "$parked_sid" -a "$parked_sid" != null
until_ts=$(ev "[e for e in ev if e['event'] == 'usage_limit'][0]['until']")
bg_run "$T/d2.out" orch resume --config "$T/config.lua" --auto-approve --no-input
rc=$(bg_wait "$T/d2.out")
expect_eq "$rc" 0 "D: resume exit code"
expect_eq "$(task_status 1)" completed "D: task completed after resume"
check "D: the continuation resumed the parked session" grep -q $'\x1f--resume\x1f'"$parked_sid" "$T/args.log"
check_eq "$(ev "all(e['ts'] >= $until_ts - 0.05 for e in ev if e['event'] == 'claude_started' and e.get('resume'))")" true \
    "D: not before the stored time"
check_eq "$(starts k1)" 1 "D: the task's prompt ran once (then its session continued)"
finish
