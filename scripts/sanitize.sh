#!/usr/bin/env bash
# The test suite under AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   bash scripts/sanitize.sh               every test
#   bash scripts/sanitize.sh --quick       host_tests and the webhook fuzz test
#   bash scripts/sanitize.sh -R cli_serve  any other ctest arguments
#
# Builds build-asan (RelWithDebInfo, -DORCH_SANITIZE=address,undefined; ccache
# makes rebuilds cheap) and runs ctest there. Every process writes its
# sanitizer report to build-asan/sanitizer/ (log_path), so a finding in a
# background server, an agent or a process a test kills is not lost in a
# test's output: the script fails when any report was written, and prints
# them. Assumes scripts/setup.sh has run once (packages, .deps).
#
# Environment: ORCH_SANITIZE (default address,undefined), ORCH_ASAN_BUILD
# (default build-asan), ORCH_TEST_JOBS (ctest -j, default 2), ORCH_BUILD_JOBS
# (default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${ORCH_ASAN_BUILD:-build-asan}
case $build in /*) ;; *) build=$root/$build ;; esac

quick=0
args=()
for a in "$@"; do
    if [ "$a" = --quick ]; then quick=1; else args+=("$a"); fi
done
# the webhook fuzz test is cli_serve_fuzz (tests/cli/serve_fuzz.sh); the
# regex still matches host_tests alone when it is absent
[ $quick = 1 ] && args=(-R '^(host_tests|cli_serve_fuzz)$' "${args[@]}")

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORCH_SANITIZE="${ORCH_SANITIZE:-address,undefined}" >/dev/null
cmake --build "$build" -j"${ORCH_BUILD_JOBS:-$(nproc)}" 2>&1 |
    grep -vE '^\[ *[0-9]+%\]|^Consolidate|^Built target|Scanning|^-- ' || true
test -x "$build/orch-host" || { echo "sanitize: build failed" >&2; exit 1; }

reports=$build/sanitizer
rm -rf "$reports"
mkdir -p "$reports"
# Leak detection is on with no suppressions: the whole suite exits without a
# leak report (processes that end by SIGKILL or _Exit are not checked).
# exitcode 99 (ASan) and 98 (UBSan): a finding fails the test that hit it;
# abort_on_error=0: an exit code, not SIGABRT and a core file.
export ASAN_OPTIONS="log_path=$reports/asan:exitcode=99:abort_on_error=0:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1:exitcode=98"

rc=0
(cd "$build" && ctest --output-on-failure --timeout 1800 -j"${ORCH_TEST_JOBS:-2}" "${args[@]}") || rc=$?

found=$(find "$reports" -type f | sort)
if [ -n "$found" ]; then
    echo
    echo "sanitize: $(echo "$found" | wc -l) report(s) in $reports:"
    for f in $found; do
        echo "=== $f"
        head -n 40 "$f"
    done
    rc=1
fi
[ $rc = 0 ] && echo "sanitize: clean (${ORCH_SANITIZE:-address,undefined})"
exit $rc
