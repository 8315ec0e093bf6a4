#!/usr/bin/env bash
# `orch-host create-sample [--dir DIR] [--force]`: writes sample.task.md in
# paths.tasks_dir (or DIR, made when missing; a relative DIR is from the
# current directory) and prints its path; the file loads as an inbox task
# (tests/cli/fixtures/sample_task_spec.lua). Bad input: a sample already
# there (exit 2 naming the file, the file unchanged; --force writes over it),
# a sample.task.md that is a folder, a DIR that cannot be made, an extra
# argument or an unknown flag (exit 2).
source "$(dirname "$0")/lib.bash"

cs() { orch create-sample "$@" >"$T/cs.out" 2>"$T/cs.err"; echo $? >"$T/cs.rc"; }
rc_is() { expect_eq "$(cat "$T/cs.rc")" "$1" "$2: exit code (stderr: $(cat "$T/cs.err"))"; }
err_has() { grep -qF -- "$1" "$T/cs.err" || fail "$2: stderr does not say '$1': $(cat "$T/cs.err")"; }
load_ok() {
    local out
    out=$(SAMPLE_FILE="$1" SAMPLE_DIR="$2" orch test --no-state "$ORCH_SRC/tests/cli/fixtures/sample_task_spec.lua" 2>&1) ||
        fail "$1 does not load as an inbox task:\n$out"
    grep -qE '^# ([0-9]+) tests, \1 passed, 0 failed' <<<"$out" || fail "sample_task_spec.lua:\n$out"
}

# --- the default folder: paths.tasks_dir
export ORCH_TASKS_DIR="$T/inbox"
cs
rc_is 0 "create-sample"
expect_eq "$(cat "$T/cs.out")" "$T/inbox/sample.task.md" "create-sample prints the path"
[ -s "$T/inbox/sample.task.md" ] || fail "no $T/inbox/sample.task.md"
load_ok "$T/inbox/sample.task.md" "$T/inbox"

# --- not over one that is there, unless --force
echo "my own" >"$T/inbox/sample.task.md"
cs
rc_is 2 "a sample already there"
err_has "orch-host create-sample: $T/inbox/sample.task.md exists (--force writes over it)" "a sample already there"
expect_eq "$(cat "$T/inbox/sample.task.md")" "my own" "the file is unchanged"
[ ! -s "$T/cs.out" ] || fail "refused, but printed: $(cat "$T/cs.out")"
cs --force
rc_is 0 "--force"
load_ok "$T/inbox/sample.task.md" "$T/inbox"

# --- --dir: made when missing; relative to the current directory
cs --dir "$T/new/deeper"
rc_is 0 "--dir DIR"
expect_eq "$(cat "$T/cs.out")" "$T/new/deeper/sample.task.md" "--dir DIR prints the path"
load_ok "$T/new/deeper/sample.task.md" "$T/new/deeper"
(cd "$T" && "$ORCH_HOST" --root "$ORCH_SRC" create-sample --dir rel/tasks >"$T/cs.out" 2>"$T/cs.err")
expect_eq "$(cat "$T/cs.out")" "$T/rel/tasks/sample.task.md" "a relative --dir"
load_ok "$T/rel/tasks/sample.task.md" "$T/rel/tasks"

# --- bad input
mkdir -p "$T/odd/sample.task.md"
cs --dir "$T/odd" --force
rc_is 2 "sample.task.md a folder"
err_has "$T/odd/sample.task.md exists and is not a file" "sample.task.md a folder"
echo x >"$T/plain-file"
cs --dir "$T/plain-file/tasks"
rc_is 2 "a DIR under a file"
err_has "orch-host create-sample: cannot write the sample: " "a DIR under a file"
err_has "$T/plain-file/tasks" "a DIR under a file"
cs --dir "$T/plain-file"
rc_is 2 "a DIR that is a file"
err_has "orch-host create-sample: cannot write the sample: $T/plain-file is not a folder" "a DIR that is a file"
cs extra
rc_is 2 "an extra argument"
err_has "unexpected argument extra" "an extra argument"
cs --overwrite
rc_is 2 "an unknown flag"
err_has "unknown flag --overwrite" "an unknown flag"
cs --dir
rc_is 2 "--dir without a value"

note "ok"
