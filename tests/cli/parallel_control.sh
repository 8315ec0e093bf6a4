#!/usr/bin/env bash
# Commands aimed at one task of several running at once, and kill -9 of a
# parallel day then `resume`: finished tasks are not run again, the ones that
# were running start again, blocked ones stay blocked, no cost counts twice.
# Sequencing comes from the stand-in agent's ledger, never from sleeps.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"

dep_md() {  # dep_md FILE ID TITLE DEPENDS INSTRUCTION
    local file=$1 id=$2 title=$3 deps=$4 instr=$5
    [ -s "$file" ] || printf '# Tasks - %s\n\n' "$(date +%F)" >"$file"
    {
        printf '## Task %s: %s\n**Type:** backend\n**Priority:** medium\n' "$id" "$title"
        [ -z "$deps" ] || printf '**Depends On:** %s\n' "$deps"
        printf '**Description:** %s\n\n**Claude Instruction:**\n%s\n\n---\n\n' "$title" "$instr"
    } >>"$file"
}
started() { grep -q -x "start $1" "$T/ledger"; }

# --- skip while two run: without a task it is refused, naming both; with one it
# stops that one only; once one runs, a plain skip means it again
K=$T/skip.md
dep_md "$K" 1 "Long one" "" "One. [key:k1] [fake:hang]"
dep_md "$K" 2 "Long two" "" "Two. [key:k2] [fake:hang]"
bg_run "$T/skip.out" orch run daily.lua --tasks "$K" --auto-approve --no-input --max-concurrent 2
wait_for started k1
wait_for started k2
wait_for sj_true "[t['status'] for t in s['tasks']] == ['running', 'running']"
RC=0
orch skip >"$T/skip1.out" 2>&1 || RC=$?
expect_eq "$RC" 1 "exit code of a skip that names no task while two run"
grep -q "1 (running), 2 (running)" "$T/skip1.out" || fail "the refusal does not name the running tasks: $(cat "$T/skip1.out")"
orch skip --task 2 >"$T/skip2.out" 2>&1 || fail "skip --task 2: $(cat "$T/skip2.out")"
wait_for sj_true "[t['status'] for t in s['tasks']] == ['running', 'skipped']"
orch skip >"$T/skip3.out" 2>&1 || fail "skip with one task running: $(cat "$T/skip3.out")"
expect_eq "$(bg_wait "$T/skip.out")" 0 "exit code after both were skipped"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["skipped", "skipped"]' "both skipped"
WAIT_TIMEOUT=15 wait_for no_agents

# --- orch-host cancel --task: one not started yet ends cancelled, unrun (the
# reply says so), a running one is stopped (cancelled, as the webhook's and
# Telegram's cancel do; a skip ends skipped); the note given is kept with the
# decision (status, status --json, the report); without --task it is bad
# input naming what it needs
C=$T/cancel.md
dep_md "$C" 1 "Runs" "" "One. [key:c1] [fake:hang]"
dep_md "$C" 2 "Waits its turn" "" "Two. [key:c2]"
bg_run "$T/cancel.out" orch run daily.lua --tasks "$C" --auto-approve --no-input --max-concurrent 1
wait_for started c1
RC=0
orch cancel >"$T/cancel0.out" 2>&1 || RC=$?
expect_eq "$RC" 2 "exit code of a cancel that names no task"
grep -q "which task" "$T/cancel0.out" || fail "cancel without --task: $(cat "$T/cancel0.out")"
orch cancel 2 >"$T/cancel2.out" 2>&1 || fail "cancel 2 (TASK, the same as --task): $(cat "$T/cancel2.out")"
grep -q "Cancelling task 2: it ends cancelled" "$T/cancel2.out" || fail "cancel --task 2's reply: $(cat "$T/cancel2.out")"
wait_for sj_true "s['tasks'][1]['status'] == 'cancelled'"
orch cancel --task 1 --by tester --note "wrong approach" >"$T/cancel1.out" 2>&1 ||
    fail "cancel --task 1: $(cat "$T/cancel1.out")"
bg_wait "$T/cancel.out" >/dev/null
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["cancelled", "cancelled"]' "statuses after the two cancels"
expect_eq "$(sj "[s['cancelled'], s['skipped']]")" '[2, 0]' "status --json's counts after the two cancels"
expect_eq "$(sj "[s['tasks'][0]['error'], s['tasks'][0].get('skipped_by')]")" \
    '["cancelled by tester while it ran", "tester"]' "the running task's end says who stopped it"
