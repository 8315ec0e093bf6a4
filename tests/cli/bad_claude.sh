#!/usr/bin/env bash
# A misbehaving `claude`: every case ends the task as failed with a clear
# `error`, the run exits 1 (some task failed), the host neither crashes nor
# hangs, the session is recorded as completed, and no agent process is left.
# The stand-in is fake_claude (a private copy, see bad_lib.bash); the case is
# chosen by the [fake:MODE] marker in the task's Claude Instruction.
. "$(dirname "$0")/bad_lib.bash"

T=$BAD_TMP

# one_task NAME MARKER: a task file with one task whose instruction has MARKER.
one_task() { task_file "$T/$1.md" "Case $1" "Do the work. $2"; }

# expect_failed_task NAME ERROR_TEXT...: the last run's first task failed with
# an error containing each ERROR_TEXT (literally); the session is complete.
# have_status NAME: the last run's status --json read, or a failed check
have_status() {
    status_json && return 0
    bad_fail "$1: status --json works" "$(cat "$BAD_TMP/cap/status.err")"
    return 1
}
expect_failed_task() {
    local name=$1 err
    shift
    have_status "$name" || return
    expect_eq "$name: task status" "$(sj '.tasks[0].status')" "failed"
    err=$(sj '.tasks[0].error // ""')
    for text in "$@"; do expect_has "$name: error mentions '$text'" "$err" "$text"; done
    expect_eq "$name: session status" "$(sj '.status')" "completed"
    expect_eq "$name: cost recorded as a number" "$(sj '.tasks[0].cost_usd | type')" "number"
}

expect_no_agents_left() {
    local left
    left=$(bad_agent_pids)
    if [ -z "$left" ]; then bad_pass "$1: no agent process left"; else
        bad_fail "$1: no agent process left" "$(ps -o pid,ppid,etime,cmd -p "$(echo $left | tr ' ' ,)")"
    fi
}

# --- claude missing: a path to fix, as a bad key is: the day pauses (exit 3)
# with the task still to run and the reason, so a resume runs it once fixed
# expect_paused_for NAME TEXT...: the last run paused, its reason naming each TEXT, the task pending
expect_paused_for() {
    local name=$1 why
    shift
    have_status "$name" || return
    expect_eq "$name: session status" "$(sj '.status')" "paused"
    expect_eq "$name: task status" "$(sj '.tasks[0].status')" "pending"
    why=$(sj '.pause_reason // ""')
    for text in "$@"; do expect_has "$name: the pause says '$text'" "$why" "$text"; done
}
one_task missing ""
CLAUDE_CLI_PATH=/nonexistent/claude run_tasks "$T/missing.md"
expect_rc "claude missing" 3
expect_no_crash "claude missing"
expect_paused_for "claude missing" "/nonexistent/claude"
# the notice names what to fix: the path, not the credentials
expect_out "claude missing: the notice names the path to fix" "Fix the claude CLI's path (CLAUDE_CLI_PATH or claude.path)"
expect_true "claude missing: no credentials hint" "$(cat "$ALL")" bash -c '! grep -q "Fix the credentials" "$1"' _ "$ALL"

CLAUDE_CLI_PATH=claude-not-installed-here run_tasks "$T/missing.md"
expect_rc "claude not on PATH" 3
expect_paused_for "claude not on PATH" "claude-not-installed-here" "not found"

# An existing file that cannot be run: the message must not claim it is missing.
printf '#!/bin/sh\necho hi\n' >"$T/not-executable"
chmod 0644 "$T/not-executable"
CLAUDE_CLI_PATH="$T/not-executable" run_tasks "$T/missing.md"
expect_rc "claude not executable" 3
expect_paused_for "claude not executable" "$T/not-executable"
why=$(sj '.pause_reason // ""')
case "$why" in
*"not executable"* | *"ermission denied"*) bad_pass "claude not executable: the pause says why" ;;
*) bad_fail "claude not executable: the pause says why (not executable / permission denied)" "got: $why" ;;
esac

# --- exit code, garbage, empty --------------------------------------------------
one_task exit3 "[fake:exit:3]"
run_tasks "$T/exit3.md"
expect_rc "claude exits 3" 1
expect_no_crash "claude exits 3"
expect_failed_task "claude exits 3" "exited with code 3" "exiting with code 3 as asked"

one_task garbage "[fake:garbage]"
run_tasks "$T/garbage.md"
expect_rc "claude prints garbage" 1
expect_no_crash "claude prints garbage"
expect_failed_task "claude prints garbage" "no result line"

