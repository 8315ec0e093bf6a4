#!/usr/bin/env bash
# bench/inbox_instr.sh: the inbox's own work per task in instructions, the
# steady measure on a loaded machine (bench/inbox.sh's wall ratio there is
# the scheduler's). A running `orch-host watch` under callgrind (the host
# only, not its agents): once its warm-up file's artifact is there the
# counters are zeroed, a burst of N `.task.md` files (bench/inbox_writer.py,
# the same files as inbox.sh's) is dropped in, and the counters are dumped
# when the last artifact is there (names uncompressed: the dump is read
# alone). Against it, `daily.lua --max-concurrent 8` over the same N tasks
# from one JSON list under callgrind (its whole run, start-up included).
# Prints instructions per task of both, their ratio, and the inbox's largest
# inclusive costs among the host's bindings.
# Knobs (environment): BENCH_INSTR_TASKS (200), BENCH_JOBS (8), plus
# bench/common.sh's. Needs valgrind (callgrind_control). Exit 0 when it ran.
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_TASKS=${BENCH_INSTR_TASKS:-200}
# shellcheck source=bench/common.sh
source "$BENCH/common.sh"
command -v callgrind_control >/dev/null || die "valgrind is needed (bash scripts/setup.sh installs it)"
command -v python3 >/dev/null || die "python3 is needed (writes the task files)"
export APPROVAL_MODE=auto MAX_CONCURRENT_TASKS=$JOBS MAX_CONCURRENT_AGENTS=$JOBS

# total INFILE: the instruction count (callgrind's "summary:" or "totals:" line)
total() { sed -n 's/^\(summary\|totals\): *\([0-9]*\).*/\2/p' "$1" | head -1; }
bindings() {
  callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
    grep -E 'api_[a-z]+\.cpp:orch::\(anonymous namespace\)::l_[a-z_]+\(lua_State\*\) \[|ProcessRun::on_stdout\(\) \[' |
    sed -E 's/^ *([0-9,]+) \(([ 0-9.]+%)\).*::(l_[a-z_]+|ProcessRun::on_stdout)\(.*/  \3 \1 (\2)/' | head -"${2:-12}"
}

python3 "$BENCH/inbox_writer.py" json "$WORK/inbox.json" "$N" || die "cannot write the JSON task list"
fresh day-instr
valgrind --tool=callgrind --callgrind-out-file="$WORK/cg-day.out" "$ORCH_BIN" --root "$ROOT" run daily.lua \
  --tasks "$WORK/inbox.json" --max-concurrent "$JOBS" --auto-approve --no-input >"$WORK/day.out" 2>&1 ||
  { tail -20 "$WORK/day.out" >&2; die "daily.lua under callgrind failed"; }
day=$(total "$WORK/cg-day.out")
[[ -n $day ]] || die "no instruction count in $WORK/cg-day.out"
echo "team day, $N tasks from one JSON list, $JOBS at a time: $day instructions, $(( day / N )) per task"

fresh inbox-instr
mkdir -p "$S/tasks" "$S/summaries"
export ORCH_TASKS_DIR=$S/tasks ORCH_SUMMARIES_DIR=$S/summaries
# artifacts PREFIX: how many results/PREFIX-*_result.json there are
artifacts() { find "$ORCH_RESULTS_DIR" -maxdepth 1 -name "$1-*_result.json" 2>/dev/null | wc -l; }
wait_artifacts() {  # PREFIX COUNT
  local end=$(( $(date +%s) + 1800 ))
  while (( $(artifacts "$1") < $2 )); do
    kill -0 "$WPID" 2>/dev/null || { tail -20 "$WORK/watch.out" >&2; die "orch-host watch ended"; }
    (( $(date +%s) < end )) || die "$(artifacts "$1") of $2 $1 artifacts after 1800 s"
    sleep 0.2
  done
}
valgrind --tool=callgrind --compress-strings=no --compress-pos=no --callgrind-out-file="$WORK/cg-inbox.out" "$ORCH_BIN" --root "$ROOT" watch \
  --auto-approve --no-input >"$WORK/watch.out" 2>&1 </dev/null &
WPID=$!
python3 "$BENCH/inbox_writer.py" one "$ORCH_TASKS_DIR" warm-0001 >/dev/null
wait_artifacts warm 1
sleep 1  # the warm-up task's move and ledger row: before the window
callgrind_control -z "$WPID" >/dev/null || die "callgrind_control -z failed"
python3 "$BENCH/inbox_writer.py" write "$ORCH_TASKS_DIR" b "$N" >/dev/null || die "cannot write the burst"
wait_artifacts b "$N"
sleep 1  # the last task's move, ledger row and events
callgrind_control -d "$WPID" >/dev/null || die "callgrind_control -d failed"
kill -TERM "$WPID" 2>/dev/null
wait "$WPID" 2>/dev/null
dump=$(ls "$WORK"/cg-inbox.out.* 2>/dev/null | head -1)
[[ -n $dump ]] || die "no callgrind dump of the burst"
inbox=$(total "$dump")
[[ -n $inbox ]] || die "no instruction count in $dump"
ok_n=$(python3 - "$ORCH_RESULTS_DIR" <<'EOF'
import glob, json, sys
print(sum(json.load(open(p)).get("status") == "completed" for p in glob.glob(f"{sys.argv[1]}/b-*_result.json")))
EOF
)
echo "inbox burst, $N files, $JOBS at a time ($ok_n completed): $inbox instructions, $(( inbox / N )) per task," \
  "$(awk -v a="$inbox" -v b="$day" 'BEGIN { printf "%.2f", a / b }')x the team day's"
bindings "$dump" 14
