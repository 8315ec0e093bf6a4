#!/usr/bin/env bash
# `orch-host validate-artifacts [DIR|FILE]` and `orch-host clean artifacts
# --days N [--dry-run]` over artifacts lib/artifacts wrote
# (tests/cli/fixtures/artifacts_write.lua). validate: an empty folder, valid
# results (exit 0), one that breaks the schema and one that is not JSON
# (each violation as FILE: POINTER: MESSAGE, the count, exit 1), a folder
# given relative to the current one, one file, a symlink out of the folder
# (not read: a violation), no such folder (exit 2).
# clean: only results and summaries older than N days go (the reports and
# other files stay), --dry-run removes nothing, a bad or missing --days
# (exit 2, naming it); it needs no run lock; --days is refused for worktrees.
source "$(dirname "$0")/lib.bash"

WRITE=$ORCH_SRC/tests/cli/fixtures/artifacts_write.lua
write() { ART_NAME=$1 ART_STATUS=${2:-completed} orch test --no-state "$WRITE" >"$T/write.out" 2>&1 ||
    fail "writing $1: $(cat "$T/write.out")"; grep -q "^written " "$T/write.out" || fail "writing $1: $(cat "$T/write.out")"; }
run() { "$@" >"$T/out" 2>"$T/err"; echo $? >"$T/rc"; }
rc_is() { expect_eq "$(cat "$T/rc")" "$1" "$2: exit code (stdout: $(cat "$T/out"); stderr: $(cat "$T/err"))"; }
out_has() { grep -qF -- "$1" "$T/out" || fail "$2: stdout does not say '$1':\n$(cat "$T/out")"; }
out_lacks() { ! grep -qF -- "$1" "$T/out" || fail "$2: stdout says '$1':\n$(cat "$T/out")"; }
err_has() { grep -qF -- "$1" "$T/err" || fail "$2: stderr does not say '$1':\n$(cat "$T/err")"; }
R=$T/results S=$T/summaries

# --- validate-artifacts
run orch validate-artifacts
rc_is 0 "no results yet"
out_has "no *_result.json in $R" "no results yet"
ORCH_RESULTS_DIR=$T/none run orch validate-artifacts
rc_is 0 "no results folder yet"
out_has "no *_result.json in $T/none (it does not exist yet)" "no results folder yet"

write fix-login
write crash failed
expect_eq "$(head -n 1 "$S/crash_summary.txt")" "task crash 'Task crash': failed, cost \$0.0020, summary by plain" \
    "the summary's header"
run orch validate-artifacts
rc_is 0 "two valid results"
out_has "2 results checked against docs/schema/task-result.schema.json: all valid" "two valid results"

python3 - "$R/crash_result.json" "$R/bad_result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["tokens"]["input"] = "many"
r["started_at"] = "yesterday"
del r["error"]
r["extra"] = 1
json.dump(r, open(sys.argv[2], "w"))
PY
printf '{ "status": ' >"$R/broken_result.json"
echo "# a report, not a result" >"$R/2026-12-01-report.md"
run orch validate-artifacts
rc_is 1 "a result that breaks the schema"
out_has "$R/bad_result.json: /error: required property missing" "the missing property"
out_has "$R/bad_result.json: /extra: property not allowed (not in the schema's properties)" "the extra property"
out_has "$R/bad_result.json: /started_at: expected a date-time (RFC 3339, as 2026-12-01T09:30:00Z), got \"yesterday\"" \
    "the bad time"
out_has "$R/bad_result.json: /tokens/input: expected integer or null, got string" "the bad count"
out_has "$R/broken_result.json: not JSON: " "the broken file"
out_has "4 results checked against docs/schema/task-result.schema.json: 2 invalid (5 violations)" "the count line"
grep -q "report" "$T/out" && fail "the report is not a result: $(cat "$T/out")"
grep -q "fix-login\|crash_result" "$T/out" && fail "valid results have no lines: $(cat "$T/out")"

(cd "$T" && "$ORCH_HOST" --root "$ORCH_SRC" validate-artifacts results >"$T/out" 2>"$T/err"; echo $? >"$T/rc")
rc_is 1 "a folder relative to the current one"
out_has "results/bad_result.json: /extra: " "a folder relative to the current one: its files as given"

run orch validate-artifacts "$R/fix-login_result.json"
rc_is 0 "one valid file"
out_has "1 result checked" "one valid file"
run orch validate-artifacts "$R/broken_result.json"
rc_is 1 "one broken file"
out_has "$R/broken_result.json: not JSON: " "one broken file"

# a result that is a symlink out of the folder is not read (its target is no
# result of ours: a violation naming the file, never what the target holds);
# one to a result in the folder is read as that result
rm -f "$R/bad_result.json" "$R/broken_result.json"
printf '{ "started_at": "SECRET-TEXT" }\n' >"$T/secret.json"
ln -s "$T/secret.json" "$R/leak_result.json"
ln -s fix-login_result.json "$R/alias_result.json"
run orch validate-artifacts
rc_is 1 "a symlink out of the results folder"
out_has "$R/leak_result.json: a symlink to $T/secret.json, outside the folder $(realpath "$R"): not read" \
    "a symlink out of the results folder"
