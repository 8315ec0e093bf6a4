#!/usr/bin/env bash
# offline-model.sh: run the REAL `claude` CLI offline, against the scripted fake
# Messages API (tests/e2e/fake_messages_api.js) on a free loopback port.
# Shared by scripts/demo.sh and tests/e2e/real_claude_e2e.sh.
#
# SOURCED (what the demo and the e2e test do):
#
#     source scripts/offline-model.sh
#     offline_model_start SCRIPT.json [LOG_FILE] [CLAUDE_CONFIG_DIR]
#     ... run claude / orch-host: it inherits the exported environment ...
#     offline_model_stop          # call it from your EXIT trap
#
#   offline_model_start starts node on 127.0.0.1 port 0, waits (up to 10 s) for
#   the server's `LISTENING <port>` line, then EXPORTS the environment below and
#   sets OFFLINE_MODEL_PORT, OFFLINE_MODEL_PID, OFFLINE_MODEL_LOG. It returns
#   non-zero (with a message on stderr) if the server does not come up. It sets
#   no trap of its own, so it cannot clobber the caller's: the caller stops the
#   server with offline_model_stop. As a safety net for a caller killed with
#   SIGKILL, a small watchdog stops the server (and removes its temp dir) within
#   ~1 s of the calling shell ($$) exiting. Because of that watchdog, wait for
#   your own background jobs by pid (`wait $pid`), not with a bare `wait`.
#   offline_model_env prints the environment as `export K=V` lines.
#   offline_model_stop stops the server (and its watchdog), unexports the
#   variables it set, and removes the config dir if offline_model_start made it.
#   Both functions work under the caller's `set -euo pipefail`.
#
# EXECUTED:
#
#     scripts/offline-model.sh SCRIPT.json [--log FILE] -- COMMAND [ARGS...]
#         runs COMMAND with the environment, stops the server when it exits,
#         and exits with COMMAND's exit code.
#     scripts/offline-model.sh SCRIPT.json [--log FILE]
#         prints the `export` lines, then keeps serving until Ctrl-C / SIGTERM.
#         (Paste the exports into another shell to run claude by hand.)
#
# THE ENVIRONMENT (what the real claude 2.1.x needs):
#   ANTHROPIC_BASE_URL=http://127.0.0.1:<port>   the fake
#   ANTHROPIC_API_KEY=offline-model              any value; without one: "Not logged in"
#   CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1   no DNS for api.anthropic.com, no side requests
#   DISABLE_TELEMETRY=1 DISABLE_AUTOUPDATER=1
#   CLAUDE_CODE_MAX_RETRIES=0                    a scripted error fails at once (default: ~3 min of retries)
#   CLAUDE_CONFIG_DIR=<private dir>              the user's ~/.claude and ~/.claude.json stay untouched
#   IS_SANDBOX=1                                 only when running as root (bypass modes refuse root otherwise)
# and it UNSETS the variables that would send claude to a real account or
# provider instead: ANTHROPIC_AUTH_TOKEN, CLAUDE_CODE_OAUTH_TOKEN,
# CLAUDE_CODE_USE_BEDROCK, CLAUDE_CODE_USE_VERTEX, ANTHROPIC_MODEL,
# ANTHROPIC_SMALL_FAST_MODEL.
#
# Needs node on PATH. Env: OFFLINE_MODEL_FAKE overrides the fake server path.

_OFFLINE_MODEL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OFFLINE_MODEL_FAKE="${OFFLINE_MODEL_FAKE:-$_OFFLINE_MODEL_ROOT/tests/e2e/fake_messages_api.js}"

_OFFLINE_MODEL_VARS=(ANTHROPIC_BASE_URL ANTHROPIC_API_KEY CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC
  DISABLE_TELEMETRY DISABLE_AUTOUPDATER CLAUDE_CODE_MAX_RETRIES CLAUDE_CONFIG_DIR IS_SANDBOX)
_OFFLINE_MODEL_UNSET=(ANTHROPIC_AUTH_TOKEN CLAUDE_CODE_OAUTH_TOKEN CLAUDE_CODE_USE_BEDROCK
  CLAUDE_CODE_USE_VERTEX ANTHROPIC_MODEL ANTHROPIC_SMALL_FAST_MODEL)

