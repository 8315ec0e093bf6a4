#!/usr/bin/env bash
# bench/run.sh: every bar of orch-host's overhead, each against a baseline
# measured in the same run, then one summary table (bar, measured, baseline,
# ratio, target, pass/miss). No installs, no builds of build/: it uses
# build/orch-host and build/fake_claude as they are, and compiles its own C
# helpers (bench/bare_spawn.c, bench/maxrss.c) into a temp dir.
#
#   bench/run.sh            the bars below, then the summary table
#   bench/run.sh --serve    and the whole of bench/serve.sh (its throughput,
#                           idle RSS and parked-session sections too; ~2.5 min
#                           more). Also BENCH_SERVE=1.
#
#   1. serial    `orch-host run daily.lua` over N tasks (instant stand-in agent
#                replaying a real stream-json run) vs bare_spawn -j 1
#   2. parallel  `orch-host run bench/parallel.lua` (8 workers) vs bare_spawn -j 8
#   3. scaling   daily.lua's own CPU per task (the agents excluded) at 100,
#                1000 and 10,000 tasks in one session: flat is O(1) per task
#   4. startup   `orch-host run bench/trivial.lua` vs `luajit -e ''`
#   5. peak RSS  of the serial runs (bench/maxrss: fork/exec/wait4 ru_maxrss)
#   6. status    POST /webhook/status with a 1000-task session stored vs the
#                empty answer (bench/serve.sh section 4; needs wrk)
#   7. approve   `orch-host approve` -> the agent started, p50/p99
#                (bench/approve_latency.sh, when it exists)
#   8. task graph  a 10,000-task random DAG (JSON and YAML) loaded and validated
#                by lib/tasks vs the decoder alone (bench/dag_load.sh)
#   9. DAG run   that DAG run by daily.lua 8 at a time vs bare_spawn -j 8, and
#                the host's CPU per task at 10,000 vs 1000 (bench/dag_run.sh)
#  10. streams   32 agents at once streaming 1 and 10 MB each: host CPU per MB,
#                peak RSS (bench/stream_rss.sh)
#  11. status    `orch-host status --json` of the 10,000-task session (dag_run.sh)
#
# Knobs (environment): BENCH_TASKS (1000), BENCH_RUNS (3, median reported),
# BENCH_JOBS (8), BENCH_STARTUP_RUNS (200), BENCH_SCALE ("100 1000 10000";
# empty skips 3), BENCH_STATUS=0 skips 6, BENCH_DAG_RUN=0 skips 9 and 11, BENCH_STREAM=0 skips 10, BENCH_KEEP=1 keeps the temp dir,
# ORCH_HOST_BIN / FAKE_CLAUDE_BIN to measure other builds, CC (cc).
# Scripts it calls append their rows to $BENCH_SUMMARY (bench/shared.sh).
# Exit 0 when everything ran (missed targets are reported, not fatal);
# 1 when something could not run.
set -uo pipefail

SERVE=${BENCH_SERVE:-0}
for arg in "$@"; do
  case $arg in
  --serve) SERVE=1 ;;
  *) echo "usage: bench/run.sh [--serve]" >&2; exit 2 ;;
  esac
done

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/common.sh
source "$BENCH/common.sh"

# --- 1 & 5: serial ----------------------------------------------------------
# Sides interleaved (bare, host, bare, host, ...) so drift in machine load
# hits both alike. Both run under bench/maxrss, which also gives their CPU
# time (user+sys, the agents included). State folders are removed only at
# exit: mass deletes right before a run make ext4 file creation (the host's
# per-task log) several times slower for a while.
declare -a SER_H SER_B PAR_H PAR_B RSS_H HWM_H RSS_B CPU_H CPU_B
for r in $(seq "$RUNS"); do
  fresh "ser-bare-$r"
  now t0
  "$WORK/maxrss" "$WORK/rss-bare-$r" "$WORK/bare_spawn" -n "$N" -j 1 -p "$WORK/prompt.txt" -C "$CLAUDE_BASE_CWD" \
    "${BARE_ENV[@]}" -- "${AGENT_ARGV[@]}" >"$WORK/bare.out" 2>&1 || { cat "$WORK/bare.out" >&2; die "bare_spawn -j 1 failed"; }
  now t1
  SER_B+=("$(( (t1 - t0) / 1000 ))")
  RSS_B+=("$(awk '{ print $2 }' "$WORK/rss-bare-$r")")
  CPU_B+=("$(awk '{ printf "%d", ($8 + $10) * 1e6 }' "$WORK/rss-bare-$r")")

  fresh "ser-host-$r"
  now t0
  "$WORK/maxrss" "$WORK/rss-host-$r" "$ORCH_BIN" --root "$ROOT" run daily.lua --tasks "$TASKS" --auto-approve --no-input \
    >"$WORK/serial.out" 2>&1
  rc=$?; now t1
  check_host_run serial $rc
  SER_H+=("$(( (t1 - t0) / 1000 ))")
  RSS_H+=("$(awk '{ print $2 }' "$WORK/rss-host-$r")")
  HWM_H+=("$(awk '{ print $4 }' "$WORK/rss-host-$r")")
  CPU_H+=("$(awk '{ printf "%d", ($8 + $10) * 1e6 }' "$WORK/rss-host-$r")")
  echo "serial   run $r: host ${SER_H[-1]} us (cpu ${CPU_H[-1]} us, peak RSS ${RSS_H[-1]} KB, own VmHWM ${HWM_H[-1]} KB)" \
    "| bare ${SER_B[-1]} us (cpu ${CPU_B[-1]} us, peak RSS ${RSS_B[-1]} KB)"
