# bench/shared.sh: what every bench script needs (sourced, not run): the task
# file generators (gen_tasks, dag) and the summary rows that bench/run.sh prints as one table.

# gen_tasks N: a day file of N tasks that need no approval (documentation is
# auto-approved; the benchmarks pass --auto-approve anyway)
gen_tasks() {
  awk -v n="$1" 'BEGIN {
    print "# Tasks - 2025-11-20\n"
    for (i = 1; i <= n; i++) {
      printf "## Task %d: Benchmark task %d\n**Type:** documentation\n**Priority:** low\n", i, i
      printf "**Requires Approval:** false\n**Description:** Stand-in task %d for the host overhead benchmark\n", i
      printf "**Acceptance Criteria:**\n- The agent replays a recorded stream\n\n"
      printf "**Claude Instruction:**\nDocument module %d. Keep it short.\n\n---\n\n", i
    }
  }'
}

# summary_row BAR MEASURED BASELINE RATIO TARGET RESULT: one line of the
# summary table, appended to $BENCH_SUMMARY (tab-separated) when it is set
# (bench/run.sh sets it for itself and for the scripts it calls), and
# printed either way.
summary_row() {
  local IFS=$'\t'
  [[ -n ${BENCH_SUMMARY:-} ]] && echo "$*" >>"$BENCH_SUMMARY"
  printf '%-50s %-26s %-30s %-8s %-9s %s\n' "$@"
}

# dag N FILE [EDGES]: the seeded random graph as a JSON task list, and as
# bare_spawn -d's edge list (one line per task in the list's order, "K D...",
# for task-K and its dependencies task-D); the prompt is the serial bench's
# (prompt.txt), so every side feeds the agent the same bytes
dag() {
  python3 - "$1" "$2" "${3:-}" <<'PY' || { echo "bench: cannot write the graph" >&2; exit 1; }
import json, random, sys
n, path, edges = int(sys.argv[1]), sys.argv[2], sys.argv[3]
r = random.Random(42)
tasks = []
for k in range(1, n + 1):
    deps = sorted({r.randrange(1, k) for _ in range(r.randrange(0, 6))}) if k > 1 else []
    tasks.append({"id": f"task-{k}", "name": f"Task {k}", "description": f"Stand-in task {k}.",
                  "prompt": f"Document module {k}. Keep it short.",
                  "dependencies": [f"task-{d}" for d in deps]})
r.shuffle(tasks)
json.dump({"tasks": tasks}, open(path, "w"), indent=1)
if edges:
    with open(edges, "w") as f:
        for t in tasks:
            f.write(" ".join([t["id"][5:]] + [d[5:] for d in t["dependencies"]]) + "\n")
PY
}
