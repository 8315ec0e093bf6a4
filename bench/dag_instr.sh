#!/usr/bin/env bash
# bench/dag_instr.sh: the host's own work per task in instructions, the steady
# measure on a loaded machine (wall times there are the scheduler's).
# Runs daily.lua --max-concurrent 8 over bench/dag_run.sh's seeded random
# graph (bench/shared.sh dag) under callgrind (the host only, not its agents)
# and prints instructions per task and the largest inclusive costs of the
# host's bindings; then `status --json` of that session under callgrind.
# Knobs (environment): BENCH_INSTR_TASKS (300), BENCH_JOBS (8), plus
# bench/common.sh's. Needs valgrind (scripts/setup.sh installs it).
# Exit 0 when it ran.
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_TASKS=${BENCH_INSTR_TASKS:-300}
# shellcheck source=bench/common.sh
source "$BENCH/common.sh"
command -v valgrind >/dev/null || die "valgrind is needed (bash scripts/setup.sh installs it)"
command -v python3 >/dev/null || die "python3 is needed (writes the graph)"

dag "$N" "$WORK/dag.json"
# total INFILE: the run's instruction count (callgrind's "summary:" line)
total() { sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$1" | head -1; }

fresh dag-instr
valgrind --tool=callgrind --callgrind-out-file="$WORK/cg-run.out" "$ORCH_BIN" --root "$ROOT" run daily.lua \
  --tasks "$WORK/dag.json" --max-concurrent "$JOBS" --auto-approve --no-input >"$WORK/run.out" 2>&1 ||
  { tail -20 "$WORK/run.out" >&2; die "daily.lua under callgrind failed"; }
ir=$(total "$WORK/cg-run.out")
[[ -n $ir ]] || die "no instruction count in $WORK/cg-run.out"
echo "dag run, $N tasks, $JOBS at a time: $ir instructions, $(( ir / N )) per task"
callgrind_annotate --inclusive=yes "$WORK/cg-run.out" 2>/dev/null |
  grep -E 'api_[a-z]+\.cpp:orch::\(anonymous namespace\)::l_[a-z_]+\(lua_State\*\) \[|ProcessRun::on_stdout\(\) \[' |
  sed -E 's/^ *([0-9,]+) \(([ 0-9.]+%)\).*::(l_[a-z_]+|ProcessRun::on_stdout)\(.*/  \3 \1 (\2)/' | head -12

session_state=$S
valgrind --tool=callgrind --callgrind-out-file="$WORK/cg-status.out" "$ORCH_BIN" --root "$ROOT" status --json \
  >"$WORK/status.json" 2>&1 || { cat "$WORK/status.json" >&2; die "status --json under callgrind failed"; }
ORCH_STATE_DB=$WORK/state-probe/orch.db ORCH_LOGS_DIR=$WORK/state-probe/logs valgrind --tool=callgrind \
  --callgrind-out-file="$WORK/cg-status-2.out" "$ORCH_BIN" --root "$ROOT" status --json >/dev/null 2>&1 ||
  die "status --json of the probe session under callgrind failed"
echo "status --json ($session_state): $N tasks $(total "$WORK/cg-status.out") instructions" \
  "($(wc -c <"$WORK/status.json") bytes), 2 tasks $(total "$WORK/cg-status-2.out")"
