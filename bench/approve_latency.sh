#!/usr/bin/env bash
# bench/approve_latency.sh: how long a decision from another shell takes to
# reach the waiting session. A run of daily.lua over N tasks that each need
# approval (`orch-host run --no-input`); for each task this script waits
# until the approval is pending, runs `orch-host approve` (a second process,
# as a person in another shell would), and notes when the agent's process
# starts (a stamp written first thing by a small exec wrapper around the
# stand-in claude, CLOCK_REALTIME). Prints p50 and p99 of approve -> agent
# started, and with a baseline build the ratio baseline / this build.
#
#   bench/approve_latency.sh
#   BASE_ORCH_HOST_BIN=/path/to/other/build/orch-host bench/approve_latency.sh
#
# Knobs (environment): BENCH_APPROVALS (50), ORCH_HOST_BIN / FAKE_CLAUDE_BIN
# (build/orch-host, build/fake_claude), BASE_ORCH_HOST_BIN (a baseline build,
# e.g. main's; its project folder BASE_ROOT defaults to the folder above its
# build/), BENCH_KEEP=1 keeps the temp dir, CC (cc). Exit 0 when it ran.
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
source "$BENCH/shared.sh"  # summary_row
ORCH_BIN=${ORCH_HOST_BIN:-$ROOT/build/orch-host}
FAKE_BIN=${FAKE_CLAUDE_BIN:-$ROOT/build/fake_claude}
BASE_BIN=${BASE_ORCH_HOST_BIN:-}
BASE_ROOT=${BASE_ROOT:-$([[ -n $BASE_BIN ]] && dirname "$(dirname "$BASE_BIN")")}
N=${BENCH_APPROVALS:-50}
CC=${CC:-cc}

die() { echo "bench: $*" >&2; exit 1; }
[[ -x $ORCH_BIN ]] || die "$ORCH_BIN: not built"
[[ -x $FAKE_BIN ]] || die "$FAKE_BIN: not built"
[[ -z $BASE_BIN || -x $BASE_BIN ]] || die "$BASE_BIN: not built"
command -v python3 >/dev/null || die "python3 is needed (reads the state database, drives the run)"
command -v "$CC" >/dev/null || die "no C compiler ($CC) for the exec wrapper"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/orch-bench-approve.XXXXXX") || die "mktemp failed"
if [[ ${BENCH_KEEP:-} == 1 ]]; then echo "bench: keeping $WORK" >&2; else trap 'rm -rf "$WORK"' EXIT; fi
cp "$ORCH_BIN" "$WORK/orch-host" && cp "$FAKE_BIN" "$WORK/fake_claude" || die "cannot copy the binaries"
[[ -e $(dirname "$ORCH_BIN")/orch-net.so ]] && cp "$(dirname "$ORCH_BIN")/orch-net.so" "$WORK/"
if [[ -n $BASE_BIN ]]; then
  mkdir -p "$WORK/base" && cp "$BASE_BIN" "$WORK/base/orch-host" || die "cannot copy $BASE_BIN"
  [[ -e $(dirname "$BASE_BIN")/orch-net.so ]] && cp "$(dirname "$BASE_BIN")/orch-net.so" "$WORK/base/"
fi

# The agent's start: a stamp (ns since the epoch) first thing, then the stand-in (bench/stamp_exec.c).
"$CC" -O2 -o "$WORK/claude" "$BENCH/stamp_exec.c" || die "cannot compile the exec wrapper"

awk -v n="$N" 'BEGIN {
  print "# Tasks - 2025-11-20\n"
  for (i = 1; i <= n; i++) {
    printf "## Task %d: Approved task %d\n**Type:** backend\n**Priority:** low\n**Requires Approval:** true\n", i, i
    printf "**Description:** Stand-in task %d for the approval latency benchmark\n**Acceptance Criteria:**\n- done\n\n", i
    printf "**Claude Instruction:**\nDo part %d.\n\n---\n\n", i
  }
}' >"$WORK/tasks.md"

unset N8N_NOTIFY_URL TELEGRAM_BOT_TOKEN TELEGRAM_CHAT_ID TELEGRAM_ALLOWED_USERS TELEGRAM_API_BASE \
  MAX_DAILY_COST_USD APPROVAL_MODE CLAUDE_MODEL CLAUDE_MAX_TURNS CLAUDE_PERMISSION_MODE \
  CLAUDE_SKIP_PERMISSIONS CLAUDE_ALLOWED_ROOT CLAUDE_TIMEOUT_SEC FAKE_CLAUDE_MODE FAKE_CLAUDE_LEDGER \
  FAKE_CLAUDE_ARGS_LOG FAKE_CLAUDE_WRITE FAKE_CLAUDE_REPLAY ORCH_TASKS_DIR LOG_LEVEL HOST PORT
