#!/usr/bin/env bash
# Questions park, slots free (lib/questions).
# A: a 3-task day, 2 agents wide. Task 1's agent calls AskUserQuestion: the
#    host stops that run as it sees the tool_use, and task 1 waits_answer
#    holding no agent slot. Tasks 2 and 3 must run at the same time (each
#    waits for the other's start), which two slots allow only if task 1 holds
#    none; both complete while 1 waits, and the day waits (it neither ends nor
#    fails). `orch answer --task 1` continues task 1's own claude session
#    (--resume) with the answer; it completes once, its cost counted once per
#    run. status, the events and the report show the question and the answer.
# B: kill -9 of the host while task 1 waits_answer; `orch answer` while no
#    host runs is kept (status shows it; a second answer is refused naming
#    it); `orch resume` continues the claude session with it.
# C: kill -9, then `orch resume` first: the task asks the same again (no new
#    notification), the answer then continues the session.
# D: two questions at once: an answer naming no task is refused with both ids
#    and how to name one; approve of a question says how to answer it.
# E: Ctrl-C while a question waits pauses the session; resume asks again.
# F: SIGTERM (a clean stop) while a question waits: the question stays open,
#    so an answer while no host runs is kept, as after a kill -9 (B), and the
#    resume continues with it without asking again.
# G: one agent at a time: task 1 asks, task 2 runs in the one slot; the
#    answer comes while task 2 runs: task 1 is running but its agent waits
#    for the slot, which status says, and it continues once task 2 ends.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger
export FAKE_CLAUDE_ARGS_LOG=$T/args.log
touch "$T/ledger" "$T/args.log"
ASK="Which table name, baptisms or baptism?"
ASKED="$ASK (A / B)"   # lib/questions' text of an AskUserQuestion call: the question and its options

# resumed_with SESSION: the claude runs (args log) that had --resume SESSION
resumed_with() {
    python3 - "$T/args.log" "$1" <<'EOF'
import sys
runs = [l.rstrip("\n").split("\x1f")[1:] for l in open(sys.argv[1], encoding="utf-8")]
print(sum(1 for r in runs if "--resume" in r and r[r.index("--resume") + 1] == sys.argv[2]))
EOF
}

# ---------------------------------------------- A: parked in a 2-wide day
TASKS=$T/a.md
task_md "$TASKS" 1 "Ask first" backend "Name the table. [fake:tool:AskUserQuestion:$ASK] [key:a1]"
task_md "$TASKS" 2 "Beside" backend "Work beside. [key:a2] [fake:await:start a3]"
task_md "$TASKS" 3 "Also beside" backend "Work too. [key:a3] [fake:await:start a2]"
bg_run "$T/a.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input --max-concurrent 2
wait_for sj_true "s.get('task_file') == '$TASKS' and s['tasks'][0]['status'] == 'waiting_answer'"
wait_for sj_true "s['tasks'][1]['status'] == 'completed' and s['tasks'][2]['status'] == 'completed'"
check_eq "$(task_status 1)" waiting_answer "A: task 1 while 2 and 3 completed"
check_eq "$(sj "s['tasks'][0]['question']")" "$ASKED" "A: the question stored on task 1"
CSESS=$(sj "s['tasks'][0]['question_session']")
[ -n "$CSESS" ] && [ "$CSESS" != null ] || fail "A: no claude session stored on the waiting task"
check_eq "$(sj "s['status']")" running "A: the session while only a question is open"
check_eq "$(sj "s['host_alive']")" true "A: the host waits (the day did not end)"
[ -s "$T/a.out.rc" ] && fail "A: the day ended while a question waited: $(cat "$T/a.out")"
check_eq "$(sj "[a.get('question') for a in s['agents']]")" "[\"$ASKED\"]" "A: the question on the task in hand"
check_eq "$(sj "s['waiting']['kind'] + ' ' + s['waiting']['task']")" "question 1" "A: status' waiting"
check_eq "$(grep -c '^start a1$' "$T/ledger")" 1 "A: task 1's agent started once"
check_eq "$(grep -c '^end a1$' "$T/ledger")" 0 "A: task 1's asking run was stopped before its result"
check_eq "$(python3 -c "import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get('event') == 'question_asked'))" "$T/logs/events.ndjson")" 1 \
    "A: question_asked events"
