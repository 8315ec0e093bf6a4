#!/usr/bin/env bash
# A skip or cancel of a task in hand whose agent is not running says so, in
# its reply and in the task's error:
# A: live: a task waiting for a retry (its backoff) cancelled, one waiting
#    for its question's answer skipped: "it was waiting for a retry / for an
#    answer; no agent was running", errors "cancelled / skipped by NAME while
#    waiting ...", the cancel's note kept with its decision;
# B: the host killed during a backoff: a bare `skip` (the one task in hand)
#    is not refused: it skips the stored task, as skip --task does, and the
#    resumed day runs the rest, never that task.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger ORCH_QUESTIONS_DIR=$T/questions
export ORCH_RETRY_TRANSIENT=2 ORCH_RETRY_BACKOFF=600 ORCH_RETRY_BACKOFF_MAX=600  # a wait the test outlasts
touch "$T/ledger"
errors() { sj "[[t['status'], t.get('error')] for t in s['tasks']]"; }

# --- A: live
task_md "$T/a.md" 1 "Fails" backend "Do it. [fake:fail] [key:a1]"
task_md "$T/a.md" 2 "Asks" backend "Do it. [fake:question] [key:a2]"
bg_run "$T/a.out" orch run daily.lua --tasks "$T/a.md" --auto-approve --no-input --max-concurrent 2
wait_for sj_true "[t['status'] for t in s['tasks']] == ['waiting_retry', 'waiting_answer']"
orch cancel --task 1 --by tester --note "the API is down today" >"$T/cancel.out" 2>&1 ||
    fail "cancel --task 1: $(cat "$T/cancel.out")"
check_eq "$(cat "$T/cancel.out")" \
    "Cancelling task 1: it was waiting for a retry; no agent was running, none is stopped; it ends cancelled" \
    "cancel's reply during the backoff"
orch skip --task 2 --by tester >"$T/skip.out" 2>&1 || fail "skip --task 2: $(cat "$T/skip.out")"
check_eq "$(cat "$T/skip.out")" "Skipping task 2: it was waiting for an answer; no agent was running, none is stopped" \
    "skip's reply to a question waiting"
expect_eq "$(bg_wait "$T/a.out")" 0 "A: exit code"
check_eq "$(errors)" \
    '[["cancelled", "cancelled by tester while waiting for a retry"], ["skipped", "skipped by tester while waiting for an answer"]]' \
    "A: the tasks' errors"
check_eq "$(sj "[(d['action'], d.get('note')) for d in s['tasks'][0]['approvals']]")" \
    '[["cancel", "the API is down today"]]' "A: the cancel's decision and its note"
check_eq "$(starts a1)" 1 "A: runs of the task cancelled in its backoff"

# --- B: the host killed during a backoff, then a bare skip
task_md "$T/b.md" 1 "Fails" backend "Do it. [fake:fail] [key:b1]"
task_md "$T/b.md" 2 "Then this" backend "Do it. [key:b2]"
bg_run "$T/b.out" orch run daily.lua --tasks "$T/b.md" --auto-approve --no-input
wait_for sj_true "s['tasks'][0]['status'] == 'waiting_retry'"
kill -KILL "$(host_pid_of "$BG_PID")"
expect_eq "$(bg_wait "$T/b.out")" 137 "B: exit code of the killed host"
SID=$(sj "s['id']")
rc=0
orch skip --by tester --note "retry tomorrow" >"$T/skip-down.out" 2>&1 || rc=$?
check_eq "$rc" 0 "B: exit code of a bare skip while the host is down ($(cat "$T/skip-down.out"))"
check_eq "$(cat "$T/skip-down.out")" \
    "Task 1 of session $SID skipped (no host runs the session): it does not run when the session resumes" \
    "B: the skip's reply"
# (expect: a resume of a task still in its backoff would wait it out)
expect_eq "$(errors)" '[["skipped", "skipped by tester while waiting for a retry"], ["pending", null]]' \
    "B: the tasks after the skip"
# its note is kept with the decision, shown by status and the report
check_eq "$(sj "[(d['action'], d['by'], d.get('note')) for d in s['tasks'][0]['approvals']]")" \
    '[["skip", "tester", "retry tomorrow"]]' "B: the skip's decision and its note"
orch status >"$T/status-down.txt" 2>&1
check "B: status shows the note: $(grep -A2 Decisions "$T/status-down.txt")" \
    grep -q '^  1    skip by tester (cli) at .*: "retry tomorrow"$' "$T/status-down.txt"
rc=0
orch resume >"$T/resume.out" 2>&1 || rc=$?
check_eq "$rc" 0 "B: exit code of the resumed day ($(tail -3 "$T/resume.out"))"
check_eq "$(sj "[t['status'] for t in s['tasks']]")" '["skipped", "completed"]' "B: the tasks after the resume"
check_eq "$(starts b1)" 1 "B: runs of the skipped task"
orch report --stdout >"$T/report.md" 2>&1
check "B: the report shows the note: $(grep Decided "$T/report.md")" \
    grep -q '^- Decided: skip by tester (cli) at .*: "retry tomorrow"$' "$T/report.md"
finish
