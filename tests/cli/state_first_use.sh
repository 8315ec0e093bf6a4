#!/usr/bin/env bash
# The state database of the current schema is opened at its first use, not
# at start: a workflow that never touches the state runs even when the file
# is damaged past its header, and one that does touch it fails there with
# the file's name and exit 5, the file unchanged. The run's recovery (pending
# approvals of a host that died are withdrawn) happens at that first use too.
source "$(dirname "$0")/lib.bash"

DB=$ORCH_STATE_DB
printf 'return 0\n' >"$T/no_state.lua"
printf 'orch.save_state("k", 1)\nreturn 0\n' >"$T/uses_state.lua"
run() { "$ORCH_HOST" --root "$ORCH_SRC" run "$@" --no-input >"$T/out" 2>&1; }

run "$T/no_state.lua" || fail "the first run (creates the database): $(cat "$T/out")"
[ -s "$DB" ] || fail "the first run created no database"

# --- a pending approval of a host that died: withdrawn at the first use
sqlite3 "$DB" "INSERT INTO approvals(session_id, task_id, kind, prompt, status, created_at)
               VALUES ('s1', '1', 'approval', 'go?', 'pending', 1)"
run "$T/no_state.lua" || fail "no-state run: $(cat "$T/out")"
expect_eq "$(sqlite3 "$DB" "SELECT status FROM approvals")" pending "a run that never touched the state"
run "$T/uses_state.lua" || fail "state run: $(cat "$T/out")"
expect_eq "$(sqlite3 "$DB" "SELECT status FROM approvals")" withdrawn "after a run that used the state"

# --- the first use is the journal's last flush, at exit (orch.emit, then return)
sqlite3 "$DB" "UPDATE approvals SET status='pending'"
printf 'orch.emit("hello", { x = 1 })\nreturn 0\n' >"$T/emits.lua"
run "$T/emits.lua" || fail "emit-only run: exit $?: $(cat "$T/out")"
expect_eq "$(sqlite3 "$DB" "SELECT status FROM approvals")" withdrawn "after a run whose only use was an event"
expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE event='hello'")" 1 "the event is recorded"

# --- damaged after the header page: only the use fails
python3 - "$DB" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[4096:] = b"\xa5" * (len(b) - 4096)
open(p, "wb").write(bytes(b))
EOF
before=$(sha256sum "$DB")
run "$T/no_state.lua"
rc=$?
expect_eq "$rc" 0 "damaged database, a workflow without state: exit code ($(cat "$T/out"))"
run "$T/uses_state.lua"
rc=$?
expect_eq "$rc" 5 "damaged database, a workflow that saves state: exit code"
grep -qF "$DB" "$T/out" || fail "the error names the database: $(cat "$T/out")"
grep -q "malformed" "$T/out" || fail "the error says what is wrong: $(cat "$T/out")"
expect_eq "$(sha256sum "$DB")" "$before" "the damaged file is unchanged"
finish
