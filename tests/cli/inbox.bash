# tests/cli/inbox.bash: the task inbox's shell tests' common part (sourced after
# lib.bash; not a test: ctest only runs *.sh). Each test gets its own watched
# folder, results and summaries under $T, and the stand-in's ledger.
export ORCH_TASKS_DIR=$T/tasks
export ORCH_SUMMARIES_DIR=$T/summaries
export FAKE_CLAUDE_LEDGER=$T/ledger
export FAKE_CLAUDE_WRITE=1
mkdir -p "$ORCH_TASKS_DIR"
touch "$T/ledger"

# inbox_task PATH ID PRIORITY PROMPT [TITLE]: the text of an inbox task file
# (.task.md) at PATH, written in one go (temp file + rename, as an editor saves)
inbox_task() {
    local path=$1 id=$2 prio=$3 prompt=$4 title=${5:-Task $2}
    inbox_text "$id" "$prio" "$prompt" "$title" >"$T/.tmp-task"
    mv "$T/.tmp-task" "$path"
}

inbox_text() {
    cat <<EOF
---
id: $1
type: analyze
priority: $2
---

# $4

**Prompt:**
$3

**Success Criteria:**
- [ ] the agent says it is done
EOF
}

# watch_start [ARGS...]: `orch watch` in the background (WATCH_OUT, WATCH_SUB),
# returning once the inbox watches its folder (the event inbox_started)
WATCH_N=0
watch_start() {
    WATCH_N=$((WATCH_N + 1))
    WATCH_OUT=$T/watch.$WATCH_N.out
    local before
    before=$(ev_count inbox_started)
    bg_run "$WATCH_OUT" orch watch --auto-approve --no-input "$@"
    WATCH_SUB=$BG_PID
    wait_for ev_more inbox_started "$before"
    WATCH_PID=$(host_pid_of "$WATCH_SUB")
}

# watch_stop: SIGTERM to the watching host; its exit code must be 0
watch_stop() {
    kill -TERM "$WATCH_PID"
    local rc
    rc=$(bg_wait "$WATCH_OUT")
    expect_eq "$rc" 0 "exit code of watch after SIGTERM ($(tail -3 "$WATCH_OUT"))"
}

# ev_count NAME [TASK]: how many events NAME (of task TASK) events.ndjson holds
ev_count() {
    [ -f "$T/logs/events.ndjson" ] || { echo 0; return; }
    ev "sum(1 for e in ev if e.get('event') == '$1' and ('${2-}' == '' or e.get('task') == '${2-}'))"
}
# ev_more NAME N: more than N events NAME
ev_more() { [ "$(ev_count "$1")" -gt "$2" ]; }
# ev_has NAME TASK: an event NAME of task TASK
ev_has() { [ "$(ev_count "$1" "$2")" -gt 0 ]; }

# processed NAME / failed NAME: the task file moved there (to failed/ with its
# reason beside it: the move writes that file just after the rename)
processed() { [ -f "$ORCH_TASKS_DIR/processed/$1.task.md" ]; }
failed() { [ -f "$ORCH_TASKS_DIR/failed/$1.task.md" ] && [ -s "$ORCH_TASKS_DIR/failed/$1.task.md.reason" ]; }
# done_with NAME: its result, its summary and its file in processed/
done_with() {
    [ -f "$ORCH_RESULTS_DIR/$1_result.json" ] && [ -f "$ORCH_SUMMARIES_DIR/$1_summary.txt" ] && processed "$1"
}
