# bench/common.sh: setup shared by bench/run.sh and bench/breakdown.sh
# (sourced, not run). Defines ROOT, ORCH_BIN, FAKE_BIN, N, RUNS, JOBS, WORK,
# TASKS, AGENT_ARGV, BARE_ENV and the helpers die, note, fresh, now, median,
# host, bare, check_host_run (and gen_tasks, summary_row from shared.sh);
# compiles the C helpers into $WORK.
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/shared.sh
source "$BENCH/shared.sh"
ROOT=$(dirname "$BENCH")
ORCH_BIN=${ORCH_HOST_BIN:-$ROOT/build/orch-host}
FAKE_BIN=${FAKE_CLAUDE_BIN:-$ROOT/build/fake_claude}
N=${BENCH_TASKS:-1000}
RUNS=${BENCH_RUNS:-3}
JOBS=${BENCH_JOBS:-8}
SRUNS=${BENCH_STARTUP_RUNS:-200}
CC=${CC:-cc}

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

[[ -x $ORCH_BIN ]] || die "$ORCH_BIN: not built (the lead builds build/orch-host)"
[[ -x $FAKE_BIN ]] || die "$FAKE_BIN: not built (the lead builds build/fake_claude)"
command -v "$CC" >/dev/null || die "no C compiler ($CC) for the baseline programs"
command -v luajit >/dev/null ||
  die "luajit not found (the start-up baseline): run 'bash scripts/setup.sh', which installs Debian's luajit2 (not 'luajit': it conflicts with libluajit2-5.1-dev, the build's LuaJIT)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/orch-bench.XXXXXX") || die "mktemp failed"
if [[ ${BENCH_KEEP:-} == 1 ]]; then note "keeping $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi

# Snapshots of the binaries: a rebuild during the run (others work on host/)
# must neither break it nor mix two builds in one comparison.
cp "$ORCH_BIN" "$WORK/orch-host" && cp "$FAKE_BIN" "$WORK/fake_claude" || die "cannot copy the binaries"
echo "measuring: $ORCH_BIN ($(date -r "$ORCH_BIN" '+%F %T')), $FAKE_BIN ($(date -r "$FAKE_BIN" '+%F %T'))"
ORCH_BIN=$WORK/orch-host FAKE_BIN=$WORK/fake_claude

# --- inputs -----------------------------------------------------------------
# a recorded stream-json run of the real CLI, replayed by the stand-in
cp "$BENCH/stream-json.txt" "$WORK/stream-json.txt" || die "no stream-json sample"

"$CC" -O2 -o "$WORK/bare_spawn" "$BENCH/bare_spawn.c" || die "cannot compile bare_spawn.c"
"$CC" -O2 -o "$WORK/maxrss" "$BENCH/maxrss.c" || die "cannot compile maxrss.c"

TASKS=$WORK/tasks.md
gen_tasks "$N" >"$TASKS"
gen_tasks 2 >"$WORK/tasks-2.md"
# the prompt daily.lua builds for a task (prompt_for), for the bare loop's stdin
printf '%s' "Document module 1. Keep it short.

Context: Stand-in task 1 for the host overhead benchmark

Acceptance criteria:
- The agent replays a recorded stream

Do not stage, commit or push with git, and do not run database migrations. If you cannot continue without a decision, end your reply with a line starting with QUESTION:" >"$WORK/prompt.txt"

# --- environment ------------------------------------------------------------
# Nothing from the caller's shell may add sinks, approvals or budgets.
unset N8N_NOTIFY_URL TELEGRAM_BOT_TOKEN TELEGRAM_CHAT_ID TELEGRAM_ALLOWED_USERS TELEGRAM_API_BASE \
  MAX_DAILY_COST_USD APPROVAL_MODE CLAUDE_MODEL CLAUDE_MAX_TURNS CLAUDE_PERMISSION_MODE \
  CLAUDE_SKIP_PERMISSIONS CLAUDE_ALLOWED_ROOT CLAUDE_TIMEOUT_SEC FAKE_CLAUDE_MODE FAKE_CLAUDE_LEDGER \
  FAKE_CLAUDE_ARGS_LOG FAKE_CLAUDE_WRITE ORCH_TASKS_DIR LOG_LEVEL HOST PORT
export CLAUDE_CLI_PATH=$FAKE_BIN FAKE_CLAUDE_REPLAY=$WORK/stream-json.txt
[[ -e $ROOT/.env ]] && note "warning: $ROOT/.env exists and the host loads it; it may change what is measured"

# fresh NAME: a new state folder for one run, exported for the host (and the
# bare loop's children, which inherit the same environment)
fresh() {
  S=$WORK/state-$1
  rm -rf "$S"
  mkdir -p "$S/logs" "$S/results" "$S/cwd"
  export ORCH_STATE_DB=$S/orch.db ORCH_LOGS_DIR=$S/logs ORCH_RESULTS_DIR=$S/results CLAUDE_BASE_CWD=$S/cwd
}
# now VAR: the wall clock in nanoseconds into VAR, read by bash itself
# ($EPOCHREALTIME: no fork, no exec). `t=$(ns)` forks a subshell, and an
# exec of date(1) after the timed command is ~1.4 ms inside the interval:
# 7% of the 20 ms `status --json` bar.
now() { local t=$EPOCHREALTIME; printf -v "$1" '%s000' "${t/./}"; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

host() { "$ORCH_BIN" --root "$ROOT" "$@"; }

# --- the agent's exact argv, from the host itself -----------------------------
fresh probe
FAKE_CLAUDE_ARGS_LOG=$WORK/args.log host run daily.lua --tasks "$WORK/tasks-2.md" --auto-approve --no-input \
  >"$WORK/probe.out" 2>&1 || { cat "$WORK/probe.out" >&2; die "orch-host could not run daily.lua on 2 tasks"; }
[[ -s $WORK/args.log ]] || die "the host ran no agent (FAKE_CLAUDE_ARGS_LOG is empty)"
IFS=$'\x1f' read -r -a AGENT_ARGV <"$WORK/args.log"
SID=$(ls "$ORCH_LOGS_DIR" | sed -n 's/^task-\(.*\)-1-output\.log$/\1/p' | head -1)
BARE_ENV=(-e "ORCH_SESSION_ID=${SID:-20251120-000000}" -e ORCH_TASK_ID=1 -e "ORCH_AGENT_ID=$$-1")
echo "agent argv: ${AGENT_ARGV[*]}"
echo "tasks: $N, runs per side: $RUNS (median), parallel: $JOBS, start-up runs: $SRUNS, cores: $(nproc)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

bare() { # JOBS_ARG
  "$WORK/bare_spawn" -n "$N" -j "$1" -p "$WORK/prompt.txt" -C "$CLAUDE_BASE_CWD" "${BARE_ENV[@]}" -- "${AGENT_ARGV[@]}" \
    >"$WORK/bare.out" 2>&1
}

# check_host_run NAME RC: the run must have finished every task
check_host_run() {
  local logs
  logs=$(find "$ORCH_LOGS_DIR" -name 'task-*-output.log' | wc -l)
  [[ $2 == 0 && $logs == "$N" ]] || { tail -20 "$WORK/$1.out" >&2; die "$1: exit $2, $logs of $N task logs"; }
}

