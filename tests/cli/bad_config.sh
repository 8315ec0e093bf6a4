#!/usr/bin/env bash
# Bad configuration: a --config file with an unknown key, a wrong type, a bad
# value, a syntax or runtime error; a bad .env line; bad environment values.
# Each exits 2 before anything runs, naming the file and the line or key (or
# the environment variable), and creates no state.
. "$(dirname "$0")/bad_lib.bash"

T=$BAD_TMP
task_file "$T/good.md" "Good task" "Write the file."

# cfg NAME TEXT: write a config file $T/NAME.lua
cfg() { printf '%s\n' "$2" >"$T/$1.lua"; }

# config_case NAME FILE TEXT...: run with --config FILE; exit 2, TEXTs in stderr, no state.
# Each case starts from an empty state folder, so one failure does not
# cascade into the next case.
fresh_state() { rm -rf "${ORCH_STATE_DB:?}" "$ORCH_STATE_DB"-* "$ORCH_STATE_DB".*; }
config_case() {
    local name=$1 file=$2 runs0
    shift 2
    fresh_state
    runs0=$(agent_runs)
    run_tasks "$T/good.md" --config "$file"
    expect_rc "$name" 2
    expect_no_crash "$name"
    for text in "$@"; do expect_err "$name" "$text"; done
    expect_true "$name: no database created" "$(ls -A "$T/state")" test ! -e "$ORCH_STATE_DB"
    expect_eq "$name: no agent ran" "$(agent_runs)" "$runs0"
}

# --- config file -------------------------------------------------------------------
cfg unknown_key 'return {
  claude = {
    timeout = 10,
    colour = "red",
  },
}'
config_case "config: unknown key" "$T/unknown_key.lua" "$T/unknown_key.lua" "unknown key 'claude.colour'"

cfg unknown_section 'return {
  clade = { timeout = 5 },
}'
config_case "config: unknown section" "$T/unknown_section.lua" "$T/unknown_section.lua" "unknown key 'clade'"

cfg wrong_type 'return {
  claude = { timeout = "ten" },
}'
config_case "config: wrong type (string for number)" "$T/wrong_type.lua" \
    "$T/wrong_type.lua" "'claude.timeout'" "must be a number"

cfg wrong_type_table 'return {
  claude = "claude-2",
}'
config_case "config: wrong type (string for a section)" "$T/wrong_type_table.lua" \
    "$T/wrong_type_table.lua" "'claude'" "must be a table"

cfg wrong_type_list 'return {
  claude = { disallowed_tools = "Bash(git push:*)" },
}'
config_case "config: wrong type (string for a list)" "$T/wrong_type_list.lua" \
    "$T/wrong_type_list.lua" "'claude.disallowed_tools'" "must be a list"

cfg bad_mode 'return {
  orchestrator = { approval_mode = "sometimes" },
}'
config_case "config: bad approval_mode" "$T/bad_mode.lua" \
    "$T/bad_mode.lua" "'orchestrator.approval_mode'" "sometimes"

cfg bad_on_timeout 'return {
  orchestrator = { approval_timeout = 60, on_approval_timeout = "later" },
}'
config_case "config: bad on_approval_timeout" "$T/bad_on_timeout.lua" \
    "$T/bad_on_timeout.lua" "'orchestrator.on_approval_timeout'" "later"

cfg negative 'return {
  claude = { timeout = -1 },
}'
config_case "config: negative timeout" "$T/negative.lua" "$T/negative.lua" "'claude.timeout'" ">= 0"

cfg nan 'return {
  claude = { timeout = 0/0 },
}'
config_case "config: NaN timeout" "$T/nan.lua" "$T/nan.lua" "claude.timeout"

cfg bad_price 'return { budget = { prices = { { match = "opus", input = 5, output = "25", cache_write = 0, cache_read = 0 } } } }'
config_case "config: a price that is not a number" "$T/bad_price.lua" "$T/bad_price.lua" \
    "'budget.prices' row 1: output must be a number >= 0 (USD per million tokens)"

