#!/usr/bin/env bash
# bench/run.sh: orch-host's overhead, each benchmark against a baseline
# measured in the same run (the targets in the summary table). No installs, no builds of build/:
# it uses build/orch-host and build/fake_claude as they are, and compiles its
# own C helpers (bench/bare_spawn.c, bench/maxrss.c) into a temp dir.
#
#   bench/run.sh            all four benchmarks, then the summary table
#   bench/run.sh --serve    and then bench/serve.sh (`orch-host serve`: wrk on
#                           the Lua webhook route vs bare cpp-httplib, idle RSS
#                           with bot and schedule, RSS with 100 parked
#                           sessions; ~2.5 min more, needs wrk). Also BENCH_SERVE=1.
#
#   1. serial    `orch-host run daily.lua` over N tasks (instant stand-in agent
#                replaying a real stream-json run) vs bare_spawn -j 1
#   2. parallel  `orch-host run bench/parallel.lua` (8 workers) vs bare_spawn -j 8
#   3. startup   `orch-host run bench/trivial.lua` vs `luajit -e ''`
#   4. peak RSS  of the serial runs (bench/maxrss: fork/exec/wait4 ru_maxrss)
#
# Knobs (environment): BENCH_TASKS (1000), BENCH_RUNS (3, median reported),
# BENCH_JOBS (8), BENCH_STARTUP_RUNS (200), BENCH_KEEP=1 keeps the temp dir,
# ORCH_HOST_BIN / FAKE_CLAUDE_BIN to measure other builds, CC (cc).
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

# --- 1 & 4: serial ----------------------------------------------------------
# Sides interleaved (bare, host, bare, host, ...) so drift in machine load
# hits both alike. Both run under bench/maxrss, which also gives their CPU
# time (user+sys, the agents included). State folders are removed only at
# exit: mass deletes right before a run make ext4 file creation (the host's
# per-task log) several times slower for a while.
declare -a SER_H SER_B PAR_H PAR_B RSS_H HWM_H RSS_B CPU_H CPU_B
for r in $(seq "$RUNS"); do
  fresh "ser-bare-$r"
  t0=$(ns)
  "$WORK/maxrss" "$WORK/rss-bare-$r" "$WORK/bare_spawn" -n "$N" -j 1 -p "$WORK/prompt.txt" -C "$CLAUDE_BASE_CWD" \
    "${BARE_ENV[@]}" -- "${AGENT_ARGV[@]}" >"$WORK/bare.out" 2>&1 || { cat "$WORK/bare.out" >&2; die "bare_spawn -j 1 failed"; }
  t1=$(ns)
  SER_B+=("$(( (t1 - t0) / 1000 ))")
  RSS_B+=("$(awk '{ print $2 }' "$WORK/rss-bare-$r")")
  CPU_B+=("$(awk '{ printf "%d", ($8 + $10) * 1e6 }' "$WORK/rss-bare-$r")")

  fresh "ser-host-$r"
  t0=$(ns)
  "$WORK/maxrss" "$WORK/rss-host-$r" "$ORCH_BIN" --root "$ROOT" run daily.lua --tasks "$TASKS" --auto-approve --no-input \
    >"$WORK/serial.out" 2>&1
  rc=$?; t1=$(ns)
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
  t0=$(ns); bare "$JOBS" || { cat "$WORK/bare.out" >&2; die "bare_spawn -j $JOBS failed"; }; t1=$(ns)
  PAR_B+=("$(( (t1 - t0) / 1000 ))")
  fresh "par-host-$r"
  t0=$(ns)
  ORCH_BENCH_WORKERS=$JOBS host run "$BENCH/parallel.lua" --tasks "$TASKS" --no-input >"$WORK/parallel.out" 2>&1
  rc=$?; t1=$(ns)
  check_host_run parallel $rc
  PAR_H+=("$(( (t1 - t0) / 1000 ))")
  echo "parallel run $r: host ${PAR_H[-1]} us | bare ${PAR_B[-1]} us"
done