grep -q "SECRET\|alias" "$T/out" && fail "what the symlink leads to is read: $(cat "$T/out")"
out_has "4 results checked against docs/schema/task-result.schema.json: 1 invalid (1 violation)" "the count with links"
run orch validate-artifacts "$R/leak_result.json"
rc_is 1 "the one symlink out of its folder"
out_has "$R/leak_result.json: a symlink to $T/secret.json" "the one symlink out of its folder"
grep -q "SECRET" "$T/out" && fail "what the one symlink leads to is read: $(cat "$T/out")"
rm -f "$R/leak_result.json" "$R/alias_result.json"

run orch validate-artifacts "$T/nope"
rc_is 2 "no such folder"
err_has "orch-host validate-artifacts: $T/nope: no such folder or file" "no such folder"
run orch validate-artifacts "$R" extra
rc_is 2 "an extra argument"
err_has "extra" "an extra argument"

# --- clean artifacts
rm -f "$R/bad_result.json" "$R/broken_result.json"
write recent
old='10 days ago'
touch -d "$old" "$R/fix-login_result.json" "$S/fix-login_summary.txt" "$R/crash_result.json" \
    "$R/2026-12-01-report.md"
echo keep >"$S/notes.txt" && touch -d "$old" "$S/notes.txt"

for bad in "" "--days 0" "--days abc" "--days 1.5" "--days=-3"; do
    # shellcheck disable=SC2086
    run orch clean artifacts $bad
    rc_is 2 "clean artifacts ${bad:-without --days}"
    err_has "orch-host clean artifacts: --days" "clean artifacts ${bad:-without --days}: names --days"
done
run orch clean artifacts --days 3 --force
rc_is 2 "clean artifacts --force"
err_has "orch-host clean artifacts: --force is not one of its flags (clean artifacts --days N [--dry-run])" \
    "clean artifacts --force"
# each target's flags are lib/clean_args' one table: what a target does not take is refused, host or not
for cmd in "tasks --days 5" "tasks --force --dry-run" "artifacts --days 30 --all" "agents --days 3 --force"; do
    # shellcheck disable=SC2086
    run orch clean $cmd
    rc_is 2 "clean $cmd"
    err_has "is not one of its flags" "clean $cmd"
done

# a task's result and summary go or stay together, by the newer of the two:
# crash's result is old but its summary is not, so both stay
run orch clean artifacts --days 3 --dry-run
rc_is 0 "--dry-run"
out_has "would remove $R/fix-login_result.json" "--dry-run"
out_has "would remove $S/fix-login_summary.txt" "--dry-run"
out_lacks "crash_" "--dry-run: a pair with a recent half stays"
out_has "would remove 2 files older than 3 days (in $R, $S); --dry-run: nothing removed" "--dry-run: the count"
expect_eq "$(ls "$R" "$S" | grep -c '_result.json\|_summary.txt')" 6 "--dry-run removed nothing"

run orch clean artifacts --days 3
rc_is 0 "clean artifacts --days 3"
out_has "removed $R/fix-login_result.json" "clean"
out_has "removed $S/fix-login_summary.txt" "clean"
out_has "removed 2 files older than 3 days (in $R, $S)" "clean: the count"
expect_eq "$(cd "$R" && ls | tr '\n' ' ')" "2026-12-01-report.md crash_result.json recent_result.json " \
    "clean: left in results (crash's result: its summary is recent)"
expect_eq "$(cd "$S" && ls | tr '\n' ' ')" "crash_summary.txt notes.txt recent_summary.txt " "clean: left in summaries"

run flock "$ORCH_STATE_DB.lock" "$ORCH_HOST" --root "$ORCH_SRC" clean artifacts --days 3
rc_is 0 "clean again, while a run holds the run lock"
out_has "nothing older than 3 days (in $R, $S)" "clean again"

run orch clean worktrees --days 3
rc_is 2 "clean worktrees --days"
err_has "orch-host clean worktrees: --days is not one of its flags (clean worktrees [--force] [--dry-run])" \
    "clean worktrees --days"
run orch clean bogus
rc_is 2 "clean of an unknown target"
err_has "clean artifacts --days N" "clean of an unknown target names the artifacts target"
# refused for what it is, not for the run lock a host holds
run flock "$ORCH_STATE_DB.lock" "$ORCH_HOST" --root "$ORCH_SRC" clean bogus
rc_is 2 "clean of an unknown target beside a host"
err_has "unknown target 'bogus'" "clean of an unknown target beside a host"
run flock "$ORCH_STATE_DB.lock" "$ORCH_HOST" --root "$ORCH_SRC" clean worktrees --days 3
rc_is 2 "clean worktrees --days beside a host"
note PASS