expect_eq "$(sj "[(d['action'], d['by'], d.get('note')) for d in s['tasks'][0]['approvals']]")" \
    '[["cancel", "tester", "wrong approach"]]' "the cancel's decision keeps its note"
orch status >"$T/cancel-status.txt" 2>&1
grep -q '^  1    cancel by tester (cli) at .*: "wrong approach"$' "$T/cancel-status.txt" ||
    fail "status does not show the cancel's note: $(cat "$T/cancel-status.txt")"
orch report --stdout "$(sj "s['id']")" >"$T/cancel-report.md" 2>&1
grep -q '^- Decided: cancel by tester (cli) at .*: "wrong approach"$' "$T/cancel-report.md" ||
    fail "the report does not show the cancel's note: $(cat "$T/cancel-report.md")"
expect_eq "$(starts c2)" 0 "runs of the task cancelled before its turn"
WAIT_TIMEOUT=15 wait_for no_agents
RC=0
orch cancel --task 1 >"$T/cancel-done.out" 2>&1 || RC=$?
expect_eq "$RC" 1 "exit code of a cancel of a finished task (nothing to do)"
grep -q "Task 1 is already cancelled" "$T/cancel-done.out" || fail "the finished task's refusal: $(cat "$T/cancel-done.out")"

# --- cancel of a task of a paused session (no host): the stored task ends
# cancelled and the resume does not run it (the command used to be taken, and
# lost, as the resumed host started: the task ran)
P=$T/cancel-paused.md
dep_md "$P" 1 "Runs" "" "One. [key:p1] [fake:await:go-p1]"
dep_md "$P" 2 "Cancelled while paused" "" "Two. [key:p2]"
dep_md "$P" 3 "Needs two" 2 "Three. [key:p3]"
bg_run "$T/cp.out" orch run daily.lua --tasks "$P" --auto-approve --no-input --max-concurrent 1
wait_for started p1
orch pause >/dev/null 2>&1 || fail "pause"
echo go-p1 >>"$T/ledger"
expect_eq "$(bg_wait "$T/cp.out")" 3 "exit code of the paused day"
orch cancel --task 2 >"$T/cp-cancel.out" 2>&1 || fail "cancel --task 2 of the paused session: $(cat "$T/cp-cancel.out")"
grep -q "does not run when the session resumes" "$T/cp-cancel.out" || fail "the reply: $(cat "$T/cp-cancel.out")"
RC=0
orch resume --no-input >"$T/cp2.out" 2>&1 || RC=$?
expect_eq "$RC" 1 "exit code of the resumed day (a blocked task): $(tail -5 "$T/cp2.out")"
expect_eq "$(starts p2)" 0 "runs of the task cancelled while the session was paused"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "cancelled", "blocked"]' "statuses after the resume"
expect_eq "$(sj "s['tasks'][2]['error']")" "blocked: 2 cancelled" "the dependent's reason"

# --- kill -9 mid-run, then resume
: >"$T/ledger"
R=$T/resume.md
dep_md "$R" 1 "Quick" "" "Quick. [key:r1]"
dep_md "$R" 2 "Breaks" 1 "Break. [key:r2] [fake:fail]"
dep_md "$R" 3 "Blocked" 2 "Never. [key:r3]"
dep_md "$R" 4 "Long A" "" "A. [key:r4] [fake:await:resumed]"
dep_md "$R" 5 "Long B" "" "B. [key:r5] [fake:await:resumed]"
bg_run "$T/run1.out" orch run daily.lua --tasks "$R" --auto-approve --no-input --max-concurrent 3
wait_for sj_true "[t['status'] for t in s['tasks']] == ['completed', 'failed', 'blocked', 'running', 'running']"
wait_for started r4
wait_for started r5
HOST=$(host_pid_of "$BG_PID")
[ -n "$HOST" ] || fail "cannot find the orch-host pid"
kill -KILL "$HOST"
expect_eq "$(bg_wait "$T/run1.out")" 137 "exit code of the killed host"
WAIT_TIMEOUT=15 wait_for no_agents
COST1=$(sj "s['tasks'][0]['cost_usd']")
echo resumed >>"$T/ledger"   # the restarted runs of 4 and 5 find it at once
# resume's --max-concurrent is the session's from now on (it was started with 3)
orch resume --no-input --max-concurrent 2 >"$T/run2.out" 2>&1 || RC=$?
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "failed", "blocked", "completed", "completed"]' \
    "statuses after resume"
