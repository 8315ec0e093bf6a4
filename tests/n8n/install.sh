#!/usr/bin/env bash
# Install the pinned n8n into a cache outside the clone, for the n8n flow test
# (tests/n8n/flows.sh). The install is about 2 GB and takes minutes cold, so it
# lives in ${ORCH_N8N_CACHE:-$HOME/.cache/orch-host/n8n-<version>} and is shared
# by every clone and worktree.
#
# The prefix has its own package.json: n8n-nodes-base depends on `xlsx` through a
# tarball URL outside the npm registry, which fails offline and behind registry
# mirrors; the `overrides` entry takes the registry's xlsx instead (only the
# Spreadsheet File node uses it). n8n's sqlite3 is compiled by node-gyp, which
# needs the Node headers: nodedir=/usr when they are in /usr/include/node.
#
# Idempotent and fast: if the pinned version is installed and its CLI loads,
# npm is not run.
#
# Usage: tests/n8n/install.sh     (prints the n8n executable on the last line)
# Env:   ORCH_N8N_VERSION  the pinned version (default 2.8.4, the newest for Node 20)
#        ORCH_N8N_CACHE    the install prefix
set -euo pipefail

N8N_VERSION="${ORCH_N8N_VERSION:-2.8.4}"
PREFIX="${ORCH_N8N_CACHE:-$HOME/.cache/orch-host/n8n-$N8N_VERSION}"
BIN="$PREFIX/node_modules/.bin/n8n"

die() { echo "install-n8n: error: $*" >&2; exit 1; }

command -v node >/dev/null 2>&1 || die "node not found on PATH"

installed_version() {
  [ -x "$BIN" ] || return 1
  "$BIN" --version 2>/dev/null | tail -n 1
}

if [ "$(installed_version || true)" = "$N8N_VERSION" ]; then
  echo "install-n8n: n8n $N8N_VERSION already installed in $PREFIX" >&2
  echo "$BIN"
  exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm not found on PATH (Node.js with npm is required)"

mkdir -p "$PREFIX"
# One install at a time per prefix (setup.sh may start it while a test waits).
exec 9>"$PREFIX/.install.lock"
flock 9
if [ "$(installed_version || true)" = "$N8N_VERSION" ]; then
  echo "$BIN"
  exit 0
fi

cat > "$PREFIX/package.json" <<JSON
{
  "name": "orch-host-n8n-cache",
  "private": true,
  "dependencies": { "n8n": "$N8N_VERSION" },
  "overrides": { "xlsx": "0.18.5" }
}
JSON

nodedir=()
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
  nodedir=(--nodedir=/usr)
fi

echo "install-n8n: installing n8n@$N8N_VERSION into $PREFIX (minutes when cold)" >&2
start=$(date +%s)
if ! npm install --prefix "$PREFIX" --no-package-lock --no-audit --no-fund \
      --loglevel=error "${nodedir[@]}" >&2; then
  die "npm install of n8n@$N8N_VERSION failed (network/registry? node-gyp for sqlite3?)"
fi

got="$(installed_version || true)"
[ "$got" = "$N8N_VERSION" ] || die "installed, but $BIN reports version '$got' or does not run"

echo "install-n8n: n8n $got installed in $(( $(date +%s) - start )) s" >&2
echo "$BIN"
