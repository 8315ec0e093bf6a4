# bench/shared.sh: what every bench script needs (sourced, not run): the task
# file generator and the summary rows that bench/run.sh prints as one table.

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