expect_eq "$(sj "s['max_concurrent']")" 2 "max_concurrent after resume --max-concurrent 2"
for k in r1 r2; do expect_eq "$(grep -c -x "start $k" "$T/ledger")" 1 "runs of $k (finished before the kill)"; done
expect_eq "$(grep -c -x 'start r3' "$T/ledger")" 0 "runs of the blocked task"
for k in r4 r5; do expect_eq "$(grep -c -x "start $k" "$T/ledger")" 2 "runs of $k (running at the kill)"; done
expect_eq "$(sj "s['tasks'][0]['cost_usd']")" "$COST1" "cost of task 1 after resume"
expect_eq "$(sj "abs(s['cost_usd'] - sum(t.get('cost_usd') or 0 for t in s['tasks'])) < 1e-9")" true \
    "the session's cost is its tasks' (each run once)"
expect_eq "$(sj "abs(s['tasks'][3]['cost_usd'] - s['tasks'][0]['cost_usd']) < 1e-9")" true \
    "a restarted task's cost is one run's"
note "ok"

# --- pause while two run: no new task starts, the running ones finish (the
# default policy), the session pauses; resume starts the rest
: >"$T/ledger"
P=$T/pause.md
dep_md "$P" 1 "Runs A" "" "A. [key:p1] [fake:await:go]"
dep_md "$P" 2 "Runs B" "" "B. [key:p2] [fake:await:go]"
dep_md "$P" 3 "Waits" "" "C. [key:p3]"
bg_run "$T/pause.out" orch run daily.lua --tasks "$P" --auto-approve --no-input --max-concurrent 2
wait_for started p1
wait_for started p2
orch pause >"$T/pause1.out" 2>&1 || fail "pause: $(cat "$T/pause1.out")"
grep -q "once its 2 running tasks end: no new task starts" "$T/pause1.out" || fail "the pause's reply: $(cat "$T/pause1.out")"
wait_for grep -q "command pause" "$T/logs/"*.log
echo go >>"$T/ledger"
expect_eq "$(bg_wait "$T/pause.out")" 3 "exit code of a paused day"
expect_eq "$(sj "[s['status']] + [t['status'] for t in s['tasks']]")" '["paused", "completed", "completed", "pending"]' \
    "after the pause"
expect_eq "$(grep -c -x 'start p3' "$T/ledger")" 0 "a task started after the pause"
orch resume --no-input >"$T/pause2.out" 2>&1 || fail "resume after pause: $(tail -5 "$T/pause2.out")"
expect_eq "$(sj "[s['status']] + [t['status'] for t in s['tasks']]")" '["completed", "completed", "completed", "completed"]' \
    "after resume"
note "pause ok"

# --- the budget: once reached, no new agent starts, the running one finishes,
# the tasks left are skipped (budget); 1 and 2 run at once (each waits for the
# other's start), so the first to end spends the budget while the other runs
: >"$T/ledger"
B=$T/budget.md
dep_md "$B" 1 "Spend A" "" "A. [key:b1] [fake:await:start b2]"
dep_md "$B" 2 "Spend B" "" "B. [key:b2] [fake:await:start b1]"
dep_md "$B" 3 "Left C" "" "C. [key:b3]"
dep_md "$B" 4 "Left D" 3 "D. [key:b4]"
RC=0
MAX_DAILY_COST_USD=0.03 orch run daily.lua --tasks "$B" --auto-approve --no-input --max-concurrent 2 \
    >"$T/budget.out" 2>&1 || RC=$?
expect_eq "$RC" 0 "exit code of a day the budget ended"
expect_eq "$(sj "[s['status']] + [t['status'] for t in s['tasks']]")" \
    '["completed", "completed", "completed", "skipped", "skipped"]' "after the budget"