# --- 3: start-up ------------------------------------------------------------
fresh startup
host run "$BENCH/trivial.lua" --no-input >"$WORK/trivial.out" 2>&1 || { cat "$WORK/trivial.out" >&2; die "trivial.lua failed"; }
START_METHOD=hyperfine
if command -v hyperfine >/dev/null &&
  hyperfine -N --warmup 10 --runs "$SRUNS" --export-csv "$WORK/hf.csv" \
    "$ORCH_BIN --root $ROOT run $BENCH/trivial.lua --no-input" "luajit -e ''" >"$WORK/hf.out" 2>&1; then
  # command,mean,stddev,median,user,system,min,max (seconds); the median
  ST_H=$(awk -F, 'NR == 2 { printf "%d", $4 * 1e6 }' "$WORK/hf.csv")
  ST_B=$(awk -F, 'NR == 3 { printf "%d", $4 * 1e6 }' "$WORK/hf.csv")
else
  START_METHOD="loop of $SRUNS (mean)"
  loop_us() { local t0 t1; t0=$(ns); for _ in $(seq "$SRUNS"); do "$@" >/dev/null 2>&1 || return 1; done; t1=$(ns); echo $(( (t1 - t0) / 1000 / SRUNS )); }
  ST_H=$(loop_us "$ORCH_BIN" --root "$ROOT" run "$BENCH/trivial.lua" --no-input) || die "trivial.lua failed in the loop"
  ST_B=$(loop_us luajit -e '') || die "luajit failed"
fi
echo "start-up ($START_METHOD): host $ST_H us | luajit $ST_B us"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- summary ----------------------------------------------------------------
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
echo
awk -v n="$N" -v j="$JOBS" -v mh="$mh" -v mb="$mb" -v ph="$ph" -v pb="$pb" -v sh="$ST_H" -v sb="$ST_B" \
  -v rh="$rh" -v rb="$rb" -v hh="$hh" -v ch="$ch" -v cb="$cb" 'BEGIN {
  fmt = "%-36s %-24s %-24s %-7s %-9s %s\n"
  printf fmt, "benchmark", "measured", "baseline", "ratio", "target", "result"
  row("host overhead, serial (" n " tasks)", sprintf("%.3f s (%.3f ms/task)", mh / 1e6, mh / 1e3 / n),
      sprintf("%.3f s (%.3f ms/task)", mb / 1e6, mb / 1e3 / n), mh / mb, 1.05, "<= 1.05x")
  row("host overhead, " j " at a time", sprintf("%.3f s (%.3f ms/task)", ph / 1e6, ph / 1e3 / n),
      sprintf("%.3f s (%.3f ms/task)", pb / 1e6, pb / 1e3 / n), ph / pb, 1.05, "<= 1.05x")
  row("start-up: run trivial.lua", sprintf("%.2f ms", sh / 1e3), sprintf("%.2f ms (luajit)", sb / 1e3),
      sh / sb, 2, "<= 2x")
  r = rh / rb
  printf fmt, "peak RSS, " n "-task serial session", sprintf("%.1f MB", rh / 1024), sprintf("%.1f MB (bare loop)", rb / 1024),
      sprintf("%.2fx", r), "< 15 MB", (rh < 15 * 1024) ? "PASS" : "MISS"
  printf "(peak RSS: ru_maxrss of the host and its agents; the host'"'"'s own VmHWM, polled: %.1f MB)\n", hh / 1024
  printf "(serial CPU time, user+sys with the agents: host %.3f s vs bare %.3f s = %.2fx; %.3f ms/task more)\n", \
    ch / 1e6, cb / 1e6, ch / cb, (ch - cb) / 1e3 / n
}
function row(name, m, b, ratio, lim, tgt) {
  printf fmt, name, m, b, sprintf("%.2fx", ratio), tgt, (ratio <= lim) ? "PASS" : "MISS"
}'

# --- optional: the server (bench/serve.sh, its own temp dir and table) -------
# It takes ORCH_HOST_BIN (or build/orch-host) and the orch-net.so beside it.
if [[ $SERVE == 1 ]]; then
  echo
  echo "== orch-host serve (bench/serve.sh) =="
  bash "$BENCH/serve.sh" || die "bench/serve.sh could not run"
fi