done

# --- 2: parallel ------------------------------------------------------------
for r in $(seq "$RUNS"); do
  fresh "par-bare-$r"
  now t0; bare "$JOBS" || { cat "$WORK/bare.out" >&2; die "bare_spawn -j $JOBS failed"; }; now t1
  PAR_B+=("$(( (t1 - t0) / 1000 ))")
  fresh "par-host-$r"
  now t0
  ORCH_BENCH_WORKERS=$JOBS host run "$BENCH/parallel.lua" --tasks "$TASKS" --no-input >"$WORK/parallel.out" 2>&1
  rc=$?; now t1
  check_host_run parallel $rc
  PAR_H+=("$(( (t1 - t0) / 1000 ))")
  echo "parallel run $r: host ${PAR_H[-1]} us | bare ${PAR_B[-1]} us"
done

# --- 3: per-task host CPU against the session's size --------------------------
# The host's own CPU (bench/maxrss own_cpu_s: utime+stime of the host process,
# the agents excluded), divided by the tasks; one run per size. The smallest
# size carries the start-up (~10 ms) spread over its tasks.
declare -a SCALE_N SCALE_CPU
for n in ${BENCH_SCALE-100 1000 10000}; do
  gen_tasks "$n" >"$WORK/scale.md"
  fresh "scale-$n"
  "$WORK/maxrss" "$WORK/rss-scale-$n" "$ORCH_BIN" --root "$ROOT" run daily.lua --tasks "$WORK/scale.md" --auto-approve \
    --no-input >"$WORK/scale.out" 2>&1 || { tail "$WORK/scale.out" >&2; die "daily.lua on $n tasks failed"; }
  SCALE_N+=("$n")
  SCALE_CPU+=("$(awk -v n="$n" '{ printf "%.4f", $12 * 1e3 / n }' "$WORK/rss-scale-$n")")
  echo "scaling  $n tasks: host CPU ${SCALE_CPU[-1]} ms/task (wall $(awk '{ print $6 }' "$WORK/rss-scale-$n") s)"
done

# --- 4: start-up ------------------------------------------------------------
fresh startup
host run "$BENCH/trivial.lua" --no-input >"$WORK/trivial.out" 2>&1 || { cat "$WORK/trivial.out" >&2; die "trivial.lua failed"; }
START_METHOD="hyperfine, median of $SRUNS"
if command -v hyperfine >/dev/null &&
  hyperfine -N --warmup 10 --runs "$SRUNS" --export-csv "$WORK/hf.csv" \
    "$ORCH_BIN --root $ROOT run $BENCH/trivial.lua --no-input" "luajit -e ''" >"$WORK/hf.out" 2>&1; then
  # command,mean,stddev,median,user,system,min,max (seconds); the median
  ST_H=$(awk -F, 'NR == 2 { printf "%d", $4 * 1e6 }' "$WORK/hf.csv")
  ST_B=$(awk -F, 'NR == 3 { printf "%d", $4 * 1e6 }' "$WORK/hf.csv")
else
  START_METHOD="loop of $SRUNS, mean"
  loop_us() { local t0 t1; now t0; for _ in $(seq "$SRUNS"); do "$@" >/dev/null 2>&1 || return 1; done; now t1; echo $(( (t1 - t0) / 1000 / SRUNS )); }
  ST_H=$(loop_us "$ORCH_BIN" --root "$ROOT" run "$BENCH/trivial.lua" --no-input) || die "trivial.lua failed in the loop"
  ST_B=$(loop_us luajit -e '') || die "luajit failed"
