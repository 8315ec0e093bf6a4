#!/usr/bin/env bash
# Agent questions. A: the agent ends with "QUESTION: ..."; the task waits
# (status: waiting_answer, pending_approval.kind "question"), parked: it holds
# no agent slot, so task 2 runs meanwhile; `orch answer` resumes the same
# claude session with the answer and the task completes.
# The question is also the file agent_questions/<session>-<task>.md (two
# sessions' task 1 never share it), gone once the question is answered, with
# a blank answer file beside it. An answer for another task, a cancel without
# --task and a bad --request are refused in the CLI's words.
# B: the answer comes from the answer file agent_questions/<session>-<task>-answer.md.
# C: an answer file used once must not answer a later question by itself.
# D: an answer file over the limit (1 MB) is set aside with a warning, not
#    cut short; the question stays open for another answer.
#
# The files live under paths.questions_dir, which defaults to
# "agent_questions" under the project root; ORCH_QUESTIONS_DIR points it into
# the temp dir (cases B to D also with a config file of their own, --config)
# so the test never writes into the repository.
source "$(dirname "$0")/lib.bash"

QDIR=$T/questions
export ORCH_QUESTIONS_DIR=$QDIR

export FAKE_CLAUDE_LEDGER=$T/ledger
export FAKE_CLAUDE_ARGS_LOG=$T/args.log
touch "$T/ledger" "$T/args.log"
QUESTION="Which pagination pattern should I follow, A (weddings) or B (PAGINATION.md)?"

# asking SID: session SID's task 1 waits for an answer
asking() {
    sj_true "s['id'] == '$1' and s['tasks'][0]['status'] == 'waiting_answer'
             and s.get('pending_approval', {}).get('kind') == 'question'
             and s['pending_approval'].get('task_id') == '1'"
}
session_id_for() {  # the latest session, once it is the one for task file $1
    wait_for sj_true "s.get('task_file') == '$1'"
    sj "s['id']"
}

# ------------------------------------------------------- A: orch answer
TASKS=$T/a.md
task_md "$TASKS" 1 "Paginate" backend "Add pagination. [fake:question] [key:q1]"
task_md "$TASKS" 2 "Then this" backend "Next. [key:q2]"
bg_run "$T/a.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input
SID=$(session_id_for "$TASKS")
wait_for asking "$SID"
check_eq "$(sj "s['pending_approval'].get('prompt')")" "$QUESTION" "A: the pending question's text"
check_eq "$(sj "s['tasks'][0].get('question')")" "$QUESTION" "A: the task's question"
check_eq "$(sj "s['host_alive']")" true "A: host_alive while asking"
# the question shows on the task in hand (status_of's agents), and the session goes on
check_eq "$(sj "s['status']")" running "A: session status while the agent asks"
check_eq "$(sj "[a for a in s['agents'] if a['task'] == '1'][0].get('question')")" "$QUESTION" \
    "A: the question on the waiting task in status"
wait_for sj_true "s['tasks'][1]['status'] == 'completed'"  # a serial day: task 2 runs while 1 waits
orch status >"$T/status.txt" 2>&1
check "A: status shows the question under its task" grep -qF "↳ asks: $QUESTION" "$T/status.txt"
check "A: status says how to answer" grep -qF "orch-host answer --task 1 TEXT" "$T/status.txt"
check "A: the question file, named by session and task, names its answer file" \
    grep -qF "by writing $QDIR/$SID-1-answer.md" "$QDIR/$SID-1.md"
