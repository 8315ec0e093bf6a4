#!/usr/bin/env bash
# `doctor` shows the whole effective config with each value's source, the
# sections only Lua reads (orchestrator, telegram, budget, log, schedules)
# as well as those the host reads; its claude CLI row is status's
# (lib/components): the binary and its version, or a FAIL and exit 1.
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
# notification sinks: a named one from the config file, the default ones from where their settings came from
cat >"$T/sinks.lua" <<'EOF'
return { notify = { sinks = { oncall = { kind = "webhook", url = "http://127.0.0.1:9/x" } },
                    routes = { { types = { "error" }, sinks = { "default", "oncall" } } } },
         claude = { env = { FOO = "bar" } } }
EOF
N8N_NOTIFY_URL=http://127.0.0.1:9/n orch --config "$T/sinks.lua" doctor >"$T/doctor.out" 2>&1
row notify.sinks.oncall.url "http://127.0.0.1:9/x" config
row notify.sinks.oncall.kind webhook config
row notify.sinks.n8n.url "http://127.0.0.1:9/n" "env N8N_NOTIFY_URL"
row claude.env.FOO bar config
# a default Telegram sink's fields, each from its own setting
TELEGRAM_BOT_TOKEN=123:abc TELEGRAM_CHAT_ID=42 TELEGRAM_API_BASE=http://127.0.0.1:9 orch doctor >"$T/doctor.out" 2>&1
row "notify.sinks.telegram:42.chat_id" 42 "env TELEGRAM_CHAT_ID"
row "notify.sinks.telegram:42.api_base" "http://127.0.0.1:9" "env TELEGRAM_API_BASE"

grep -qE "^  ok +claude CLI +$FAKE_CLAUDE \(.+\)\$" "$T/doctor.out" || { cat "$T/doctor.out" >&2; fail "doctor: no claude CLI row"; }
rc=0
CLAUDE_CLI_PATH=no-such-claude orch doctor >"$T/missing.out" 2>&1 || rc=$?
[[ $rc == 1 ]] || fail "doctor with a claude CLI that is not there: exit $rc, not 1"
grep -qE "^  FAIL claude CLI +no-such-claude not found \(set CLAUDE_CLI_PATH or claude.path\)\$" "$T/missing.out" ||
  { cat "$T/missing.out" >&2; fail "doctor: no FAIL row for a missing claude CLI"; }
[[ $(grep -c "claude CLI" "$T/missing.out") == 1 ]] || fail "doctor: the claude CLI said more than once"
# there but not a program, or a script whose interpreter is missing: FAIL, saying which
printf '#!/bin/sh\necho 2.1.0\n' >"$T/claude-noexec"
printf '#!/no/such/interpreter\necho 2.1.0\n' >"$T/claude-badinterp"
chmod +x "$T/claude-badinterp"
CLAUDE_CLI_PATH=$T/claude-noexec orch doctor >"$T/noexec.out" 2>&1
grep -qE "FAIL claude CLI +$T/claude-noexec is not executable" "$T/noexec.out" ||
  fail "doctor: a claude CLI that is not executable: $(grep 'claude CLI' "$T/noexec.out")"
CLAUDE_CLI_PATH=$T/claude-badinterp orch doctor >"$T/badinterp.out" 2>&1
grep -qE "FAIL claude CLI +$T/claude-badinterp \(no answer to --version\)" "$T/badinterp.out" ||
  fail "doctor: a claude CLI whose interpreter is missing: $(grep 'claude CLI' "$T/badinterp.out")"
# every folder the product writes to is checked: a summaries folder that is a file fails
touch "$T/not-a-dir"
rc=0
ORCH_SUMMARIES_DIR=$T/not-a-dir orch doctor >"$T/folders.out" 2>&1 || rc=$?
[[ $rc == 1 ]] || fail "doctor with paths.summaries_dir a file: exit $rc, not 1"
grep -qE "^  FAIL summaries_dir +$T/not-a-dir\$" "$T/folders.out" || { cat "$T/folders.out" >&2; fail "doctor: no FAIL row for summaries_dir"; }
for k in questions_dir feedback_dir; do
  grep -qE "^  ok +$k " "$T/folders.out" || { cat "$T/folders.out" >&2; fail "doctor: no $k row"; }
done
finish
