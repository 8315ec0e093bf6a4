#!/usr/bin/env bash
# Under cron (no terminal, stdout and stderr into one log): `run daily.lua`
# with no --tasks and no file for today exits 2 and says so once, naming the
# file it looked for and each name today's file may have; the daily log has it too. A task file that does not
# parse is reported once as well. (The error used to be printed twice: once by
# the log on stderr, once more on stdout.)
source "$(dirname "$0")/lib.bash"

export ORCH_TASKS_DIR=$T/tasks
mkdir -p "$ORCH_TASKS_DIR"
today=$(date +%F)

orch run daily.lua --auto-approve </dev/null >"$T/cron.log" 2>&1
rc=$?
expect_eq "$rc" 2 "exit code, no day file"
n=$(grep -c "cannot read the task file" "$T/cron.log")
expect_eq "$n" 1 "times the missing day file is reported in the cron log
$(cat "$T/cron.log")"
grep -q "$ORCH_TASKS_DIR/$today-tasks.md" "$T/cron.log" || fail "the error does not name today's file: $(cat "$T/cron.log")"
expect_eq "$(grep -c "no --tasks given" "$T/cron.log")" 1 "times the 'no --tasks given' hint is shown"
grep -qF "$today-tasks.md, $today.md, $today.yaml, $today.yml or $today.json)" "$T/cron.log" ||
    fail "the hint does not name every name it looked for: $(cat "$T/cron.log")"
grep -q "cannot read the task file" "$T/logs/$today.log" || fail "the daily log does not have the error"

# a day file that does not parse: one report too, naming file:line
printf '# Tasks - %s\n\n## Task 1:\n**Type:** backend\n' "$today" >"$ORCH_TASKS_DIR/$today-tasks.md"
orch run daily.lua --auto-approve </dev/null >"$T/cron2.log" 2>&1
expect_eq "$?" 2 "exit code, day file that does not parse"
n=$(grep -c "$today-tasks.md:[0-9]" "$T/cron2.log")
expect_eq "$n" 1 "times the parse error is reported in the cron log
$(cat "$T/cron2.log")"
note ok
