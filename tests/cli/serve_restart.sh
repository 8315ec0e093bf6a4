#!/usr/bin/env bash
# A server restart in the middle of a day (systemctl restart): SIGTERM while
# an agent runs stops the agent's whole tree, pauses the session and exits 0;
# the next server resumes it on /webhook/resume and the interrupted task runs
# again, the finished one does not. A `kill -9` of the server leaves the
# session "running": its agents die with it, and resume on the next server
# continues it.
source "$(dirname "$0")/lib.bash"

SECRET=s3cret-$RANDOM
export WEBHOOK_SECRET=$SECRET APPROVAL_MODE=auto
export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"
TASKS=$T/tasks.md
task_md "$TASKS" 1 "First" backend "One. [key:r1]"
task_md "$TASKS" 2 "Second" backend "Two. [key:r2] [fake:slow:600]"
task_md "$TASKS" 3 "Third" backend "Three. [key:r3]"

serve_start
expect_req 200 POST /webhook/command '{"secret":"'"$SECRET"'","command":"start","params":{"task_file":"'"$TASKS"'"}}'
SID=$(rj "r['session_id']")
wait_for grep -q '^start r2' "$T/ledger"
wait_for test -n "$(agent_pids)"

# --- SIGTERM: the agent tree stops, the session pauses, exit 0
expect_eq "$(serve_stop)" 0 "serve exit code after SIGTERM"
wait_for test -z "$(agent_pids)"
expect_eq "$(sj "[s['status'], s['tasks'][0]['status'], s['tasks'][1]['status']]")" '["paused", "completed", "paused"]' \
    "state after SIGTERM"

# --- a new server resumes it over the webhook
serve_start
expect_req 200 POST /webhook/resume '{"secret":"'"$SECRET"'"}'
expect_eq "$(rj "r['session_id']")" "$SID" "resumed session"
wait_for test "$(grep -c '^start r2' "$T/ledger")" -ge 2
wait_for test -n "$(agent_pids)"

# --- kill -9: the agent dies with its parent (PDEATHSIG; escaped children are
# stopped by the next server, tests/cli/crash_orphans.sh); resume finishes the day
kill -KILL "$SERVE_PID"
bg_wait "$SERVE_OUT" >/dev/null
expect_eq "$(session_status)" running "status after kill -9 (nobody could record anything)"
serve_start
wait_for test -z "$(agent_pids)"
# the new server does not run it until told: status says its host is gone, and
# the command line's resume says where to send it
orch status >"$T/orphan.txt"
grep -q "running (host not running: resume it)" "$T/orphan.txt" || fail "status of the orphan: $(head -3 "$T/orphan.txt")"
expect_eq "$(sj "s['host_alive']")" false "host_alive of the session the killed server ran"
RC=0
orch resume "$SID" >"$T/orphan-resume.out" 2>&1 || RC=$?
expect_eq "$RC" 1 "resume from the command line beside the new server"
grep -q "host is gone, and another host runs (pid $SERVE_PID): send the resume to it" "$T/orphan-resume.out" ||
    fail "the refusal: $(cat "$T/orphan-resume.out")"
expect_req 200 POST /webhook/resume '{"secret":"'"$SECRET"'"}'
expect_eq "$(rj "r['session_id']")" "$SID" "resumed session after kill -9"
wait_for test "$(grep -c '^start r2' "$T/ledger")" -ge 3
expect_eq "$(grep -c '^start r1' "$T/ledger")" 1 "the finished task ran again"
expect_req 200 POST /webhook/skip '{"secret":"'"$SECRET"'"}'
wait_for sj_true "s['status'] == 'completed'"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "skipped", "completed"]' "final statuses"
expect_eq "$(serve_stop)" 0 "exit code"
note ok
