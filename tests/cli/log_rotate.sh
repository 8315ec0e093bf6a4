#!/usr/bin/env bash
# logs/orchestrator.log, the main log, has the daily log's lines and is
# rotated by size: past log.main_log_kb (ORCH_MAIN_LOG_KB) it becomes
# orchestrator.1.log (the older ones move up), and log.main_log_files
# (ORCH_MAIN_LOG_FILES) files are kept in all; the newest lines are in
# orchestrator.log. The daily log keeps every line.
source "$(dirname "$0")/lib.bash"

WF=$T/lines.lua
cat >"$WF" <<'LUA'
local pad = string.rep("x", 100)
for i = 1, 300 do orch.log("info", string.format("rotate-line-%03d %s", i, pad)) end
return 0
LUA
daily=$T/logs/$(date +%F).log
main=$T/logs/orchestrator.log

# a default run: the same lines in both files
orch run "$WF" >"$T/out" 2>&1 || fail "run failed: $(cat "$T/out")"
expect_eq "$(grep -c rotate-line- "$main")" 300 "default size: every line in orchestrator.log"
expect_eq "$(grep rotate-line- "$main")" "$(grep rotate-line- "$daily")" "the same lines as the daily log"
[ ! -e "$T/logs/orchestrator.1.log" ] || fail "default size: rotated after 40 KB"

# 1 KB files, 3 kept: 300 lines of ~140 bytes rotate many times
rm -f "$T"/logs/orchestrator*.log "$daily"
ORCH_MAIN_LOG_KB=1 orch run "$WF" >"$T/out" 2>&1 || fail "run failed: $(cat "$T/out")"
expect_eq "$(cd "$T/logs" && ls orchestrator*.log | sort | tr '\n' ' ')" \
    "orchestrator.1.log orchestrator.2.log orchestrator.log " "the files kept"
for f in "$T"/logs/orchestrator*.log; do
    size=$(stat -c %s "$f")
    [ "$size" -le 1024 ] || fail "$f is $size bytes, over 1 KB"
done
tail -n 1 "$main" | grep -q "rotate-line-300" || fail "the newest line is not in orchestrator.log: $(tail -n 1 "$main")"
expect_eq "$(tail -n 1 "$main")" "$(tail -n 1 "$daily")" "the newest line, as in the daily log"
# the order: .2 before .1 before orchestrator.log, no line lost between them
n() { grep -o 'rotate-line-[0-9]*' "$1" | sed 's/rotate-line-0*//'; }
expect_eq "$(cat <(n "$T/logs/orchestrator.2.log") <(n "$T/logs/orchestrator.1.log") <(n "$main") | awk 'NR > 1 && $1 != prev + 1 { bad = 1 } { prev = $1 } END { print bad ? "gap" : "ok" }')" \
    ok "the three files hold consecutive lines"
expect_eq "$(grep -c rotate-line- "$daily")" 300 "the daily log keeps every line"

# a second run appends and rotates on: still 3 files
ORCH_MAIN_LOG_KB=1 orch run "$WF" >"$T/out" 2>&1 || fail "second run failed: $(cat "$T/out")"
expect_eq "$(cd "$T/logs" && ls orchestrator*.log | wc -l)" 3 "files after a second run"

# 2 kept
rm -f "$T"/logs/orchestrator*.log
ORCH_MAIN_LOG_KB=1 ORCH_MAIN_LOG_FILES=2 orch run "$WF" >"$T/out" 2>&1 || fail "run failed: $(cat "$T/out")"
expect_eq "$(cd "$T/logs" && ls orchestrator*.log | sort | tr '\n' ' ')" "orchestrator.1.log orchestrator.log " \
    "main_log_files = 2"

# a bad value names the key
ORCH_MAIN_LOG_FILES=0 orch run "$WF" >"$T/bad" 2>&1
expect_eq "$?" 2 "ORCH_MAIN_LOG_FILES=0: exit code"
grep -q "log.main_log_files" "$T/bad" || fail "the error does not name log.main_log_files: $(cat "$T/bad")"
note ok
