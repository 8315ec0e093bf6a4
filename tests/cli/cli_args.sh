#!/usr/bin/env bash
# The command line refuses what it does not understand: an unknown flag, a
# missing or bad value and an extra argument are errors naming them (exit 2,
# stderr, a `see orch-host CMD --help` hint) and nothing runs; so a typo'd
# `approve --sesion ID` approves nothing. `sessions --limit N` limits;
# --version and -V print the version; `help CMD` and `CMD --help` print that
# command's arguments and flags; --root may follow the command.
source "$(dirname "$0")/lib.bash"

# refused WHAT TEXT CMD...: exit 2, TEXT (and the hint) on stderr, nothing on stdout
refused() {
    local what=$1 text=$2; shift 2
    local rc=0
    "$@" >"$T/out" 2>"$T/err" || rc=$?
    check_eq "$rc" 2 "$what: exit code"
    check "$what: stderr names $text ($(cat "$T/err"))" grep -qF -- "$text" "$T/err"
    check "$what: stderr has the hint ($(cat "$T/err"))" grep -q -- "see orch-host .*--help" "$T/err"
    check "$what: nothing on stdout ($(cat "$T/out"))" test ! -s "$T/out"
}

# --- a session waiting for approval: a typo'd flag decides nothing
TASKS=$T/tasks.md
task_md "$TASKS" 1 "Backend work" backend "Implement it. [key:t1]"
bg_run "$T/run1.out" orch run daily.lua --tasks "$TASKS" --no-input
wait_for sj_true "s.get('pending_approval', {}).get('task_id') == '1' and s['host_alive'] is True"
SID=$(sj "s['id']")
refused "approve --sesion" "--sesion" orch approve --sesion "$SID" --by tester
check_eq "$(sj "s.get('pending_approval', {}).get('task_id')")" 1 "approve --sesion: the approval is still pending"
refused "approve --session without a value" "--session" orch approve --session
check_eq "$(sj "s.get('pending_approval', {}).get('task_id')")" 1 "approve --session (no value): still pending"
orch approve --session "$SID" --by tester >"$T/approve.out" 2>&1 || fail "approve --session failed: $(cat "$T/approve.out")"
expect_eq "$(bg_wait "$T/run1.out")" 0 "the approved run's exit code"

# --- a second session: sessions lists two, --limit 1 (and --lines 1) one
task_md "$T/tasks2.md" 1 "Docs" docs "Write it. [key:t2]"
orch run daily.lua --tasks "$T/tasks2.md" --auto-approve --no-input >"$T/run2.out" 2>&1 ||
    fail "second run failed: $(cat "$T/run2.out")"
check_eq "$(orch sessions | grep -c .)" 2 "sessions: both"
check_eq "$(orch sessions --limit 1 | grep -c .)" 1 "sessions --limit 1: lines"
check_eq "$(orch sessions --lines 1 | grep -c .)" 1 "sessions --lines 1: lines"
check_eq "$(orch sessions --limit=1 --json | jq length)" 1 "sessions --limit=1 --json: entries"
refused "sessions --limit x" "--limit" orch sessions --limit x
# a limit is a positive number: 0 (which listed nothing) and negatives are refused the same way
refused "sessions --limit 0" "--limit: expected a number 1.." orch sessions --limit 0
refused "sessions --limit -1" "--limit: expected a number 1.." orch sessions --limit -1
refused "sessions --limit (no value)" "--limit" orch sessions --limit
# an option given twice says so, not CLI11's "At Most 1 required but received 2"
refused "sessions --limit twice" "--limit given 2 times: give it once" orch sessions --limit 2 --limit 3
refused "status --session twice" "--session given 2 times" orch status --session a --session b
# skip|approve|cancel take one TASK (the same as --task); two named, or a word after pause, are refused
refused "skip 2 --task 3" "two tasks named, 2 and --task 3" orch skip 2 --task 3
refused "pause with a word" "unexpected argument now" orch pause now
refused "answer without words" "TEXT is required" orch answer
# --lines 0 alone prints nothing: refused (with --follow it means only new lines)
refused "tail-events --lines 0" "--lines 0 prints nothing" orch tail-events --lines 0
refused "logs --lines 0" "--lines 0 prints nothing" orch logs --lines 0
# an id names one: an empty one is refused, not read as "any" (tail-events printed the whole session)
refused "tail-events --task ''" "--task: expected an id, got ''" orch tail-events --task ""
refused "status --session ''" "--session: expected an id, got ''" orch status --session ""

