#!/usr/bin/env bash
# bench/breakdown.sh: where orch-host's per-task time goes, serial case.
# Runs bench/ablate.lua at levels 0-4 (each adds one piece of daily.lua's
# per-task work) and daily.lua itself, interleaved with the bare loop, and
# prints ms/task for each and the increment each piece adds. Then counts, for
# one daily.lua run, the SQLite write transactions, events and syscalls per
# task (strace -c, if installed). With perf installed it also reports the
# host process's own CPU time (perf stat --no-inherit task-clock: the agents
# excluded), which a busy machine disturbs far less than wall time.
#
#   bench/breakdown.sh      knobs as in bench/run.sh (BENCH_TASKS, BENCH_RUNS, ...)
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/common.sh
source "$BENCH/common.sh"

LEVELS=(0 1 2 3 4)
LABEL=(
  "0 run_claude{prompt} only"
  "1 + output log file"
  "2 + on_event (Lua per event)"
  "3 + 2 x set_task (commit+event)"
  "4 + 2 x emit claude_*"
)
declare -A T C
PERF=()
if command -v perf >/dev/null && perf stat --no-inherit -e task-clock -x, -o "$WORK/perf.probe" true 2>/dev/null; then
  PERF=(perf stat --no-inherit -e task-clock -x, -o "$WORK/perf.txt")
fi
# cpu KEY: the host's own CPU ms from the last perf stat, appended to C[KEY]
cpu() { [[ ${#PERF[@]} -gt 0 ]] && C[$1]+="$(awk -F, '$3 == "task-clock" { print $1 }' "$WORK/perf.txt") "; }
for r in $(seq "$RUNS"); do
  fresh "bd-bare-$r"
  now t0; bare 1 || die "bare_spawn failed"; now t1
  T[bare]+="$(( (t1 - t0) / 1000 )) "
  for l in "${LEVELS[@]}"; do
    fresh "bd-$l-$r"
    now t0
    ORCH_BENCH_LEVEL=$l "${PERF[@]}" "$ORCH_BIN" --root "$ROOT" run "$BENCH/ablate.lua" --tasks "$TASKS" --no-input \
      >"$WORK/ablate.out" 2>&1 || { tail "$WORK/ablate.out" >&2; die "ablate.lua level $l failed"; }
    now t1
    T[$l]+="$(( (t1 - t0) / 1000 )) "
    cpu "$l"
    : # state kept until exit (deletes slow down ext4 creates)
  done
  fresh "bd-daily-$r"
  now t0
  "${PERF[@]}" "$ORCH_BIN" --root "$ROOT" run daily.lua --tasks "$TASKS" --auto-approve --no-input \
    >"$WORK/daily.out" 2>&1 || die "daily.lua failed"
  now t1
  T[daily]+="$(( (t1 - t0) / 1000 )) "
  cpu daily
  : # kept
  echo "run $r done"
done
DAILY_STATE=$S

per_task() { printf '%s\n' ${T[$1]} | median | awk -v n="$N" '{ printf "%.3f", $1 / 1e3 / n }'; }
cpu_task() { [[ -n ${C[$1]:-} ]] && printf '%s\n' ${C[$1]} | median | awk -v n="$N" '{ printf "%.3f", $1 / n }' || echo "-"; }
diff3() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%+.3f", a - b }'; }
echo
printf '%-36s %9s %9s %9s %9s   %s\n' "serial, $N tasks (median of $RUNS)" "wall" "+wall" "host CPU" "+CPU" "raw wall us"
printf '%-36s %9s %9s %9s %9s\n' "" "ms/task" "ms/task" "ms/task" "ms/task"
b=$(per_task bare)
printf '%-36s %9s %9s %9s %9s   %s\n' "bare_spawn -j 1" "$b" "" "" "" "${T[bare]}"
prev=$b prevc=0
for k in "${LEVELS[@]}" daily; do
  v=$(per_task "$k") c=$(cpu_task "$k")
  if [[ $k == daily ]]; then label="daily.lua (console, notify, report)"; else label=${LABEL[$k]}; fi
  printf '%-36s %9s %9s %9s %9s   %s\n' "$label" "$v" "$(diff3 "$v" "$prev")" "$c" "$(diff3 "$c" "$prevc")" "${T[$k]}"
  prev=$v prevc=$c
done

# --- counts for one daily.lua run --------------------------------------------
echo
if command -v sqlite3 >/dev/null; then
  echo "events per task in the last daily.lua run (each outside orch.atomically is its own commit):"
  sqlite3 "$DAILY_STATE/orch.db" "SELECT event, round(count(*) * 1.0 / $N, 2) FROM events GROUP BY event ORDER BY 2 DESC" |
    sed 's/^/  /'
fi
if command -v strace >/dev/null; then
  fresh bd-strace
  strace -c -o "$WORK/strace.txt" "$ORCH_BIN" --root "$ROOT" run daily.lua --tasks "$TASKS" --auto-approve --no-input \
    >/dev/null 2>&1 || die "daily.lua under strace failed"
  echo "host syscalls per task (strace -c of the host process alone; children not followed):"
  awk -v n="$N" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" { printf "  %-14s %7.2f\n", $NF, $4 / n }' "$WORK/strace.txt" |
    sort -k2 -gr | head -15
fi

# --- scaling: per-task cost against the session's size -------------------------
# daily.lua's per-task work should not depend on how many tasks the session
# has; ablate.lua level 4 does the same durable work without the scans.
if [[ ${BENCH_SCALING:-1} == 1 ]]; then
  echo
  what="host CPU"; [[ ${#PERF[@]} -gt 0 ]] || what="wall"
  printf '%-10s %22s %22s\n' "tasks" "daily.lua ms/task" "ablate L4 ms/task"
  printf '%-10s %22s %22s\n' "" "($what)" "($what)"
  for n in $(( N / 10 )) "$N" $(( N * 3 )); do
    gen_tasks "$n" >"$WORK/scale.md"
    row=()
    for wf in daily.lua "$BENCH/ablate.lua"; do
      fresh "scale-$n-${wf##*/}"
      now t0
      ORCH_BENCH_LEVEL=4 "${PERF[@]}" "$ORCH_BIN" --root "$ROOT" run "$wf" --tasks "$WORK/scale.md" --auto-approve \
        --no-input >"$WORK/scale.out" 2>&1 || { tail "$WORK/scale.out" >&2; die "$wf on $n tasks failed"; }
      now t1
      if [[ ${#PERF[@]} -gt 0 ]]; then
        row+=("$(awk -F, -v n="$n" '$3 == "task-clock" { printf "%.3f", $1 / n }' "$WORK/perf.txt")")
      else
        row+=("$(awk -v d=$(( (t1 - t0) / 1000 )) -v n="$n" 'BEGIN { printf "%.3f", d / 1e3 / n }')")
      fi
    done
    printf '%-10s %22s %22s\n' "$n" "${row[0]}" "${row[1]}"
  done
fi