orch answer --task 1 "use baptisms" --by tester >"$T/a-answer.out" 2>&1 || fail "A: answer failed: $(cat "$T/a-answer.out")"
rc=$(bg_wait "$T/a.out")
[ "$rc" = 0 ] || { cat "$T/a.out" >&2; fail "A: expected exit 0, got $rc"; }
check_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "completed", "completed"]' "A: statuses"
check_eq "$(sj "s['tasks'][0]['result']")" "Resumed with answer: use baptisms" "A: task 1 got the answer"
check_eq "$(resumed_with "$CSESS")" 1 "A: runs that resumed task 1's claude session"
check_eq "$(grep -c '^start a1$' "$T/ledger")" 1 "A: task 1 started fresh once"
# the stopped run has no result line: its cost is estimated from its stream's
# tokens (3204 input, 1 output at the default opus row: $0.016045, budget.prices);
# the resumed run's is the CLI's, counted once
check_eq "$(sj "round(s['tasks'][0]['cost_usd'], 6)")" 0.05026 "A: task 1's cost"
check_eq "$(sj "round(s['tasks'][0]['cost_estimated_usd'], 6)")" 0.016045 "A: task 1's estimated part"
check_eq "$(sj "round(s['cost_usd'], 6)")" 0.11869 "A: the day's cost (3 runs with a result, one estimated)"
check_eq "$(sj "[(q['question'], q['answer'], q['by']) for q in s['tasks'][0]['questions']]")" \
    "[[\"$ASKED\", \"use baptisms\", \"tester\"]]" "A: the question and answer kept on the task"