fi
echo "start-up ($START_METHOD): host $ST_H us | luajit $ST_B us"
echo "load after the host runs: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- summary rows -------------------------------------------------------------
mh=$(printf '%s\n' "${SER_H[@]}" | median); mb=$(printf '%s\n' "${SER_B[@]}" | median)
ph=$(printf '%s\n' "${PAR_H[@]}" | median); pb=$(printf '%s\n' "${PAR_B[@]}" | median)
rh=$(printf '%s\n' "${RSS_H[@]}" | median); rb=$(printf '%s\n' "${RSS_B[@]}" | median)
hh=$(printf '%s\n' "${HWM_H[@]}" | median)
ch=$(printf '%s\n' "${CPU_H[@]}" | median); cb=$(printf '%s\n' "${CPU_B[@]}" | median)

echo
echo "raw (microseconds, KB):"
echo "  serial   host: ${SER_H[*]}  bare: ${SER_B[*]}"
echo "  serial CPU (user+sys, agents included) host: ${CPU_H[*]}  bare: ${CPU_B[*]}"
echo "  parallel host: ${PAR_H[*]}  bare: ${PAR_B[*]}"
echo "  start-up host: $ST_H  luajit: $ST_B"
echo "  peak RSS host (ru_maxrss, host and its agents): ${RSS_H[*]}  host's own VmHWM: ${HWM_H[*]}"
echo "  peak RSS bare loop (ru_maxrss, loop and its agents): ${RSS_B[*]}"
awk -v ch="$ch" -v cb="$cb" -v n="$N" -v hh="$hh" 'BEGIN {
  printf "  serial CPU time, user+sys with the agents: host %.3f s vs bare %.3f s = %.2fx; %.3f ms/task more\n", \
    ch / 1e6, cb / 1e6, ch / cb, (ch - cb) / 1e3 / n
  printf "  the host'"'"'s own VmHWM (polled) in the serial runs: %.1f MB\n", hh / 1024 }'

export BENCH_SUMMARY=$WORK/summary.tsv
FAILED=0  # a script called below could not run: the table is printed, then exit 1
: >"$BENCH_SUMMARY"
echo
echo "rows (also in the summary below):"
# ratio_row BAR MEASURED_NUM BASE_NUM MEASURED_TEXT BASE_TEXT LIMIT: ratio = measured / baseline, PASS when <= LIMIT
ratio_row() {
  local r
  r=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.2f", a / b }')
  summary_row "$1" "$4" "$5" "${r}x" "<= ${6}x" "$(awk -v r="$r" -v l="$6" 'BEGIN { print (r <= l) ? "PASS" : "MISS" }')"
}
ratio_row "host overhead, serial ($N tasks)" "$mh" "$mb" \
  "$(awk -v v="$mh" -v n="$N" 'BEGIN { printf "%.3f s (%.3f ms/task)", v / 1e6, v / 1e3 / n }')" \
  "$(awk -v v="$mb" -v n="$N" 'BEGIN { printf "%.3f s bare_spawn -j 1", v / 1e6 }')" 1.1
ratio_row "host overhead, $JOBS at a time ($N tasks)" "$ph" "$pb" \
  "$(awk -v v="$ph" -v n="$N" 'BEGIN { printf "%.3f s (%.3f ms/task)", v / 1e6, v / 1e3 / n }')" \
  "$(awk -v v="$pb" -v j="$JOBS" 'BEGIN { printf "%.3f s bare_spawn -j %d", v / 1e6, j }')" 1.1
