#!/usr/bin/env bash
# The inbox reads its configuration again before each task (orch.reload_config):
# the config file changed while `watch` runs applies to the next task it starts
# (claude.model, as the stand-in's argument log shows), without a restart; a
# broken one keeps the configuration in force, and the next task still runs.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"

export FAKE_CLAUDE_ARGS_LOG=$T/args.log
printf 'return { claude = { model = "model-before" } }\n' >"$T/config.lua"
models() { tr '\037' '\n' <"$T/args.log" | grep -A1 -x -- --model | grep -v -x -- --model | grep -v -x -- -- | tr '\n' ' '; }

watch_start --config "$T/config.lua"
inbox_task "$ORCH_TASKS_DIR/one.task.md" one medium "First [key:one]"
WAIT_TIMEOUT=120 wait_for done_with one
printf 'return { claude = { model = "model-after" } }\n' >"$T/config.lua.tmp" && mv "$T/config.lua.tmp" "$T/config.lua"
inbox_task "$ORCH_TASKS_DIR/two.task.md" two medium "Second [key:two]"
WAIT_TIMEOUT=120 wait_for done_with two
expect_eq "$(models)" "model-before model-after " "the model of each run"

printf 'return { claude = { no_such_key = 1 } }\n' >"$T/config.lua.tmp" && mv "$T/config.lua.tmp" "$T/config.lua"
inbox_task "$ORCH_TASKS_DIR/three.task.md" three medium "Third [key:three]"
WAIT_TIMEOUT=120 wait_for done_with three
expect_eq "$(models)" "model-before model-after model-after " "the model after a broken config"
watch_stop
note "ok"
