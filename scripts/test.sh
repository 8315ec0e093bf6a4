#!/usr/bin/env bash
# The whole test suite: set up (idempotent), build, and run every test through
# ctest (doctest for C++, Lua specs inside orch-host, CLI scenarios with the
# stand-in claude, and the end-to-end test with the real claude CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cd build
ctest --output-on-failure --timeout 900 -j"${ORCH_TEST_JOBS:-2}" "$@"
