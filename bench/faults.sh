#!/usr/bin/env bash
# bench/faults.sh: the issue's bar "a 20-task, 4-wide day with the stand-in
# where agents hit a usage limit at random, stall, fail transiently and ask
# questions: every task ends completed exactly once, the total cost counts
# each run once, no agent process survives, and the wall time stays within
# 1.2x of the same day with no faults plus the injected waits".
#
# The day: a seeded random graph of 20 tasks (each depends on up to 2
# earlier ones), every task working BENCH_FAULT_WORK s ([fake:slow:W]), in a
# git repository (a worktree per task), at 4 wide. Faults, seeded: usage
# limits ([fake:limit:L]: the gate closes for L s), stalls
# ([fake:stall_once:1] with claude.stall_timeout S, then a retry after the
# backoff B), transient errors ([fake:flaky:1]: a 529, then a retry after
# B) and questions ([fake:question], answered by this script Q s after it
# sees one). The baseline is the same day with each fault replaced by its
# wait ([fake:slow:W] with W = L, S + B, B or Q): "no faults plus
# the injected waits". Runs are interleaved (BENCH_FAULT_RUNS pairs); the
# ratio of the medians is printed, and each fault day is checked: every task
# completed, one task_finished per task, the cost equal to the runs that
# reported one, no stand-in left running.
#
# Knobs: BENCH_FAULT_RUNS (3), BENCH_FAULT_WORK (1), BENCH_FAULT_LIMIT (2),
# BENCH_FAULT_STALL (2), BENCH_FAULT_BACKOFF (1), BENCH_FAULT_ANSWER (2).
# Exit 0 when it ran and every check held.
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
ORCH_BIN=${ORCH_HOST_BIN:-$ROOT/build/orch-host}
FAKE_BIN=${FAKE_CLAUDE_BIN:-$ROOT/build/fake_claude}
RUNS=${BENCH_FAULT_RUNS:-3}
WORK_S=${BENCH_FAULT_WORK:-1}
LIMIT_S=${BENCH_FAULT_LIMIT:-2}
STALL_S=${BENCH_FAULT_STALL:-2}
BACKOFF_S=${BENCH_FAULT_BACKOFF:-1}
ANSWER_S=${BENCH_FAULT_ANSWER:-2}
die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }
[[ -x $ORCH_BIN ]] || die "$ORCH_BIN: not built (cmake --build build)"
[[ -x $FAKE_BIN ]] || die "$FAKE_BIN: not built (cmake --build build)"
command -v python3 >/dev/null || die "python3 is needed"
command -v git >/dev/null || die "git is needed"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/orch-faults.XXXXXX") || die "mktemp failed"
if [[ ${BENCH_KEEP:-} == 1 ]]; then note "keeping $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
cp "$ORCH_BIN" "$WORK/orch-host" && cp "$FAKE_BIN" "$WORK/claude" || die "cannot copy the binaries"
cat >"$WORK/config.lua" <<EOF
return {
  orchestrator = { limit_jitter = 0, retry_backoff = $BACKOFF_S, retry_backoff_max = $BACKOFF_S,
                   retry_transient = 3, retry_failed = 0, approval_mode = "auto" },
  claude = { path = "$WORK/claude", stall_timeout = $STALL_S },
  notify = { console = false, flush_seconds = 0 },
}
EOF

# day KIND FILE: the seeded day, KIND fault (the faults) or base (their waits)
day() {
  python3 - "$1" "$2" "$WORK_S" "$LIMIT_S" "$STALL_S" "$BACKOFF_S" "$ANSWER_S" <<'PY' || die "cannot write the day"
import json, random, sys
kind, path = sys.argv[1], sys.argv[2]
work, limit, stall, backoff, answer = (float(x) for x in sys.argv[3:8])
r = random.Random(7)
faults = ["limit"] * 2 + ["stall"] * 3 + ["transient"] * 3 + ["question"] * 3 + [None] * 9
r.shuffle(faults)
waits = {"limit": limit, "stall": stall + backoff, "transient": backoff, "question": answer}
marks = {"limit": "[fake:limit:%g]" % limit, "stall": "[fake:stall_once:1]", "transient": "[fake:flaky:1]",
         "question": "[fake:question]"}
tasks = []
for k, f in enumerate(faults, 1):
    deps = sorted(set("t%d" % r.randint(1, k - 1) for _ in range(r.randint(0, 2)))) if k > 1 else []
    if f is None:
        mark = "[fake:slow:%g]" % work
    elif kind == "fault":
        mark = marks[f]
    else:
        mark = "[fake:slow:%g]" % waits[f]  # it prints as it waits: no stall
    tasks.append({"id": "t%d" % k, "name": "Task %d" % k, "description": "d", "dependencies": deps,
                  "prompt": "Task %d (%s). %s" % (k, f or "clean", mark)})
json.dump({"tasks": tasks}, open(path, "w"))
PY
}

