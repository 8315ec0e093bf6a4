#!/usr/bin/env bash
# `status` of an inbox counts the files its session refused (moved to failed/
# unrun, with a .reason), with where their reasons are: not a task that ran
# and failed, not a refusal of an earlier session (the .reason files already in
# failed/ when it starts).
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"

mkdir -p "$ORCH_TASKS_DIR/failed"
printf 'no front matter\ninvalid at 2001-01-01T00:00:00Z\n' >"$ORCH_TASKS_DIR/failed/old.task.md.reason"
printf 'the agent failed\nfailed at 2999-01-01T00:00:00Z\n' >"$ORCH_TASKS_DIR/failed/ran.task.md.reason"
watch_start --max-concurrent 1
orch status >"$T/status0.txt" || fail "status: $(cat "$T/status0.txt")"
check "no refusal of this session yet: $(grep Inbox "$T/status0.txt")" \
    grep -qE "^Inbox .* queued 0$" "$T/status0.txt"
for n in a b; do printf 'just text, no front matter\n' >"$ORCH_TASKS_DIR/$n.task.md"; done
wait_for failed a
wait_for failed b
orch status >"$T/status1.txt" || fail "status: $(cat "$T/status1.txt")"
check "status counts the two refused files and says where: $(grep Inbox "$T/status1.txt")" \
    grep -qF "queued 0   refused 2 (not run: the reasons in $ORCH_TASKS_DIR/failed/)" "$T/status1.txt"
check_eq "$(orch status --json | python3 -c "import json,sys; print(json.load(sys.stdin)['refused'])")" 2 \
    "status --json: refused"
watch_stop
finish
