#!/usr/bin/env bash
# The inbox's session of a day: once its session is older than its period
# (inbox.session_seconds; 0, the default, is a calendar day) and nothing is in
# hand, the session ends completed, naming the one that goes on, with the
# day's report and notice, and the next file runs in a new session. A day's
# budget is its session's: a first session that spent its budget leaves the
# next one free to run. A restart within the period opens a session of the
# same budget: what the earlier ones spent counts.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"

# the stand-in's run costs $0.034: one run spends a $0.01 budget
printf 'return { inbox = { session_seconds = 1 }, budget = { max_cost_usd = 0.01 } }\n' >"$T/config.lua"
WATCH_OUT=$T/watch.out
bg_run "$WATCH_OUT" orch --config "$T/config.lua" watch --auto-approve --no-input
wait_for ev_more inbox_started 0
inbox_task "$ORCH_TASKS_DIR/a.task.md" a high "First [key:a]"
wait_for ev_has task_archived a
first=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event") == "task_archived" and e.get("task") == "a": print(e["session"])' "$ORCH_LOGS_DIR/events.ndjson")
[ -n "$first" ] || fail "no session named by a's task_archived"
# the first session gives way (its period passed, nothing in hand): a new inbox session runs
wait_for sj_true "s['id'] != '$first' and s.get('kind') == 'inbox' and s['status'] == 'running'"
second=$(sj "s['id']")
inbox_task "$ORCH_TASKS_DIR/b.task.md" b high "Second [key:b]"
wait_for ev_has task_archived b
check_eq "$(sj "[t['id'] + ':' + t['status'] for t in s['tasks']]")" '["b:completed"]' \
    "the second file runs in the new session, within its own budget"
orch status --session "$first" --json >"$T/first.json" 2>&1 || fail "status --session $first: $(cat "$T/first.json")"
check_eq "$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["status"], s.get("stop_reason"))' "$T/first.json")" \
    "completed a new day: the inbox goes on in session $second" "the first session ends, naming the next"
check_eq "$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s.get("budget_reached"))' "$T/first.json")" \
    True "the first session spent its budget (so b would have been skipped in it)"
# the day's end: its report, and the notice a day's end sends (to the terminal here)
day=$(python3 -c 'import json,sys,time; s=json.load(open(sys.argv[1])); print(time.strftime("%Y-%m-%d", time.localtime(s["started_at"])))' "$T/first.json")
check "the day's report names the first session" grep -q "$first" "$ORCH_RESULTS_DIR/$day-report.md"
check "the day's end is said: $(grep -c 'Session Complete' "$WATCH_OUT")" grep -q "Session Complete" "$WATCH_OUT"
orch sessions >"$T/sessions.out" 2>&1
check "sessions lists both inbox sessions: $(cat "$T/sessions.out")" grep -q "$first.*a new day" "$T/sessions.out"
kill -TERM "$(host_pid_of "$BG_PID")"
check_eq "$(bg_wait "$WATCH_OUT")" 0 "exit code of watch after SIGTERM ($(tail -3 "$WATCH_OUT"))"

# A restart within the period is a new session, not a new budget: what the
# period's earlier sessions spent counts, so the next file is skipped
printf 'return { inbox = { session_seconds = 3600 }, budget = { max_cost_usd = 0.01 } }\n' >"$T/config.lua"
WATCH_OUT=$T/watch.2.out
started=$(ev_count inbox_started)  # (the first watch's: 2, or 3 when b came after its empty session's period)
bg_run "$WATCH_OUT" orch --config "$T/config.lua" watch --auto-approve --no-input
wait_for ev_more inbox_started "$started"
inbox_task "$ORCH_TASKS_DIR/c.task.md" c high "Third [key:c]"
wait_for ev_has task_archived c
check_eq "$(sj "[t['id'] + ':' + t['status'] + ':' + str(t.get('error')) for t in s['tasks']]")" \
    '["c:skipped:skipped: budget"]' "after a restart the period's budget is still spent"
check_eq "$(starts c)" 0 "the agent of the file after the restart never started"
check "the restarted inbox says the earlier sessions spent it: $(cat "$WATCH_OUT")" \
    grep -q "Budget reached: .* by the day's earlier sessions" "$WATCH_OUT"
orch --config "$T/config.lua" status >"$T/status.out" 2>&1
check "status says the budget is spent, the earlier sessions' share named: $(grep Budget "$T/status.out")" \
    grep -q "^Budget    \$0.0000, and \$0.0684 by the day's earlier sessions, of \$0.0100 (684%): reached, no new task starts" \
    "$T/status.out"
orch --config "$T/config.lua" report --stdout "$(sj "s['id']")" >"$T/report.out" 2>&1
check "the report counts the earlier sessions' cost: $(grep Cost "$T/report.out")" \
    grep -q "Cost: \$0.0000, and \$0.0684 by the day's earlier sessions, of the \$0.0100 budget" "$T/report.out"
kill -TERM "$(host_pid_of "$BG_PID")"
check_eq "$(bg_wait "$WATCH_OUT")" 0 "exit code of the second watch after SIGTERM ($(tail -3 "$WATCH_OUT"))"
finish
