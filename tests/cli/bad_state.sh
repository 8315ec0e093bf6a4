#!/usr/bin/env bash
# The state database and the logs in trouble. Exit 5 is "state database
# error"; in every case the message names the file, and a database that is
# not ours (or is damaged) is never written to (sha256 before/after).
#  * plain text file, another application's SQLite file, a damaged orch db
#  * locked by another process (BEGIN EXCLUSIVE held by python3)
#  * read-only (chattr +i, and a read-only bind mount; SKIP if impossible)
#  * disk full under the logs (a full tmpfs; see below) -> the run completes,
#    warns "No space left on device", the state is right.
. "$(dirname "$0")/bad_lib.bash"

T=$BAD_TMP
DB=$ORCH_STATE_DB
task_file "$T/good.md" "Good task" "Write the file."
sha() { sha256sum "$1" | cut -d' ' -f1; }
sidecars() { ls "$DB"-wal "$DB"-shm "$DB"-journal 2>/dev/null | tr '\n' ' '; }
reset_state() { rm -rf "$T/state" && mkdir -p "$T/state"; }

# --- plain text file ------------------------------------------------------------
reset_state
printf 'my notes\nnot a database at all\n' >"$DB"
before=$(sha "$DB")
run_tasks "$T/good.md"
expect_rc "plain-text database: run" 5
expect_err "plain-text database: run" "$DB"
expect_err "plain-text database: run" "not an orch-host database"
expect_eq "plain-text database: file unchanged" "$(sha "$DB")" "$before"
expect_eq "plain-text database: no sqlite side files" "$(sidecars)" ""
expect_eq "plain-text database: no agent ran" "$(agent_runs)" "0"
orch status --json
expect_rc "plain-text database: status" 5
expect_err "plain-text database: status" "$DB"
expect_eq "plain-text database: still unchanged after status" "$(sha "$DB")" "$before"

# --- another application's SQLite file ------------------------------------------
reset_state
python3 - "$DB" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("CREATE TABLE foo(id INTEGER PRIMARY KEY, name TEXT)")
c.execute("INSERT INTO foo(name) VALUES ('keep me')")
c.commit()
c.close()
EOF
before=$(sha "$DB")
run_tasks "$T/good.md"
expect_rc "foreign SQLite file: run" 5
expect_err "foreign SQLite file: run" "$DB"
expect_err "foreign SQLite file: run" "another application"
expect_eq "foreign SQLite file: file unchanged" "$(sha "$DB")" "$before"
orch status --json
expect_rc "foreign SQLite file: status" 5
orch doctor
expect_rc "foreign SQLite file: doctor reports a problem" 1
expect_out "foreign SQLite file: doctor" "another application"
expect_eq "foreign SQLite file: still unchanged after status and doctor" "$(sha "$DB")" "$before"
expect_eq "foreign SQLite file: its data intact" "$(sqlite3 "$DB" 'SELECT name FROM foo')" "keep me"

# --- a damaged orch database ------------------------------------------------------
# corrupt FROM [BYTE]: fill the file with 0xA5 from offset FROM on.
corrupt() {
    python3 - "$DB" "$1" <<'EOF'
import sys
p, start = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
end = len(b) if start >= 4096 else 4096
b[start:end] = b"\xa5" * (end - start)
open(p, "wb").write(bytes(b))
EOF
}
reset_state
run_tasks "$T/good.md"
expect_rc "damaged database: a good run first" 0
cp "$DB" "$T/good.db"
expect_eq "damaged database: no side files after a clean run" "$(sidecars)" ""

corrupt 100 # the schema page (after the 100-byte header)
before=$(sha "$DB")
run_tasks "$T/good.md"
expect_rc "damaged schema page: run" 5
expect_err "damaged schema page: run" "$DB"
expect_err "damaged schema page: run" "malformed"
expect_eq "damaged schema page: file unchanged" "$(sha "$DB")" "$before"
orch status --json
expect_rc "damaged schema page: status" 5