export CLAUDE_CLI_PATH=$WORK/claude STAMP_EXEC=$WORK/fake_claude

# side NAME BIN ROOT: one run of N approvals; prints per approval (ms): approve ->
# agent started, and how long `orch-host approve` itself ran
side() {
  local S=$WORK/state-$1
  mkdir -p "$S/logs" "$S/results" "$S/cwd" "$S/questions"
  ORCH_STATE_DB=$S/orch.db ORCH_LOGS_DIR=$S/logs ORCH_RESULTS_DIR=$S/results CLAUDE_BASE_CWD=$S/cwd \
    ORCH_QUESTIONS_DIR=$S/questions STAMP_FILE=$S/stamps \
    python3 - "$2" "$3" "$WORK/tasks.md" "$N" "$S" <<'EOF'
import os, sqlite3, subprocess, sys, time
orch, root, tasks, n, state = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
host = subprocess.Popen([orch, "--root", root, "run", "daily.lua", "--tasks", tasks, "--no-input"],
                        stdout=open(state + "/run.out", "w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
db = os.environ["ORCH_STATE_DB"]
def until(cond, what, limit=60):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        v = cond()
        if v: return v
        if host.poll() is not None: sys.exit(f"bench: the run ended ({host.returncode}) while waiting for {what}")
        time.sleep(0.002)
    sys.exit(f"bench: timed out waiting for {what}")
def pending(i):
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        row = c.execute("SELECT id FROM approvals WHERE status='pending' AND task_id=?", (str(i),)).fetchone()
        c.close()
        return row
    except sqlite3.Error:
        return None
def stamps():
    try: return [int(l.split()[0]) for l in open(state + "/stamps")]
    except FileNotFoundError: return []
for i in range(1, n + 1):
    until(lambda: pending(i), f"the approval of task {i}")
    t0 = time.time_ns()
    r = subprocess.run([orch, "--root", root, "approve", "--by", "bench"], capture_output=True, text=True)
    t1 = time.time_ns()
    if r.returncode != 0: sys.exit(f"bench: orch-host approve failed: {r.stdout}{r.stderr}")
    st = until(lambda: len(stamps()) >= i and stamps(), f"the agent of task {i}")
    print((st[i - 1] - t0) / 1e6, (t1 - t0) / 1e6, flush=True)
rc = host.wait(timeout=120)
if rc != 0: sys.exit(f"bench: the run exited {rc}; see {state}/run.out")
EOF
}

# pct P [COLUMN]: the P-th percentile (nearest rank) of a column of stdin
pct() { awk -v c="${2:-1}" '{ print $c }' | sort -g |
  awk -v p="$1" '{ a[NR] = $1 } END { r = int(NR * p / 100 + 0.999); if (r < 1) r = 1; printf "%.1f", a[r] }'; }

echo "measuring: $ORCH_BIN ($(date -r "$ORCH_BIN" '+%F %T'))${BASE_BIN:+ against $BASE_BIN}"
echo "approvals: $N, cores: $(nproc), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
side new "$WORK/orch-host" "$ROOT" >"$WORK/new.ms" || die "the run of this build failed"
NEW50=$(pct 50 <"$WORK/new.ms") NEW99=$(pct 99 <"$WORK/new.ms")
printf '%-10s approve -> agent started: p50 %8s ms   p99 %8s ms   (orch-host approve itself: p50 %s ms)\n' \
  "this" "$NEW50" "$NEW99" "$(pct 50 2 <"$WORK/new.ms")"
if [[ -z $BASE_BIN ]]; then
  summary_row "approve -> agent started, p50 / p99" "$NEW50 / $NEW99 ms" "-" "-" "-" "-"
fi
if [[ -n $BASE_BIN ]]; then
  side base "$WORK/base/orch-host" "$BASE_ROOT" >"$WORK/base.ms" || die "the run of the baseline failed"
  B50=$(pct 50 <"$WORK/base.ms") B99=$(pct 99 <"$WORK/base.ms")
  printf '%-10s approve -> agent started: p50 %8s ms   p99 %8s ms   (orch-host approve itself: p50 %s ms)\n' \
    "baseline" "$B50" "$B99" "$(pct 50 2 <"$WORK/base.ms")"
  awk -v a="$B50" -v b="$NEW50" -v c="$B99" -v d="$NEW99" \
    'BEGIN { printf "ratio baseline / this: p50 %.1fx, p99 %.1fx\n", a / b, c / d }'
fi
[[ -z $BASE_BIN ]] || summary_row "approve -> agent started, p50 / p99" "$NEW50 / $NEW99 ms" "$B50 / $B99 ms (baseline)" \
  "$(awk -v a="$NEW50" -v b="$B50" 'BEGIN { printf "%.3fx", a / b }')" "-" "-"
