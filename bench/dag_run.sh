#!/usr/bin/env bash
# bench/dag_run.sh: the issue's bar "a 10,000-task random DAG (up to 5
# dependencies each) run to completion with the instant stand-in agent at
# max_concurrent 8, scheduling overhead per task within 1.2x of the 8-wide
# bare spawn loop". Writes the graph as a JSON task list (seeded: task k
# depends on up to 5 random tasks before it, the list shuffled) and the same
# graph as an edge list for the C floor, runs `orch-host run daily.lua
# --max-concurrent 8` over it, `bare_spawn -d EDGES -j 8` (the same graph:
# each agent spawned as soon as its dependencies exited, 8 at most, file
# order among the ready) and `bare_spawn -j 8` over as many agents (no
# dependencies), interleaved, and prints both ratios of wall times: against
# the bare DAG runner (the bar's) and against the dependency-blind loop
# (which charges the graph's own narrowness to the host). Then the same graph generator at BENCH_DAG_SMALL (1000) tasks:
# the host's own CPU per task (bench/maxrss own_cpu_s) at both sizes, which
# should be flat (a cost that grows with the session is a bug).
#
# Then `orch-host status --json` of the big session vs the 2-task one.
#
# Knobs (environment): BENCH_DAG_RUN_TASKS (10000), BENCH_DAG_SMALL (1000),
# BENCH_DAG_RUN_RUNS (1), BENCH_STATUS_RUNS (11), BENCH_JOBS (8), plus bench/common.sh's. Exit 0 when it ran.
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_TASKS=${BENCH_DAG_RUN_TASKS:-10000}
# shellcheck source=bench/common.sh
source "$BENCH/common.sh"
SMALL=${BENCH_DAG_SMALL:-1000}
DRUNS=${BENCH_DAG_RUN_RUNS:-1}
command -v python3 >/dev/null || die "python3 is needed (writes the graph)"

dag "$N" "$WORK/dag.json" "$WORK/dag.edges"
dag "$SMALL" "$WORK/dag-small.json"

# host_dag NAME FILE TASKS: one daily.lua run under maxrss; every task must end completed
host_dag() {
  fresh "$1"
  "$WORK/maxrss" "$WORK/rss-$1" "$ORCH_BIN" --root "$ROOT" run daily.lua --tasks "$2" --max-concurrent "$JOBS" \
    --auto-approve --no-input >"$WORK/$1.out" 2>&1 || { tail -20 "$WORK/$1.out" >&2; die "daily.lua on $2 failed"; }
  local done
  done=$("$ORCH_BIN" --root "$ROOT" status --json 2>/dev/null | python3 -c \
    'import json,sys; v=json.load(sys.stdin); print(sum(t["status"] == "completed" for t in v["tasks"]))')
  [[ $done == "$3" ]] || { tail -20 "$WORK/$1.out" >&2; die "$1: $done of $3 tasks completed"; }
}

declare -a DH DB DG
for r in $(seq "$DRUNS"); do
  fresh "dag-bare-graph-$r"
  now t0
  "$WORK/bare_spawn" -d "$WORK/dag.edges" -j "$JOBS" -p "$WORK/prompt.txt" -C "$CLAUDE_BASE_CWD" "${BARE_ENV[@]}" \
    -- "${AGENT_ARGV[@]}" >"$WORK/bare-dag.out" 2>&1 || { cat "$WORK/bare-dag.out" >&2; die "bare_spawn -d -j $JOBS failed"; }
  now t1
  DG+=("$(( (t1 - t0) / 1000 ))")
  fresh "dag-bare-$r"
  now t0; bare "$JOBS" || { cat "$WORK/bare.out" >&2; die "bare_spawn -j $JOBS failed"; }; now t1
  DB+=("$(( (t1 - t0) / 1000 ))")
  now t0; host_dag "dag-host-$r" "$WORK/dag.json" "$N"; now t1
  DH+=("$(( (t1 - t0) / 1000 ))")
  echo "dag run $r ($N tasks, $JOBS at a time): host ${DH[-1]} us (own CPU $(awk '{ print $12 " s: user " $14 ", sys " $16 ", " $18 " page faults" }' "$WORK/rss-dag-host-$r")," \
    "peak RSS $(awk '{ print $2 }' "$WORK/rss-dag-host-$r") KB) | bare DAG runner ${DG[-1]} us | bare_spawn -j $JOBS, no dependencies, ${DB[-1]} us"
