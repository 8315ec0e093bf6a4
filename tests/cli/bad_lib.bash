# bad_lib.bash: helpers for the bad-input scenarios (tests/cli/bad_*.sh).
# Sourced, never run: the name does not end in .sh so ctest does not pick it
# up. Independent of tests/cli/lib.bash on purpose (written at the same time).
#
# Gives each test a private temp dir, the environment the brief asks for, a
# copy of fake_claude under that dir (so a test can find *its own* leftover
# agent processes by path, while other tests run in parallel), an EXIT trap
# that undoes mounts/attributes, kills background jobs and removes the dir,
# and small assertion helpers that count failures instead of stopping at the
# first one. Call bad_finish at the end: exit 1 if anything failed.
. "$(dirname "${BASH_SOURCE[0]}")/sanitized.bash"

set -u
: "${ORCH_HOST:?set ORCH_HOST to the orch-host binary}"
: "${FAKE_CLAUDE:?set FAKE_CLAUDE to the fake_claude binary}"
: "${ORCH_SRC:?set ORCH_SRC to the repository root}"

bad_abs() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd -P)" "$(basename "$1")"); }
ORCH_HOST=$(bad_abs "$ORCH_HOST")
FAKE_CLAUDE=$(bad_abs "$FAKE_CLAUDE")
ORCH_SRC=$(cd "$ORCH_SRC" && pwd -P)
BAD_FIXTURES="$ORCH_SRC/tests/cli/fixtures/bad"

BAD_TMP=$(mktemp -d "${TMPDIR:-/tmp}/orch-bad.XXXXXX")
BAD_TMP=$(cd "$BAD_TMP" && pwd -P)
BAD_CLEANUPS=()
BAD_PASS=0
BAD_FAIL=0
BAD_SKIP=0
BAD_FAILED_NAMES=()

# bad_on_exit 'shell command': run at exit (last registered runs first).
bad_on_exit() { BAD_CLEANUPS+=("$1"); }

# Our own agent processes: anything still running from the private copy.
bad_agent_pids() { pgrep -f "^$BAD_TMP/bin/" 2>/dev/null || true; }

