#!/usr/bin/env bash
# bench/status_json.sh: the bar "`orch-host status --json` of a 10,000-task
# session: < 20 ms" without the DAG run that bench/dag_run.sh builds its
# session with (minutes). The 2-task probe session (bench/common.sh's daily.lua
# run) is copied and its first task row repeated BENCH_TASKS (10000) times
# into a new session with sqlite3 (each row its own id, seq, title, times,
# cost, tokens, log and agent paths; the session row's summary counts
# them), then `status --json` of that session and of the probe's are timed
# interleaved, median of BENCH_STATUS_RUNS (21), and the absolute time and
# the ratio printed. BENCH_STATUS_BASE=BIN also runs an older orch-host on
# the same session, fails unless both print the same bytes, and times it
# in the same rounds.
# Knobs (environment): BENCH_TASKS, BENCH_STATUS_RUNS, BENCH_STATUS_BASE, plus
# bench/common.sh's. Exit 0 when it ran.
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_TASKS=${BENCH_TASKS:-10000}
# shellcheck source=bench/common.sh
source "$BENCH/common.sh"
command -v sqlite3 >/dev/null || die "sqlite3 is needed (writes the big session)"

PROBE=$WORK/state-probe
BIG=$WORK/state-big
mkdir -p "$BIG/logs"
cp "$PROBE/orch.db" "$BIG/orch.db" || die "no probe database"
sqlite3 "$BIG/orch.db" <<SQL || die "cannot write the $N-task session"
BEGIN;
INSERT INTO sessions(id,workflow,task_file,status,started_at,updated_at,finished_at,pid,data)
  SELECT 'big-' || id, workflow, task_file, status, started_at + 1, updated_at + 1, finished_at + 1, pid,
         json_set(data, '\$.summary.counts.total', $N, '\$.summary.counts.completed', $N, '\$.summary.counts.done', $N)
  FROM sessions WHERE id='$SID';
WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < $N)
INSERT INTO tasks(session_id,id,seq,title,type,status,started_at,completed_at,cost_usd,tokens,output_log,data)
  SELECT 'big-' || t.session_id, 'task-' || n, n, 'Benchmark task ' || n, t.type, t.status,
         round(t.started_at + n * 0.0137, 6), round(t.completed_at + n * 0.0137 + (n % 89) * 0.000731, 6),
         round(t.cost_usd + (n % 97) * 0.000013, 6), t.tokens + n % 1000,
         replace(t.output_log, '$SID-1-', '$SID-' || n || '-'),
         replace(replace(t.data, 'module 1.', 'module ' || n || '.'), '$SID-1', '$SID-' || n)
  FROM k, (SELECT * FROM tasks WHERE session_id='$SID' AND seq=1) t;
COMMIT;
SQL
[[ $(sqlite3 "$BIG/orch.db" "SELECT count(*) FROM tasks WHERE session_id='big-$SID'") == "$N" ]] ||
  die "the big session does not hold $N tasks"

# status BIN STATE_DIR SESSION OUT: one `status --json` run
status() { ORCH_STATE_DB=$2/orch.db ORCH_LOGS_DIR=$2/logs "$1" --root "$ROOT" status --json "$3" >"$4" 2>&1; }
status "$ORCH_BIN" "$BIG" "big-$SID" "$WORK/big.json" || { cat "$WORK/big.json" >&2; die "status --json failed"; }
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert len(v["tasks"]) == int(sys.argv[2])' \
  "$WORK/big.json" "$N" || die "status --json of the big session does not list $N tasks"
if [[ -n ${BENCH_STATUS_BASE:-} ]]; then
  status "$BENCH_STATUS_BASE" "$BIG" "big-$SID" "$WORK/big-base.json" || die "$BENCH_STATUS_BASE status --json failed"
  # host_alive and runtime read the clock and the run lock: the same in both runs here (no host runs)
  cmp "$WORK/big-base.json" "$WORK/big.json" || die "$BENCH_STATUS_BASE and $ORCH_BIN print different bytes"
  echo "same bytes as $BENCH_STATUS_BASE ($(wc -c <"$WORK/big.json") bytes)"
fi

# us BIN STATE_DIR SESSION: the wall time of one run, in microseconds
us() {
  local t0 t1
  t0=$(ns)
  status "$@" /dev/null || die "status --json failed"
  t1=$(ns)
  echo $(( (t1 - t0) / 1000 ))
}
declare -a BIGT SMALLT BASET
for _ in $(seq "${BENCH_STATUS_RUNS:-21}"); do
  BIGT+=("$(us "$ORCH_BIN" "$BIG" "big-$SID")")
  SMALLT+=("$(us "$ORCH_BIN" "$PROBE" "$SID")")
  [[ -n ${BENCH_STATUS_BASE:-} ]] && BASET+=("$(us "$BENCH_STATUS_BASE" "$BIG" "big-$SID")")
done
sb=$(printf '%s\n' "${BIGT[@]}" | median); ss=$(printf '%s\n' "${SMALLT[@]}" | median)
[[ -n ${BENCH_STATUS_BASE:-} ]] &&
  echo "$BENCH_STATUS_BASE on the $N tasks, in the same rounds: $(printf '%s\n' "${BASET[@]}" | median) us"
echo "status --json, median of ${#BIGT[@]} interleaved: $N tasks ${sb} us ($(wc -c <"$WORK/big.json") bytes)," \
  "2 tasks ${ss} us; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
summary_row "status --json, $N-task session (copied rows)" "$(awk -v v="$sb" 'BEGIN { printf "%.1f ms", v / 1e3 }')" \
  "$(awk -v v="$ss" 'BEGIN { printf "%.1f ms (2 tasks)", v / 1e3 }')" \
  "$(awk -v a="$sb" -v b="$ss" 'BEGIN { printf "%.2fx", a / b }')" "< 20 ms" \
  "$(awk -v v="$sb" 'BEGIN { print (v < 20000) ? "PASS" : "MISS" }')"