one_task empty "[fake:empty]"
run_tasks "$T/empty.md"
expect_rc "claude prints nothing" 1
expect_failed_task "claude prints nothing" "printed nothing"

# --- hang -------------------------------------------------------------------------
one_task hang "[fake:hang]"
start=$SECONDS
CLAUDE_TIMEOUT_SEC=2 run_tasks "$T/hang.md"
expect_rc "claude hangs" 1
expect_no_crash "claude hangs"
expect_failed_task "claude hangs" "timed out"
expect_true "claude hangs: stopped soon after the 2 s timeout" "took $((SECONDS - start)) s" \
    test $((SECONDS - start)) -lt 30
expect_no_agents_left "claude hangs"

# The agent ignores SIGTERM and leaves a setsid() child behind (fake tree mode):
# SIGKILL after claude.kill_grace, and the child must go too.
one_task tree "[fake:tree:6]"
start=$SECONDS
CLAUDE_TIMEOUT_SEC=2 run_tasks "$T/tree.md"
expect_rc "claude hangs ignoring SIGTERM" 1
expect_failed_task "claude hangs ignoring SIGTERM" "timed out"
expect_no_agents_left "claude hangs ignoring SIGTERM"
# The child would create tree-survivor.txt 6 s after it started; wait past that.
while [ $((SECONDS - start)) -lt 8 ]; do sleep 0.5; done
expect_true "claude hangs ignoring SIGTERM: its orphan never ran to completion" \
    "$CLAUDE_BASE_CWD/tree-survivor.txt exists" test ! -e "$CLAUDE_BASE_CWD/tree-survivor.txt"

# --- is_error, permission denials, max turns ------------------------------------
one_task fail "[fake:fail]"
run_tasks "$T/fail.md"
expect_rc "claude reports is_error" 1
expect_failed_task "claude reports is_error" "API Error: 500"

# [fake:denied] asks for Bash `git commit -m x`, which claude denies before it
# runs (its tool_result is an error), and the agent goes on. A run whose only
# permission denials are calls lib/safety forbids is not failed for them: the
# task completes, and its tool_blocks name the refused call.
one_task denied "[fake:denied]"
run_tasks "$T/denied.md"
expect_rc "claude denied a tool" 0
status_json || bad_fail "claude denied a tool: status --json works" "$(cat "$BAD_TMP/cap/status.err")"
expect_eq "claude denied a tool: task status" "$(sj '.tasks[0].status')" "completed"
expect_has "claude denied a tool: tool_blocks name the refused commit" "$(sj '.tasks[0].tool_blocks[0].reason // ""')" \
    "git commit"
expect_eq "claude denied a tool: refused by claude's own rule" "$(sj '.tasks[0].tool_blocks[0].by // ""')" "claude"

# The permission_denials path itself, with a command the safety check allows
# but claude's --disallowedTools denies. (One rule, because fake_claude takes
# one rule per --disallowedTools and the host joins the list with commas.)
printf 'return {\n  claude = { disallowed_tools = { "Bash(git reset:*)" } },\n}\n' >"$T/deny-config.lua"
one_task denied2 "[fake:tool:Bash:git reset HEAD~1]"
run_tasks "$T/denied2.md" --config "$T/deny-config.lua"
expect_rc "claude reports permission_denials" 1
expect_failed_task "claude reports permission_denials" "permission denied" "Bash"

one_task maxturns "[fake:error_max_turns]"
run_tasks "$T/maxturns.md"
expect_rc "claude hits max turns" 1
expect_failed_task "claude hits max turns" "maximum number of turns"

# --- flood: 100 MB of output ------------------------------------------------------
one_task flood "[fake:flood:100]"
TIME_OUT="$T/cap/time.txt"
start=$SECONDS
if [ -x /usr/bin/time ]; then
    /usr/bin/time -v -o "$TIME_OUT" timeout -k 5 300 "$ORCH_HOST" --root "$BAD_ROOT" run daily.lua \
        --tasks "$T/flood.md" --auto-approve --no-input </dev/null >"$OUT" 2>"$ERR"
    RC=$?
    # kB; covers orch-host and everything it waited for (time -> timeout -> host -> agent)
    PEAK_KB=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$TIME_OUT")