_bad_cleanup() {
    local rc=$? i p
    trap - EXIT
    for ((i = ${#BAD_CLEANUPS[@]} - 1; i >= 0; i--)); do
        eval "${BAD_CLEANUPS[i]}" >/dev/null 2>&1 || true
    done
    for p in $(jobs -p); do kill -- "$p" 2>/dev/null || true; done
    for p in $(bad_agent_pids); do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$BAD_TMP" 2>/dev/null || true
    exit "$rc"
}
trap _bad_cleanup EXIT
trap 'exit 130' INT TERM HUP

# The environment of every run. Variables that the config reads are cleared
# so a developer's shell cannot change the outcome.
for v in CLAUDE_TIMEOUT_SEC CLAUDE_MAX_TURNS CLAUDE_MODEL CLAUDE_PERMISSION_MODE CLAUDE_ALLOWED_ROOT \
    CLAUDE_SKIP_PERMISSIONS APPROVAL_MODE N8N_NOTIFY_URL WEBHOOK_SECRET HOST PORT ORCHESTRATOR_AUTH_TOKEN \
    TELEGRAM_BOT_TOKEN TELEGRAM_CHAT_ID TELEGRAM_ALLOWED_USERS TELEGRAM_API_BASE MAX_DAILY_COST_USD \
    ORCH_TASKS_DIR LOG_LEVEL ORCH_LUA_MAX_RUN_SECONDS ORCH_ROOT FAKE_CLAUDE_MODE FAKE_CLAUDE_REPLAY \
    FAKE_CLAUDE_WRITE FAKE_CLAUDE_LEDGER FAKE_CLAUDE_ARGS_LOG CLAUDE_STALL_TIMEOUT_SEC ORCH_RETRY_FAILED \
    ORCH_RETRY_BACKOFF ORCH_RETRY_BACKOFF_MAX; do
    unset "$v"
done
# A failing agent fails at once here: the retry policy is tests/cli/retry_*.sh's.
export ORCH_RETRY_TRANSIENT=0
mkdir -p "$BAD_TMP/bin" "$BAD_TMP/work" "$BAD_TMP/state" "$BAD_TMP/logs" "$BAD_TMP/results" "$BAD_TMP/cap"
cp "$FAKE_CLAUDE" "$BAD_TMP/bin/claude"
export CLAUDE_CLI_PATH="$BAD_TMP/bin/claude"
export CLAUDE_BASE_CWD="$BAD_TMP/work"
export ORCH_STATE_DB="$BAD_TMP/state/orch.db"
export ORCH_LOGS_DIR="$BAD_TMP/logs"
export ORCH_RESULTS_DIR="$BAD_TMP/results"
export ORCH_SUMMARIES_DIR="$BAD_TMP/summaries"
export FAKE_CLAUDE_ARGS_LOG="$BAD_TMP/cap/claude-args.log"  # one line per agent run
BAD_ROOT="$ORCH_SRC"          # --root of every run; a test may point it at a copy
BAD_RUN_LIMIT=${BAD_RUN_LIMIT:-240}
cd "$BAD_TMP/work" || exit 1  # a core dump, if any, would land here

# ---- running orch-host --------------------------------------------------
# orch ARGS...: runs orch-host with stdin from /dev/null; sets RC, and the
# files $OUT and $ERR (and $ALL, both together). Never hangs the test: a run
# longer than BAD_RUN_LIMIT seconds is stopped (TERM, then KILL) and RC is
# the timeout's code (124/137).
OUT="$BAD_TMP/cap/out"
ERR="$BAD_TMP/cap/err"
ALL="$BAD_TMP/cap/all"
RC=0
orch() {
    timeout -k 5 "$BAD_RUN_LIMIT" "$ORCH_HOST" --root "$BAD_ROOT" "$@" </dev/null >"$OUT" 2>"$ERR"
    RC=$?
    cat "$OUT" "$ERR" >"$ALL"
    return 0
}

# run_tasks FILE [extra args]: the daily workflow, unattended.
run_tasks() {
    local f=$1
    shift
    orch run daily.lua --tasks "$f" --auto-approve --no-input "$@"
}

# status_json: `status --json` into $STATUS (a file); returns its exit code.
STATUS="$BAD_TMP/cap/status.json"
status_json() {
    timeout -k 5 60 "$ORCH_HOST" --root "$BAD_ROOT" status --json </dev/null >"$STATUS" 2>"$BAD_TMP/cap/status.err"
}
# sj JQ_FILTER: query the last status_json.
sj() { jq -r "$1" "$STATUS"; }

# state_snapshot FILE: sessions and the latest session, minus live fields.
state_snapshot() {
    {
        timeout 60 "$ORCH_HOST" --root "$BAD_ROOT" sessions --json </dev/null 2>&1 | jq -S 'map(del(.host_alive))' 2>&1
        timeout 60 "$ORCH_HOST" --root "$BAD_ROOT" status --json </dev/null 2>&1 | jq -S 'del(.host_alive)' 2>&1
    } >"$1"
}

agent_runs() { [ -f "$FAKE_CLAUDE_ARGS_LOG" ] && wc -l <"$FAKE_CLAUDE_ARGS_LOG" | tr -d ' ' || echo 0; }

# task_file PATH TITLE INSTRUCTION [TITLE INSTRUCTION]...: a valid task file.
task_file() {
    local path=$1 n=0
    shift
    {
        printf '# Tasks - 2025-11-20\n'
        while [ $# -ge 2 ]; do
            n=$((n + 1))
            printf '\n## Task %d: %s\n**Type:** documentation\n**Priority:** low\n**Requires Approval:** false\n' "$n" "$1"
            printf '**Description:** bad-input scenario\n\n**Claude Instruction:**\n%s\n\n---\n' "$2"
            shift 2
        done
    } >"$path"
}

daily_log() { cat "$ORCH_LOGS_DIR"/[0-9][0-9][0-9][0-9]-*.log 2>/dev/null; }

# ---- assertions -----------------------------------------------------------
bad_pass() { BAD_PASS=$((BAD_PASS + 1)); printf 'ok   %s\n' "$1"; }
bad_fail() {
    BAD_FAIL=$((BAD_FAIL + 1))
    BAD_FAILED_NAMES+=("$1")
    printf 'FAIL %s\n' "$1"
    shift
    [ $# -gt 0 ] && printf '     %s\n' "$@"
    return 0
}
bad_skip() { BAD_SKIP=$((BAD_SKIP + 1)); printf 'SKIP %s: %s\n' "$1" "$2"; }

# Tail of the last run's output, for failure messages.
_bad_ctx() {
    printf 'rc=%s; stdout+stderr (last 12 lines):\n' "$RC"
    tail -n 12 "$ALL" 2>/dev/null | cut -c1-300 | sed 's/^/       | /'
}

# expect_rc NAME WANT: the last orch run's exit code.
expect_rc() {
    if [ "$RC" = "$2" ]; then bad_pass "$1: exit $2"; else bad_fail "$1: exit $2" "$(_bad_ctx)"; fi
}
# expect_out NAME TEXT: the last run's stdout or stderr contains TEXT (literally).
expect_out() {
    if grep -qF -- "$2" "$ALL"; then bad_pass "$1: output has '$2'"; else bad_fail "$1: output has '$2'" "$(_bad_ctx)"; fi
}
# expect_err NAME TEXT: stderr alone contains TEXT.
expect_err() {
    if grep -qF -- "$2" "$ERR"; then bad_pass "$1: stderr has '$2'"; else bad_fail "$1: stderr has '$2'" "$(_bad_ctx)"; fi
}
# expect_out_re NAME ERE
expect_out_re() {
    if grep -qE -- "$2" "$ALL"; then bad_pass "$1: output matches /$2/"; else bad_fail "$1: output matches /$2/" "$(_bad_ctx)"; fi
}
# expect_eq NAME GOT WANT
expect_eq() {
    if [ "$2" = "$3" ]; then bad_pass "$1"; else bad_fail "$1" "want: $3" "got:  $2"; fi
}
# expect_has NAME HAYSTACK NEEDLE (literal)
expect_has() {
    case "$2" in
    *"$3"*) bad_pass "$1" ;;
    *) bad_fail "$1" "want it to contain: $3" "got: $(printf '%s' "$2" | head -c 600)" ;;
    esac
}
# expect_true NAME DETAIL COMMAND...
expect_true() {
    local name=$1 detail=$2
    shift 2
    if "$@"; then bad_pass "$name"; else bad_fail "$name" "$detail"; fi
}
# expect_no_crash NAME: the last run ended by itself, not by a signal or our timeout.
expect_no_crash() {
    if [ "$RC" -lt 124 ]; then bad_pass "$1: no crash/hang (exit $RC)"; else bad_fail "$1: no crash/hang" "$(_bad_ctx)"; fi
    if compgen -G "$BAD_TMP/work/core*" >/dev/null; then
        bad_fail "$1: no core file" "$(ls "$BAD_TMP"/work/core*)"
    fi
}

# wait_until SECONDS COMMAND...: poll (0.1 s) until COMMAND succeeds.
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    while ! "$@"; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

bad_finish() {
    printf '\n%s: %d passed, %d failed, %d skipped\n' "$(basename "$0")" "$BAD_PASS" "$BAD_FAIL" "$BAD_SKIP"
    if [ "$BAD_FAIL" -gt 0 ]; then
        printf 'failed checks:\n'
        printf '  - %s\n' "${BAD_FAILED_NAMES[@]}"
        exit 1
    fi
    exit 0
}
