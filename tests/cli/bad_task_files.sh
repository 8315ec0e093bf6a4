#!/usr/bin/env bash
# Bad task files: every one is refused before anything runs.
# For each: `run daily.lua --tasks F --auto-approve --no-input` exits 2, the
# output names F:LINE (and the task where there is one), no agent is started,
# and the stored state is what it was (no new session row; the previous
# session unchanged). Includes a 10 MB file of valid-looking tasks (refused by
# the size limit, naming the size) and 10 MB of random bytes.
. "$(dirname "$0")/bad_lib.bash"

FX=$BAD_FIXTURES
T=$BAD_TMP

# case NAME FILE [TEXT...]: rc 2, each TEXT in the output, no agent, state as before.
BEFORE="$T/cap/before.json"
AFTER="$T/cap/after.json"
case_bad() {
    local name=$1 file=$2 runs0
    shift 2
    runs0=$(agent_runs)
    run_tasks "$file"
    expect_rc "$name" 2
    expect_no_crash "$name"
    for text in "$@"; do expect_out "$name" "$text"; done
    expect_eq "$name: no agent was started" "$(agent_runs)" "$runs0"
    state_snapshot "$AFTER"
    if cmp -s "$BEFORE" "$AFTER"; then
        bad_pass "$name: stored sessions unchanged"
    else
        bad_fail "$name: stored sessions unchanged" "$(diff "$BEFORE" "$AFTER" | head -20)"
    fi
}

# --- 1. Fresh state: a bad file creates no session at all ----------------
run_tasks "$FX/missing-title.md"
expect_rc "fresh state, missing title" 2
status_json
expect_eq "fresh state: status --json shows no session" "$(sj '.session_id // .session // "none"')" "none"
expect_eq "fresh state: no task rows" "$(sj '.tasks | length')" "0"

# --- 2. A good session first; every bad file must leave it untouched ------
task_file "$T/good.md" "Good task" "Write the file."
run_tasks "$T/good.md"
expect_rc "baseline good run" 0
state_snapshot "$BEFORE"
expect_eq "baseline: one session" "$(jq -s '.[0] | length' "$BEFORE")" "1"

case_bad "missing title" "$FX/missing-title.md" \
    "$FX/missing-title.md:12:" "task 2" "missing title"
case_bad "unknown field" "$FX/unknown-field.md" \
    "$FX/unknown-field.md:13:" "task 2 'Add the baptisms endpoint'" "Assignee"
case_bad "empty instruction" "$FX/empty-instruction.md" \
    "$FX/empty-instruction.md:13:" "task 2 'Nothing to do'" "empty **Claude Instruction:**"
case_bad "duplicate task" "$FX/duplicate-task.md" \
    "$FX/duplicate-task.md:17:" "task 2" "duplicate task number 2" "$FX/duplicate-task.md:10"
case_bad "missing instruction" "$FX/missing-instruction.md" \
    "$FX/missing-instruction.md:3:" "task 1 'Write the changelog'" "missing **Claude Instruction:**"
case_bad "unclosed code fence" "$FX/unclosed-fence.md" \
    "$FX/unclosed-fence.md:7:" "task 1 'Run the tests'" "never closed"

# Invalid UTF-8: Latin-1 "é" (0xE9) in a title, a lone continuation byte in an
# instruction, and a sequence cut off at the end of the file.
printf '# Tasks - 2025-11-20\n\n## Task 1: Caf\xe9 menu\n**Claude Instruction:**\nx\n' >"$T/latin1.md"
case_bad "invalid UTF-8 (Latin-1 byte in a title)" "$T/latin1.md" \
    "$T/latin1.md:3:" "invalid UTF-8" "0xE9"
printf '# Tasks - 2025-11-20\n\n## Task 1: Fine\n**Type:** backend\n**Claude Instruction:**\nline one\nbroken \x80 here\n' >"$T/cont.md"
case_bad "invalid UTF-8 (stray continuation byte)" "$T/cont.md" \
    "$T/cont.md:7:" "invalid UTF-8" "0x80"