check "A: the question file holds the question" grep -qF "$QUESTION" "$QDIR/$SID-1.md"
# its command names the task: it holds while other questions wait too
check "A: the question file's command names its task" grep -qF 'orch-host answer --task 1 TEXT' "$QDIR/$SID-1.md"
# approve is for approvals; skip/approve of a question are the CLI's business,
# but `answer` without text is bad input
orch answer >/dev/null 2>&1
check_eq "$?" 2 "A: orch answer without text"
# an answer for task 2, which has no question: refused, naming the task that asks, in the CLI's words
rc=0
orch answer --task 2 x >"$T/answer2.out" 2>&1 || rc=$?
check_eq "$rc" 1 "A: exit code of an answer to task 2"
check_eq "$(cat "$T/answer2.out")" \
    "Task 2 has no question waiting in session $SID; task 1's does (orch-host answer --task 1 TEXT)" \
    "A: the refusal of an answer to task 2"
# the words of the CLI: its flags, never Telegram's /cancel or the JSON field request_id
rc=0
orch cancel >"$T/cancel.out" 2>&1 || rc=$?
check_eq "$rc:$(tr '\n' '|' <"$T/cancel.out")" "2:cancel: which task? (orch-host cancel --task ID); the unfinished tasks of session $SID: 1 (waiting_answer)|see orch-host cancel --help|" \
    "A: cancel without --task"
rc=0
orch approve --request abc >"$T/request.out" 2>&1 || rc=$?
check_eq "$rc:$(tr '\n' '|' <"$T/request.out")" "2:--request must be a whole number (got abc)|see orch-host approve --help|" \
    "A: approve --request abc"
# a blank answer file (begun, not written) goes with the question another channel answered
printf ' \n' >"$QDIR/$SID-1-answer.md"
orch answer "use B" --by tester >"$T/answer.out" 2>&1 || fail "A: orch answer failed: $(cat "$T/answer.out")"
rc=$(bg_wait "$T/a.out")
[ "$rc" = 0 ] || { cat "$T/a.out" >&2; fail "A: expected exit 0, got $rc"; }
check_eq "$(task_status 1)" completed "A: task 1 after the answer"
check_eq "$(task_status 2)" completed "A: task 2"
check "A: the question file is gone once answered ($(ls "$QDIR"))" test ! -e "$QDIR/$SID-1.md"
check "A: the blank answer file is gone once answered ($(ls "$QDIR"))" test ! -e "$QDIR/$SID-1-answer.md"
check_eq "$(sj "s['tasks'][0]['result']")" "Resumed with answer: use B" "A: task 1 result (the resumed agent got the answer)"
CSESS=$(sj "s['tasks'][0]['claude_session']")
# the second claude run of task 1 resumed the first one's session
python3 - "$T/args.log" "$CSESS" <<'EOF' || fail "A: the answer did not resume the agent's claude session"
import sys
runs = [l.rstrip("\n").split("\x1f")[1:] for l in open(sys.argv[1], encoding="utf-8")]
assert len(runs) == 3, f"{len(runs)} claude runs, expected 3 (ask, task 2 while 1 waits, resume)"
r = runs[2]
assert "--resume" in r and r[r.index("--resume") + 1] == sys.argv[2], r
assert "--resume" not in runs[0] and "--resume" not in runs[1]
EOF
check_eq "$(grep -cx 'start q1' "$T/ledger")" 1 "A: task 1 started fresh once (the resume has the answer as its prompt)"
python3 - "$T/logs/events.ndjson" "$SID" <<'EOF' || fail "A: question events are wrong"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l).get("session") == sys.argv[2]]
names = [e["event"] for e in ev if e.get("task") == "1"]
i = names.index("question_asked"); j = names.index("question_answered", i)
assert names.index("task_finished", j) > j
ans = [e for e in ev if e["event"] == "question_answered"]
assert len(ans) == 1 and ans[0].get("by") == "tester", ans
EOF

