#!/usr/bin/env bash
# orch.reload_config() picks up a changed .env and workflows/config.lua
# between two agent runs of one workflow, without a restart: the next
# orch.run_claude uses the new CLAUDE_TIMEOUT_SEC, CLAUDE_MAX_TURNS and
# CLAUDE_CLI_PATH (another stand-in script), a variable .env no longer sets
# goes (the config file's value shows again, the agent no longer gets it),
# one of the real environment keeps winning over .env, orch.config stays the
# same table, and nothing changed gives {} at once. A bad new config (an
# unknown key, a syntax error, a bad .env line) keeps the old one in force:
# nil, err naming the file and the key, logged once per change.
source "$(dirname "$0")/lib.bash"

P=$T/proj   # a project of its own: its .env and workflows/config.lua are the test's
mkdir -p "$P/workflows" "$T/bin"
# the real environment: CLAUDE_MODEL wins over .env; the others come from .env
unset CLAUDE_CLI_PATH CLAUDE_TIMEOUT_SEC CLAUDE_MAX_TURNS
export CLAUDE_MODEL=real-model
export FAKE_CLAUDE_ARGS_LOG=$T/args
for name in claude-a claude-b; do
    cat >"$T/bin/$name" <<SH
#!/bin/sh
echo "$name mark=\${FAKE_MARK-unset} timeout_env=\${CLAUDE_TIMEOUT_SEC-unset}" >>"$T/which"
exec "$FAKE_CLAUDE" "\$@"
SH
    chmod +x "$T/bin/$name"
done

# each phase: reload (twice), one agent run, what it saw into phase<N>.json,
# then wait for the test's go<N> (the test rewrites the files meanwhile)
cat >"$P/workflows/reload.lua" <<'LUA'
local cfg0, claude0 = orch.config, orch.config.claude
local function wait_for(path)
  local deadline = orch.now() + 120
  while not orch.file_info(path) do
    if orch.now() > deadline then error("no " .. path .. " within 120 s") end
    orch.sleep(0.05)
  end
end
local function keys(v) return type(v) == "table" and table.concat(v, " ") or orch.json.null end
for n = 1, tonumber(os.getenv("PHASES")) do
  local changed, err = orch.reload_config()
  local again, err2 = orch.reload_config()
  local r = orch.run_claude({ prompt = "[fake:sleep_then_ok:2]" })
  local c = orch.config.claude
  orch.log("debug", "phase-" .. n .. "-debug")  -- kept once log.level = "debug" is in force
  assert(orch.write_file(orch.root .. "/phase" .. n .. ".json", orch.json.encode({
    changed = keys(changed), err = err and tostring(err) or orch.json.null,
    again = keys(again), err2 = err2 and tostring(err2) or orch.json.null,
    ok = r.ok, error = r.error or orch.json.null, timeout = c.timeout, max_turns = c.max_turns,
    path = c.path, model = c.model, source = orch.config._sources["claude.max_turns"] or "default",
    same = orch.config == cfg0 and c == claude0 })))
  wait_for(orch.root .. "/go" .. n)
end
return 0
LUA

cat >"$P/.env" <<ENV
CLAUDE_CLI_PATH=$T/bin/claude-a
CLAUDE_TIMEOUT_SEC=60
CLAUDE_MAX_TURNS=3
CLAUDE_MODEL=dotenv-model
FAKE_MARK=one
ENV
echo 'return { claude = { nice = 0 } }' >"$P/workflows/config.lua"

PHASES=6 "$ORCH_HOST" --root "$P" run reload.lua >"$T/out" 2>&1 &
host=$!
BG_PIDS+=("$host")

# phase N's facts: J N EXPR (python over the phase's JSON as p)
J() { python3 -c "import json,sys; p=json.load(open(sys.argv[1])); print($2)" "$P/phase$1.json"; }
argv_of() { sed -n "${1}p" "$T/args" | tr '\037' ' '; }
go() { : >"$P/go$1"; }
wait_for test -s "$P/phase1.json"

# 1: as started
expect_eq "$(J 1 "p['ok'], p['timeout'], p['max_turns'], p['model'], p['changed'], p['same']")" \
    "True 60 3 real-model  True" "phase 1"
expect_eq "$(sed -n 1p "$T/which")" "claude-a mark=one timeout_env=60" "phase 1: the agent"
argv_of 1 | grep -q -- "--max-turns 3 " || fail "phase 1: no --max-turns 3: $(argv_of 1)"
argv_of 1 | grep -q -- "--model real-model " || fail "phase 1: not the real environment's model: $(argv_of 1)"

# 2: .env and config.lua rewritten in place: new timeout and stand-in,
# CLAUDE_MAX_TURNS and FAKE_MARK gone (config.lua's max_turns shows), the
# real environment's CLAUDE_MODEL still wins over .env's new one
cat >"$P/.env" <<ENV
CLAUDE_CLI_PATH=$T/bin/claude-b
CLAUDE_TIMEOUT_SEC=1
CLAUDE_MODEL=dotenv-model-2
ENV
echo 'return { claude = { nice = 0, max_turns = 9 }, log = { level = "debug" } }' >"$P/workflows/config.lua"
go 1
wait_for test -s "$P/phase2.json"
expect_eq "$(J 2 "p['changed'], '|', p['again'], p['err']")" "claude.max_turns claude.path claude.timeout log.level |  None" \
    "phase 2: the changed keys, then {} when nothing changed"
