#!/usr/bin/env bash
# `serve` reads its configuration again without a restart (lib/config_reload):
# a rotated webhook secret in the config file applies to the next request
# (the old one gets 401), and a changed claude.model to the next session it
# starts. A broken config keeps the one in force (the new secret still works)
# and is logged once, not on every request.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_ARGS_LOG=$T/args.log ORCH_TASKS_DIR=$T/tasks
mkdir -p "$ORCH_TASKS_DIR"
touch "$T/args.log"
unset WEBHOOK_SECRET CLAUDE_MODEL
conf() { printf '%s\n' "$1" >"$T/config.lua.tmp" && mv "$T/config.lua.tmp" "$T/config.lua"; }
models() { tr '\037' '\n' <"$T/args.log" | grep -A1 -x -- --model | grep -v -x -- --model | grep -v -x -- -- | tr '\n' ' '; }
conf 'return { server = { secret = "secret-one" }, claude = { model = "model-one" } }'
serve_start --config "$T/config.lua"

status_with() { req POST /webhook/status '{"secret":"'"$1"'"}'; }
check_eq "$(status_with secret-one)" 200 "the first secret"
F=$ORCH_TASKS_DIR/day.md
task_md "$F" 1 "First" docs "Write it. [key:r1]"
run_day() {  # run_day SECRET: start $F (forced: it ran before) and wait for its end
    expect_req 200 POST /webhook/command \
        '{"secret":"'"$1"'","command":"start","params":{"task_file":"'"$F"'","auto_approve":true,"force":true}}'
    local sid
    sid=$(rj "r['session_id']")
    WAIT_TIMEOUT=120 wait_for eval '[ "$(orch status --json "'"$sid"'" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"status\"])")" = completed ]'
}
run_day secret-one

conf 'return { server = { secret = "secret-two" }, claude = { model = "model-two" } }'
check_eq "$(status_with secret-one)" 401 "the old secret after the rotation"
check_eq "$(status_with secret-two)" 200 "the new secret after the rotation"
run_day secret-two
check_eq "$(models)" "model-one model-two " "the model of each session's agent"

conf 'return { server = { secret = "secret-three", no_such_key = 1 } }'
for _ in 1 2 3; do check_eq "$(status_with secret-two)" 200 "the secret in force while the config is broken"; done
check_eq "$(status_with secret-three)" 401 "the broken config's secret"
daily=$T/logs/$(date +%F).log
check_eq "$(grep -c "serve: the configuration is not reloaded" "$daily")" 1 "warnings for the broken config"
serve_stop >/dev/null
finish
