#!/usr/bin/env bash
# The inbox across restarts: a file processed before is not run again when it
# comes back (the same id and content: the queue's ledger, kept in the state);
# a host killed with -9 while a task runs leaves its file in the folder, and
# the next watch runs it again (once) and archives it; the dead host's inbox
# session is closed, not left "running", its task saying it moved to the new
# session (status, sessions).
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"

inbox_task "$ORCH_TASKS_DIR/once.task.md" once medium "Runs once [key:once]"
cp "$ORCH_TASKS_DIR/once.task.md" "$T/once.copy"
watch_start
WAIT_TIMEOUT=120 wait_for done_with once
watch_stop

# the same file again, to a new watch: a duplicate, not run
watch_start
cp "$T/once.copy" "$T/once.tmp" && mv "$T/once.tmp" "$ORCH_TASKS_DIR/once.task.md"
wait_for [ ! -f "$ORCH_TASKS_DIR/once.task.md" ]
expect_eq "$(starts once)" 1 "runs of a file processed before"
wait_for grep -q "once.task.md: task once with this content was processed already: moved to .*, not run" "$WATCH_OUT"
# its first arrival names the task (task_received comes once the file is read); the
# duplicate is no task of the new session: its arrival names none (inbox_event_ids.sh)
expect_eq "$(ev_count task_received once)" 1 "task_received events naming task once"
note "a processed file is not run again ok"

# an edited file runs again in the same session (the session's row is
# "twice-2"): its result names the file's id, not the row's; its artifacts
# are its own (twice-2_result.json, twice-2_summary.txt), the first run's stay
inbox_task "$ORCH_TASKS_DIR/twice.task.md" twice medium "First version [key:twice]"
WAIT_TIMEOUT=120 wait_for done_with twice
cp "$ORCH_RESULTS_DIR/twice_result.json" "$T/twice_result.first"
cp "$ORCH_SUMMARIES_DIR/twice_summary.txt" "$T/twice_summary.first"
inbox_task "$ORCH_TASKS_DIR/twice.task.md" twice medium "Second version [key:twice]"
WAIT_TIMEOUT=120 wait_for test -f "$ORCH_TASKS_DIR/processed/twice.1.task.md"
R2=$ORCH_RESULTS_DIR/twice-2_result.json
[ -f "$R2" ] && [ -f "$ORCH_SUMMARIES_DIR/twice-2_summary.txt" ] || fail "no artifacts of the second version: $(ls "$ORCH_RESULTS_DIR" "$ORCH_SUMMARIES_DIR")"
cmp -s "$T/twice_result.first" "$ORCH_RESULTS_DIR/twice_result.json" || fail "the first version's result was replaced"
cmp -s "$T/twice_summary.first" "$ORCH_SUMMARIES_DIR/twice_summary.txt" || fail "the first version's summary was replaced"
expect_eq "$(python3 -c "import json,sys; r = json.load(open(sys.argv[1])); print(r['task_id'], r['name'], r['summary']['path'])" \
    "$R2")" "twice twice $ORCH_SUMMARIES_DIR/twice-2_summary.txt" "the second version's result task_id, name, summary"
orch validate-artifacts >"$T/validate.out" 2>&1 || fail "validate-artifacts: $(cat "$T/validate.out")"
touch -d '3 days ago' "$R2" "$ORCH_SUMMARIES_DIR/twice-2_summary.txt"
orch clean artifacts --days 1 --dry-run >"$T/clean.out" 2>&1 || fail "clean artifacts: $(cat "$T/clean.out")"
grep -qF "would remove $R2" "$T/clean.out" && grep -qF "would remove $ORCH_SUMMARIES_DIR/twice-2_summary.txt" "$T/clean.out" ||
    fail "clean artifacts does not find the second version's: $(cat "$T/clean.out")"
wait_for ev_has task_archived twice-2  # its events name the session's task, as tail-events --task twice-2 asks
# tail-events --task follows each version from its first event: the file's arrival
first_event() {
    orch tail-events --task "$1" --lines 1000 | head -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["event"])'
}
expect_eq "$(first_event twice)" task_received "the first version's first event"
expect_eq "$(first_event twice-2)" task_received "the second version's first event"

# kill -9 while its agent runs: the next start runs it again
inbox_task "$ORCH_TASKS_DIR/inflight.task.md" inflight medium "In flight [key:inflight] [fake:await:go]"
wait_for grep -q "^start inflight$" "$T/ledger"
FIRST=$(sj "s['id']")
kill -KILL "$WATCH_PID"
KILLED_AT=$(date +%s.%N)
bg_wait "$WATCH_OUT" >/dev/null
[ -f "$ORCH_TASKS_DIR/inflight.task.md" ] || fail "the in-flight file left the folder"
echo go >>"$T/ledger"
watch_start
WAIT_TIMEOUT=120 wait_for done_with inflight
expect_eq "$(starts inflight)" 2 "runs of the task in flight when its host died"
expect_eq "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['status'])" \
    "$ORCH_RESULTS_DIR/inflight_result.json")" completed "the re-run's result"
expect_eq "$(orch status --json "$FIRST" | python3 -c "import json,sys; print(json.load(sys.stdin)['status'])")" \
    completed "the dead host's inbox session"
expect_eq "$(orch status --json "$FIRST" | python3 -c "import json,sys
t = [t for t in json.load(sys.stdin)['tasks'] if t['id'] == 'inflight'][0]
print(t['status'], t['completed_at'] <= float(sys.argv[1]))" "$KILLED_AT")" "cancelled True" \
    "the killed run's task: its time ends where its host died, not at the next start"
SECOND=$(sj "s['id']")
# the old session's task says where it went: the new session, which ran it
check_eq "$(orch status --json "$FIRST" | python3 -c "import json,sys
print([t for t in json.load(sys.stdin)['tasks'] if t['id'] == 'inflight'][0]['error'])")" \
    "its host stopped; moved to session $SECOND, which runs its file again" "the killed run's task: why it ended"
orch status "$FIRST" >"$T/first.txt" 2>&1 || fail "status $FIRST: $(cat "$T/first.txt")"
check "status $FIRST names the session the task moved to: $(cat "$T/first.txt")" \
    grep -qF "↳ its host stopped; moved to session $SECOND, which runs its file again" "$T/first.txt"
orch sessions >"$T/sessions.txt" 2>&1 || fail "sessions: $(cat "$T/sessions.txt")"
check "sessions says where the dead host's tasks went: $(cat "$T/sessions.txt")" \
    grep -qE "^$FIRST .*\(its host stopped; its tasks left moved to session $SECOND\)$" "$T/sessions.txt"
watch_stop
WAIT_TIMEOUT=15 wait_for no_agents
note "ok"
