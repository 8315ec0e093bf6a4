#!/usr/bin/env bash
# Approvals on a terminal: under a real pseudo-terminal (script(1)) the run asks
# "[a]pprove, [s]kip or [p]ause?" and reads the answer from the keyboard:
# a runs the task, s skips it, an unknown answer asks again, p pauses (exit 3).
source "$(dirname "$0")/lib.bash"
command -v script >/dev/null || fail "script(1) (util-linux) is needed for a pseudo-terminal"

TASKS=$T/tasks.md
for i in 1 2 3; do task_md "$TASKS" $i "Backend work $i" backend "Implement part $i. [key:t$i]"; done
export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"

mkfifo "$T/keys"
OUT=$T/terminal.out
# script copies its stdin (the fifo) to the terminal the host sees
script -qfec "$(printf '%q ' "$ORCH_HOST" --root "$ORCH_SRC" run daily.lua --tasks "$TASKS")" /dev/null \
    <"$T/keys" >"$OUT" 2>&1 &
SCRIPT_PID=$!
BG_PIDS+=("$SCRIPT_PID")
exec 3>"$T/keys"   # keep the fifo open for writing

prompts() { grep -o "\[a\]pprove, \[s\]kip or \[p\]ause" "$OUT" 2>/dev/null | wc -l; }
prompted() { [ "$(prompts)" -ge "$1" ]; }
task_is() { [ "$(task_status "$1" 2>/dev/null)" = "$2" ]; }

wait_for prompted 1
printf 'a\n' >&3
wait_for task_is 1 completed

wait_for prompted 2
printf 'maybe\n' >&3          # not an answer: asked again, nothing decided
wait_for grep -q "please type a (approve), s (skip) or p (pause)" "$OUT"
expect_eq "$(task_status 2)" waiting_approval "task 2 after an unknown answer"
printf 's\n' >&3
wait_for task_is 2 skipped

wait_for prompted 3
printf 'p\n' >&3
wait_for test ! -d "/proc/$SCRIPT_PID"
wait "$SCRIPT_PID"
RC=$?
exec 3>&-
expect_eq "$RC" 3 "exit code after pausing at the terminal (script passes it through)"
expect_eq "$(session_status)" paused "session status"
expect_eq "$(task_status 3)" pending "task 3 waits for the next run"
expect_eq "$(grep -c '^end ' "$T/ledger")" 1 "agent runs (task 1 only)"
sj_true "s['tasks'][1].get('skipped_by') == 'terminal'" || fail "task 2 was not skipped by the terminal"
note "ok"
