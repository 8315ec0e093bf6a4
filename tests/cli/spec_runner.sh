#!/usr/bin/env bash
# `orch-host test` fails a spec whose checks fail, however the spec ends: a
# failing test, a spec that runs itself and returns the count (`return
# T.run()`), one that returns false, one that raises or asserts outside a
# test, one with no tests. Each exits non-zero and names the spec on stderr;
# a good spec still passes, alone and next to a failing one.
source "$(dirname "$0")/lib.bash"

SPECS=$ORCH_SRC/tests/cli/fixtures/specs

# spec_run NAME...: runs the fixtures; sets RC and OUT (stdout and stderr)
spec_run() {
    local files=() n
    for n in "$@"; do files+=("$SPECS/$n.lua"); done
    OUT=$(orch test --no-state "${files[@]}" 2>&1)
    RC=$?
}

spec_run passes
check_eq "$RC" 0 "passes.lua: exit code"
check "passes.lua: reports its test" grep -q '^ok 1 - one is one' <<<"$OUT"

# fixture -> text its report must hold besides "not ok - .../fixture.lua"
declare -A WHY=(
    [failing_test]="expected 2 (number), got 1"
    [returns_run]="the spec returned 1"
    [returns_false]="the spec returned false"
    [raises]="the spec body raises"
    [asserts]="a top-level assert"
    [no_tests]="the spec defines no tests"
)
for f in "${!WHY[@]}"; do
    spec_run "$f"
    check "$f.lua: exits non-zero (got $RC)" test "$RC" -ne 0
    check "$f.lua: stderr names the spec" grep -q "^not ok - $SPECS/$f.lua" <<<"$OUT"
    check "$f.lua: says why (${WHY[$f]})" grep -qF "${WHY[$f]}" <<<"$OUT"
done

spec_run passes returns_false passes
check_eq "$RC" 1 "a failing spec between two good ones: exit code (one failure)"
finish
