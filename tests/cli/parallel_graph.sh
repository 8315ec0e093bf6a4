#!/usr/bin/env bash
# The day as a dependency graph run by several agents at once (markdown day
# files with **Depends On:** and --max-concurrent), proved from the stand-in
# agent's ledger (one line per start and end, in the order they happened),
# never from sleeps: a run that must overlap another waits for that one's
# start line ([fake:await:start KEY]).
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"

# dep_md FILE ID TITLE TYPE DEPENDS INSTRUCTION [REQUIRES_APPROVAL]: a task with Depends On
dep_md() {
    local file=$1 id=$2 title=$3 type=$4 deps=$5 instr=$6 req=${7:-false}
    [ -s "$file" ] || printf '# Tasks - %s\n\n' "$(date +%F)" >"$file"
    {
        printf '## Task %s: %s\n**Type:** %s\n**Priority:** medium\n**Requires Approval:** %s\n' \
            "$id" "$title" "$type" "$req"
        [ -z "$deps" ] || printf '**Depends On:** %s\n' "$deps"
        printf '**Description:** %s\n\n**Claude Instruction:**\n%s\n\n---\n\n' "$title" "$instr"
    } >>"$file"
}

# line_no TEXT: the ledger line number of TEXT (0 when absent)
line_no() { grep -n -x -- "$1" "$T/ledger" | head -n1 | cut -d: -f1 || true; }
before() {  # before A B: ledger line A came before line B
    local a b
    a=$(line_no "$1"); b=$(line_no "$2")
    [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] || fail "ledger: '$1' should come before '$2': $(cat "$T/ledger")"
}

# --- the example graph: 1 and 3 at once, 2 after 1 (1 and 3 each wait until
# the other has started: neither can end unless both run at once)
G=$T/graph.md
dep_md "$G" 1 "Models" backend "" "Write the models. [key:t1] [fake:await:start t3]"
dep_md "$G" 2 "API" backend 1 "Write the API. [key:t2]"
dep_md "$G" 3 "Docs" backend "" "Write the docs. [key:t3] [fake:await:start t1]"
orch run daily.lua --tasks "$G" --auto-approve --no-input --max-concurrent 2 >"$T/graph.out" 2>&1 \
    || fail "graph run failed: $(tail -5 "$T/graph.out")"
before "start t1" "end t3"      # 1 and 3 overlapped: each started before the other ended
before "start t3" "end t1"
before "end t1" "start t2"      # 2 only after 1
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "completed", "completed"]' "graph statuses"
expect_eq "$(sj "s['tasks'][1]['depends_on']")" '["1"]' "depends_on kept on the task"
expect_eq "$(sj "all(t.get('started_at') and t.get('cost_usd') for t in s['tasks'])")" true \
    "every task records started_at and cost"

# --- the markdown day keeps its meaning: without --max-concurrent, one task at a time
: >"$T/ledger"
S=$T/serial.md
dep_md "$S" 1 "One" backend "" "One. [key:s1]"
dep_md "$S" 2 "Two" backend "" "Two. [key:s2]"
MAX_CONCURRENT_AGENTS=4 orch run daily.lua --tasks "$S" --auto-approve --no-input >"$T/serial.out" 2>&1 \
    || fail "serial run failed: $(tail -5 "$T/serial.out")"
before "end s1" "start s2"

# --- a failure blocks what depends on it (transitively); an independent task completes
: >"$T/ledger"
F=$T/fail.md
dep_md "$F" 1 "Breaks" backend "" "Break. [key:f1] [fake:fail]"
dep_md "$F" 2 "After" backend 1 "After. [key:f2]"
dep_md "$F" 3 "After after" backend 2 "After after. [key:f3]"
dep_md "$F" 4 "Alone" backend "" "Alone. [key:f4]"
RC=0
orch run daily.lua --tasks "$F" --auto-approve --no-input --max-concurrent 2 >"$T/fail.out" 2>&1 || RC=$?
expect_eq "$RC" 1 "exit code of a day with a failure"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["failed", "blocked", "blocked", "completed"]' \
    "statuses after a failure"
