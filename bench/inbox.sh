#!/usr/bin/env bash
# bench/inbox.sh: the task inbox's bars, each against a baseline measured in
# the same run.
#
# (a) A burst of N (BENCH_TASKS, 1000) `.task.md` files dropped into the
#     folder of a running `orch-host watch` (the instant stand-in, 8 at a
#     time: MAX_CONCURRENT_TASKS and MAX_CONCURRENT_AGENTS 8): the time from
#     the last file written (closed) to the last artifact written (the newest
#     mtime among results/ and summaries/), against the team-day runner over
#     the same N tasks in one JSON task list (`orch-host run daily.lua --tasks
#     X.json --max-concurrent 8`, its wall). Target 1.2x. Every artifact's
#     status is counted (completed).
# (b) The watch's own CPU (utime + stime from /proc/PID/stat) and its
#     voluntary context switches while the inbox is idle for BENCH_INBOX_IDLE
#     (10) s, once before the burst and once after it. Target ~0.
# (c) The time from a file's close to its agent's start, p50 and p99, over
#     BENCH_INBOX_LATENCY (200) files dropped one at a time (the next once the
#     previous one's artifact is there): the agent's start is a stamp its exec
#     wrapper writes first thing (CLOCK_REALTIME, as bench/approve_latency.sh),
#     the close the writer's clock right after close(2). The floor is
#     bare_inbox.c (an inotify watch that spawns the same stand-in on each
#     close) over the same files. Target < 50 ms.
#
# The inbox side needs `orch-host watch`; without it only the baselines run
# (and say so). No timed assertions: a missed target is reported; exit 1
# only when something could not run.
#
# Knobs (environment): BENCH_TASKS (1000), BENCH_INBOX_RUNS (1: interleaved
# pairs, medians), BENCH_INBOX_IDLE (10), BENCH_INBOX_LATENCY (200),
# BENCH_JOBS (8), plus bench/common.sh's (BENCH_KEEP=1, ORCH_HOST_BIN, ...).
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/common.sh
source "$BENCH/common.sh"
IRUNS=${BENCH_INBOX_RUNS:-1}
IDLE_S=${BENCH_INBOX_IDLE:-10}
LAT_N=${BENCH_INBOX_LATENCY:-200}
command -v python3 >/dev/null || die "python3 is needed (writes the task files, reads the artifacts)"
"$CC" -O2 -o "$WORK/bare_inbox" "$BENCH/bare_inbox.c" || die "cannot compile bare_inbox.c"
export APPROVAL_MODE=auto MAX_CONCURRENT_TASKS=$JOBS MAX_CONCURRENT_AGENTS=$JOBS

HAVE_WATCH=1
host help watch >/dev/null 2>&1 || HAVE_WATCH=0
[[ $HAVE_WATCH == 1 ]] || note "this orch-host has no 'watch' command: only the baselines run"

# the agent's start: a stamp "NS ARGV1" first thing, then the stand-in (bench/stamp_exec.c)
"$CC" -O2 -o "$WORK/claude-stamp" "$BENCH/stamp_exec.c" || die "cannot compile the exec wrapper"

# the same N tasks as one JSON task list (the team day) and as .task.md files
# (bench/inbox_writer.py)
python3 "$BENCH/inbox_writer.py" json "$WORK/inbox.json" "$N" || die "cannot write the JSON task list"

# inbox_state NAME: fresh state plus the inbox's folders
inbox_state() {
  fresh "$1"
  mkdir -p "$S/tasks" "$S/summaries"
  export ORCH_TASKS_DIR=$S/tasks ORCH_SUMMARIES_DIR=$S/summaries
}

# artifacts DIR PREFIX: how many results/PREFIX-*_result.json there are
artifacts() { find "$1" -maxdepth 1 -name "$2-*_result.json" 2>/dev/null | wc -l; }

# wait_artifacts PREFIX COUNT LIMIT_S: until COUNT artifacts (the watcher alive)
wait_artifacts() {
  local end=$(( $(date +%s) + $3 ))
  while (( $(artifacts "$ORCH_RESULTS_DIR" "$1") < $2 )); do
    kill -0 "$WPID" 2>/dev/null || { tail -20 "$WORK/watch.out" >&2; die "orch-host watch ended"; }
    (( $(date +%s) < end )) || { tail -20 "$WORK/watch.out" >&2; die "$(artifacts "$ORCH_RESULTS_DIR" "$1") of $2 $1 artifacts after $3 s"; }
    sleep 0.05
  done
}

