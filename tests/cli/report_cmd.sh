#!/usr/bin/env bash
# `orch-host report [SESSION|DATE] [--stdout]`: a day run with the stand-in
# claude writes results/YYYY-MM-DD-report.md; the command writes it again from
# the state database, by session id, by date (that day's latest session) and
# with no argument (the latest), prints the path (--stdout: the report). A
# second session the same day adds its report to the day's file after the
# first's (the file holds each session of its day, oldest first). The
# time a task waited for approval is in the report written again too. Bad
# input: no session yet, an unknown session, a malformed date, a date with
# no session, an extra argument (exit 2, naming it); a results folder that
# cannot be written (exit 2); a damaged state database (exit 5, naming it).
source "$(dirname "$0")/lib.bash"

report() { "$ORCH_HOST" --root "$ORCH_SRC" report "$@" >"$T/rep.out" 2>"$T/rep.err"; echo $? >"$T/rep.rc"; }
rc_is() { expect_eq "$(cat "$T/rep.rc")" "$1" "$2: exit code (stderr: $(cat "$T/rep.err"))"; }
err_has() { grep -qF -- "$1" "$T/rep.err" || fail "$2: stderr does not say '$1': $(cat "$T/rep.err")"; }
has() { grep -qF -- "$2" "$1" || fail "$3: '$2' is not in $1:\n$(cat "$1")"; }

# --- nothing has run yet
report
rc_is 2 "no session yet"
err_has "no session yet" "no session yet"
err_has "orch-host run daily.lua or orch-host watch" "no session yet: how to start one"
RC=0
orch pause >"$T/pause.out" 2>&1 || RC=$?
expect_eq "$RC" 1 "pause with no session: exit code"
grep -qF "orch-host run daily.lua or orch-host watch" "$T/pause.out" || fail "pause with no session: $(cat "$T/pause.out")"

# --- day 1: one task with a | in its title, then one that waits for approval
TASKS=$T/tasks.md
task_md "$TASKS" 1 "Add the | model" backend "Create the model. [key:t1]"
task_md "$TASKS" 2 "Add the page" frontend "Create the page. [key:t2]" true
waiting_for_2() {
    sj_true "s['status'] == 'waiting_approval' and s.get('pending_approval', {}).get('task_id') == '2'"
}
# approval_mode auto: only the task that says Requires Approval: true waits
APPROVAL_MODE=auto bg_run "$T/run1.out" orch run daily.lua --tasks "$TASKS" --no-input
wait_for waiting_for_2
orch approve --by tester >"$T/approve.out" 2>&1 || fail "orch approve failed: $(cat "$T/approve.out")"
rc=$(bg_wait "$T/run1.out")
[ "$rc" = 0 ] || { cat "$T/run1.out" >&2; fail "day 1: expected exit 0, got $rc"; }
SID1=$(sj "s['id']")
DAY=$(sj "__import__('time').strftime('%Y-%m-%d', __import__('time').localtime(s['started_at']))")
REP=$T/results/$DAY-report.md
[ -s "$REP" ] || fail "day 1 wrote no $REP ($(ls "$T/results"))"
has "$REP" "(session $SID1)" "the end of day 1"
has "$REP" "| 1 | Add the \\| model |" "the end of day 1: the title in one cell"
has "$REP" "- Waited for approval: " "the end of day 1: task 2's wait"
cp "$REP" "$T/day1.md"

# --- written again by id: the same report, approval wait included (from the events)
rm -f "$REP"
report "$SID1"
rc_is 0 "report SESSION"
expect_eq "$(cat "$T/rep.out")" "$REP" "report SESSION prints the path"
[ -s "$REP" ] || fail "report SESSION wrote no $REP"
has "$REP" "(session $SID1)" "report SESSION"
has "$REP" "- Tasks: 2 completed, 0 failed, 0 skipped, 2 total (success rate 100%)" "report SESSION"
has "$REP" "| 1 | Add the \\| model |" "report SESSION: the title in one cell"
has "$REP" "- Time waiting for approval, summed over tasks: " "report SESSION: the day's approval wait"
has "$REP" "- Waited for approval: " "report SESSION: task 2's wait"
has "$REP" "## For you to review and commit" "report SESSION"
diff <(grep -v "approval" "$T/day1.md") <(grep -v "approval" "$REP") >"$T/diff.out" ||
    fail "report SESSION differs from the end of day 1's:\n$(cat "$T/diff.out")"

report "$SID1" --stdout
rc_is 0 "report SESSION --stdout"
cmp -s "$T/rep.out" "$REP" || fail "report --stdout is not the report:\n$(diff "$T/rep.out" "$REP" | head)"

# --- day 2, the same day: the date and no argument mean the latest session
TASKS2=$T/tasks2.md
task_md "$TASKS2" 1 "Second day task" backend "Do it. [key:u1]"
orch run daily.lua --tasks "$TASKS2" --auto-approve --no-input >"$T/run2.out" 2>&1 ||
    fail "day 2 failed: $(cat "$T/run2.out")"