expect_eq "$(J 2 "p['ok'], p['error'], p['timeout'], p['max_turns'], p['model'], p['source'], p['same']")" \
    "False timed out after 1 s 1 9 real-model config True" "phase 2: the new values in force"
expect_eq "$(sed -n 2p "$T/which")" "claude-b mark=unset timeout_env=1" "phase 2: the agent"
argv_of 2 | grep -q -- "--max-turns 9 " || fail "phase 2: no --max-turns 9: $(argv_of 2)"
argv_of 2 | grep -q -- "--model real-model " || fail "phase 2: .env's model won over the real environment's: $(argv_of 2)"

# 3: an unknown key: the old config (and the old .env values) stay
echo 'CLAUDE_TIMEOUT_SEC=30' >>"$P/.env"
sed -i 's/^CLAUDE_TIMEOUT_SEC=1$//' "$P/.env"
echo 'return { claude = { nice = 0, max_turns = 9, timeuot = 5 }, log = { level = "debug" } }' >"$P/workflows/config.lua"
go 2
wait_for test -s "$P/phase3.json"
err=$(J 3 "p['err']")
case $err in *"workflows/config.lua"*"claude.timeuot"*) ;; *) fail "phase 3: the error names no file and key: $err" ;; esac
expect_eq "$(J 3 "p['err2'] == p['err'], p['changed'], p['ok'], p['timeout'], p['max_turns']")" \
    "True None False 1 9" "phase 3: the old config in force, the error again"
expect_eq "$(sed -n 3p "$T/which")" "claude-b mark=unset timeout_env=1" "phase 3: the agent (.env not applied)"

# 4: a syntax error
echo 'return { claude = { nice = 0,, } }' >"$P/workflows/config.lua"
go 3
wait_for test -s "$P/phase4.json"
err=$(J 4 "p['err']")
case $err in *"workflows/config.lua:1:"*) ;; *) fail "phase 4: the error names no file:line: $err" ;; esac
expect_eq "$(J 4 "p['timeout'], p['max_turns']")" "1 9" "phase 4: the old config in force"

# 5: a good config.lua, a bad .env line
echo 'return { claude = { nice = 0, max_turns = 9 }, log = { level = "debug" } }' >"$P/workflows/config.lua"
echo 'not a line' >>"$P/.env"
go 4
wait_for test -s "$P/phase5.json"
err=$(J 5 "p['err']")
case $err in *"/.env:"[0-9]*": expected KEY=VALUE"*) ;; *) fail "phase 5: the error names no .env line: $err" ;; esac
expect_eq "$(J 5 "p['timeout']")" "1" "phase 5: the old config in force"

# 6: all fixed: .env's new timeout is in force
sed -i '/^not a line$/d' "$P/.env"
go 5
wait_for test -s "$P/phase6.json"
expect_eq "$(J 6 "p['changed'], p['err'], p['ok'], p['timeout'], p['same']")" "claude.timeout None True 30 True" \
    "phase 6: fixed files picked up"
expect_eq "$(sed -n 6p "$T/which")" "claude-b mark=unset timeout_env=30" "phase 6: the agent"
go 6
wait "$host"
expect_eq "$?" 0 "the workflow's exit code: $(cat "$T/out")"

# each bad config was logged once, not on every call
daily=$T/logs/$(date +%F).log
expect_eq "$(grep -c "config not reloaded" "$daily")" 3 "warnings in the daily log"
grep -q "config reloaded: claude.max_turns, claude.path, claude.timeout, log.level; .env: CLAUDE_CLI_PATH, CLAUDE_MAX_TURNS (unset), CLAUDE_TIMEOUT_SEC, FAKE_MARK (unset)" "$daily" \
    || fail "no 'config reloaded' line: $(grep config "$daily")"
expect_eq "$(grep -o 'phase-[0-9]-debug' "$daily" | tr '\n' ' ')" "phase-2-debug phase-3-debug phase-4-debug phase-5-debug phase-6-debug " \
    "log.level = debug in force from phase 2"

# doctor: what is in force, from where (.env or the real environment), and
# when the two files last changed
"$ORCH_HOST" --root "$P" doctor >"$T/doctor" 2>&1
row() { grep -E "^  $1 +$2 +$3\$" "$T/doctor" >/dev/null || fail "doctor: no row '$1 $2 $3': $(cat "$T/doctor")"; }
row claude.path "$T/bin/claude-b" "env CLAUDE_CLI_PATH \(.env\)"
row claude.timeout 30 "env CLAUDE_TIMEOUT_SEC \(.env\)"
row claude.model real-model "env CLAUDE_MODEL"
row claude.max_turns 9 config
grep -qE "^  ok +config +$P/workflows/config.lua \(changed $(date +%F)T" "$T/doctor" || fail "doctor: no config change time: $(cat "$T/doctor")"
grep -qE "^  ok +\.env +$P/.env \(changed $(date +%F)T" "$T/doctor" || fail "doctor: no .env change time: $(cat "$T/doctor")"
note ok