reset_state
cp "$T/good.db" "$DB"
corrupt 4096 # every page but the first: the rows are damaged, the schema is not
before=$(sha "$DB")
runs0=$(agent_runs)
run_tasks "$T/good.md"
expect_rc "damaged data pages: run" 5
expect_err "damaged data pages: run" "$DB"
expect_err "damaged data pages: run" "malformed"
expect_eq "damaged data pages: file unchanged" "$(sha "$DB")" "$before"
expect_eq "damaged data pages: no agent ran" "$(agent_runs)" "$runs0"
orch status --json
expect_rc "damaged data pages: status" 5
expect_err "damaged data pages: status" "malformed"
expect_eq "damaged data pages: still unchanged after status" "$(sha "$DB")" "$before"

# --- locked by another process ------------------------------------------------------
reset_state
run_tasks "$T/good.md"
expect_rc "locked: a good run first" 0
state_snapshot "$T/cap/before-lock.json"
rm -f "$T/locked" "$T/release"
python3 - "$DB" "$T/locked" "$T/release" <<'EOF' &
import os, sqlite3, sys, time
db, locked, release = sys.argv[1:4]
c = sqlite3.connect(db, isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(locked, "w").write("locked\n")
deadline = time.time() + 180          # never outlive the test
while not os.path.exists(release) and time.time() < deadline:
    time.sleep(0.05)
c.execute("ROLLBACK")
c.close()
EOF
LOCKER=$!
if wait_until 30 test -s "$T/locked"; then
    runs0=$(agent_runs)
    start=$SECONDS
    run_tasks "$T/good.md"
    echo "     (locked run took $((SECONDS - start)) s; busy timeout is 5 s)"
    expect_rc "locked: run" 5
    expect_out "locked: run" "$DB"
    expect_out "locked: run" "locked"
    expect_eq "locked: no agent ran" "$(agent_runs)" "$runs0"
    expect_true "locked: gave up within 60 s" "took $((SECONDS - start)) s" test $((SECONDS - start)) -lt 60
    orch status --json
    expect_rc "locked: status still readable (WAL readers are not blocked)" 0
    touch "$T/release"
    wait "$LOCKER"
    state_snapshot "$T/cap/after-lock.json"
    if cmp -s "$T/cap/before-lock.json" "$T/cap/after-lock.json"; then
        bad_pass "locked: the failed run left no partial session"
    else
        bad_fail "locked: the failed run left no partial session" \
            "$(diff "$T/cap/before-lock.json" "$T/cap/after-lock.json" | head -20)"
    fi
    run_tasks "$T/good.md"
    expect_rc "locked: after release, a run works" 0
    expect_eq "locked: integrity" "$(sqlite3 "$DB" 'PRAGMA integrity_check')" "ok"
    expect_eq "locked: two sessions, both completed" \
        "$("$ORCH_HOST" --root "$BAD_ROOT" sessions --json | jq -r '[.[].status] | join(",")')" "completed,completed"
else
    bad_fail "locked: python3 took the lock" "no lock within 30 s"
fi

# Locked in the middle of a run: task 1's agent works for 6 s; while it does,
# another process takes the write lock and keeps it. The host's next write
# fails after the 5 s busy timeout: exit 5 (a state error, not "bad input"),
# and once the lock is gone, `resume` finishes the day with nothing lost.
reset_state
task_file "$T/midrun.md" "Slow task" "Work slowly. [fake:slow:6]" "Second task" "Write the file."
rm -f "$T/locked" "$T/release"
"$ORCH_HOST" --root "$BAD_ROOT" run daily.lua --tasks "$T/midrun.md" --auto-approve --no-input \
    </dev/null >"$OUT" 2>"$ERR" &
HOST=$!
task1_running() { status_json 2>/dev/null && [ "$(sj '.tasks[0].status')" = running ]; }
if wait_until 60 task1_running; then
    python3 - "$DB" "$T/locked" "$T/release" <<'EOF' &
import os, sqlite3, sys, time
db, locked, release = sys.argv[1:4]
c = sqlite3.connect(db, isolation_level=None, timeout=30)
c.execute("BEGIN EXCLUSIVE")
open(locked, "w").write("locked\n")
deadline = time.time() + 180
while not os.path.exists(release) and time.time() < deadline:
    time.sleep(0.05)
c.execute("ROLLBACK")
c.close()
EOF
    LOCKER=$!
    wait_until 30 test -s "$T/locked" || bad_fail "locked mid-run: python3 took the lock" "no lock within 30 s"
    host_gone() { ! kill -0 "$HOST" 2>/dev/null; }
    if wait_until 120 host_gone; then
        wait "$HOST"
        RC=$?
        cat "$OUT" "$ERR" >"$ALL"
        expect_rc "locked mid-run: run" 5
        expect_err "locked mid-run: run" "$DB"
        expect_err "locked mid-run: run" "locked"
    else
        bad_fail "locked mid-run: the host gives up within 120 s" "still running"
        kill "$HOST" 2>/dev/null
    fi
    touch "$T/release"
    wait "$LOCKER"
    expect_eq "locked mid-run: integrity" "$(sqlite3 "$DB" 'PRAGMA integrity_check')" "ok"
    status_json
    expect_eq "locked mid-run: the session is not marked completed" "$(sj '.status')" "running"
    orch resume --auto-approve --no-input
    expect_rc "locked mid-run: resume after the lock is gone" 0
    status_json
    expect_eq "locked mid-run: after resume, every task completed" "$(sj '[.tasks[].status] | join(",")')" \
        "completed,completed"
    expect_eq "locked mid-run: one session" "$("$ORCH_HOST" --root "$BAD_ROOT" sessions --json | jq length)" "1"
else
    bad_fail "locked mid-run: task 1 starts" "$(cat "$ERR" | tail -5)"
    kill "$HOST" 2>/dev/null
fi

# Locked before the schema exists (a brand-new file another process holds).
reset_state
rm -f "$T/locked" "$T/release"
python3 - "$DB" "$T/locked" "$T/release" <<'EOF' &
import os, sqlite3, sys, time
db, locked, release = sys.argv[1:4]
c = sqlite3.connect(db, isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(locked, "w").write("locked\n")
deadline = time.time() + 180
while not os.path.exists(release) and time.time() < deadline:
    time.sleep(0.05)
c.execute("ROLLBACK")
c.close()
EOF
LOCKER=$!
if wait_until 30 test -s "$T/locked"; then
    run_tasks "$T/good.md"
    expect_rc "locked new database: run" 5
    expect_err "locked new database: run" "locked"
    touch "$T/release"
    wait "$LOCKER"
    run_tasks "$T/good.md"
    expect_rc "locked new database: after release, a run works" 0
else
    bad_fail "locked new database: python3 took the lock" "no lock within 30 s"
fi

# --- read-only ----------------------------------------------------------------------
# Root ignores file modes, so use what really stops root: the immutable
# attribute, and a read-only bind mount. Each is tried on a probe first; if
# the platform refuses, the case is skipped with the reason.
readonly_case() { # NAME: the database is read-only now
    local name=$1 before runs0
    before=$(sha "$DB")
    runs0=$(agent_runs)
    run_tasks "$T/good.md"
    expect_rc "$name: run" 5
    expect_out "$name: run" "$DB"
    expect_out "$name: run" "read-only"
    expect_eq "$name: file unchanged" "$(sha "$DB")" "$before"
    expect_eq "$name: no agent ran" "$(agent_runs)" "$runs0"
    orch status --json
    expect_rc "$name: status still reads the old session" 0
    expect_eq "$name: status shows the completed session" "$(jq -r .status "$OUT")" "completed"
}

reset_state
run_tasks "$T/good.md"
expect_rc "read-only: a good run first" 0
state_snapshot "$T/cap/before-ro.json"

probe="$T/immutable-probe"
: >"$probe"
if chattr +i "$probe" 2>/dev/null && ! (echo x >>"$probe") 2>/dev/null; then
    chattr -i "$probe"
    chattr +i "$DB"
    bad_on_exit "chattr -i '$DB'"
    readonly_case "immutable database file (chattr +i)"
    chattr -i "$DB"
else
    chattr -i "$probe" 2>/dev/null
    bad_skip "immutable database file" "chattr +i is not supported here (or does not stop root)"
fi

if mount --bind "$T/state" "$T/state" 2>/dev/null; then
    bad_on_exit "umount -l '$T/state'"
    if mount -o remount,bind,ro "$T/state" 2>/dev/null && ! touch "$T/state/probe" 2>/dev/null; then
        readonly_case "read-only filesystem (bind mount)"
    else
        bad_skip "read-only filesystem" "cannot remount the bind mount read-only"
    fi
    umount "$T/state" || umount -l "$T/state"
else
    bad_skip "read-only filesystem" "mount --bind is not permitted here"
fi
state_snapshot "$T/cap/after-ro.json"
if cmp -s "$T/cap/before-ro.json" "$T/cap/after-ro.json"; then
    bad_pass "read-only: nothing recorded by the refused runs"
else
    bad_fail "read-only: nothing recorded by the refused runs" "$(diff "$T/cap/before-ro.json" "$T/cap/after-ro.json" | head)"
fi
run_tasks "$T/good.md"
expect_rc "read-only: writable again, a run works" 0

# --- disk full under the logs -----------------------------------------------------------
# The cleanest honest way: ORCH_LOGS_DIR on a small tmpfs filled to the last
# byte, so every log write (daily log, events.ndjson, the task's output log,
# whose name holds the session id and cannot be prepared in advance) really
# fails with ENOSPC while the database (elsewhere) is fine. Without mount
# permission, fall back to events.ndjson and today's daily log as symlinks to
# /dev/full (the task output log then stays writable).
reset_state
FULL="$T/fulllogs"
mkdir -p "$FULL"
mode=""
if mount -t tmpfs -o size=256k,mode=0755 tmpfs "$FULL" 2>/dev/null; then
    bad_on_exit "umount -l '$FULL'"
    dd if=/dev/zero of="$FULL/filler" bs=4k 2>/dev/null
    mode=tmpfs
elif [ -w /dev/full ]; then
    ln -s /dev/full "$FULL/events.ndjson"
    ln -s /dev/full "$FULL/$(date +%Y-%m-%d).log"
    mode=devfull
fi
if [ -n "$mode" ]; then
    echo "     (disk full: $mode)"
    ORCH_LOGS_DIR="$FULL" run_tasks "$T/good.md"
    expect_rc "disk full on the logs: the run completes" 0
    expect_err "disk full on the logs: a warning" "No space left on device"
    [ "$mode" = tmpfs ] && expect_err "disk full on the logs: the task's output log is reported" "output log not written"
    ORCH_LOGS_DIR="$FULL" status_json
    expect_eq "disk full on the logs: task completed" "$(sj '.tasks[0].status')" "completed"
    expect_eq "disk full on the logs: session completed" "$(sj '.status')" "completed"
    expect_eq "disk full on the logs: tokens recorded" "$(sj '.tasks[0].tokens > 0')" "true"
    EVENTS=$(sqlite3 "$DB" 'SELECT event FROM events ORDER BY seq' | tr '\n' ' ')
    expect_has "disk full on the logs: events still recorded in the database" "$EVENTS" "session_started"
    expect_has "disk full on the logs: ... to the end" "$EVENTS" "session_completed"
    expect_has "disk full on the logs: the failure itself is recorded" "$EVENTS" "log_write_failed"
    expect_eq "disk full on the logs: integrity" "$(sqlite3 "$DB" 'PRAGMA integrity_check')" "ok"
    # Each distinct warning once, not once per event (Journal::warn_once).
    DUPS=$(grep 'No space left on device' "$ERR" | sort | uniq -c | awk '$1 > 1' | head -3)
    expect_eq "disk full on the logs: each warning printed once, not per event" "$DUPS" ""
    [ "$mode" = tmpfs ] && { umount "$FULL" || umount -l "$FULL"; }
else
    bad_skip "disk full on the logs" "no tmpfs mount permission and no /dev/full"
fi

bad_finish
