#!/usr/bin/env bash
# A task waiting to retry (its agent failed, the backoff runs) says when its
# next attempt starts everywhere its session is shown: `orch-host report`
# gives it in the task's reason ("waiting to retry: attempt 2 at ...") with
# its time so far (not 0 s), and REST GET /api/status/{id} has retry_at on
# the task (tasks[]) as on the agent in hand (agents[]): one value.
source "$(dirname "$0")/lib.bash"

api_setup report-retry
export ORCH_RETRY_TRANSIENT=2 ORCH_RETRY_BACKOFF=600 ORCH_RETRY_BACKOFF_MAX=600  # a wait the test outlasts
task_md "$T/day.md" 1 "Fails" backend "Do it. [fake:fail] [key:r1]"
serve_start
expect_req 200 POST /api/orchestrate '{"task_file":"'"$T/day.md"'","auto_approve":true}' "${AUTH[@]}"
SID=$(rj "r['session_id']")
wait_for sj_true "s['tasks'][0]['status'] == 'waiting_retry'"
RETRY_AT=$(sj "s['tasks'][0]['retry_at']")
started=$(sj "s['tasks'][0]['started_at']")
past() { python3 -c "import sys, time; sys.exit(0 if time.time() - float(sys.argv[1]) >= float(sys.argv[2]) else 1)" \
    "$1" "$2"; }  # past SINCE SECONDS
wait_for past "$started" 1.2  # its time so far shows as at least 1 s

expect_req 200 GET "/api/status/$SID" "" "${AUTH[@]}"
check_eq "$(rj "[r['tasks'][0].get('retry_at'), r['agents'][0].get('retry_at')]")" "[$RETRY_AT, $RETRY_AT]" \
    "retry_at in tasks[] and agents[]"

orch report "$SID" --stdout >"$T/report.md" 2>&1 || fail "report: $(cat "$T/report.md")"
WHEN=$(python3 -c "import sys, time; print(time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(float(sys.argv[1]))))" \
    "$RETRY_AT")
check "the report's task 1 says when it retries ($WHEN UTC): $(grep -n 'Status:' "$T/report.md")" \
    grep -qF -- "- Status: waiting_retry: waiting to retry: attempt 2 at $WHEN UTC" "$T/report.md"
check "the report's table gives task 1 its time so far: $(grep '^| 1 ' "$T/report.md")" \
    grep -Eq '^\| 1 \| Fails \| backend \| waiting_retry \| [1-9][0-9]*s \|' "$T/report.md"
serve_stop >/dev/null
finish
