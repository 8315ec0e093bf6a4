#!/usr/bin/env bash
# Inputs that are not regular files: a FIFO or a device as the task file
# (--tasks), the config (--config), the project's .env or the workflow file.
# Each is refused at once, without waiting for a writer and without reading a
# byte: exit 2, the message names the path and what it is ("not a regular
# file: a FIFO"), no agent runs and no session is stored. A file over the
# read limit is refused from its size, before it is read.
. "$(dirname "$0")/bad_lib.bash"

T=$BAD_TMP
# A refusal is immediate; a run that waits on a FIFO is stopped after this
# many seconds and fails its case (generous, for a loaded machine).
BAD_RUN_LIMIT=90
task_file "$T/good.md" "Good task" "Write the file."
mkfifo "$T/tasks.fifo" "$T/config.fifo" "$T/workflow.lua"

fresh_state() { rm -rf "${ORCH_STATE_DB:?}" "$ORCH_STATE_DB"-* "$ORCH_STATE_DB".*; }
# no_session NAME: the database is absent, or holds no session
no_session() {
    local n=0
    if [ -e "$ORCH_STATE_DB" ]; then
        n=$(timeout 60 "$ORCH_HOST" --root "$BAD_ROOT" sessions --json </dev/null | jq length)
    fi
    expect_eq "$1: no session stored" "$n" 0
}
# refused NAME TEXT...: the last run exited 2 by itself, TEXTs in its output,
# no agent ran, no session stored
refused() {
    local name=$1
    shift
    expect_rc "$name" 2
    expect_no_crash "$name"
    for text in "$@"; do expect_out "$name" "$text"; done
    expect_eq "$name: no agent was started" "$(agent_runs)" 0
    no_session "$name"
}

# --- the task file ---------------------------------------------------------
fresh_state
run_tasks "$T/tasks.fifo"
refused "tasks: a FIFO" "$T/tasks.fifo: not a regular file: a FIFO"

fresh_state
run_tasks /dev/zero
refused "tasks: /dev/zero" "/dev/zero: not a regular file: a character device"

# 100 MB that take no disk space: over the task parser's 5 MB limit by their size alone
truncate -s 100M "$T/sparse.md"
fresh_state
run_tasks "$T/sparse.md"
refused "tasks: 100 MB" "$T/sparse.md: 104857600 bytes is over the limit of 5242880 bytes"

# --- the config --------------------------------------------------------------
fresh_state
run_tasks "$T/good.md" --config "$T/config.fifo"
refused "config: a FIFO" "$T/config.fifo: not a regular file: a FIFO"

# --- a workflow file named by path -------------------------------------------
fresh_state
orch run "$T/workflow.lua" --no-input
refused "workflow: a FIFO" "$T/workflow.lua: not a regular file: a FIFO"

# --- .env, in a copy of the project --------------------------------------------
R="$T/root"
mkdir -p "$R"
cp -r "$ORCH_SRC/workflows" "$ORCH_SRC/scripts" "$R/"
rm -f "$R/.env"
mkfifo "$R/.env"
BAD_ROOT=$R
fresh_state
run_tasks "$T/good.md"
refused ".env: a FIFO" "$R/.env: not a regular file: a FIFO"
rm -f "$R/.env"

# --- still healthy: a good run afterwards works ---------------------------------
fresh_state
run_tasks "$T/good.md"
expect_rc "good run afterwards" 0

bad_finish