done
host_dag "dag-small" "$WORK/dag-small.json" "$SMALL"
cpu_big=$(awk -v n="$N" '{ printf "%.4f", $12 * 1e3 / n }' "$WORK/rss-dag-host-1")
cpu_small=$(awk -v n="$SMALL" '{ printf "%.4f", $12 * 1e3 / n }' "$WORK/rss-dag-small")
echo "dag host own CPU per task: $cpu_small ms at $SMALL tasks, $cpu_big ms at $N tasks" \
  "(user/sys $(awk -v n="$SMALL" '{ printf "%.3f/%.3f", $14 * 1e3 / n, $16 * 1e3 / n }' "$WORK/rss-dag-small")" \
  "vs $(awk -v n="$N" '{ printf "%.3f/%.3f", $14 * 1e3 / n, $16 * 1e3 / n }' "$WORK/rss-dag-host-1") ms)"

# `orch-host status --json` of the 10,000-task session against the same
# command on the 2-task probe session (its start-up and fixed cost),
# interleaved, median of BENCH_STATUS_RUNS (11)
declare -a SJ_BIG SJ_SMALL
status_us() { # STATE_DIR
  local t0 t1
  rm -f "$WORK/status.json"  # not in the time: emptying the 9 MB of the run before costs ~6 ms
  now t0
  ORCH_STATE_DB=$1/orch.db ORCH_LOGS_DIR=$1/logs "$ORCH_BIN" --root "$ROOT" status --json >"$WORK/status.json" 2>&1 ||
    { cat "$WORK/status.json" >&2; die "status --json failed"; }
  now t1
  echo $(( (t1 - t0) / 1000 ))
}
for _ in $(seq "${BENCH_STATUS_RUNS:-11}"); do
  SJ_BIG+=("$(status_us "$WORK/state-dag-host-1")")
  SJ_SMALL+=("$(status_us "$WORK/state-probe")")
done
sb=$(printf '%s\n' "${SJ_BIG[@]}" | median); ss=$(printf '%s\n' "${SJ_SMALL[@]}" | median)
echo "status --json: $N tasks ${sb} us, 2 tasks ${ss} us ($(wc -c <"$WORK/status.json") bytes for 2 tasks)"

mh=$(printf '%s\n' "${DH[@]}" | median); mb=$(printf '%s\n' "${DB[@]}" | median); mg=$(printf '%s\n' "${DG[@]}" | median)
ratio=$(awk -v a="$mh" -v b="$mg" 'BEGIN { printf "%.2f", a / b }')
awk -v h="$mh" -v g="$mg" -v b="$mb" -v n="$N" 'BEGIN {
  printf "dag run, median: host %.2f s vs bare DAG runner %.2f s = %.2fx (%.3f ms/task more; the bar'"'"'s ratio)\n", \
    h / 1e6, g / 1e6, h / g, (h - g) / 1e3 / n
  printf "  vs bare_spawn -j, no dependencies, %.2f s = %.2fx (the graph'"'"'s own width charged to the host; the DAG floor itself is %.2fx of it)\n", \
    b / 1e6, h / b, g / b }'
summary_row "$N-task DAG, $JOBS at a time, daily.lua" \
  "$(awk -v v="$mh" -v n="$N" 'BEGIN { printf "%.2f s (%.3f ms/task)", v / 1e6, v / 1e3 / n }')" \
  "$(awk -v v="$mg" -v j="$JOBS" 'BEGIN { printf "%.2f s bare DAG -j %d", v / 1e6, j }')" "${ratio}x" "<= 1.2x" \
  "$(awk -v r="$ratio" 'BEGIN { print (r <= 1.2) ? "PASS" : "MISS" }')"
sratio=$(awk -v a="$cpu_big" -v b="$cpu_small" 'BEGIN { printf "%.2f", a / b }')
summary_row "DAG host CPU per task, $N vs $SMALL tasks" "$cpu_big ms" "$cpu_small ms" "${sratio}x" "<= 1.2x" \
  "$(awk -v r="$sratio" 'BEGIN { print (r <= 1.2) ? "PASS" : "MISS" }')"
summary_row "status --json, $N-task session" "$(awk -v v="$sb" 'BEGIN { printf "%.1f ms", v / 1e3 }')" \
  "$(awk -v v="$ss" 'BEGIN { printf "%.1f ms (2 tasks)", v / 1e3 }')" \
  "$(awk -v a="$sb" -v b="$ss" 'BEGIN { printf "%.2fx", a / b }')" "< 20 ms" \
  "$(awk -v v="$sb" 'BEGIN { print (v < 20000) ? "PASS" : "MISS" }')"