# answerer DB: answers each waiting_answer task ANSWER_S after it is first seen, until the host ends
answerer() {
  python3 - "$WORK/orch-host" "$ROOT" "$WORK/config.lua" "$ANSWER_S" "$1" <<'PY'
import json, os, subprocess, sys, time
host, root, config, delay, db = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
seen, done = {}, set()
env = dict(os.environ, ORCH_STATE_DB=db)
while True:
    p = subprocess.run([host, "--root", root, "--config", config, "status", "--json"], capture_output=True,
                       text=True, env=env)
    try:
        s = json.loads(p.stdout)
    except ValueError:
        time.sleep(0.2)
        continue
    now = time.monotonic()
    for t in s.get("tasks", []):
        if t.get("status") == "waiting_answer" and t["id"] not in done:
            seen.setdefault(t["id"], now)
            if now - seen[t["id"]] >= delay:
                subprocess.run([host, "--root", root, "--config", config, "answer", "--task", t["id"], "use A"],
                               capture_output=True, env=env)
                done.add(t["id"])
    if s.get("status") in ("completed", "paused", "failed") and not s.get("host_alive"):
        break
    time.sleep(0.2)
PY
}

# run KIND I: one day in a fresh repository; prints its wall seconds
run() {
  local kind=$1 i=$2 dir="$WORK/$1-$2"
  mkdir -p "$dir/repo" "$dir/logs"
  git -C "$dir/repo" init -q && git -C "$dir/repo" -c user.email=b@b -c user.name=b commit -q --allow-empty -m init
  day "$kind" "$dir/tasks.json"
  local apid=""
  if [[ $kind == fault ]]; then answerer "$dir/state.db" & apid=$!; fi
  local t0 t1 rc=0
  t0=$(date +%s.%N)
  ORCH_STATE_DB="$dir/state.db" ORCH_LOGS_DIR="$dir/logs" ORCH_RESULTS_DIR="$dir/results" CLAUDE_BASE_CWD="$dir/repo" \
    FAKE_CLAUDE_LEDGER="$dir/ledger" ANTHROPIC_API_KEY=bench \
    "$WORK/orch-host" --root "$ROOT" --config "$WORK/config.lua" run daily.lua --tasks "$dir/tasks.json" \
    --max-concurrent 4 --no-input >"$dir/out" 2>&1 </dev/null || rc=$?
  t1=$(date +%s.%N)
  [[ -n $apid ]] && wait "$apid"
  [[ $rc == 0 ]] || die "$kind day $i exited $rc: $(tail -5 "$dir/out")"
  python3 -c 'import sys; print("%.3f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t0" "$t1"
}

# check DIR: the fault day's promises
check() {
  local dir=$1
  ORCH_STATE_DB="$dir/state.db" "$WORK/orch-host" --root "$ROOT" --config "$WORK/config.lua" status --json \
    >"$dir/status.json" || die "status --json failed in $dir"
  python3 - "$dir" <<'PY' || die "the fault day in $1 broke a promise"
import json, sys
d = sys.argv[1]
s = json.load(open(d + "/status.json"))
bad = [t["id"] + ":" + t["status"] for t in s["tasks"] if t["status"] != "completed"]
assert not bad, "not completed: %s" % bad
fin = {}
for line in open(d + "/logs/events.ndjson"):
    e = json.loads(line)
    if e.get("event") == "task_finished":
        fin[e["task"]] = fin.get(e["task"], 0) + 1
assert all(v == 1 for v in fin.values()) and len(fin) == len(s["tasks"]), "task_finished per task: %s" % fin
# runs that report a cost: every task's last run, and each question's asking run (limits,
# stalls and 529s report none)
questions = sum(1 for t in s["tasks"] if t.get("questions"))
want = round((len(s["tasks"]) + questions) * 0.034215, 6)
assert abs(s["cost_usd"] - want) < 1e-6, "cost %s, want %s" % (s["cost_usd"], want)
PY
  if pgrep -f "$WORK/claude" >/dev/null 2>&1; then die "a stand-in agent survived the day in $dir"; fi
}

note "20 tasks, 4 wide, work ${WORK_S}s each; faults: 2 limits (${LIMIT_S}s), 3 stalls (${STALL_S}s + ${BACKOFF_S}s), 3 transient (${BACKOFF_S}s), 3 questions (answered after ${ANSWER_S}s)"
FAULT=() BASE=()
for i in $(seq "$RUNS"); do
  b=$(run base "$i") || exit 1
  f=$(run fault "$i") || exit 1
  check "$WORK/fault-$i"
  note "pair $i: fault day ${f}s, baseline ${b}s"
  FAULT+=("$f") BASE+=("$b")
done
python3 - "${FAULT[*]}" "${BASE[*]}" <<'PY'
import statistics, sys
f = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
mf, mb = statistics.median(f), statistics.median(b)
print("fault day (median of %d): %.2f s" % (len(f), mf))
print("same day, no faults, the injected waits instead: %.2f s" % mb)
print("ratio: %.2fx (target 1.2x)" % (mf / mb))
print("checks: every task completed once, the cost counted once per run, no agent left: ok")
PY
