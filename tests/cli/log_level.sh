#!/usr/bin/env bash
# log.level (LOG_LEVEL) decides what the daily log keeps: info by default
# (no debug lines), warn keeps warnings and errors only, debug keeps all. The
# terminal shows warnings and errors whatever it is.
source "$(dirname "$0")/lib.bash"

WF=$T/levels.lua
cat >"$WF" <<'LUA'
orch.log("debug", "line-debug")
orch.log("info", "line-info")
orch.log("warn", "line-warn")
orch.log("error", "line-error")
return 0
LUA
daily=$T/logs/$(date +%F).log

# kept LEVEL: which of the four lines the daily log has after a run at LEVEL
kept() {
    rm -f "$daily"
    if [ -n "$1" ]; then LOG_LEVEL=$1 orch run "$WF" >"$T/out" 2>&1; else orch run "$WF" >"$T/out" 2>&1; fi
    [ "$?" = 0 ] || fail "run at level '${1:-default}' failed: $(cat "$T/out")"
    grep -o 'line-[a-z]*' "$daily" | tr '\n' ' '
}
expect_eq "$(kept "")" "line-info line-warn line-error " "default (info)"
expect_eq "$(kept debug)" "line-debug line-info line-warn line-error " "LOG_LEVEL=debug"
expect_eq "$(kept WARN)" "line-warn line-error " "LOG_LEVEL=WARN"
expect_eq "$(kept error)" "line-error " "LOG_LEVEL=error"
grep -q "line-warn" "$T/out" || fail "LOG_LEVEL=error: the terminal lost the warning: $(cat "$T/out")"
LOG_LEVEL=loud orch run "$WF" >"$T/bad" 2>&1
expect_eq "$?" 2 "LOG_LEVEL=loud: exit code"
grep -q "log.level" "$T/bad" || fail "LOG_LEVEL=loud: the error does not name log.level: $(cat "$T/bad")"
note ok
