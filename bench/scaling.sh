#!/usr/bin/env bash
# bench/scaling.sh: the host's own CPU per task of `orch-host run daily.lua`
# against the size of the session, 100, 1000 and 10,000 tasks by default
# (instant stand-in agent, --auto-approve). A session model kept up to date in
# O(1) per change gives a flat line; a walk over the session per task grows
# with N (the 10,000 row about 10x the 1000 one per walk).
#
#   bench/scaling.sh                 sizes from BENCH_SCALING_SIZES ("100 1000 10000")
#
# Host CPU is perf stat --no-inherit task-clock (the host process alone, the
# agents excluded) when perf works, else the wall time (marked). The last
# column is the ratio to the smallest size's per-task figure. Knobs as in
# bench/run.sh (ORCH_HOST_BIN, FAKE_CLAUDE_BIN, BENCH_KEEP); BENCH_RUNS is
# the number of runs per size (median; default 1 here: the 10,000 run takes
# about a minute).
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_TASKS=${BENCH_TASKS:-2}  # common.sh's own task file: the sizes below make theirs
BENCH_RUNS=${BENCH_RUNS:-1}
# shellcheck source=bench/common.sh
source "$BENCH/common.sh"

SIZES=${BENCH_SCALING_SIZES:-100 1000 10000}
PERF=()
if command -v perf >/dev/null && perf stat --no-inherit -e task-clock -x, -o "$WORK/perf.probe" true 2>/dev/null; then
  PERF=(perf stat --no-inherit -e task-clock -x, -o "$WORK/perf.txt")
fi
what="host CPU"; [[ ${#PERF[@]} -gt 0 ]] || what="wall (no perf)"

printf '%-8s %18s %10s\n' "tasks" "ms/task ($what)" "vs first"
first=
for n in $SIZES; do
  gen_tasks "$n" >"$WORK/scale-$n.md"
  vals=()
  for r in $(seq "$RUNS"); do
    fresh "scale-$n-$r"
    t0=$(ns)
    "${PERF[@]}" "$ORCH_BIN" --root "$ROOT" run daily.lua --tasks "$WORK/scale-$n.md" --auto-approve --no-input \
      >"$WORK/scale.out" 2>&1 || { tail "$WORK/scale.out" >&2; die "daily.lua on $n tasks failed"; }
    t1=$(ns)
    logs=$(find "$ORCH_LOGS_DIR" -name 'task-*-output.log' | wc -l)
    [[ $logs == "$n" ]] || die "daily.lua on $n tasks: $logs task logs"
    if [[ ${#PERF[@]} -gt 0 ]]; then
      vals+=("$(awk -F, -v n="$n" '$3 == "task-clock" { printf "%.4f", $1 / n }' "$WORK/perf.txt")")
    else
      vals+=("$(awk -v d=$(( (t1 - t0) / 1000 )) -v n="$n" 'BEGIN { printf "%.4f", d / 1e3 / n }')")
    fi
  done
  v=$(printf '%s\n' "${vals[@]}" | median)
  first=${first:-$v}
  printf '%-8s %18.3f %9.2fx\n' "$n" "$v" "$(awk -v a="$v" -v b="$first" 'BEGIN { print a / b }')"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
