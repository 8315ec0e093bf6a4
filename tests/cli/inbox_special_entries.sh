#!/usr/bin/env bash
# Entries of the watched folder named like inbox task files that are not
# regular files: a FIFO, a folder and a dangling symlink, there at start-up or
# made while the watch runs. Each is reported once as a bad file is (moved to
# failed/ with the reason saying what it is, one warning, one refused `parsed`
# event with that reason),
# opening the FIFO waits for no writer, and the task files beside them run.
# A file whose name is not UTF-8 (the state holds names as JSON text) is
# refused the same way, also with an id: field, and the watch goes on.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"

mkfifo "$ORCH_TASKS_DIR/pipe-there.task.md"
mkdir "$ORCH_TASKS_DIR/folder-there.task.md"
ln -s "$T/nowhere.md" "$ORCH_TASKS_DIR/dangling-there.task.md"
NOT_UTF8=$'caf\xe9'
printf -- '---\nid: named-there\ntype: fix\n---\n**Prompt:**\nhi\n' >"$ORCH_TASKS_DIR/$NOT_UTF8-there.task.md"
watch_start --max-concurrent 1
mkfifo "$ORCH_TASKS_DIR/pipe-new.task.md"
mkdir "$T/away.task.md"
mv "$T/away.task.md" "$ORCH_TASKS_DIR/folder-moved.task.md"
mkdir "$ORCH_TASKS_DIR/folder-new.task.md"
ln -s "$T/nowhere.md" "$ORCH_TASKS_DIR/dangling-new.task.md"
inbox_task "$ORCH_TASKS_DIR/good.task.md" good high "Good [key:good]"
WAIT_TIMEOUT=120 wait_for done_with good

# refused_once NAME WHAT [REASON]: NAME in failed/ with the reason naming it
# and REASON ("not a regular file: WHAT"), one warning in the watch's output,
# one refused parsed event saying it (failed_entry: inbox.bash's `failed` for
# an entry that is no regular file, a dangling symlink too)
there() { [ -e "$1" ] || [ -L "$1" ]; }
failed_entry() { there "$ORCH_TASKS_DIR/failed/$1.task.md" && [ -s "$ORCH_TASKS_DIR/failed/$1.task.md.reason" ]; }
refused_once() {
    local what=${3:-not a regular file: $2}
    wait_for failed_entry "$1"
    local reason=$ORCH_TASKS_DIR/failed/$1.task.md.reason
    grep -q "$ORCH_TASKS_DIR/$1.task.md: $what" "$reason" || fail "$1's reason: $(cat "$reason")"
    expect_eq "$(grep -c "inbox: $1.task.md moved to failed/: .*$what" "$WATCH_OUT")" 1 \
        "$1: warnings in the watch's output"
    expect_eq "$(ev "sum(1 for e in ev if e['event'] == 'parsed' and e.get('ok') is False and e['file'].endswith('/$1.task.md') and e.get('error', '').endswith(': $what'))")" \
        1 "$1: refused parsed events saying why"
    there "$ORCH_TASKS_DIR/$1.task.md" && fail "$1 is still in the folder"
    return 0
}
refused_once pipe-there "a FIFO"
refused_once folder-there "a directory"
refused_once pipe-new "a FIFO"
refused_once folder-moved "a directory"
refused_once folder-new "a directory"
refused_once dangling-there - "a symlink whose target does not exist"
refused_once dangling-new - "a symlink whose target does not exist"
[ -L "$ORCH_TASKS_DIR/failed/dangling-new.task.md" ] || fail "the dangling symlink was not moved as it is"
expect_eq "$(starts good)" 1 "runs of the task file beside them"
printf -- '---\nid: named-new\ntype: fix\n---\n**Prompt:**\nhi\n' >"$ORCH_TASKS_DIR/$NOT_UTF8-new.task.md"
for n in there new; do
    wait_for failed_entry "$NOT_UTF8-$n"
    grep -q "the file name is not valid UTF-8" "$ORCH_TASKS_DIR/failed/$NOT_UTF8-$n.task.md.reason" ||
        fail "$n: the not-UTF-8 name's reason: $(cat "$ORCH_TASKS_DIR/failed/$NOT_UTF8-$n.task.md.reason")"
done
inbox_task "$ORCH_TASKS_DIR/after.task.md" after high "After [key:after]"
WAIT_TIMEOUT=120 wait_for done_with after
# processed/ and failed/ themselves (folders not named like task files) are never reported
expect_eq "$(ev "sum(1 for e in ev if e['event'] == 'task_received' and e['file'].endswith(('/processed', '/failed')))")" \
    0 "events of the inbox's own folders"
watch_stop
note "ok"