# --- a workflow's own arguments follow its name, after `--` when they start with -
# (`run x.lua -- -v` was refused: CLI11 gave what follows `--` back to the parent)
mkdir -p "$T/argroot/workflows"
printf 'local a = ...\norch.print("argv=" .. orch.json.encode(a.argv))\nreturn 0\n' >"$T/argroot/workflows/args.lua"
for line in "a b|[\"a\",\"b\"]" "-- -x --y|[\"-x\",\"--y\"]" "a -- -x|[\"a\",\"-x\"]" "--|[]"; do
    words=${line%%|*} want=${line#*|}
    # shellcheck disable=SC2086  # the words are separate arguments
    got=$("$ORCH_HOST" --root "$T/argroot" run args.lua $words 2>&1) || fail "run args.lua $words: $got"
    check_eq "$got" "argv=$want" "run args.lua $words"
done
# shellcheck disable=SC2086
got=$("$ORCH_HOST" --root "$T/argroot" run -- args.lua -x 2>&1) || fail "run -- args.lua -x: $got"
check_eq "$got" 'argv=["-x"]' "run -- args.lua -x"

# --- unknown flags, bad values, extra arguments
refused "status --jsno" "--jsno" orch status --jsno
refused "status --json=false" "json" orch status --json=false
refused "status with two sessions" "unexpected argument b" orch status a b
refused "doctor with an argument" "unexpected argument extra" orch doctor extra
refused "sessions with an argument" "unexpected argument extra" orch sessions extra
refused "tail-events --lines x" "--lines" orch tail-events --lines x
refused "serve --port 70000" "--port" orch serve --port 70000
refused "run --tasks (no value)" "--tasks" orch run daily.lua --tasks
refused "an unknown command" "unknown command frobnicate" orch frobnicate
refused "help of an unknown command" "frobnicate" orch help frobnicate
refused "resume --tasks" "--tasks" orch resume --tasks "$TASKS"
check_eq "$(orch sessions | grep -c .)" 2 "sessions after the refused commands: still two"

# --- a session that is not stored: status names it (exit 2), by SESSION or --session
for how in "NOPE" "--session NOPE"; do
    rc=0
    # shellcheck disable=SC2086  # two words for the second form
    orch status $how >"$T/out" 2>"$T/err" || rc=$?
    check_eq "$rc" 2 "status $how: exit code"
    check_eq "$(cat "$T/err")" "orch-host status: no session NOPE" "status $how: stderr"
    check "status $how: nothing on stdout ($(cat "$T/out"))" test ! -s "$T/out"
done
check_eq "$(orch status --session "$SID" --json | jq -r .session_id)" "$SID" "status --session ID --json"

# --- several words where a command takes them: read, not refused
rc=0
orch answer two words --session no-such-session >"$T/out" 2>"$T/err" || rc=$?
check_eq "$rc" 1 "answer TWO WORDS: exit code (the session is not running) ($(cat "$T/err"))"
rc=0
orch test --no-state "$ORCH_SRC/tests/cli/fixtures/specs/passes.lua" "$ORCH_SRC/tests/cli/fixtures/specs/passes.lua" \
    >"$T/out" 2>"$T/err" || rc=$?
check_eq "$rc" 0 "test SPEC SPEC: exit code ($(cat "$T/err"))"
check_eq "$(grep -c '^ok 1 - one is one' "$T/out")" 2 "test SPEC SPEC: both specs ran"

# --- the version, the help
for v in --version -V; do
    rc=0
    "$ORCH_HOST" $v >"$T/out" 2>"$T/err" || rc=$?
    check_eq "$rc" 0 "$v: exit code"
    check "$v prints 'orch-host VERSION' ($(cat "$T/out"))" grep -qxE 'orch-host [0-9]+\.[0-9]+\.[0-9]+' "$T/out"
done
for h in "help run" "run --help" "run -h"; do
    rc=0
    "$ORCH_HOST" $h >"$T/out" 2>"$T/err" || rc=$?
    check_eq "$rc" 0 "$h: exit code"
    for f in "Usage: orch-host run" WORKFLOW --tasks --auto-approve --no-input --resume --session; do
        check "$h shows $f" grep -qF -- "$f" "$T/out"
    done
    check "$h is run's help, not the list of commands" bash -c "! grep -q tail-events '$T/out'"
done
rc=0
"$ORCH_HOST" help >"$T/out" 2>&1 || rc=$?
check_eq "$rc" 0 "help: exit code"
check "help lists the commands and help CMD" grep -q "tail-events" "$T/out"
check "help mentions help CMD" grep -qF "orch-host help CMD" "$T/out"
rc=0
"$ORCH_HOST" >"$T/out" 2>"$T/err" || rc=$?
check_eq "$rc" 2 "no command: exit code"
check "no command: the usage on stderr" grep -q "tail-events" "$T/err"

# --- global options after the command
rc=0
"$ORCH_HOST" status --json --root "$ORCH_SRC" >"$T/out" 2>"$T/err" || rc=$?
check_eq "$rc" 0 "status --json --root: exit code ($(cat "$T/err"))"
check_eq "$(jq -r .status "$T/out")" completed "status --json --root: the latest session"

finish