cfg syntax 'return {
  claude = {
    timeout = 10,,
  },
}'
config_case "config: syntax error" "$T/syntax.lua" "$T/syntax.lua:3:"

cfg runtime 'local base = nil
return {
  claude = { timeout = base.timeout },
}'
config_case "config: runtime error" "$T/runtime.lua" "$T/runtime.lua:3:"

cfg not_table 'return 42'
config_case "config: returns a number" "$T/not_table.lua" "$T/not_table.lua" "must return a table"

# An explicitly named config file that does not exist is a mistake (a typo
# would silently run with the defaults); only the default file is optional.
config_case "config: --config names a missing file" "$T/no-such-config.lua" "$T/no-such-config.lua"

# An endless loop in the config file: the host must stay stoppable.
cfg spin 'local n = 0
while true do n = n + 1 end'
start=$SECONDS
# (in a subshell whose own stderr is dropped: bash reports a SIGKILLed job there)
(
    timeout -k 5 3 "$ORCH_HOST" --root "$BAD_ROOT" --config "$T/spin.lua" status --json </dev/null >"$OUT" 2>"$ERR"
    echo $? >"$T/cap/spin.rc"
) 2>/dev/null
RC=$(cat "$T/cap/spin.rc")
cat "$OUT" "$ERR" >"$ALL"
expect_true "config: endless loop - SIGTERM stops the host (not SIGKILL)" \
    "exit $RC after $((SECONDS - start)) s (137 = needed SIGKILL)" test "$RC" -ne 137

# --- .env in a copy of the project --------------------------------------------------
R="$T/root"
mkdir -p "$R"
cp -r "$ORCH_SRC/workflows" "$ORCH_SRC/scripts" "$R/"
BAD_ROOT=$R

env_case() { # NAME TEXT...: .env is already written; run; exit 2; TEXTs in stderr
    local name=$1
    shift
    fresh_state
    run_tasks "$T/good.md"
    expect_rc "$name" 2
    for text in "$@"; do expect_err "$name" "$text"; done
    expect_true "$name: no database created" "$(ls -A "$T/state")" test ! -e "$ORCH_STATE_DB"
}

printf '# settings\nLOG_LEVEL=info\n\nthis line has no equals sign\nCLAUDE_MODEL=x\n' >"$R/.env"
env_case ".env: line without =" "$R/.env:4:" "KEY=VALUE"

printf 'LOG_LEVEL=info\nBAD-NAME=1\n' >"$R/.env"
env_case ".env: invalid variable name" "$R/.env:2:" "BAD-NAME"

printf 'LOG_LEVEL=info\nCLAUDE_MODEL="unterminated\n' >"$R/.env"
env_case ".env: unterminated quote" "$R/.env:2:" "quote"

printf '=value\n' >"$R/.env"
env_case ".env: empty name" "$R/.env:1:"

printf 'LOG_LEVEL=info\nCLAUDE_TIMEOUT_SEC=abc\n' >"$R/.env"
env_case ".env: CLAUDE_TIMEOUT_SEC=abc" "CLAUDE_TIMEOUT_SEC" "abc"

# A good .env works (and the real environment still wins over it).
printf '# fine\nexport LOG_LEVEL=warn\nCLAUDE_MODEL="claude-test" # comment\n' >"$R/.env"
run_tasks "$T/good.md"
expect_rc ".env: a good one runs" 0
rm -f "$R/.env"
BAD_ROOT=$ORCH_SRC

