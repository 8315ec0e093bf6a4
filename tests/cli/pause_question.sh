#!/usr/bin/env bash
# `pause` while only questions wait (no agent running, two tasks waiting for
# answers): the session is paused by whoever paused it, as a pause with
# running agents is (pause_reason "paused by NAME", status says so), not
# "interrupted"; both tasks are paused and ask again at the resume.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger ORCH_QUESTIONS_DIR=$T/questions
touch "$T/ledger"
task_md "$T/day.md" 1 "Asks" backend "Do it. [fake:question] [key:q1]"
task_md "$T/day.md" 2 "Asks too" backend "Do it. [fake:question] [key:q2]"
bg_run "$T/run.out" orch run daily.lua --tasks "$T/day.md" --auto-approve --no-input --max-concurrent 2
wait_for sj_true "[t['status'] for t in s['tasks']] == ['waiting_answer', 'waiting_answer']"
orch pause --by tester >"$T/pause.out" 2>&1 || fail "pause: $(cat "$T/pause.out")"
expect_eq "$(bg_wait "$T/run.out")" 3 "exit code (paused)"
check_eq "$(sj "[s['status'], s.get('pause_reason')]")" '["paused", "paused by tester"]' "the session's pause and why"
check_eq "$(sj "[t['status'] for t in s['tasks']]")" '["paused", "paused"]' "the tasks"
orch status >"$T/status.txt" 2>&1 || fail "status: $(cat "$T/status.txt")"
check "status says who paused it: $(head -n1 "$T/status.txt")" grep -q "paused: by tester$" "$T/status.txt"
bg_run "$T/resume.out" orch resume --no-input
wait_for sj_true "[t['status'] for t in s['tasks']] == ['waiting_answer', 'waiting_answer']"
orch answer --task 1 "A" >/dev/null 2>&1 || fail "answer task 1"
orch answer --task 2 "B" >/dev/null 2>&1 || fail "answer task 2"
check_eq "$(bg_wait "$T/resume.out")" 0 "the resumed day's exit code"
check_eq "$(sj "[t.get('result') for t in s['tasks']]")" '["Resumed with answer: A", "Resumed with answer: B"]' \
    "the answers after the resume"
finish
