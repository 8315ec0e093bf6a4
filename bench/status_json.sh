#!/usr/bin/env bash
# bench/status_json.sh: the bar "`orch-host status --json` of a 10,000-task
# session: < 20 ms" without the DAG run that bench/dag_run.sh builds its
# session with (minutes). The 2-task probe session (bench/common.sh's daily.lua
# run) is copied and its first task row repeated BENCH_TASKS (10000) times
# into a new session with sqlite3 (each row its own id, seq, title, times,
# cost, tokens, log and agent paths; the session row's summary counts
# them), written in the order a run writes them, with six events a task
# (the pages lie as in the session bench/dag_run.sh's daily.lua run leaves),
# then `status --json` of that session and of the probe's are timed
# interleaved, each into a new file, median of BENCH_STATUS_RUNS (21), and
# the absolute time and the ratio printed. BENCH_STATUS_BASE=BIN also runs an older orch-host on
# the same session, fails unless both print the same bytes, and times it
# in the same rounds.
# Knobs (environment): BENCH_TASKS, BENCH_STATUS_RUNS, BENCH_STATUS_BASE, BENCH_BATCH, plus
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
# The rows are written as a run writes them, so the file's pages lie as a
# real session's do: each task saved small and pending first, then, BENCH_BATCH
# (100) at a time, its six events (task_started, claude_started, agent_tool,
# claude_finished, validated, task_finished) and its row grown to the
# finished one (times, cost, tokens, log, usage, result...). A table filled
# in one pass instead keeps the task rows on adjacent pages, and status reads
# them with ~20% fewer page faults than the DAG bench's real session.
B=${BENCH_BATCH:-100}
T="(SELECT * FROM tasks WHERE session_id='$SID' AND seq=1)"
{
  echo "BEGIN;"
  echo "INSERT INTO sessions(id,workflow,task_file,status,started_at,updated_at,finished_at,pid,data)
  SELECT 'big-' || id, workflow, task_file, status, started_at + 1, updated_at + 1, finished_at + 1, pid,
         json_set(data, '\$.summary.counts.total', $N, '\$.summary.counts.completed', $N, '\$.summary.counts.done', $N)
  FROM sessions WHERE id='$SID';"
  echo "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < $N)
INSERT INTO tasks(session_id,id,seq,title,type,status,data)
  SELECT 'big-' || t.session_id, 'task-' || n, n, 'Benchmark task ' || n, t.type, 'pending',
         json_remove(replace(t.data, 'module 1.', 'module ' || n || '.'), '\$.instructions_applied', '\$.agent_dir',
                     '\$.usage', '\$.claude_session', '\$.deliverables_missing', '\$.files_touched', '\$.num_turns', '\$.result')
  FROM k, $T t;"
  for ((lo = 1; lo <= N; lo += B)); do
    hi=$((lo + B - 1))
    echo "WITH RECURSIVE k(n) AS (SELECT $lo UNION ALL SELECT n + 1 FROM k WHERE n < $hi)
INSERT INTO events(ts,session_id,task_id,event,data)
  SELECT 1e9 + n, 'big-$SID', 'task-' || n, e.column1, e.column2 FROM k, (VALUES
    ('task_started', '{\"status\":\"running\"}'), ('claude_started', '{}'), ('agent_tool', '{\"tool\":\"Write\"}'),
    ('claude_finished', '{\"cost_usd\":0.034255,\"duration_ms\":12,\"num_turns\":2,\"tokens\":6599,\"ok\":true}'),
    ('validated', '{\"deliverables_missing\":[],\"files_touched\":1,\"ok\":true}'),
    ('task_finished', '{\"status\":\"completed\"}')) e;
UPDATE tasks SET status = t.status, started_at = round(t.started_at + tasks.seq * 0.0137, 6),
    completed_at = round(t.completed_at + tasks.seq * 0.0137 + (tasks.seq % 89) * 0.000731, 6),
    cost_usd = round(t.cost_usd + (tasks.seq % 97) * 0.000013, 6), tokens = t.tokens + tasks.seq % 1000,
    output_log = replace(t.output_log, '$SID-1-', '$SID-' || tasks.seq || '-'),
    data = replace(replace(t.data, 'module 1.', 'module ' || tasks.seq || '.'), '$SID-1', '$SID-' || tasks.seq)
  FROM $T t WHERE tasks.session_id = 'big-$SID' AND tasks.seq BETWEEN $lo AND $hi;"
  done
  echo "COMMIT;"
} | sqlite3 "$BIG/orch.db" || die "cannot write the $N-task session"
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

# us BIN STATE_DIR SESSION: the wall time of one run, in microseconds, its
# output written to a new file, as `status --json >FILE` does (the file of
# the run before is removed first, outside the time: emptying 9 MB of a
# file costs ~6 ms)
us() {
  local t0 t1
  rm -f "$WORK/timed.json"
  now t0
  status "$@" "$WORK/timed.json" || die "status --json failed"
  now t1
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
