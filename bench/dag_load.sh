#!/usr/bin/env bash
# bench/dag_load.sh: the issue's bar "a 10,000-task random DAG (up to 5
# dependencies each) loaded and validated in under 1 s". Writes the graph as
# a JSON task list and as a YAML day file (task k depends on up to 5 random
# tasks before it; the tasks in shuffled order), then times in one process
# (bench/dag_load.lua, median of BENCH_RUNS) lib/tasks.parse (decode, model,
# graph checks) against the baseline of the same run: the decoder alone on
# the same text. Prints one row per format (bench/shared.sh summary_row).
#
# Knobs (environment): BENCH_DAG_TASKS (10000), BENCH_RUNS (5), ORCH_HOST_BIN
# (build/orch-host), BENCH_KEEP=1 keeps the temp dir. Exit 0 when it ran.
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
source "$BENCH/shared.sh"  # summary_row
ORCH_BIN=${ORCH_HOST_BIN:-$ROOT/build/orch-host}
N=${BENCH_DAG_TASKS:-10000}
RUNS=${BENCH_RUNS:-5}

die() { echo "bench: $*" >&2; exit 1; }
[[ -x $ORCH_BIN ]] || die "$ORCH_BIN: not built"
command -v python3 >/dev/null || die "python3 is needed (writes the graph)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/orch-bench-dag.XXXXXX") || die "mktemp failed"
if [[ ${BENCH_KEEP:-} == 1 ]]; then echo "bench: keeping $WORK" >&2; else trap 'rm -rf "$WORK"' EXIT; fi

python3 - "$N" "$WORK/dag.json" "$WORK/dag.yaml" <<'PY' || die "cannot write the graph"
import json, random, sys
n, jpath, ypath = int(sys.argv[1]), sys.argv[2], sys.argv[3]
r = random.Random(42)
tasks = []
for k in range(1, n + 1):
    deps = sorted({r.randrange(1, k) for _ in range(r.randrange(0, 6))}) if k > 1 else []
    tasks.append({"id": f"task-{k}", "name": f"Task {k}", "description": f"Generated task {k}.",
                  "dependencies": [f"task-{d}" for d in deps]})
r.shuffle(tasks)
json.dump({"tasks": tasks}, open(jpath, "w"), indent=1)
with open(ypath, "w") as y:
    y.write("date: 2026-12-01\ntasks:\n")
    for t in tasks:
        y.write(f"  - id: {t['id']}\n    name: \"{t['name']}\"\n    description: {t['description']}\n"
                f"    depends_on: [{', '.join(t['dependencies'])}]\n")
PY

export ORCH_STATE_DB="$WORK/state.db" ORCH_LOGS_DIR="$WORK/logs" ORCH_BENCH_RUNS=$RUNS ORCH_BENCH_YAML="$WORK/dag.yaml"
"$ORCH_BIN" --root "$ROOT" run "$BENCH/dag_load.lua" --tasks "$WORK/dag.json" --no-input >"$WORK/out" 2>&1 \
  || { cat "$WORK/out" >&2; die "bench/dag_load.lua failed"; }

echo "== $N-task random DAG: load + validation (median of $RUNS, one process) =="
printf '%-50s %-26s %-30s %-8s %-9s %s\n' bar measured baseline ratio target result
grep -P '^(json|yaml)\t' "$WORK/out" | while IFS=$'\t' read -r fmt base load n edges; do
  ratio=$(awk -v a="$load" -v b="$base" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }')
  pass=$(awk -v a="$load" 'BEGIN { print (a < 1000 ? "pass" : "miss") }')
  summary_row "$fmt: $n tasks, $edges edges, load + validate" "$load ms" "$base ms (decode alone)" "$ratio" \
    "< 1000 ms" "$pass"
done