else
    # No GNU time: read the host's VmHWM (a high-water mark) until it exits.
    "$ORCH_HOST" --root "$BAD_ROOT" run daily.lua --tasks "$T/flood.md" --auto-approve --no-input \
        </dev/null >"$OUT" 2>"$ERR" &
    pid=$!
    PEAK_KB=0
    while kill -0 "$pid" 2>/dev/null; do
        kb=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status" 2>/dev/null)
        [ -n "$kb" ] && [ "$kb" -gt "$PEAK_KB" ] && PEAK_KB=$kb
        sleep 0.05
    done
    wait "$pid"
    RC=$?
fi
cat "$OUT" "$ERR" >"$ALL"
echo "     (flood: ${PEAK_KB:-?} kB peak RSS, $((SECONDS - start)) s)"
expect_rc "claude floods 100 MB" 0
status_json
expect_eq "claude floods 100 MB: task completed" "$(sj '.tasks[0].status')" "completed"
if sanitized_build; then
    bad_skip "claude floods 100 MB: host peak RSS under 100 MB" "AddressSanitizer build (scripts/sanitize.sh)"
else
    expect_true "claude floods 100 MB: host peak RSS under 100 MB" "peak ${PEAK_KB:-unknown} kB" \
        test "${PEAK_KB:-999999999}" -lt $((100 * 1024))
fi
FLOG=$(sj '.tasks[0].output_log')
if [ -f "$FLOG" ]; then
    FSIZE=$(stat -c %s "$FLOG")
    echo "     (flood: output log $FSIZE bytes)"
    expect_true "claude floods 100 MB: output log capped at claude.max_log_mb (64 MB)" "$FSIZE bytes" \
        test "$FSIZE" -le $((64 * 1024 * 1024 + 4096))
    expect_true "claude floods 100 MB: output log is not tiny" "$FSIZE bytes" \
        test "$FSIZE" -ge $((60 * 1024 * 1024))
    MARKERS=$(grep -c 'output log truncated' "$FLOG")
    expect_eq "claude floods 100 MB: one truncation marker" "$MARKERS" "1"
    # A capped log is the stream's first 64 MB, then the marker. Whatever the
    # host may add after the marker must be whole JSON lines, never the tail
    # of a chunk that did not fit (a torn half line).
    TORN=$(python3 - "$FLOG" <<'PY'
import json, sys
data = open(sys.argv[1], "rb").read()
i = data.find(b"[orch-host: output log truncated")
if i < 0:
    print("no marker"); sys.exit()
bad = []
for n, line in enumerate(data[i:].split(b"\n")[1:], 1):
    if not line.strip():
        continue
    try:
        json.loads(line)
    except ValueError:
        bad.append(f"line {n} after the marker is not JSON: {line[:80]!r}")
print("\n".join(bad[:3]))
PY
)
    expect_eq "claude floods 100 MB: no torn lines after the truncation marker" "$TORN" ""
else
    bad_fail "claude floods 100 MB: output log exists" "output_log=$FLOG"
fi

# --- mixed: a failing task does not stop the next ones -----------------------------
task_file "$T/mixed.md" \
    "Exits 3" "Step one. [fake:exit:3]" \
    "Fine A" "Step two." \
    "Garbage" "Step three. [fake:garbage]" \
    "Fine B" "Step four." \
    "Is error" "Step five. [fake:fail]" \
    "Fine C" "Step six."
runs0=$(agent_runs)
run_tasks "$T/mixed.md"
expect_rc "mixed file" 1
status_json
expect_eq "mixed file: each task's status" "$(sj '[.tasks[].status] | join(",")')" \
    "failed,completed,failed,completed,failed,completed"
expect_eq "mixed file: every task ran" "$(($(agent_runs) - runs0))" "6"
expect_eq "mixed file: session completed" "$(sj '.status')" "completed"
expect_eq "mixed file: completed count" "$(sj '.completed_tasks')" "3"
expect_has "mixed file: task 3's error" "$(sj '.tasks[2].error')" "no result line"
expect_eq "mixed file: tokens of the good tasks counted" "$(sj '[.tasks[] | select(.status=="completed") | .tokens > 0] | all')" "true"
expect_no_agents_left "mixed file"

# --- state is sound after all of it -------------------------------------------------
expect_eq "database integrity after every case" "$(sqlite3 "$ORCH_STATE_DB" 'PRAGMA integrity_check')" "ok"
expect_eq "every run left a completed session (a paused one where claude could not start)" \
    "$("$ORCH_HOST" --root "$BAD_ROOT" sessions --json --lines 100 | jq -r '[.[].status] | unique | join(",")')" \
    "completed,paused"

bad_finish
