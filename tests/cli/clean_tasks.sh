#!/usr/bin/env bash
# orch-host clean tasks [--all] [--dry-run]: loose inbox task files whose id
# and content the ledger has as processed move to processed/ (never over an
# earlier file), each move said and counted; --dry-run moves nothing; --all
# moves every task file, and is refused (exit 4) while a host runs, when the
# plain form still works; files that cannot move are exit 1, each named on
# stderr.
source "$(dirname "$0")/lib.bash"

export ORCH_TASKS_DIR=$T/tasks
mkdir -p "$ORCH_TASKS_DIR"
task_file() {  # task_file NAME ID PROMPT
    printf -- '---\nid: %s\ntype: fix\npriority: medium\n---\n# %s\n\n**Prompt:**\n%s\n' "$2" "$2" "$3" \
        >"$ORCH_TASKS_DIR/$1.task.md"
}
task_file a a "Do a."
task_file b b "Do b."
task_file c c "Do c."
printf -- '---\nid: [broken\n---\n**Prompt:**\nx\n' >"$ORCH_TASKS_DIR/bad.task.md"
echo "not a task file" >"$ORCH_TASKS_DIR/notes.md"

# the inbox processed a and b: they are in processed/ and the ledger
orch run "$ORCH_SRC/tests/cli/fixtures/inbox_processed.lua" "$ORCH_TASKS_DIR" completed a.task.md b.task.md \
    >"$T/fixture.out" 2>&1 || fail "the fixture did not process a and b: $(cat "$T/fixture.out")"
[ -f "$ORCH_TASKS_DIR/processed/a.task.md" ] || fail "a was not moved by the queue"
# loose copies: a as it was (processed), b edited since (not processed)
cp "$ORCH_TASKS_DIR/processed/a.task.md" "$ORCH_TASKS_DIR/a.task.md"
task_file b b "Do b, better."

orch clean tasks --dry-run >"$T/dry.out" 2>&1
expect_eq "$?" 0 "clean tasks --dry-run exit"
grep -q "would move $ORCH_TASKS_DIR/a.task.md to $ORCH_TASKS_DIR/processed/ (task a, completed at " "$T/dry.out" \
    || fail "dry run does not name a: $(cat "$T/dry.out")"
grep -q "^1 would move to $ORCH_TASKS_DIR/processed/, 3 left" "$T/dry.out" || fail "dry run count: $(cat "$T/dry.out")"
[ -f "$ORCH_TASKS_DIR/a.task.md" ] || fail "the dry run moved a"
[ ! -e "$ORCH_TASKS_DIR/processed/a.1.task.md" ] || fail "the dry run moved a"

# a host runs (a day waiting for approval holds the run lock)
task_md "$T/day.md" 1 "Needs a human" backend "Implement it. [key:l1]"
bg_run "$T/run.out" orch run daily.lua --tasks "$T/day.md" --no-input
wait_for sj_true "s['status'] == 'waiting_approval' and s['host_alive'] is True"

orch clean tasks --all >"$T/all1.out" 2>"$T/all1.err"
expect_eq "$?" 4 "clean tasks --all while a host runs: exit"
grep -q "a host is running" "$T/all1.err" || fail "--all while a host runs: no reason: $(cat "$T/all1.err")"
[ -f "$ORCH_TASKS_DIR/c.task.md" ] || fail "--all while a host runs moved c"

orch clean tasks >"$T/clean.out" 2>&1
expect_eq "$?" 0 "clean tasks beside a running host: exit"
grep -q "^moved $ORCH_TASKS_DIR/a.task.md -> $ORCH_TASKS_DIR/processed/a.1.task.md (task a, completed at " \
    "$T/clean.out" || fail "clean tasks does not say a moved: $(cat "$T/clean.out")"
grep -q "^1 moved to $ORCH_TASKS_DIR/processed/, 3 left (not processed; --all moves them too)" "$T/clean.out" \
    || fail "clean tasks count: $(cat "$T/clean.out")"