if [[ ${#SCALE_N[@]} -ge 2 ]]; then
  lo=${SCALE_CPU[0]} hi=${SCALE_CPU[-1]}
  ratio_row "host CPU per task, ${SCALE_N[-1]} vs ${SCALE_N[0]} tasks" "$hi" "$lo" \
    "$(IFS=/; echo "${SCALE_CPU[*]} ms")" "$(IFS=/; echo "at ${SCALE_N[*]} tasks")" 1.2
else
  summary_row "host CPU per task, 100 to 10,000 tasks" "not measured (BENCH_SCALE)" "-" "-" "<= 1.2x" "-"
fi
ratio_row "start-up: run trivial.lua" "$ST_H" "$ST_B" \
  "$(awk -v v="$ST_H" 'BEGIN { printf "%.2f ms", v / 1e3 }')" \
  "$(awk -v v="$ST_B" 'BEGIN { printf "%.2f ms luajit -e '"''"'", v / 1e3 }')" 1.5
summary_row "peak RSS, $N-task serial session" "$(awk -v v="$rh" 'BEGIN { printf "%.1f MB", v / 1024 }')" \
  "$(awk -v v="$rb" 'BEGIN { printf "%.1f MB bare loop", v / 1024 }')" "$(awk -v a="$rh" -v b="$rb" 'BEGIN { printf "%.2fx", a / b }')" \
  "< 15 MB" "$(awk -v v="$rh" 'BEGIN { print (v < 15 * 1024) ? "PASS" : "MISS" }')"

# --- 6: /webhook/status of a 1000-task session (bench/serve.sh section 4) ------
SERVE_ONLY=()
[[ $SERVE == 1 ]] && SERVE_ONLY+=(1 2 3)
[[ ${BENCH_STATUS:-1} == 1 ]] && SERVE_ONLY+=(4)
if [[ ${#SERVE_ONLY[@]} -gt 0 ]]; then
  only=$(IFS=,; echo "${SERVE_ONLY[*]}")
  echo
  echo "== orch-host serve (bench/serve.sh, sections $only) =="
  if command -v wrk >/dev/null; then
    BENCH_SERVE_ONLY=$only bash "$BENCH/serve.sh" ||
      { note "bench/serve.sh could not run"; FAILED=1; summary_row "bench/serve.sh (sections $only)" "could not run" "-" "-" "-" "-"; }
  else
    summary_row "POST /webhook/status, 1000-task session" "not measured (no wrk)" "-" "-" "-" "-"
  fi
fi

# --- 7: approve -> agent started (bench/approve_latency.sh) -----------------------
echo
if [[ -f $BENCH/approve_latency.sh ]]; then
  echo "== orch-host approve -> agent started (bench/approve_latency.sh) =="
  before=$(wc -l <"$BENCH_SUMMARY")
  bash "$BENCH/approve_latency.sh" 2>&1 | tee "$WORK/approve.out"
  rc=${PIPESTATUS[0]}
  # a script that prints its figures but adds no row: its last p50/p99 line
  if [[ $rc != 0 ]]; then
    note "bench/approve_latency.sh could not run (exit $rc)"
    FAILED=1
    summary_row "approve -> agent started, p50/p99" "could not run (exit $rc)" "-" "-" "-" "-"
  elif [[ $(wc -l <"$BENCH_SUMMARY") == "$before" ]]; then
    summary_row "approve -> agent started, p50/p99" "$(grep -i 'p50\|p99' "$WORK/approve.out" | tail -1 | cut -c1-60)" \
      "-" "-" "-" "see above"
  fi
else
  summary_row "approve -> agent started, p50/p99" "not measured" "-" "-" "-" "-"
fi

# --- 8: a 10,000-task random DAG loaded and validated (bench/dag_load.sh) ---------
echo
echo "== task graph load + validation (bench/dag_load.sh) =="
bash "$BENCH/dag_load.sh" ||
  { note "bench/dag_load.sh could not run"; FAILED=1; summary_row "10,000-task DAG load + validate" "could not run" "-" "-" "-" "-"; }

# --- 9 & 10: a 10,000-task DAG run 8 at a time; 32 agents streaming at once ----------
# (bench/dag_run.sh, bench/stream_rss.sh; BENCH_DAG_RUN=0 / BENCH_STREAM=0 skip them)
if [[ ${BENCH_DAG_RUN:-1} == 1 ]]; then
  echo
  echo "== task graph run, 8 at a time (bench/dag_run.sh) =="
  bash "$BENCH/dag_run.sh" ||
    { note "bench/dag_run.sh could not run"; FAILED=1; summary_row "10,000-task DAG run, 8 at a time" "could not run" "-" "-" "-" "-"; }
fi
if [[ ${BENCH_STREAM:-1} == 1 ]]; then
  echo
  echo "== 32 agents streaming stream-json at once (bench/stream_rss.sh) =="
  bash "$BENCH/stream_rss.sh" ||
    { note "bench/stream_rss.sh could not run"; FAILED=1; summary_row "32 agents streaming" "could not run" "-" "-" "-" "-"; }
fi

# --- the table --------------------------------------------------------------
echo
echo "summary (load now: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc)):"
summary() { BENCH_SUMMARY='' summary_row "$@"; }
summary bar measured baseline ratio target result
while IFS=$'\t' read -r -a f; do summary "${f[@]}"; done <"$BENCH_SUMMARY"
exit "$FAILED"
