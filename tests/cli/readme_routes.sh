#!/usr/bin/env bash
# The README's notification routes ("failures also to a second chat, progress
# only to n8n"), exactly as the README shows them, in a config file: with the
# sinks it names there (N8N_NOTIFY_URL, TELEGRAM_BOT_TOKEN) doctor passes;
# without N8N_NOTIFY_URL the refusal says what makes the n8n sink.
source "$(dirname "$0")/lib.bash"
export ORCH_QUESTIONS_DIR=$T/questions

BLOCK=$(sed -n '/^sinks. So "failures also to a second chat/,/^```$/p' "$ORCH_SRC/README.md" |
    sed -n '/^```lua$/,/^```$/p' | sed '1d;$d')
case "$BLOCK" in notify\ =*) ;; *) fail "no notify routes block in README.md: $BLOCK" ;; esac
printf 'return {\n%s\n}\n' "$BLOCK" >"$T/routes.lua"

rc=0
N8N_NOTIFY_URL=http://127.0.0.1:9/webhook TELEGRAM_BOT_TOKEN=123:abc \
    orch --config "$T/routes.lua" doctor >"$T/ok.out" 2>&1 || rc=$?
check_eq "$rc" 0 "doctor with the README's routes and their sinks set ($(grep -i 'notify\|fail' "$T/ok.out" | head -3))"

rc=0
TELEGRAM_BOT_TOKEN=123:abc orch --config "$T/routes.lua" doctor >"$T/no-n8n.out" 2>&1 || rc=$?
check_eq "$rc" 2 "doctor with the README's routes and no N8N_NOTIFY_URL"
check "the refusal says what makes the n8n sink: $(cat "$T/no-n8n.out")" \
    grep -q "names 'n8n', which is not a sink.*N8N_NOTIFY_URL" "$T/no-n8n.out"
finish
