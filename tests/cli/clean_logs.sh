#!/usr/bin/env bash
# `orch-host clean logs --days N [--dry-run]`: in the logs folder, the agents'
# output logs (task-<session>-<task>[-tryN]-output.log) and the daily logs
# (YYYY-MM-DD.log) not changed for N days are removed, with their size;
# kept: an unfinished task's output logs (here: one waiting for its answer,
# then parked on it when its host stopped), today's daily log, events.ndjson,
# orchestrator.log and its rotated files, a user's own file, a symlink (never
# followed) and a folder, whatever their names. It runs beside a running host;
# --dry-run removes nothing; a file that cannot be removed is exit 1 with the
# rest done; a bad --days is refused with exit 2.
source "$(dirname "$0")/lib.bash"

ask_plain_day "$T/day.yaml"
L=$T/logs
bg_run "$T/run.out" orch run daily.lua --tasks "$T/day.yaml" --auto-approve --no-input --max-concurrent 2
wait_for sj_true "s['tasks'][0]['status'] == 'waiting_answer' and s['tasks'][1]['status'] == 'completed'"
SID=$(sj "s['id']")
ASK=$L/task-$SID-ask-output.log
PLAIN=$L/task-$SID-plain-output.log
[ -s "$ASK" ] && [ -s "$PLAIN" ] || fail "the agents' output logs are missing: $(ls "$L")"
TODAY=$L/$(date +%F).log
[ -f "$TODAY" ] || fail "no daily log $TODAY: $(ls "$L")"

# the asking task's earlier try, the finished one's retry, a session no one
# knows, an old daily log; the files that are never removed; a fresh one
touch "$L/task-$SID-ask-try2-output.log" "$L/orchestrator.1.log" "$L/notes.txt" "$L/task-gone-1-output.log"
head -c 3000000 /dev/zero >"$L/task-$SID-plain-try2-output.log"
echo old >"$L/2020-01-02.log"
echo far >"$T/outside.log"
ln -s "$T/outside.log" "$L/task-link-1-output.log"
ln -s "$T/outside.log" "$L/2020-01-03.log"
mkdir "$L/task-dir-1-output.log"
echo new >"$L/task-new-1-output.log"
# everything but task-new-1 last changed ten days ago (today's daily log too)
find "$L" "$T/outside.log" -mindepth 0 -path "$L/task-new-1-output.log" -prune -o -exec touch -h -d '-10 days' {} +
[ -e "$L/events.ndjson" ] && [ -e "$L/orchestrator.log" ] || fail "no events.ndjson or orchestrator.log: $(ls "$L")"

# beside the running host (its task waits for an answer): the same as without it
rc=0
orch clean logs --days 3 --dry-run >"$T/beside.out" 2>&1 || rc=$?
check_eq "$rc" 0 "clean logs --dry-run beside a running host: $(cat "$T/beside.out")"
check "beside the host, the unfinished task's log is kept" grep -q "^kept $ASK: task ask of session $SID is waiting_answer" \
  "$T/beside.out"
kill -TERM "$(host_pid_of "$BG_PID")"
bg_wait "$T/run.out" >/dev/null
check_eq "$(sj "s['tasks'][0]['status']")" paused "the asking task after the stop (unfinished: a resume asks again)"
find "$L" -mindepth 1 -path "$L/task-new-1-output.log" -prune -o -exec touch -h -d '-10 days' {} +

orch clean logs --days 3 --dry-run >"$T/dry.out" 2>&1 || fail "clean logs --dry-run: $(cat "$T/dry.out")"
for f in "$PLAIN" "$L/task-$SID-plain-try2-output.log" "$L/task-gone-1-output.log" "$L/2020-01-02.log"; do
  check "dry run names $(basename "$f")" grep -q "^would remove $f ([0-9.]* MB, last changed " "$T/dry.out"
done
check "the retry's size" grep -q "^would remove $L/task-$SID-plain-try2-output.log (2.9 MB, " "$T/dry.out"
check "dry run keeps the unfinished task's log" grep -q "^kept $ASK: task ask of session $SID is paused" "$T/dry.out"
check "and its earlier try's" grep -q "^kept $L/task-$SID-ask-try2-output.log: task ask of session $SID is paused" \
  "$T/dry.out"
check "dry run's count" grep -q "^would remove 4 log files (.* MB) not changed for 3 days in $L; 2 kept (task not finished), 2 newer; --dry-run: nothing removed$" \
  "$T/dry.out"
check "nothing else named" test "$(wc -l <"$T/dry.out")" -eq 7
[ -f "$PLAIN" ] && [ -f "$L/2020-01-02.log" ] && [ -f "$L/task-gone-1-output.log" ] || fail "--dry-run removed something"

orch clean logs --days 3 >"$T/clean.out" 2>&1 || fail "clean logs: $(cat "$T/clean.out")"
check "the count" grep -q "^removed 4 log files (" "$T/clean.out"
for f in "$PLAIN" "$L/task-$SID-plain-try2-output.log" "$L/task-gone-1-output.log" "$L/2020-01-02.log"; do
  [ -e "$f" ] && fail "$f is still there"
done
for f in "$ASK" "$L/task-$SID-ask-try2-output.log" "$TODAY" "$L/events.ndjson" "$L/orchestrator.log" \
  "$L/orchestrator.1.log" "$L/notes.txt" "$L/task-new-1-output.log" "$T/outside.log"; do
  [ -f "$f" ] || fail "$f was removed"
done
[ -L "$L/task-link-1-output.log" ] && [ -L "$L/2020-01-03.log" ] || fail "a symlink was removed"
[ -d "$L/task-dir-1-output.log" ] || fail "a folder was removed"

# a file that cannot be removed (immutable): exit 1, what was removed on
# stdout, what was not on stderr
touch -d '-10 days' "$L/task-old-2-output.log" "$L/task-stuck-1-output.log"
if chattr +i "$L/task-stuck-1-output.log" 2>/dev/null; then
  rc=0
  orch clean logs --days 3 >"$T/stuck.out" 2>"$T/stuck.err" || rc=$?
  chattr -i "$L/task-stuck-1-output.log"
  check_eq "$rc" 1 "exit code when a log cannot be removed"
  check "the removed log on stdout" grep -q "^removed $L/task-old-2-output.log " "$T/stuck.out"
  check "the count on stdout" grep -q "^removed 1 log file " "$T/stuck.out"
  check "the failure on stderr" grep -q "^orch-host clean logs: cannot remove .*task-stuck-1-output.log" "$T/stuck.err"
  check "nothing else on stderr" test "$(wc -l <"$T/stuck.err")" -eq 1
else
  echo "note: chattr +i is not available here; the unremovable-log case is not run"
fi

for bad in "" "--days 0" "--days 2x" "--days=-3"; do
  rc=0
  # shellcheck disable=SC2086
  orch clean logs $bad >"$T/bad.out" 2>&1 || rc=$?
  check_eq "$rc" 2 "exit code of clean logs ${bad:-without --days}"
  check "clean logs ${bad:-without --days}: names --days" grep -q "clean logs: --days" "$T/bad.out"
done
rc=0
orch clean logs --days 3 --force >"$T/force.out" 2>&1 || rc=$?
check_eq "$rc" 2 "exit code of clean logs --force"
check "its message" grep -q "orch-host clean logs: --force is not one of its flags (clean logs --days N \[--dry-run\])" \
  "$T/force.out"
finish
