#!/usr/bin/env bash
# `doctor` shows the whole effective config with each value's source, the
# sections only Lua reads (orchestrator, telegram, budget, log, schedules)
# as well as those the host reads.
source "$(dirname "$0")/lib.bash"

printf 'return { orchestrator = { approval_mode = "auto" }, budget = { warn_at = 0.5 } }\n' >"$T/config.lua"
TELEGRAM_API_BASE=http://127.0.0.1:9 LOG_LEVEL=warn orch --config "$T/config.lua" doctor >"$T/doctor.out" 2>&1
row() { grep -E "^  $1 +$2 +$3\$" "$T/doctor.out" >/dev/null || { cat "$T/doctor.out" >&2; fail "doctor: no row '$1 $2 $3'"; }; }
row orchestrator.approval_mode auto config
row budget.warn_at 0.5 config
row telegram.api_base "http://127.0.0.1:9" "env TELEGRAM_API_BASE"
row log.level warn "env LOG_LEVEL"
row claude.kill_grace 3 default
row schedules "\{\}" default
finish