expect_eq "$(sj "[t.get('error') for t in s['tasks'][2:]]")" '["skipped: budget", "skipped: budget"]' "budget reason"
expect_eq "$(grep -c -e '^start b3' -e '^start b4' "$T/ledger")" 0 "a task started after the budget"
SID=$(sj "s['id']")
expect_eq "$(grep '"event":"task_finished"' "$T/logs/events.ndjson" | grep -c "\"session\":\"$SID\"")" 4 \
    "task_finished events (one per task: 4 is skipped, not blocked first)"
grep -q "Budget reached" "$T/budget.out" || fail "no budget notification: $(cat "$T/budget.out")"
note "budget ok"

# --- the budget spent while other tasks wait for their approval: their
# requests are withdrawn and they are skipped (budget), and the day ends by
# itself instead of waiting for approvals of tasks that would not start
: >"$T/ledger"
A=$T/budget-approvals.md
dep_md "$A" 1 "Spend" "" "A. [key:a1]"
dep_md "$A" 2 "Waits" "" "B. [key:a2]"
dep_md "$A" 3 "Waits too" "" "C. [key:a3]"
APPROVAL_MODE=manual MAX_DAILY_COST_USD=0.03 bg_run "$T/budget-approvals.out" \
    orch run daily.lua --tasks "$A" --no-input --max-concurrent 3
wait_for sj_true "[t['status'] for t in s['tasks']] == ['waiting_approval'] * 3"
# the request status shows (Telegram's /status buttons are its) is the current task's, as the text names it
expect_eq "$(sj "[s['current']['id'], s['waiting']['task'], s['pending_approval']['task_id']]")" '["1", "1", "1"]' \
    "the current task and the request status shows while three wait"
orch approve --task 1 >/dev/null || fail "approve --task 1"
RC=$(WAIT_TIMEOUT=120 bg_wait "$T/budget-approvals.out")
expect_eq "$RC" 0 \
    "exit code of a day the budget ended while tasks waited: $(cat "$T/budget-approvals.out")"
expect_eq "$(sj "[s['status']] + [t['status'] for t in s['tasks']]")" \
    '["completed", "completed", "skipped", "skipped"]' "after the budget, with approvals waiting"
expect_eq "$(sj "[t.get('error') for t in s['tasks'][1:]]")" '["skipped: budget", "skipped: budget"]' \
    "the waiting tasks' reason"
expect_eq "$(grep -c -e '^start a2' -e '^start a3' "$T/ledger")" 0 "a waiting task started after the budget"
expect_eq "$(sqlite3 "$ORCH_STATE_DB" "SELECT count(*) FROM approvals WHERE status='pending'")" 0 \
    "approval requests left open"
note "budget with approvals waiting ok"

# --- the budget spent while a task waits for its agent's answer: its question
# is withdrawn and it is skipped (budget), as is the task made ready by the
# spender's end, and the day ends by itself; no agent runs again for the answer
: >"$T/ledger"
Q=$T/budget-question.md
dep_md "$Q" 1 "Asks" "" "A. [key:q1] [fake:question]"
dep_md "$Q" 2 "Spends" "" "B. [key:s2] [fake:await:asked]"
dep_md "$Q" 3 "Left" 2 "C. [key:l3]"
MAX_DAILY_COST_USD=0.05 ORCH_QUESTIONS_DIR=$T/questions bg_run "$T/budget-question.out" \
    orch run daily.lua --tasks "$Q" --auto-approve --no-input --max-concurrent 3
wait_for sj_true "[t['status'] for t in s['tasks']][:2] == ['waiting_answer', 'running']"
SID=$(sj "s['id']")
expect_eq "$(ls "$T/questions" | grep -c "^$SID-")" 1 "question files while it waits"
echo asked >>"$T/ledger"  # task 2 ends now: its cost spends the budget while 1 waits
RC=$(WAIT_TIMEOUT=60 bg_wait "$T/budget-question.out")
expect_eq "$RC" 0 "exit code of a day the budget ended while a question waited: $(cat "$T/budget-question.out")"
expect_eq "$(sj "[s['status']] + [t['status'] for t in s['tasks']]")" \
    '["completed", "skipped", "completed", "skipped"]' "after the budget, with a question waiting"
expect_eq "$(sj "[s['tasks'][0].get('error'), s['tasks'][2].get('error')]")" '["skipped: budget", "skipped: budget"]' \
    "the waiting and the ready task's reason"
