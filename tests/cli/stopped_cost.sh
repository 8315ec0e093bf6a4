#!/usr/bin/env bash
# The cost of an agent run stopped before claude's result line (the only line
# with the CLI's cost): its stream's tokens priced with budget.prices, marked
# as an estimate in status and the report, counted once, and counted by the
# budget. A run that ends with its result line keeps the CLI's figure alone.
# The stand-in's slow mode writes assistant lines (3204 input and 1 output
# tokens, one message) before its result; the test skips it once one is logged.
source "$(dirname "$0")/lib.bash"

TODAY=$(date +%F)
day() {  # day FILE: task 1 runs until skipped, task 2 ends with its result line
    cat >"$1" <<MD
# Tasks - $TODAY

## Task 1: Stopped midway
**Type:** backend
**Description:** One.

**Claude Instruction:**
One. [fake:slow:300]

---

## Task 2: Ends with its result
**Type:** backend
**Description:** Two.

**Claude Instruction:**
Two.
MD
}
streamed() { grep -q "working... 1" "$T"/logs/task-*-1-output.log; }

# --- the default table: the stand-in's model (claude-opus-4-8) at the opus row
# ($5 input, $25 output per million): 3204 * 5 + 1 * 25 = $0.016045
day "$T/a.md"
bg_run "$T/a.out" orch run daily.lua --tasks "$T/a.md" --auto-approve --no-input
wait_for streamed
orch skip --task 1 >"$T/skip.out" 2>&1 || fail "skip: $(cat "$T/skip.out")"
expect_eq "$(bg_wait "$T/a.out")" 0 "exit code of the day ($(tail -3 "$T/a.out"))"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["skipped", "completed"]' "statuses"
expect_eq "$(sj "s['tasks'][0]['cost_usd']")" 0.016045 "the stopped run's cost, from its tokens"
expect_eq "$(sj "s['tasks'][0]['cost_estimated_usd']")" 0.016045 "the stopped run's cost is marked estimated"
expect_eq "$(sj "s['tasks'][0]['usage']['input_tokens']")" 3204 "the stopped run's usage"
expect_eq "$(sj "[s['tasks'][1]['cost_usd'], s['tasks'][1].get('cost_estimated_usd')]")" '[0.034215, null]' \
    "a run with its result line: the CLI's cost alone"
expect_eq "$(sj "abs(s['cost_usd'] - (0.016045 + 0.034215)) < 1e-9")" true "the session's cost: $(sj "s['cost_usd']")"
expect_eq "$(sj "s['cost_estimated_usd']")" 0.016045 "the estimated part of the session's cost"
orch status >"$T/status.txt" 2>&1 || fail "status: $(cat "$T/status.txt")"
grep -q "cost ~\$0.0503" "$T/status.txt" || fail "status: the session's cost marked: $(cat "$T/status.txt")"
grep "Stopped midway" "$T/status.txt" | grep -q "~\$0.0160" || fail "status: task 1's cost marked: $(cat "$T/status.txt")"
grep "Ends with its result" "$T/status.txt" | grep -q " \$0.0342" || fail "status: task 2's cost: $(cat "$T/status.txt")"
grep -q "^  ~ includes an estimate" "$T/status.txt" || fail "status: what ~ means: $(cat "$T/status.txt")"
R=$T/results/$TODAY-report.md
grep -q "^- Cost: ~\$0.0503" "$R" || fail "report: the cost marked: $(cat "$R")"
grep -q "~ includes an estimate" "$R" || fail "report: what ~ means: $(cat "$R")"
WAIT_TIMEOUT=15 wait_for no_agents
note "estimate ok"

# --- the user's table, the row of the model the stream names, and the budget
# counts the estimate: 3204 * $100 per million = $0.3204 spends a $0.20 budget,
# so task 2 is skipped for it
cat >"$T/prices.lua" <<'LUA'
return { budget = { prices = {
  { match = "sonnet", input = 100, output = 0, cache_write = 0, cache_read = 0 },
  { input = 0, output = 0, cache_write = 0, cache_read = 0 },
} } }
LUA
rm -f "$T"/logs/task-*-1-output.log
day "$T/b.md"
CLAUDE_MODEL=claude-sonnet-4-5 MAX_DAILY_COST_USD=0.2 bg_run "$T/b.out" \
    orch --config "$T/prices.lua" run daily.lua --tasks "$T/b.md" --auto-approve --no-input
wait_for streamed
orch skip --task 1 >"$T/skip.out" 2>&1 || fail "skip: $(cat "$T/skip.out")"
expect_eq "$(bg_wait "$T/b.out")" 0 "exit code of the day the budget ended ($(tail -3 "$T/b.out"))"
expect_eq "$(sj "s['tasks'][0]['cost_usd']")" 0.3204 "the stopped run's cost at the user's sonnet row"
expect_eq "$(sj "[s['tasks'][1]['status'], s['tasks'][1].get('error')]")" '["skipped", "skipped: budget"]' \
    "the task after the estimate spent the budget"
WAIT_TIMEOUT=15 wait_for no_agents
note "prices and budget ok"