printf '# Tasks - 2025-11-20\n\n## Task 1: Fine\n**Claude Instruction:**\ncut off \xe2\x82' >"$T/trunc.md"
case_bad "invalid UTF-8 (truncated sequence at EOF)" "$T/trunc.md" \
    "$T/trunc.md:5:" "invalid UTF-8"

# Not a task file at all.
: >"$T/empty.md"
case_bad "empty file" "$T/empty.md" "$T/empty.md:1:" "no tasks"
case_bad "no such file" "$T/does-not-exist.md" "$T/does-not-exist.md" "No such file"
mkdir -p "$T/a-directory.md"
case_bad "a directory" "$T/a-directory.md" "$T/a-directory.md" "directory"

# --- 3. 10 MB files ---------------------------------------------------------
# Valid-looking: ~10 MB of well-formed tasks. Refused by the size limit, and
# the message names the file and its size.
python3 - "$T/big.md" <<'EOF'
import sys
out = ["# Tasks - 2025-11-20\n"]
size, n = 0, 0
while size < 10 * 1024 * 1024 + 4096:
    n += 1
    t = (f"\n## Task {n}: Generated task {n}\n**Type:** documentation\n**Priority:** low\n"
         f"**Requires Approval:** false\n**Description:** {'filler words ' * 8}\n\n"
         f"**Claude Instruction:**\nWrite docs/page-{n}.md. {'Keep it short. ' * 10}\n\n---\n")
    out.append(t)
    size += len(t)
open(sys.argv[1], "w").write("".join(out))
EOF
BIG_SIZE=$(stat -c %s "$T/big.md")
start=$SECONDS
case_bad "10 MB of valid-looking tasks" "$T/big.md" "$T/big.md" "$BIG_SIZE bytes" "limit"
expect_true "10 MB tasks: refused quickly" "took $((SECONDS - start)) s" test $((SECONDS - start)) -lt 60

head -c $((10 * 1024 * 1024)) /dev/urandom >"$T/garbage.md"
start=$SECONDS
case_bad "10 MB of random bytes" "$T/garbage.md" "$T/garbage.md" "$((10 * 1024 * 1024)) bytes" "limit"
expect_true "10 MB garbage: refused quickly" "took $((SECONDS - start)) s" test $((SECONDS - start)) -lt 60

# Under the size limit, the parser itself must cope: 4 MB of deterministic
# binary garbage (a UTF-8 error with a line number) and 4 MB of prose with no
# task in it (no tasks, naming the last line).
python3 - "$T/garbage4.md" "$T/prose4.md" <<'EOF'
import random, sys
r = random.Random(42)
open(sys.argv[1], "wb").write(b"# Tasks\n\n" + bytes(r.getrandbits(8) for _ in range(4 * 1024 * 1024)))
line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n"
open(sys.argv[2], "w").write("# Notes\n\n" + line * (4 * 1024 * 1024 // len(line)))
EOF
start=$SECONDS
case_bad "4 MB of binary garbage" "$T/garbage4.md" "$T/garbage4.md:3:" "invalid UTF-8"
PROSE_LINES=$(wc -l <"$T/prose4.md")
case_bad "4 MB of prose, no tasks" "$T/prose4.md" "$T/prose4.md:$PROSE_LINES:" "no tasks"
expect_true "4 MB files: parsed quickly" "took $((SECONDS - start)) s" test $((SECONDS - start)) -lt 60

# --- 4. Still healthy: the next good run works and the database is sound ----
run_tasks "$T/good.md"
expect_rc "good run after all the bad ones" 0
status_json
expect_eq "good run after: its task completed" "$(sj '.tasks[0].status')" "completed"
expect_eq "two sessions in all" "$("$ORCH_HOST" --root "$BAD_ROOT" sessions --json | jq length)" "2"
expect_eq "database integrity" "$(sqlite3 "$ORCH_STATE_DB" 'PRAGMA integrity_check')" "ok"

bad_finish