SID2=$(sj "s['id']")
[ "$SID2" != "$SID1" ] || fail "day 2 has day 1's session id"
DAY2=$(sj "__import__('time').strftime('%Y-%m-%d', __import__('time').localtime(s['started_at']))")
# order_ok FILE WHAT: the day's report holds both sessions, the earlier first, each once
order_ok() {
    python3 - "$1" "$SID1" "$SID2" <<'EOF' || fail "$2: the day's file does not hold session 1 then session 2 once each:
$(grep -n '^# Report' "$1")"
import sys
heads = [l.rstrip() for l in open(sys.argv[1]) if l.startswith("# Report ")]
assert len(heads) == 2, heads
assert [h.endswith("(session %s)" % sid) for h, sid in zip(heads, sys.argv[2:])] == [True, True], heads
EOF
}
if [ "$DAY2" = "$DAY" ]; then
    # the second session of the day adds its report to the day's file: the first one's stays
    order_ok "$REP" "the end of the day's second session"
    report "$DAY"
    rc_is 0 "report DATE"
    expect_eq "$(cat "$T/rep.out")" "$REP" "report DATE prints the path"
    order_ok "$REP" "report DATE"
    report "$SID1"
    order_ok "$REP" "report SESSION after day 2"
    report "$DAY" --stdout
    cmp -s "$T/rep.out" "$REP" || fail "report DATE --stdout is not the day's file:\n$(diff "$T/rep.out" "$REP" | head)"
    report "$SID1" --stdout  # a session named: its own part only
    expect_eq "$(grep -c '^# Report ' "$T/rep.out") $(head -1 "$T/rep.out")" "1 # Report $DAY (session $SID1)" \
        "report SESSION --stdout of a day with two sessions"
else
    note "midnight passed between the two runs: the two-sessions-a-day case is not checked"
fi
report
rc_is 0 "report (the latest)"
expect_eq "$(cat "$T/rep.out")" "$T/results/$DAY2-report.md" "report with no argument prints the latest's path"
has "$T/results/$DAY2-report.md" "(session $SID2)" "report with no argument"

# --- a YAML day dated another day: its report is that day's (the date feedback uses too)
cat >"$T/later.yaml" <<'EOF2'
date: 2031-05-06
tasks:
  - id: later
    name: A later day
    description: Work for another day. [key:later]
EOF2
orch run daily.lua --tasks "$T/later.yaml" --auto-approve --no-input >"$T/later.out" 2>&1 \
    || fail "the dated YAML day: $(cat "$T/later.out")"
SID3=$(sj "s['session_id']")
has "$T/results/2031-05-06-report.md" "(session $SID3)" "the dated day's report, under its date"
has "$T/results/2031-05-06-report.md" "# Report 2031-05-06" "the dated day's report heading"
rm "$T/results/2031-05-06-report.md"
report 2031-05-06
rc_is 0 "report by the day file's date"
expect_eq "$(cat "$T/rep.out")" "$T/results/2031-05-06-report.md" "report DATE of a dated day prints its path"
has "$T/results/2031-05-06-report.md" "(session $SID3)" "report DATE of a dated day"
grep -qF "(session $SID3)" "$T/results/$DAY2-report.md" && fail "the dated day's session is in the report of its start day"

# --- bad input
report NOPE
rc_is 2 "an unknown session"
err_has "no session NOPE" "an unknown session"
report 2026-13-01
rc_is 2 "a malformed date"
err_has "'2026-13-01' is not a date" "a malformed date"
report 2026/12/01
rc_is 2 "a date with slashes"
err_has "'2026/12/01' is not a date" "a date with slashes"
report 1999-01-01
rc_is 2 "a date with no session"
err_has "no session on 1999-01-01" "a date with no session"
report "$SID1" extra
rc_is 2 "an extra argument"
err_has "extra" "an extra argument"
: >"$T/not-a-dir"
ORCH_RESULTS_DIR=$T/not-a-dir report "$SID1"
rc_is 2 "a results folder that is a file"
err_has "cannot write the report" "a results folder that is a file"

# --- a damaged state database: exit 5, naming it, and the file untouched
python3 - "$ORCH_STATE_DB" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[4096:] = b"\xa5" * (len(b) - 4096)   # every page but the first: the rows, not the schema
open(p, "wb").write(bytes(b))
EOF
before=$(sha256sum "$ORCH_STATE_DB")
report "$SID1"
rc_is 5 "a damaged database"
err_has "$ORCH_STATE_DB" "a damaged database"
expect_eq "$(sha256sum "$ORCH_STATE_DB")" "$before" "the damaged database is not written"
printf 'my notes\n' >"$ORCH_STATE_DB"
report
rc_is 5 "a plain-text database"
err_has "not an orch-host database" "a plain-text database"

note "ok"
