#!/usr/bin/env bash
# A pause of a running inbox shows: the session is paused (status says so,
# with the reason) and the notice is sent once; a file dropped meanwhile is
# queued but does not start; a resume sets it running and the file runs.
# The pause outlives the host: a restart, and a start after kill -9, stay
# paused until the resume (the killed host's session is closed, not left
# paused), and the file still does not start.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"

watch_start --max-concurrent 2
inbox_task "$ORCH_TASKS_DIR/first.task.md" first high "First [key:first]"
wait_for done_with first

orch pause --by tester >"$T/pause.out" 2>&1 || fail "pause: $(cat "$T/pause.out")"
paused_once() { [ "$(ev_count session_paused)" -ge 1 ]; }
wait_for paused_once
expect_eq "$(sj "s['status']")" paused "the inbox session's status after a pause"
expect_eq "$(sj "'tester' in (s.get('pause_reason') or '')")" true "the pause's reason on the session"
orch status >"$T/status.out" 2>&1 || fail "status: $(cat "$T/status.out")"
head -n1 "$T/status.out" | grep -q "  paused: by tester$" || fail "status says why it is paused: $(head -n1 "$T/status.out")"
inbox_task "$ORCH_TASKS_DIR/held.task.md" held medium "Held [key:held]"
wait_for ev_has parsed held
expect_eq "$(starts held)" 0 "runs of a file dropped while paused"
expect_eq "$(ev_count session_paused)" 1 "session_paused events (said once)"

watch_stop
watch_start --max-concurrent 2
wait_for sj_true "s['status'] == 'paused'"
expect_eq "$(sj "'tester' in (s.get('pause_reason') or '')")" true "the pause's reason after a restart"
grep -q "inbox: still paused (paused by tester, before the host's restart)" "$WATCH_OUT" ||
    fail "the restart does not say it is still paused: $(cat "$WATCH_OUT")"
KILLED=$(sj "s['id']")
kill -KILL "$WATCH_PID"
bg_wait "$WATCH_OUT" >/dev/null
watch_start --max-concurrent 2
wait_for sj_true "s['status'] == 'paused' and s['id'] != '$KILLED'"
expect_eq "$(orch status --json "$KILLED" | python3 -c "import json,sys; print(json.load(sys.stdin)['status'])")" \
    completed "the killed paused host's inbox session"
orch sessions >"$T/sessions.out" 2>&1
grep "^$KILLED " "$T/sessions.out" | grep -qF "(its host stopped; its tasks left moved to session $(sj "s['id']"))" ||
    fail "sessions does not say why the killed host's inbox session closed: $(grep "^$KILLED " "$T/sessions.out")"
expect_eq "$(starts held)" 0 "runs of the held file across two restarts while paused"

orch resume >"$T/resume.out" 2>&1 || fail "resume: $(cat "$T/resume.out")"
WAIT_TIMEOUT=120 wait_for done_with held
expect_eq "$(starts held)" 1 "runs of the held file after the resume"
expect_eq "$(sj "s['status']")" running "the inbox session's status after the resume"
expect_eq "$(ev_count session_resumed)" 1 "session_resumed events"
watch_stop
watch_start
inbox_task "$ORCH_TASKS_DIR/after.task.md" after medium "After [key:after]"
WAIT_TIMEOUT=120 wait_for done_with after  # the resume ended the kept pause
note "pause across restarts ok"

# paused, then stopped cleanly: the session stays paused, and `orch-host
# resume` with no host running starts the inbox again, unpaused
orch pause --by tester >/dev/null 2>&1 || fail "pause"
wait_for sj_true "s['status'] == 'paused'"
STOPPED=$(sj "s['id']")
watch_stop
expect_eq "$(sj "[s['id'], s['status']]")" "[\"$STOPPED\", \"paused\"]" "the stopped paused inbox's session"
bg_run "$T/resume2.out" orch resume
RESUME_SUB=$BG_PID
wait_for sj_true "s['id'] != '$STOPPED' and s['status'] == 'running'"
inbox_task "$ORCH_TASKS_DIR/resumed.task.md" resumed medium "Resumed [key:resumed]"
WAIT_TIMEOUT=120 wait_for done_with resumed
expect_eq "$(orch status --json "$STOPPED" | python3 -c "import json,sys; print(json.load(sys.stdin)['status'])")" \
    completed "the stopped paused session once another inbox started"
kill -TERM "$(host_pid_of "$RESUME_SUB")"
expect_eq "$(bg_wait "$T/resume2.out")" 0 "exit code of the resumed inbox after SIGTERM"
note "ok"