cmp -s "$ORCH_TASKS_DIR/processed/a.task.md" "$ORCH_TASKS_DIR/processed/a.1.task.md" || fail "a's copies differ"
for f in b c bad; do [ -f "$ORCH_TASKS_DIR/$f.task.md" ] || fail "$f.task.md moved without --all"; done

orch pause --by tester >/dev/null 2>&1 || fail "orch pause failed"
expect_eq "$(bg_wait "$T/run.out")" 3 "the day after pause"

orch clean tasks --all >"$T/all2.out" 2>&1
expect_eq "$?" 0 "clean tasks --all exit"
grep -q "^moved $ORCH_TASKS_DIR/b.task.md -> $ORCH_TASKS_DIR/processed/b.1.task.md (--all: task b changed since its last run)" \
    "$T/all2.out" || fail "--all does not say why b moved: $(cat "$T/all2.out")"
grep -qE "bad.task.md \(--all: invalid: $ORCH_TASKS_DIR/bad.task.md:[0-9]+" "$T/all2.out" \
    || fail "--all does not name bad's line: $(cat "$T/all2.out")"
grep -q "^3 moved to $ORCH_TASKS_DIR/processed/\$" "$T/all2.out" || fail "--all count: $(cat "$T/all2.out")"
[ -f "$ORCH_TASKS_DIR/notes.md" ] || fail "a file that is not a task file moved"
ls "$ORCH_TASKS_DIR"/*.task.md >/dev/null 2>&1 && fail "task files left after --all: $(ls "$ORCH_TASKS_DIR")"

orch clean tasks >"$T/none.out" 2>&1
expect_eq "$?" 0 "clean tasks with nothing to move: exit"
grep -q "^0 moved" "$T/none.out" || fail "nothing to move: $(cat "$T/none.out")"
# processed/ cannot take more files (immutable): exit 1, what was said and
# the count on stdout, each file that could not move on stderr
task_file d d "Do d."
task_file e e "Do e."
if chattr +i "$ORCH_TASKS_DIR/processed" 2>/dev/null; then
  orch clean tasks --all >"$T/stuck.out" 2>"$T/stuck.err"
  rc=$?
  chattr -i "$ORCH_TASKS_DIR/processed"
  expect_eq "$rc" 1 "clean tasks --all when nothing can move: exit"
  grep -q "^0 moved to $ORCH_TASKS_DIR/processed/, 2 could not move" "$T/stuck.out" \
      || fail "the count is not on stdout: $(cat "$T/stuck.out")"
  grep -q "^orch-host clean tasks: inbox: $ORCH_TASKS_DIR/d.task.md could not move to processed/: " "$T/stuck.err" \
      || fail "d's failure is not on stderr: $(cat "$T/stuck.err")"
  expect_eq "$(grep -c . "$T/stuck.err")" 2 "lines on stderr (one a file)"
  [ -f "$ORCH_TASKS_DIR/d.task.md" ] && [ -f "$ORCH_TASKS_DIR/e.task.md" ] || fail "a file that could not move is gone"
else
  echo "note: chattr +i is not available here; the cannot-move case is not run"
fi
# a server on --port 0 is named by the port it got, not 0
serve_start
orch clean tasks --all >"$T/all3.out" 2>"$T/all3.err"
expect_eq "$?" 4 "clean tasks --all while a server runs: exit"
grep -qF "a host is running (pid $SERVE_PID, serve on ${URL#http://})" "$T/all3.err" ||
    fail "the refusal does not name the server's port ($URL): $(cat "$T/all3.err")"
kill -TERM "$SERVE_PID"
bg_wait "$SERVE_OUT" >/dev/null
orch clean nothing >"$T/unknown.out" 2>&1
expect_eq "$?" 2 "clean of an unknown target: exit"
grep -q "clean tasks \[--all\] \[--dry-run\] archives processed task files" "$T/unknown.out" || fail "unknown target: $(cat "$T/unknown.out")"
note PASS