python3 - "$T/logs/events.ndjson" <<'EOF' || fail "A: events"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
t1 = [e["event"] for e in ev if e.get("task") == "1"]
assert t1.count("task_finished") == 1, t1
i = t1.index("question_asked"); j = t1.index("question_answered")
assert i < j < t1.index("task_finished"), t1
EOF
REPORT=$(sed -n 's/.*report written to \(.*\)$/\1/p' "$T/a.out" | tail -n1)
[ -f "$REPORT" ] || REPORT=$(ls -t "$T"/results/* 2>/dev/null | head -n1)
check "A: the report shows the question" grep -qF "Q: $ASKED" "$REPORT"
check "A: the report shows the answer" grep -qF "A: use baptisms" "$REPORT"

# kill_host SUB OUT: kill -9 the orch-host of the bg_run job SUB (output OUT)
kill_host() {
    local host
    host=$(host_pid_of "$1")
    [ -n "$host" ] || fail "cannot find the orch-host pid"
    kill -KILL "$host"
    expect_eq "$(bg_wait "$2")" 137 "exit code of the killed host"
    # the first command after a dead host clears its lock note under the lock
    # itself: done here, not beside the resume (which would then think a
    # host runs and only send it the resume)
    orch status >/dev/null 2>&1
}
QUESTION="Which pagination pattern should I follow, A (weddings) or B (PAGINATION.md)?"
asking() {  # a live host parks task 1 of the session over task file $1
    sj_true "s.get('task_file') == '$1' and s['tasks'][0]['status'] == 'waiting_answer'
             and s.get('pending_approval', {}).get('kind') == 'question' and s['host_alive'] is True"
}

# ------------------------------- B: kill -9, answer while down, resume
TASKS=$T/b.md
task_md "$TASKS" 1 "Paginate" backend "Add pagination. [fake:question] [key:b1]"
bg_run "$T/b1.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input
wait_for asking "$TASKS"
CSESS=$(sj "s['tasks'][0]['question_session']")
kill_host "$BG_PID" "$T/b1.out"
check_eq "$(task_status 1)" waiting_answer "B: task 1 after the host died"
orch answer --task 1 "use B" --by tester >"$T/b-answer.out" 2>&1 \
    || fail "B: answer while the host is down: $(cat "$T/b-answer.out")"
check "B: the answer is recorded for the resume ($(cat "$T/b-answer.out"))" grep -q "applies when it resumes" \
    "$T/b-answer.out"
# status shows the answer waiting for the resume; a second answer is refused
# saying which one the resume delivers (the first decision wins)
orch status >"$T/b-status.txt" 2>&1
check "B: status shows the recorded answer: $(cat "$T/b-status.txt")" \
    grep -qF '↳ answer recorded (by tester): "use B": it goes to its agent when the session resumes' "$T/b-status.txt"
check_eq "$(sj "s['tasks'][0].get('recorded')")" '{"action": "answer", "by": "tester", "text": "use B"}' \
    "B: status --json carries the recorded answer on task 1"
rc=0
orch answer --task 1 "use C" --by tester >"$T/b-answer2.out" 2>&1 || rc=$?
check_eq "$rc:$(cat "$T/b-answer2.out")" \
    '1:Task 1 already has an answer recorded, "use B" (by tester): it goes to its agent when the session resumes (orch-host resume)' \
    "B: a second answer while the host is down"
bg_run "$T/b2.out" orch resume --no-input
rc=$(bg_wait "$T/b2.out")
[ "$rc" = 0 ] || { cat "$T/b2.out" >&2; fail "B: resumed run: expected exit 0, got $rc"; }
check_eq "$(task_status 1)" completed "B: task 1 after the resume"
check_eq "$(sj "s['tasks'][0]['result']")" "Resumed with answer: use B" "B: the resumed run got the answer"
check_eq "$(resumed_with "$CSESS")" 1 "B: runs that resumed task 1's claude session"
check_eq "$(grep -c '^start b1$' "$T/ledger")" 1 "B: task 1 started fresh once"
check_eq "$(sj "round(s['tasks'][0]['cost_usd'], 6)")" 0.06843 "B: task 1's cost (the asking run and the resumed one)"

# ----------------------- C: kill -9, resume first, then the answer
TASKS=$T/c.md
task_md "$TASKS" 1 "Paginate again" backend "Add more pagination. [fake:question] [key:c1]"
bg_run "$T/c1.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input
wait_for asking "$TASKS"
CSESS=$(sj "s['tasks'][0]['question_session']")
SID=$(sj "s['id']")
kill_host "$BG_PID" "$T/c1.out"
bg_run "$T/c2.out" orch resume --no-input
wait_for asking "$TASKS"
check_eq "$(sj "s['tasks'][0]['question']")" "$QUESTION" "C: the same question, asked again"
orch answer "use A" --by tester >"$T/c-answer.out" 2>&1 || fail "C: answer failed: $(cat "$T/c-answer.out")"
rc=$(bg_wait "$T/c2.out")
[ "$rc" = 0 ] || { cat "$T/c2.out" >&2; fail "C: resumed run: expected exit 0, got $rc"; }
check_eq "$(sj "s['tasks'][0]['result']")" "Resumed with answer: use A" "C: the resumed run got the answer"
check_eq "$(resumed_with "$CSESS")" 1 "C: runs that resumed task 1's claude session"
check_eq "$(python3 -c "import json,sys
print([bool(e.get('again')) for e in map(json.loads, open(sys.argv[1]))
       if e.get('event') == 'question_asked' and e.get('session') == sys.argv[2]])" "$T/logs/events.ndjson" "$SID")" \
    "[False, True]" "C: asked, then asked again after the restart"

# ------------------- D: two questions at once: which one, and approve refused
TASKS=$T/d.md
task_md "$TASKS" 1 "Ask one" backend "First. [fake:question] [key:d1]"
task_md "$TASKS" 2 "Ask two" backend "Second. [fake:question] [key:d2]"
task_md "$TASKS" 3 "Plain" backend "Third. [key:d3]"
bg_run "$T/d.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input --max-concurrent 2
wait_for sj_true "s.get('task_file') == '$TASKS' and [t['status'] for t in s['tasks']] == ['waiting_answer', 'waiting_answer', 'completed']"
if orch answer "use A" >"$T/d-answer.out" 2>&1; then check "D: an answer naming no task while two wait is refused" false; fi
check "D: the refusal names both and how to name one ($(cat "$T/d-answer.out"))" \
    grep -qF "several questions waiting: tasks 1, 2. Name the task to answer (orch-host answer --task ID TEXT)." \
    "$T/d-answer.out"
if orch approve --task 2 >"$T/d-approve.out" 2>&1; then check "D: approve of a question is refused" false; fi
check "D: approve of a question says how to answer it ($(cat "$T/d-approve.out"))" \
    grep -qF "Task 2 asked a question: answer it (/answer 2 <text>, orch-host answer --task 2 TEXT)" "$T/d-approve.out"
orch answer --task 2 "two" >/dev/null 2>&1 || fail "D: answer of task 2"
wait_for sj_true "s['tasks'][1]['status'] == 'completed'"
check_eq "$(task_status 1)" waiting_answer "D: task 1 still waits after task 2's answer"
orch answer "one" >/dev/null 2>&1 || fail "D: answer of the one question left, naming no task"
rc=$(bg_wait "$T/d.out")
[ "$rc" = 0 ] || { cat "$T/d.out" >&2; fail "D: expected exit 0, got $rc"; }
check_eq "$(sj "[t.get('result') for t in s['tasks'][:2]]")" \
    '["Resumed with answer: one", "Resumed with answer: two"]' "D: each task got its own answer"

# -------------- E: Ctrl-C while a question waits: paused, asked again on resume
TASKS=$T/e.md
task_md "$TASKS" 1 "Paginate once more" backend "Add pagination. [fake:question] [key:e1]"
bg_run "$T/e1.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input
wait_for asking "$TASKS"
CSESS=$(sj "s['tasks'][0]['question_session']")
kill -INT "$(host_pid_of "$BG_PID")"
check_eq "$(bg_wait "$T/e1.out")" 3 "E: exit code after Ctrl-C (paused)"
check_eq "$(sj "s['status']")" paused "E: the session after Ctrl-C"
orch status >"$T/e-status.out" 2>&1
check "E: status shows the open question of the paused task: $(grep -A2 'Paginate once' "$T/e-status.out")" \
    grep -q "↳ asks: Which pagination pattern" "$T/e-status.out"
bg_run "$T/e2.out" orch resume --no-input
wait_for asking "$TASKS"
orch answer "after the pause" >/dev/null 2>&1 || fail "E: answer after the resume"
rc=$(bg_wait "$T/e2.out")
[ "$rc" = 0 ] || { cat "$T/e2.out" >&2; fail "E: resumed run: expected exit 0, got $rc"; }
check_eq "$(sj "s['tasks'][0]['result']")" "Resumed with answer: after the pause" "E: the resumed run got the answer"
check_eq "$(resumed_with "$CSESS")" 1 "E: runs that resumed task 1's claude session"
check_eq "$(grep -c '^start e1$' "$T/ledger")" 1 "E: task 1 started fresh once"

# ------------- F: SIGTERM while a question waits: answered while down
TASKS=$T/f.md
task_md "$TASKS" 1 "Paginate at the stop" backend "Add pagination. [fake:question] [key:f1]"
bg_run "$T/f1.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input
wait_for asking "$TASKS"
CSESS=$(sj "s['tasks'][0]['question_session']")
SID=$(sj "s['id']")
kill -TERM "$(host_pid_of "$BG_PID")"
check_eq "$(bg_wait "$T/f1.out")" 3 "F: exit code after SIGTERM (paused)"
orch answer --task 1 "use F" --by tester >"$T/f-answer.out" 2>&1 \
    || fail "F: answer while the host is down after a clean stop: $(cat "$T/f-answer.out")"
check "F: the answer is recorded for the resume ($(cat "$T/f-answer.out"))" grep -q "applies when it resumes" \
    "$T/f-answer.out"
check_eq "$(sj "[s['host_alive'], s['tasks'][0]['status'], s['tasks'][0].get('recorded')]")" \
    '[false, "paused", {"action": "answer", "by": "tester", "text": "use F"}]' \
    "F: status --json carries the recorded answer on the paused task"
bg_run "$T/f2.out" orch resume --no-input
rc=$(bg_wait "$T/f2.out")
[ "$rc" = 0 ] || { cat "$T/f2.out" >&2; fail "F: resumed run: expected exit 0, got $rc"; }
check_eq "$(sj "s['tasks'][0]['result']")" "Resumed with answer: use F" "F: the resumed run got the answer"
check_eq "$(resumed_with "$CSESS")" 1 "F: runs that resumed task 1's claude session"
check_eq "$(grep -c '^start f1$' "$T/ledger")" 1 "F: task 1 started fresh once"

# --------------- G: answered while the one slot is taken: waiting for it
TASKS=$T/g.md
task_md "$TASKS" 1 "Ask in a narrow day" backend "Name it. [fake:question] [key:g1]"
task_md "$TASKS" 2 "Hold the slot" backend "Work. [fake:await:release g2] [key:g2]"
bg_run "$T/g.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input --max-concurrent 1
wait_for asking "$TASKS"
wait_for grep -q '^start g2$' "$T/ledger"
orch answer --task 1 "use G" >"$T/g-answer.out" 2>&1 || fail "G: answer: $(cat "$T/g-answer.out")"
wait_for sj_true "s['tasks'][0]['status'] == 'running' and s['tasks'][0].get('slot_wait') is not None"
check_eq "$(sj "[a['task'] for a in s['agents'] if a.get('waiting_slot')]")" '["1"]' "G: the agent waiting for a slot"
orch status >"$T/g-status.out" 2>&1
check "G: status says task 1 waits for a free slot ($(cat "$T/g-status.out"))" \
    grep -q "waiting for a free agent slot" "$T/g-status.out"
echo "release g2" >>"$T/ledger"
rc=$(bg_wait "$T/g.out")
[ "$rc" = 0 ] || { cat "$T/g.out" >&2; fail "G: expected exit 0, got $rc"; }
check_eq "$(sj "s['tasks'][0]['result']")" "Resumed with answer: use G" "G: task 1's answer"
check_eq "$(sj "s['tasks'][0].get('slot_wait')")" null "G: no slot wait left on task 1"

finish
