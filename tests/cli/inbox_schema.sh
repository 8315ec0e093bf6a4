#!/usr/bin/env bash
# The schema an inbox result is checked against (docs/schema/task-result.schema.json)
# in a project that has no docs/: one with workflows/ only takes the one
# shipped beside the orch scripts it loads (the source tree's), so its task
# runs and leaves a valid result; one with scripts/ of its own but no schema
# fails its task before the agent starts (no run in the stand-in's ledger,
# the file in failed/ with the reason), and doctor says so (FAIL, exit 1).
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"
export ORCH_QUESTIONS_DIR=$T/questions
SRC=$ORCH_SRC

# workflows/ only: the shipped schema
mkdir -p "$T/bare"
cp -r "$SRC/workflows" "$T/bare/"
ORCH_SRC=$T/bare
out=$(orch doctor 2>&1)
grep -q "ok   results schema .*/docs/schema/task-result.schema.json" <<<"$out" ||
    fail "doctor, workflows/ only: $(grep -i schema <<<"$out")"
inbox_task "$ORCH_TASKS_DIR/one.task.md" one high "One [key:one]"
watch_start --max-concurrent 1
WAIT_TIMEOUT=120 wait_for done_with one
expect_eq "$(starts one)" 1 "runs of the task in a project with workflows/ only"
orch validate-artifacts >"$T/va.out" 2>&1 || fail "validate-artifacts, workflows/ only: $(cat "$T/va.out")"
watch_stop
note "workflows/ only ok"

# scripts/ of its own, no docs/: nothing to check a result against
mkdir -p "$T/own"
cp -r "$SRC/workflows" "$SRC/scripts" "$T/own/"
ORCH_SRC=$T/own
rc=0
orch doctor >"$T/doctor.out" 2>&1 || rc=$?
expect_eq "$rc" 1 "doctor's exit code without the schema"
grep -q "FAIL results schema .*docs/schema/task-result.schema.json is missing: not in the project ($T/own)" \
    "$T/doctor.out" || fail "doctor without the schema: $(grep -i schema "$T/doctor.out")"
inbox_task "$ORCH_TASKS_DIR/two.task.md" two high "Two [key:two]"
watch_start --max-concurrent 1
wait_for failed two
expect_eq "$(starts two)" 0 "runs of the task without the schema"
grep -q "task-result.schema.json is missing.*the agent was not started" "$ORCH_TASKS_DIR/failed/two.task.md.reason" ||
    fail "the reason: $(cat "$ORCH_TASKS_DIR/failed/two.task.md.reason")"
watch_stop
note "ok"