# --- environment variables -------------------------------------------------------------
# env_var_case NAME VAR=VALUE TEXT...: exit 2, TEXTs in stderr, no state.
env_var_case() {
    local name=$1 assign=$2
    shift 2
    fresh_state
    env "$assign" bash -c '"$0" --root "$1" run daily.lua --tasks "$2" --auto-approve --no-input </dev/null' \
        "$ORCH_HOST" "$BAD_ROOT" "$T/good.md" >"$OUT" 2>"$ERR"
    RC=$?
    cat "$OUT" "$ERR" >"$ALL"
    expect_rc "$name" 2
    for text in "$@"; do expect_err "$name" "$text"; done
    expect_true "$name: no database created" "$(ls -A "$T/state")" test ! -e "$ORCH_STATE_DB"
}
env_var_case "env: CLAUDE_TIMEOUT_SEC=abc" CLAUDE_TIMEOUT_SEC=abc "CLAUDE_TIMEOUT_SEC" "abc"
env_var_case "env: MAX_DAILY_COST_USD=lots" MAX_DAILY_COST_USD=lots "MAX_DAILY_COST_USD"
env_var_case "env: CLAUDE_TIMEOUT_SEC=1e999 (infinite)" CLAUDE_TIMEOUT_SEC=1e999 "CLAUDE_TIMEOUT_SEC"
# Values that parse but are out of range: the message must point at the
# variable that set them, not at workflows/config.lua (which does not have them).
env_var_case "env: CLAUDE_TIMEOUT_SEC=-5" CLAUDE_TIMEOUT_SEC=-5 "CLAUDE_TIMEOUT_SEC"
env_var_case "env: APPROVAL_MODE=sometimes" APPROVAL_MODE=sometimes "APPROVAL_MODE" "sometimes"
env_var_case "env: LOG_LEVEL=verbose" LOG_LEVEL=verbose "LOG_LEVEL" "verbose"
env_var_case "env: CLAUDE_PERMISSION_MODE=yolo" CLAUDE_PERMISSION_MODE=yolo "CLAUDE_PERMISSION_MODE" "yolo"
env_var_case "env: CLAUDE_SKIP_PERMISSIONS=yes" CLAUDE_SKIP_PERMISSIONS=yes "CLAUDE_SKIP_PERMISSIONS" "yes"
env_var_case "env: TELEGRAM_CHAT_ID=abc" TELEGRAM_CHAT_ID=abc "TELEGRAM_CHAT_ID" "abc"

# --- a bad schedule: serve refuses to start, saying which entry and why (no traceback)
cfg bad_cron 'return { schedules = { { cron = "0 9 * * 8", tz = "UTC" } } }'
fresh_state
orch serve --port 0 --config "$T/bad_cron.lua"
expect_rc "serve: a schedule's bad cron" 2
expect_err "serve: a schedule's bad cron" "schedules[1].cron: day-of-week field: 8 is out of range 0-7"
expect_true "serve: a schedule's bad cron: no traceback" "$(cat "$ALL")" \
    bash -c '! grep -q "stack traceback" "$1"' _ "$ALL"
expect_eq "serve: a schedule's bad cron: said once" "$(grep -cF "schedules[1].cron: day-of-week" "$ALL")" 1
expect_has "serve: a schedule's bad cron: in the daily log" "$(daily_log)" "schedules[1].cron: day-of-week"

# --- doctor runs serve's schedule check: a schedule that stops serve fails doctor
cfg bad_tz 'return { schedules = { { name = "p", cron = "0 9 * * *", tz = "Europe/Paris" } } }'
orch doctor --config "$T/bad_tz.lua"
expect_rc "doctor: a schedule's unsupported tz" 1
expect_out "doctor: a schedule's unsupported tz" "schedules[1].tz: time zone 'Europe/Paris' is not supported"
cfg bad_minute 'return { schedules = { { cron = "61 9 * * *", tz = "UTC" } } }'
orch doctor --config "$T/bad_minute.lua"
expect_rc "doctor: a schedule's minute 61" 1
expect_out "doctor: a schedule's minute 61" "schedules[1].cron: "

# --- and a good run at the end ----------------------------------------------------------
run_tasks "$T/good.md"
expect_rc "good config after all the bad ones" 0

bad_finish
