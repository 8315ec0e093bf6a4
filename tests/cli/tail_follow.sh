#!/usr/bin/env bash
# `tail-events --follow` (and `logs --follow`, the same reader): the last
# lines, then each new whole line as it comes; a line caught half-written is
# printed once, whole, when its newline comes; `--task` keeps one task's
# lines; a file made again (rotated) is read from its start; SIGINT and
# SIGTERM end it (the runtime's loop blocks them for a signalfd the follow
# never reads: it used to go on until SIGKILL).
source "$(dirname "$0")/lib.bash"

EV=$ORCH_LOGS_DIR/events.ndjson
printf '{"event":"one","task":"1"}\n{"event":"two","task":"2"}\n{"event":"three","task":"1"}\n' >"$EV"

# follower_at_end PID: the follower has read the events file to its end
follower_at_end() {
    local fd size
    size=$(stat -c %s "$EV")
    for fd in /proc/"$1"/fd/*; do
        [ "$(readlink "$fd")" = "$(realpath "$EV")" ] || continue
        [ "$(awk '/^pos:/ {print $2}' /proc/"$1"/fdinfo/"${fd##*/}")" = "$size" ] && return 0
    done
    return 1
}
lines_of() { grep -c '' "$1" 2>/dev/null || echo 0; }
has_lines() { [ "$(lines_of "$1")" -ge "$2" ]; }

# (exec: $! is the follower itself)
(exec "$ORCH_HOST" --root "$ORCH_SRC" tail-events --follow --lines 2 >"$T/all.out" 2>"$T/all.err") &
ALL=$!
(exec "$ORCH_HOST" --root "$ORCH_SRC" tail-events --follow --lines 5 --task 1 >"$T/one.out" 2>&1) &
ONE=$!
BG_PIDS+=("$ALL" "$ONE")
wait_for has_lines "$T/all.out" 2
wait_for has_lines "$T/one.out" 2
expect_eq "$(cat "$T/all.out")" $'{"event":"two","task":"2"}\n{"event":"three","task":"1"}' "the last two lines"
expect_eq "$(cat "$T/one.out")" $'{"event":"one","task":"1"}\n{"event":"three","task":"1"}' "task 1's lines"

# half a line, read by both followers before the rest comes
printf '{"event":"fo' >>"$EV"
wait_for follower_at_end "$ALL"
wait_for follower_at_end "$ONE"
printf 'ur","task":"1"}\n{"event":"five","task":"2"}\n' >>"$EV"
wait_for has_lines "$T/all.out" 4
wait_for has_lines "$T/one.out" 3
expect_eq "$(tail -n 2 "$T/all.out")" $'{"event":"four","task":"1"}\n{"event":"five","task":"2"}' \
    "the half-written line, whole, and the next"
expect_eq "$(tail -n 1 "$T/one.out")" '{"event":"four","task":"1"}' "task 1's new line"

# rotated: the file moved away and made again
mv "$EV" "$EV.1"
printf '{"event":"six","task":"1"}\n' >"$EV"
wait_for has_lines "$T/all.out" 5
wait_for has_lines "$T/one.out" 4
expect_eq "$(tail -n 1 "$T/all.out")" '{"event":"six","task":"1"}' "the first line of the new file"

RC=0
kill -INT "$ALL"
wait "$ALL" || RC=$?
expect_eq "$RC" 130 "the follow's exit after SIGINT"
RC=0
kill -TERM "$ONE"
wait "$ONE" || RC=$?
expect_eq "$RC" 143 "the follow's exit after SIGTERM"
[ -s "$T/all.err" ] && fail "stderr: $(cat "$T/all.err")"

# without --follow: a last line with no newline is printed as it is
printf '{"event":"seven","task":"1"}' >>"$EV"
expect_eq "$(orch tail-events --lines 1)" '{"event":"seven","task":"1"}' "a last line without its newline"

# task ids recur from day to day: --task is the latest session's with it, --session picks one
printf '%s\n' '{"event":"a1","session":"s1","task":"1"}' '{"event":"a2","session":"s2","task":"1"}' \
    '{"event":"b1","session":"s1","task":"2"}' '{"event":"a3","session":"s2","task":"1"}' >"$EV"
orch tail-events --task 1 >"$T/t1.out" 2>"$T/t1.err" || fail "tail-events --task 1: $(cat "$T/t1.err")"
expect_eq "$(jq -r .event "$T/t1.out" | tr '\n' ' ')" "a2 a3 " "--task 1: the latest session's events of it"
grep -qF "events of task 1 of session s2, the latest session with that task (--session ID: another)" "$T/t1.err" ||
    fail "--task 1: stderr does not say which session: $(cat "$T/t1.err")"
expect_eq "$(orch tail-events --task 1 --session s1 2>&1 | jq -r .event | tr '\n' ' ')" "a1 " "--task 1 --session s1"
expect_eq "$(orch tail-events --session s1 2>&1 | jq -r .event | tr '\n' ' ')" "a1 b1 " "--session s1"
RC=0
orch tail-events --task 2 --session s2 >"$T/none.out" 2>&1 || RC=$?
expect_eq "$RC" 1 "--task 2 --session s2 (none): exit"
grep -q "^no events of task 2 of session s2 in .*events.ndjson$" "$T/none.out" || fail "none: $(cat "$T/none.out")"
# following: the latest session's lines, then the task's new ones of a session started meanwhile
(exec "$ORCH_HOST" --root "$ORCH_SRC" tail-events --follow --task 1 >"$T/f.out" 2>/dev/null) &
F=$!
BG_PIDS+=("$F")
wait_for has_lines "$T/f.out" 2
printf '%s\n' '{"event":"c1","session":"s3","task":"1"}' '{"event":"c2","session":"s3","task":"2"}' >>"$EV"
wait_for has_lines "$T/f.out" 3
kill -TERM "$F"
expect_eq "$(jq -r .event "$T/f.out" | tr '\n' ' ')" "a2 a3 c1 " "--follow --task 1"
note "ok"