# watch_start: orch-host watch in the background (WPID), proven up by one
# warm-up file run to its artifact
watch_start() {
  "$ORCH_BIN" --root "$ROOT" watch --auto-approve --no-input >"$WORK/watch.out" 2>&1 </dev/null &
  WPID=$!
  python3 "$BENCH/inbox_writer.py" one "$ORCH_TASKS_DIR" warm-0001 >/dev/null
  wait_artifacts warm 1 120
}
watch_stop() { kill -TERM "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null; }

# cpu_ticks PID: utime + stime (clock ticks); ctxt PID: voluntary switches
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
ctxt() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/status"; }
TCK=$(getconf CLK_TCK)

# idle_cpu: the watcher's CPU (ms) and wake-ups over IDLE_S once it settled
idle_cpu() {
  sleep 1  # the last task's moves and event flush: outside the window
  local c0 x0 c1 x1
  c0=$(cpu_ticks "$WPID") x0=$(ctxt "$WPID")
  sleep "$IDLE_S"
  c1=$(cpu_ticks "$WPID") x1=$(ctxt "$WPID")
  echo "$(( (c1 - c0) * 1000 / TCK )) $(( x1 - x0 ))"
}

# completed DIR PREFIX: artifacts of PREFIX whose status is completed
completed() {
  python3 - "$1" "$2" <<'EOF'
import glob, json, sys
print(sum(json.load(open(p)).get("status") == "completed" for p in glob.glob(f"{sys.argv[1]}/{sys.argv[2]}-*_result.json")))
EOF
}

echo "inbox: $N tasks, $JOBS at a time, runs: $IRUNS, idle window: $IDLE_S s, latency files: $LAT_N"
declare -a DAY BURST IDLE0 IDLE1
for r in $(seq "$IRUNS"); do
  # --- the team-day runner over the same tasks
  fresh "day-$r"
  now t0
  host run daily.lua --tasks "$WORK/inbox.json" --max-concurrent "$JOBS" --auto-approve --no-input \
    >"$WORK/day-$r.out" 2>&1 || { tail -20 "$WORK/day-$r.out" >&2; die "daily.lua on the JSON list failed"; }
  now t1
  done_n=$(host status --json 2>/dev/null | python3 -c \
    'import json,sys; v=json.load(sys.stdin); print(sum(t["status"] == "completed" for t in v["tasks"]))')
  [[ $done_n == "$N" ]] || die "the team day completed $done_n of $N tasks"
  DAY+=("$(( (t1 - t0) / 1000 ))")
  echo "run $r: team day (daily.lua --max-concurrent $JOBS, $N tasks from one JSON list): ${DAY[-1]} us"

  [[ $HAVE_WATCH == 1 ]] || continue
  # --- the inbox: a burst into the folder of a running watch
  inbox_state "inbox-$r"
  watch_start
  read -r ms sw <<<"$(idle_cpu)"
  IDLE0+=("$ms")
  echo "run $r: watch idle before the burst: $ms ms CPU, $sw voluntary switches in $IDLE_S s"
  last_write=$(python3 "$BENCH/inbox_writer.py" write "$ORCH_TASKS_DIR" b "$N") || die "cannot write the burst"
  wait_artifacts b "$N" 1800
  # the newest artifact (result or summary) of the burst, in ns
  last_art=$(find "$ORCH_RESULTS_DIR" "$ORCH_SUMMARIES_DIR" -maxdepth 1 -name 'b-*' -printf '%T@\n' |
    sort -g | tail -1 | awk '{ printf "%.0f", $1 * 1e9 }')
  BURST+=("$(( (last_art - last_write) / 1000 ))")
  ok_n=$(completed "$ORCH_RESULTS_DIR" b)
  left=$(find "$ORCH_TASKS_DIR" -maxdepth 1 -name 'b-*.task.md' | wc -l)
  read -r ms sw <<<"$(idle_cpu)"
  IDLE1+=("$ms")
  watch_stop
  echo "run $r: inbox burst: last file written -> last artifact ${BURST[-1]} us ($ok_n of $N completed," \
    "$left task files left in the folder); idle after: $ms ms CPU, $sw voluntary switches in $IDLE_S s"
done

# --- close -> agent start, one file at a time: the floor, then the inbox
export CLAUDE_CLI_PATH=$WORK/claude-stamp STAMP_EXEC=$FAKE_BIN
inbox_state "lat-bare"
export STAMP_FILE=$S/stamps
"$WORK/bare_inbox" "$ORCH_TASKS_DIR" "$ORCH_RESULTS_DIR" -- "$WORK/claude-stamp" "${AGENT_ARGV[@]:1}" \
  >"$WORK/bare_inbox.out" 2>&1 &
BPID=$!
for _ in $(seq 600); do grep -q ready "$WORK/bare_inbox.out" && break; sleep 0.05; done
grep -q ready "$WORK/bare_inbox.out" || die "bare_inbox did not start: $(cat "$WORK/bare_inbox.out")"
python3 "$BENCH/inbox_writer.py" latency "$ORCH_TASKS_DIR" "$ORCH_RESULTS_DIR" "$STAMP_FILE" "$LAT_N" "$BPID" \
  >"$WORK/lat-bare.ms" || die "the floor's latency run failed"
kill "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null

# pct P: the P-th percentile (nearest rank) of stdin
pct() { sort -g | awk -v p="$1" '{ a[NR] = $1 } END { r = int(NR * p / 100 + 0.999); if (r < 1) r = 1; printf "%.1f", a[r] }'; }
B50=$(pct 50 <"$WORK/lat-bare.ms") B99=$(pct 99 <"$WORK/lat-bare.ms")
echo "close -> agent started, $LAT_N files one at a time: bare inotify + spawn p50 $B50 ms, p99 $B99 ms"
if [[ $HAVE_WATCH == 1 ]]; then
  inbox_state "lat"
  export STAMP_FILE=$S/stamps
  watch_start
  python3 "$BENCH/inbox_writer.py" latency "$ORCH_TASKS_DIR" "$ORCH_RESULTS_DIR" "$STAMP_FILE" "$LAT_N" "$WPID" \
    >"$WORK/lat.ms" || die "the inbox latency run failed"
  watch_stop
  L50=$(pct 50 <"$WORK/lat.ms") L99=$(pct 99 <"$WORK/lat.ms")
  echo "close -> agent started, $LAT_N files one at a time: orch-host watch p50 $L50 ms, p99 $L99 ms"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

md=$(printf '%s\n' "${DAY[@]}" | median)
if [[ $HAVE_WATCH == 1 ]]; then
  mb=$(printf '%s\n' "${BURST[@]}" | median)
  ratio=$(awk -v a="$mb" -v b="$md" 'BEGIN { printf "%.2f", a / b }')
  summary_row "inbox burst of $N, $JOBS at a time" "$(awk -v v="$mb" 'BEGIN { printf "%.2f s", v / 1e6 }')" \
    "$(awk -v v="$md" 'BEGIN { printf "%.2f s team day (JSON)", v / 1e6 }')" "${ratio}x" "<= 1.2x" \
    "$(awk -v r="$ratio" 'BEGIN { print (r <= 1.2) ? "PASS" : "MISS" }')"
  i0=$(printf '%s\n' "${IDLE0[@]}" | median) i1=$(printf '%s\n' "${IDLE1[@]}" | median)
  summary_row "inbox idle CPU over $IDLE_S s (before / after)" "$i0 / $i1 ms" "-" "-" "~0" \
    "$(awk -v a="$i0" -v b="$i1" -v s="$IDLE_S" 'BEGIN { print (a <= s && b <= s) ? "PASS" : "MISS" }')"
  summary_row "inbox close -> agent started, p50 / p99" "$L50 / $L99 ms" "$B50 / $B99 ms bare inotify" \
    "$(awk -v a="$L50" -v b="$B50" 'BEGIN { printf "%.1fx", (b > 0) ? a / b : 0 }')" "< 50 ms" \
    "$(awk -v a="$L99" 'BEGIN { print (a < 50) ? "PASS" : "MISS" }')"
else
  summary_row "inbox burst of $N, $JOBS at a time" "not measured (no watch)" \
    "$(awk -v v="$md" 'BEGIN { printf "%.2f s team day (JSON)", v / 1e6 }')" "-" "<= 1.2x" "-"
  summary_row "inbox close -> agent started, p50 / p99" "not measured (no watch)" "$B50 / $B99 ms bare inotify" \
    "-" "< 50 ms" "-"
fi