# ------------------------------------------------------ B: the answer file
mkdir -p "$QDIR"
cat >"$T/config.lua" <<EOF
return { paths = { questions_dir = "$QDIR" } }
EOF
TASKS=$T/b.md
task_md "$TASKS" 1 "Paginate" backend "Add pagination. [fake:question] [key:f1]"
bg_run "$T/b.out" orch --config "$T/config.lua" run daily.lua --tasks "$TASKS" --auto-approve --no-input
SID=$(session_id_for "$TASKS")
wait_for asking "$SID"
printf 'use the file\n' >"$QDIR/1-answer.tmp" && mv "$QDIR/1-answer.tmp" "$QDIR/$SID-1-answer.md"
rc=$(bg_wait "$T/b.out")
[ "$rc" = 0 ] || { cat "$T/b.out" >&2; fail "B: expected exit 0, got $rc"; }
check_eq "$(task_status 1)" completed "B: task 1 after the answer file"
check "B: the question file is gone once answered ($(ls "$QDIR"))" test ! -e "$QDIR/$SID-1.md"
check_eq "$(sj "s['tasks'][0]['result']")" "Resumed with answer: use the file" "B: task 1 result"
check_eq "$(grep '"question_answered"' "$T/logs/events.ndjson" | grep -c "\"session\":\"$SID\".*answer_file\|answer_file.*\"session\":\"$SID\"")" 1 \
    "B: question_answered by answer_file"

# ------------------------------------- C: a used answer file is not reused
TASKS=$T/c.md
task_md "$TASKS" 1 "Paginate again" backend "Add more pagination. [fake:question] [key:c1]"
bg_run "$T/c.out" orch --config "$T/config.lua" run daily.lua --tasks "$TASKS" --auto-approve --no-input
SID=$(session_id_for "$TASKS")
wait_for sj_true "s['id'] == '$SID' and s['tasks'][0]['status'] != 'pending' and s['tasks'][0]['status'] != 'running'"
# The question must stay open for a human: look for 3 s that nothing answered it
# (a stale file is read at the first poll, 0.2 s in). A check, not a synchronisation.
stale=0
for _ in $(seq 1 30); do
    asking "$SID" || { stale=1; break; }
    sleep 0.1
done
if [ $stale = 1 ]; then
    check_eq "$(sj "s['tasks'][0].get('result')")" "(still asking)" \
        "C: yesterday's answer file answered a new question by itself"
    wait_for test -s "$T/c.out.rc"
else
    orch answer "fresh answer" >/dev/null 2>&1 || fail "C: orch answer failed"
    rc=$(bg_wait "$T/c.out")
    [ "$rc" = 0 ] || { cat "$T/c.out" >&2; fail "C: expected exit 0, got $rc"; }
    check_eq "$(sj "s['tasks'][0]['result']")" "Resumed with answer: fresh answer" "C: task 1 result"
fi

# ------------------------------- D: an answer file over the limit is refused
TASKS=$T/d.md
task_md "$TASKS" 1 "Paginate once more" backend "Add even more pagination. [fake:question] [key:d1]"
bg_run "$T/d.out" orch --config "$T/config.lua" run daily.lua --tasks "$TASKS" --auto-approve --no-input
SID=$(session_id_for "$TASKS")
wait_for asking "$SID"
head -c 2097152 /dev/zero | tr '\0' y >"$QDIR/1-answer.tmp" && mv "$QDIR/1-answer.tmp" "$QDIR/$SID-1-answer.md"
wait_for compgen -G "$QDIR/$SID-1-answer.md.refused-*"
check "D: the question is still open after the refused file" asking "$SID"
check "D: the refusal is logged, naming the file and its size" grep -qF \
    "answer file refused: $QDIR/$SID-1-answer.md: 2097152 bytes is over the limit of 1048576 bytes" "$T/logs/$(date +%F).log"
orch answer "short answer" >/dev/null 2>&1 || fail "D: orch answer failed"
rc=$(bg_wait "$T/d.out")
[ "$rc" = 0 ] || { cat "$T/d.out" >&2; fail "D: expected exit 0, got $rc"; }
check_eq "$(sj "s['tasks'][0]['result']")" "Resumed with answer: short answer" "D: task 1 result"

finish