# offline_model_start SCRIPT [LOG] [CONFIG_DIR]
offline_model_start() {
  local script="${1:-}" log="${2:-}" cfgdir="${3:-}"
  if [ -z "$script" ] || [ ! -f "$script" ]; then
    echo "offline-model: no such script: '${script}'" >&2
    return 2
  fi
  if [ -n "${OFFLINE_MODEL_PID:-}" ] && kill -0 "$OFFLINE_MODEL_PID" 2>/dev/null; then
    echo "offline-model: already running (pid $OFFLINE_MODEL_PID, port ${OFFLINE_MODEL_PORT:-?})" >&2
    return 2
  fi
  command -v node >/dev/null 2>&1 || { echo "offline-model: node not found on PATH" >&2; return 2; }
  [ -f "$OFFLINE_MODEL_FAKE" ] || { echo "offline-model: missing $OFFLINE_MODEL_FAKE" >&2; return 2; }

  _OFFLINE_MODEL_TMP="$(mktemp -d "${TMPDIR:-/tmp}/offline-model.XXXXXX")" || return 2
  local out="$_OFFLINE_MODEL_TMP/stdout" err="$_OFFLINE_MODEL_TMP/stderr"
  local args=(--script "$script" --host 127.0.0.1 --port 0)
  if [ -n "$log" ]; then args+=(--log "$log"); fi
  : >"$out"
  # stdin from /dev/null, stdout/stderr to files: the server holds no pipe of
  # the caller's, so `cmd | tee`, ctest and CI never wait on it.
  node "$OFFLINE_MODEL_FAKE" "${args[@]}" </dev/null >"$out" 2>"$err" &
  OFFLINE_MODEL_PID=$!

  local i port=""
  for i in $(seq 1 200); do
    port="$(awk '/^LISTENING [0-9]+$/ {print $2; exit}' "$out" 2>/dev/null)"
    [ -n "$port" ] && break
    if ! kill -0 "$OFFLINE_MODEL_PID" 2>/dev/null; then
      echo "offline-model: the fake Messages API exited before listening: $(cat "$err")" >&2
      wait "$OFFLINE_MODEL_PID" 2>/dev/null || true
      OFFLINE_MODEL_PID=""
      rm -rf "$_OFFLINE_MODEL_TMP"
      return 1
    fi
    sleep 0.05
  done
  if [ -z "$port" ]; then
    echo "offline-model: the fake Messages API printed no LISTENING line within 10 s: $(cat "$err")" >&2
    offline_model_stop
    return 1
  fi
  OFFLINE_MODEL_PORT="$port"
  OFFLINE_MODEL_LOG="$log"   # for callers: where requests are logged
  OFFLINE_MODEL_STDERR="$err"

  # Watchdog: stop the server if the calling shell dies without cleaning up.
  local owner=$$ server=$OFFLINE_MODEL_PID tmp=$_OFFLINE_MODEL_TMP
  ( trap - EXIT INT TERM
    while kill -0 "$owner" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 1; done
    if ! kill -0 "$owner" 2>/dev/null; then kill "$server" 2>/dev/null; sleep 0.5; rm -rf "$tmp"; fi
  ) </dev/null >/dev/null 2>&1 &
  _OFFLINE_MODEL_WATCHDOG=$!

  _OFFLINE_MODEL_OWN_CFG=""
  if [ -z "$cfgdir" ]; then
    cfgdir="$_OFFLINE_MODEL_TMP/claude-config"
    _OFFLINE_MODEL_OWN_CFG=1
  fi
  mkdir -p "$cfgdir"
  cfgdir="$(cd "$cfgdir" && pwd)"

  unset "${_OFFLINE_MODEL_UNSET[@]}"
  export ANTHROPIC_BASE_URL="http://127.0.0.1:$port"
  export ANTHROPIC_API_KEY=offline-model
  export CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1
  export DISABLE_TELEMETRY=1
  export DISABLE_AUTOUPDATER=1
  export CLAUDE_CODE_MAX_RETRIES=0
  export CLAUDE_CONFIG_DIR="$cfgdir"
  if [ "$(id -u)" = 0 ]; then export IS_SANDBOX=1; else unset IS_SANDBOX; fi
  export OFFLINE_MODEL_PORT OFFLINE_MODEL_PID
  return 0
}

# offline_model_env: the environment as `export` lines (eval-able).
offline_model_env() {
  local v
  for v in "${_OFFLINE_MODEL_UNSET[@]}"; do printf 'unset %s\n' "$v"; done
  for v in "${_OFFLINE_MODEL_VARS[@]}"; do
    if [ -n "${!v+x}" ]; then printf 'export %s=%q\n' "$v" "${!v}"; fi
  done
}

# offline_model_stop: idempotent; safe from EXIT/INT/TERM traps.
offline_model_stop() {
  if [ -n "${_OFFLINE_MODEL_WATCHDOG:-}" ]; then
    kill "$_OFFLINE_MODEL_WATCHDOG" 2>/dev/null || true
    wait "$_OFFLINE_MODEL_WATCHDOG" 2>/dev/null || true
    _OFFLINE_MODEL_WATCHDOG=""
  fi
  if [ -n "${OFFLINE_MODEL_PID:-}" ]; then
    kill "$OFFLINE_MODEL_PID" 2>/dev/null || true
    local _
    for _ in $(seq 1 50); do kill -0 "$OFFLINE_MODEL_PID" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$OFFLINE_MODEL_PID" 2>/dev/null || true
    wait "$OFFLINE_MODEL_PID" 2>/dev/null || true
    OFFLINE_MODEL_PID=""
    unset "${_OFFLINE_MODEL_VARS[@]}" OFFLINE_MODEL_PORT OFFLINE_MODEL_PID
  fi
  if [ -n "${_OFFLINE_MODEL_TMP:-}" ]; then
    rm -rf "$_OFFLINE_MODEL_TMP" || true
    _OFFLINE_MODEL_TMP=""
  fi
  return 0
}

# ---------------------------------------------------------------------------
# Executed directly.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  usage() {
    echo "usage: $0 SCRIPT.json [--log FILE] [-- COMMAND [ARGS...]]" >&2
    exit 2
  }
  [ $# -ge 1 ] || usage
  case "$1" in -h|--help) usage ;; esac
  script="$1"; shift
  log=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --log) [ $# -ge 2 ] || usage; log="$2"; shift 2 ;;
      --) shift; break ;;
      *) usage ;;
    esac
  done
  trap 'offline_model_stop' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  offline_model_start "$script" "$log" || exit 1
  if [ $# -gt 0 ]; then
    rc=0
    "$@" || rc=$?
    exit "$rc"
  fi
  echo "# offline model: $script on 127.0.0.1:$OFFLINE_MODEL_PORT (pid $OFFLINE_MODEL_PID); Ctrl-C stops it"
  offline_model_env
  # `wait` returns early on a trapped signal, so Ctrl-C / SIGTERM exit at once.
  wait "$OFFLINE_MODEL_PID"
  echo "offline-model: the fake Messages API exited: $(cat "${OFFLINE_MODEL_STDERR:-/dev/null}" 2>/dev/null)" >&2
  exit 1
fi
