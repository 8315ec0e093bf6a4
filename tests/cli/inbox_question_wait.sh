#!/usr/bin/env bash
# A file rewritten while its task waits for an answer to its agent's question
# withdraws that question, as a rewrite withdraws an approval wait
# (inbox_approval_wait.sh): the question file goes, the first version ends
# cancelled saying why, and the new version is queued and runs; an answer
# then has nothing to answer. A file deleted while its task waits for an
# answer drops the task the same way.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"
export ORCH_QUESTIONS_DIR=$T/questions

watch_start
inbox_task "$ORCH_TASKS_DIR/q.task.md" q medium "Asks [key:q-old] [fake:question]"
wait_for sj_true "any(t['id'] == 'q' and t['status'] == 'waiting_answer' for t in s['tasks'])"
SID=$(sj "s['id']")
expect_eq "$(ls "$ORCH_QUESTIONS_DIR")" "$SID-q.md" "the question file while the first version asks"
inbox_task "$ORCH_TASKS_DIR/q.task.md" q medium "Does it now [key:q-new]"
wait_for sj_true "any(t['id'] == 'q' and t['status'] == 'cancelled' for t in s['tasks'])"
check_eq "$(sj "[t['error'] for t in s['tasks'] if t['id'] == 'q'][0]")" \
    "its file was rewritten while it waited for an answer: the new version runs in its place" \
    "the first version's end"
WAIT_TIMEOUT=120 wait_for done_with q
check_eq "$(sj "[t['status'] for t in s['tasks'] if t['id'] == 'q-2'][0]")" completed "the new version"
check_eq "$(starts q-old) $(starts q-new)" "1 1" "agents of the first and the rewritten version"
# the first version leaves no result (cancelled, as one withdrawn from an approval wait): the file's is the new one's
check_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "$ORCH_RESULTS_DIR/q_result.json") $(ls "$ORCH_RESULTS_DIR")" \
    "completed q_result.json" "the results"
check "the question file is gone ($(ls "$ORCH_QUESTIONS_DIR"))" test ! -e "$ORCH_QUESTIONS_DIR/$SID-q.md"
check "the withdrawal is said in the events" \
    test "$(ev "sum(1 for e in ev if e.get('event') == 'task_updated' and e.get('task') == 'q'
                and 'waited for an answer' in str(e.get('reason')))")" -ge 1
RC=0
orch answer --task q "too late" >"$T/answer.out" 2>&1 || RC=$?
check "an answer finds no question ($(cat "$T/answer.out"))" test "$RC" -ne 0
check_eq "$(grep -c '^start q' "$T/ledger")" 2 "no agent resumed the withdrawn question"

inbox_task "$ORCH_TASKS_DIR/d.task.md" d medium "Asks [key:d] [fake:question]"
wait_for sj_true "any(t['id'] == 'd' and t['status'] == 'waiting_answer' for t in s['tasks'])"
rm "$ORCH_TASKS_DIR/d.task.md"
wait_for sj_true "any(t['id'] == 'd' and t['status'] == 'cancelled' for t in s['tasks'])"
check_eq "$(sj "[t['error'] for t in s['tasks'] if t['id'] == 'd'][0]")" \
    "its file was deleted while it waited for an answer" "the deleted file's task"
check "its question file is gone ($(ls "$ORCH_QUESTIONS_DIR"))" test ! -e "$ORCH_QUESTIONS_DIR/$SID-d.md"
watch_stop
finish
