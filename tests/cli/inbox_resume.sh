#!/usr/bin/env bash
# `orch-host resume` of an inbox whose host was killed (status says "host not
# running: resume it") watches the folder again with the flags the watch was
# started with: --auto-approve (the task in flight runs again without asking
# for an approval its type needs), --no-input and --max-concurrent.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"
export ORCH_QUESTIONS_DIR=$T/questions  # not the checkout's agent_questions/

watch_start --max-concurrent 2
inbox_task "$ORCH_TASKS_DIR/inflight.task.md" inflight medium "In flight [key:inflight] [fake:await:go]"
wait_for grep -q "^start inflight$" "$T/ledger"
FIRST=$(sj "s['id']")
kill -KILL "$WATCH_PID"
bg_wait "$WATCH_OUT" >/dev/null
orch status >"$T/status.txt"
grep -q "host not running: resume it" "$T/status.txt" || fail "status of the dead inbox: $(head -3 "$T/status.txt")"
echo go >>"$T/ledger"

# resume, with no flags: those of the watch
before=$(ev_count inbox_started)
bg_run "$T/resume.out" orch resume "$FIRST"
RESUME_SUB=$BG_PID
wait_for ev_more inbox_started "$before"
# an analyze task needs an approval without --auto-approve: it must not wait for one
wait_for sj_true "s['id'] != '$FIRST' and any(t['id'] == 'inflight' and t['status'] in ('completed', 'waiting_approval') for t in s['tasks'])"
expect_eq "$(sj "[t['status'] for t in s['tasks'] if t['id'] == 'inflight']")" '["completed"]' \
    "the task in flight, resumed without approval ($(tail -5 "$T/resume.out"))"
expect_eq "$(sj "[s.get('auto_approve'), s.get('max_concurrent'), s.get('no_input')]")" "[true, 2, true]" \
    "the resumed inbox's flags"
WAIT_TIMEOUT=120 wait_for done_with inflight
kill -TERM "$(host_pid_of "$RESUME_SUB")"
expect_eq "$(bg_wait "$T/resume.out")" 0 "exit code of the resumed inbox after SIGTERM"
note "resume keeps the watch's flags ok"


# an answer while the inbox's host is down is refused, saying why: the next
# start runs the task from its file again and asks again (nothing would take
# a kept answer), and nothing is recorded
watch_start
inbox_task "$ORCH_TASKS_DIR/asks.task.md" asks medium "Asks [key:asks] [fake:question]"
wait_for sj_true "any(t['id'] == 'asks' and t['status'] == 'waiting_answer' for t in s['tasks'])"
DEAD=$(sj "s['id']")
kill -KILL "$WATCH_PID"
bg_wait "$WATCH_OUT" >/dev/null
RC=0
orch answer --task asks "use A" >"$T/answer.out" 2>&1 || RC=$?
expect_eq "$RC" 1 "exit code of an answer to a dead inbox ($(cat "$T/answer.out"))"
grep -q "not running: task asks runs again from its file at the next start" "$T/answer.out" \
    || fail "the refusal does not say why: $(cat "$T/answer.out")"
expect_eq "$(sj "[a.get('status') for a in s.get('pending_approval') and [s['pending_approval']] or []]")" \
    '["pending"]' "the question, still pending"
note "an answer to a dead inbox is refused ok"

# the next start closes the dead session: its question file goes (the task
# asks again under the new session), so the folder lists open questions only
check "the dead session's question file, before the next start" test -e "$ORCH_QUESTIONS_DIR/$DEAD-asks.md"
watch_start
wait_for sj_true "s['id'] != '$DEAD' and any(t['id'] == 'asks' and t['status'] == 'waiting_answer' for t in s['tasks'])"
NEW=$(sj "s['id']")
check "the new session's question file" test -e "$ORCH_QUESTIONS_DIR/$NEW-asks.md"
check "no question file of the closed session ($(ls "$ORCH_QUESTIONS_DIR"))" test ! -e "$ORCH_QUESTIONS_DIR/$DEAD-asks.md"
watch_stop
