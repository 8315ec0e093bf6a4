#!/usr/bin/env bash
# The whole test suite: set up (idempotent), build, and run every test through
# ctest (doctest for C++, Lua specs inside orch-host, CLI scenarios with the
# stand-in claude, and the end-to-end test with the real claude CLI), after
# a short sanitizer pass.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# First the C++ unit tests and the webhook fuzz under AddressSanitizer and
# UBSan (build-asan; the whole suite that way: bash scripts/sanitize.sh), so
# that the main run's summary ends the output. ORCH_SKIP_SANITIZE=1 leaves
# them out; so do ctest arguments (a subset run).
sanitize_rc=0
if [ "${ORCH_SKIP_SANITIZE:-0}" != 1 ] && [ $# -eq 0 ]; then
  bash scripts/sanitize.sh --quick || sanitize_rc=$?
fi
(cd build && ctest --output-on-failure --timeout 900 -j"${ORCH_TEST_JOBS:-2}" "$@")
[ "$sanitize_rc" = 0 ] || { echo "test: the sanitizer pass failed (above)" >&2; exit "$sanitize_rc"; }
