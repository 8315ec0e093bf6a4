#!/usr/bin/env bash
# Set-up for a fresh Debian 12 machine: system packages, the pinned claude CLI
# (npm, for the end-to-end tests and the demo), the test tools (the Bot API
# emulator, n8n), and the cmake build.
# Idempotent and quick when nothing changed: packages already present are not
# reinstalled, npm is skipped when the pinned version is there, and the build
# is incremental (ccache).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake make pkg-config ccache git python3 sqlite3
          libluajit2-5.1-dev libcpp-httplib-dev nlohmann-json3-dev libspdlog-dev
          doctest-dev libsqlite3-dev libssl-dev libcli11-dev
          libyaml-dev # orch.yaml.decode (the YAML task file)
          curl jq   # the shell tests' HTTP client and JSON reader
          lua-check # luacheck: tests/cli/luacheck.sh
          wrk       # bench/serve.sh (the webhook server benchmark)
          hyperfine # bench/run.sh's start-up bar (without it, a timed shell loop)
          valgrind  # bench/dag_instr.sh (instructions per task, callgrind)
          luajit2)  # /usr/bin/luajit, bench/run.sh's start-up baseline: the interpreter
                    # of the build's OpenResty LuaJIT (Debian's `luajit` conflicts with
                    # libluajit2-5.1-dev and would remove it)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "${ORCH_SKIP_NPM:-0}" != 1 ]; then
  bash scripts/install-claude.sh >/dev/null
  bash tests/telegram/install.sh >/dev/null   # Bot API emulator for tests/telegram
  # n8n for tests/n8n (about 2 GB, minutes the first time; cached outside the clone)
  [ "${ORCH_SKIP_N8N:-0}" = 1 ] || bash tests/n8n/install.sh >/dev/null
fi

build_type=${CMAKE_BUILD_TYPE:-RelWithDebInfo}
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
fi
cmake --build build -j"$(nproc)" 2>&1 | grep -vE '^\[ *[0-9]+%\]|^Consolidate|^Built target|Scanning|^-- ' || true
test -x build/orch-host || { echo "setup: build failed" >&2; exit 1; }
echo "setup: ready (build/orch-host)"