expect_eq "$(sj "[t.get('error') for t in s['tasks'][1:3]]")" '["blocked: 1 failed", "blocked: 1 failed"]' \
    "the reason of each block"
expect_eq "$(grep -c -e '^start f2' -e '^start f3' "$T/ledger")" 0 "a blocked task ran"
grep -q "Blocked: 2" "$T/fail.out" || fail "the end of the day does not count the blocked tasks: $(cat "$T/fail.out")"

# --- a task waiting for approval holds no agent slot: 2 and 3 run at once (each
# waits for the other's start) while 1 waits, at --max-concurrent 2
: >"$T/ledger"
A=$T/approval.md
dep_md "$A" 1 "Risky" backend "" "Risky. [key:a1]" true
dep_md "$A" 2 "Docs A" documentation "" "Docs A. [key:a2] [fake:await:start a3]"
dep_md "$A" 3 "Docs B" documentation "" "Docs B. [key:a3] [fake:await:start a2]"
bg_run "$T/approval.out" orch run daily.lua --tasks "$A" --no-input --max-concurrent 2
wait_for sj_true "[t['status'] for t in s['tasks']] == ['waiting_approval', 'completed', 'completed']"
expect_eq "$(grep -c '^start a1' "$T/ledger")" 0 "the task waiting for approval ran"
orch approve >"$T/approve.out" 2>&1 || fail "approve: $(cat "$T/approve.out")"
expect_eq "$(bg_wait "$T/approval.out")" 0 "exit code after the approval"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "completed", "completed"]' "after approval"
expect_eq "$(sj "s['tasks'][0].get('approval_wait_s', 0) > 0")" true "the approval wait saved on the task"
# --- an agent's question holds no agent slot either: 2 and 3 run at once while
# 1's question waits, at --max-concurrent 2; the answer resumes 1
: >"$T/ledger"
Q=$T/question.md
dep_md "$Q" 1 "Asks" documentation "" "Ask. [key:q1] [fake:question]"
dep_md "$Q" 2 "Docs A" documentation "" "Docs A. [key:q2] [fake:await:start q3]"
dep_md "$Q" 3 "Docs B" documentation "" "Docs B. [key:q3] [fake:await:start q2]"
bg_run "$T/question.out" orch run daily.lua --tasks "$Q" --no-input --max-concurrent 2
wait_for sj_true "[t['status'] for t in s['tasks']] == ['waiting_answer', 'completed', 'completed']"
orch answer "use pattern B" >"$T/answer.out" 2>&1 || fail "answer: $(cat "$T/answer.out")"
expect_eq "$(bg_wait "$T/question.out")" 0 "exit code after the answer"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "completed", "completed"]' "after the answer"
expect_eq "$(sj "s['tasks'][0]['result']")" "Resumed with answer: use pattern B" "the answer reached task 1's agent"
expect_eq "$(sj "[(q['question'][:9], q['answer'], q['answered_at'] >= q['asked_at']) for q in s['tasks'][0]['questions']]")" \
    '[["Which pag", "use pattern B", true]]' "the question and its answer saved on the task"
# --- two approvals waiting at once: approve --task picks one, the other still waits
: >"$T/ledger"
W=$T/two-approvals.md
dep_md "$W" 1 "First risky" backend "" "One. [key:w1]" true
dep_md "$W" 2 "Second risky" backend "" "Two. [key:w2]" true
bg_run "$T/two.out" orch run daily.lua --tasks "$W" --no-input --max-concurrent 2
wait_for sj_true "[t['status'] for t in s['tasks']] == ['waiting_approval', 'waiting_approval']"
orch approve --task 1 >"$T/approve1.out" 2>&1 || fail "approve --task 1: $(cat "$T/approve1.out")"
wait_for sj_true "[t['status'] for t in s['tasks']] == ['completed', 'waiting_approval']"
expect_eq "$(grep -c -x 'start w2' "$T/ledger")" 0 "the task still waiting ran"
orch approve --task 2 >"$T/approve2.out" 2>&1 || fail "approve --task 2: $(cat "$T/approve2.out")"
expect_eq "$(bg_wait "$T/two.out")" 0 "exit code after both approvals"
note "ok"
