#!/usr/bin/env bash
# An inbox task's result counts its agent runs (attempts) and gives its
# agent's first start (started_at), whatever started the agent again: a usage
# limit that ended, a question answered, a pause that stopped the agent
# (orchestrator.pause_stops_agent) and the resume.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"

# result NAME EXPR: EXPR of its result r (python)
result() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
    "$ORCH_RESULTS_DIR/$1_result.json" "$2"; }
epoch() { python3 -c 'import datetime,sys; print(datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).timestamp())' "$1"; }

printf 'return { orchestrator = { pause_stops_agent = true } }\n' >"$T/stops.lua"
bg_run "$T/w.out" orch --config "$T/stops.lua" watch --auto-approve --no-input
W_SUB=$BG_PID
wait_for ev_has inbox_started ""
inbox_task "$ORCH_TASKS_DIR/lim.task.md" lim high "Hits the limit [key:lim] [fake:limit:1]"
inbox_task "$ORCH_TASKS_DIR/ask.task.md" ask high "Asks [key:ask] [fake:question]"
wait_for ev_has question_asked ask
orch answer --task ask "blue" >"$T/answer.out" 2>&1 || fail "answer: $(cat "$T/answer.out")"
WAIT_TIMEOUT=120 wait_for done_with lim
WAIT_TIMEOUT=120 wait_for done_with ask
expect_eq "$(result lim 'r["attempts"]')" 2 "attempts of a task whose agent ran again after its usage limit"
expect_eq "$(result ask 'r["attempts"]')" 2 "attempts of a task whose agent ran again with the answer"

inbox_task "$ORCH_TASKS_DIR/held.task.md" held high "Held [key:held] [fake:await:go]"
wait_for grep -q "^start held$" "$T/ledger"
first=$(date +%s.%N)
orch pause --by tester >"$T/pause.out" 2>&1 || fail "pause: $(cat "$T/pause.out")"
wait_for ev_has session_paused ""
orch resume >"$T/resume.out" 2>&1 || fail "resume: $(cat "$T/resume.out")"
second_start() { [ "$(starts held)" -ge 2 ]; }
wait_for second_start
echo go >>"$T/ledger"
WAIT_TIMEOUT=120 wait_for done_with held
expect_eq "$(result held 'r["attempts"]')" 2 "attempts of a task its pause stopped and the resume ran again"
before=$(python3 -c "print($(epoch "$(result held 'r["started_at"]')") < $first)")
expect_eq "$before" True "started_at of the paused task: its agent's first start, before the pause"
kill -TERM "$(host_pid_of "$W_SUB")"
expect_eq "$(bg_wait "$T/w.out")" 0 "exit code of watch"
note PASS
