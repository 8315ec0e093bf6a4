#!/usr/bin/env bash
# The README's own workflow, workflows/hello.lua, exactly as the README shows
# it: run with --no-input, `orch-host approve` from another shell decides its
# wait (it is in no session); Ctrl-C while it waits stops it with exit 3, no
# Lua error.
source "$(dirname "$0")/lib.bash"
export ORCH_QUESTIONS_DIR=$T/questions

ROOT=$T/root
mkdir -p "$ROOT"
cp -r "$ORCH_SRC/workflows" "$ROOT/"
# the fenced block after "A workflow of your own, `workflows/hello.lua`"
sed -n '/^A workflow of your own, `workflows\/hello.lua`/,/^```$/p' "$ORCH_SRC/README.md" | sed '1,3d;$d' \
    >"$ROOT/workflows/hello.lua"
grep -q 'orch.await_approval' "$ROOT/workflows/hello.lua" || fail "no hello.lua block in README.md"
hello() { "$ORCH_HOST" --root "$ROOT" "$@"; }
pending() { [ "$(sqlite3 "$ORCH_STATE_DB" "SELECT count(*) FROM approvals WHERE status='pending'")" = 1 ]; }

# approved from another shell
bg_run "$T/a.out" hello run hello.lua --no-input
wait_for pending
out=$(hello approve 2>&1) || fail "approve from another shell: $out"
check_eq "$(bg_wait "$T/a.out")" 0 "exit code of the approved run ($(cat "$T/a.out"))"
check "the approved run says done: $(cat "$T/a.out")" grep -q '✅ done (approve) for \$' "$T/a.out"

# Ctrl-C while it waits
bg_run "$T/b.out" hello run hello.lua --no-input
wait_for pending
kill -INT "$(host_pid_of "$BG_PID")"
check_eq "$(bg_wait "$T/b.out")" 3 "exit code after Ctrl-C ($(cat "$T/b.out"))"
check "no Lua error after Ctrl-C: $(cat "$T/b.out")" bash -c "! grep -q 'failed:' '$T/b.out'"
finish