expect_eq "$(grep -c -x 'start l3' "$T/ledger")" 0 "a task started after the budget"
expect_eq "$(grep '"event":"claude_started"' "$T/logs/events.ndjson" | grep -c "\"session\":\"$SID\"")" 2 \
    "agent runs (the question's and the spender's, none after the budget)"
expect_eq "$(sqlite3 "$ORCH_STATE_DB" "SELECT count(*) FROM approvals WHERE status='pending'")" 0 \
    "question requests left open"
expect_eq "$(ls "$T/questions" | grep -c "^$SID-")" 0 "question files left"
note "budget with a question waiting ok"

# --- pause with orchestrator.pause_stops_agent: both running agents stop now,
# their tasks are paused; resume runs them again
: >"$T/ledger"
printf 'return { orchestrator = { pause_stops_agent = true } }\n' >"$T/stop-config.lua"
H=$T/hard-pause.md
dep_md "$H" 1 "Stops A" "" "A. [key:h1] [fake:await:again]"
dep_md "$H" 2 "Stops B" "" "B. [key:h2] [fake:await:again]"
bg_run "$T/hard.out" orch --config "$T/stop-config.lua" run daily.lua --tasks "$H" --auto-approve --no-input \
    --max-concurrent 2
wait_for grep -q -x "start h1" "$T/ledger"
wait_for grep -q -x "start h2" "$T/ledger"
orch --config "$T/stop-config.lua" pause >"$T/hard1.out" 2>&1 || fail "pause: $(cat "$T/hard1.out")"
grep -q "stopping its running agents now" "$T/hard1.out" || fail "pause's answer with pause_stops_agent: $(cat "$T/hard1.out")"
expect_eq "$(bg_wait "$T/hard.out")" 3 "exit code of a paused day"
expect_eq "$(sj "[s['status']] + [t['status'] for t in s['tasks']]")" '["paused", "paused", "paused"]' \
    "after a pause that stops the agents"
WAIT_TIMEOUT=15 wait_for no_agents
echo again >>"$T/ledger"
orch --config "$T/stop-config.lua" resume --no-input >"$T/hard2.out" 2>&1 || fail "resume: $(tail -5 "$T/hard2.out")"
expect_eq "$(sj "[s['status']] + [t['status'] for t in s['tasks']]")" '["completed", "completed", "completed"]' \
    "after resume"
note "hard pause ok"

# --- kill -9 while a question waits, then resume: the run that asked counts
# once; the resumed task asks the same again without a new run, and the
# answer's run counts once
: >"$T/ledger"
Q=$T/question-kill.md
dep_md "$Q" 1 "Asks" "" "Ask. [key:q1] [fake:question]"
bg_run "$T/q1.out" orch run daily.lua --tasks "$Q" --auto-approve --no-input
wait_for sj_true "s['tasks'][0]['status'] == 'waiting_answer'"
RUN=$(sj "s['tasks'][0]['cost_usd']")
python3 -c "import sys; sys.exit(0 if float('$RUN') > 0 else 1)" || fail "the asking run's cost is not recorded: $RUN"
HOST=$(host_pid_of "$BG_PID")
kill -KILL "$HOST"
expect_eq "$(bg_wait "$T/q1.out")" 137 "exit code of the killed host"
# the first command after a dead host clears its lock note under the lock: not
# beside the resume (which would then think a host runs and only send it the resume)
orch status >/dev/null 2>&1
bg_run "$T/q2.out" orch resume --no-input
wait_for sj_true "s['tasks'][0]['status'] == 'waiting_answer' and s.get('host_alive') is True"
expect_eq "$(sj "abs(s['tasks'][0]['cost_usd'] - $RUN) < 1e-9")" true "the cost while it asks again (no new run)"
expect_eq "$(grep -c '^start q1' "$T/ledger")" 1 "runs of task 1 before the answer"
orch answer "use pattern B" >"$T/q-answer.out" 2>&1 || fail "answer: $(cat "$T/q-answer.out")"
expect_eq "$(bg_wait "$T/q2.out")" 0 "exit code after the answer"
expect_eq "$(sj "abs(s['tasks'][0]['cost_usd'] - 2 * $RUN) < 1e-9 and abs(s['cost_usd'] - 2 * $RUN) < 1e-9")" true \
    "two agent runs, each counted once: $(sj "s['tasks'][0]['cost_usd']")"
note "question cost ok"
