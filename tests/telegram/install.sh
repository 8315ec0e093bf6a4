#!/usr/bin/env bash
# Install the pinned Bot API emulator `telegram-test-api` into <repo>/.deps/npm-telegram
# (gitignored), for the Telegram bot tests (tests/telegram/emulator.js).
#
# Why a sibling prefix and not .deps/npm: `npm install --no-save X` into a prefix
# without a package.json removes every package it did not just install (npm 7+
# "prunes extraneous"), so installing here would delete the pinned claude CLI,
# and the next install-claude.sh run would delete this package in turn.
#
# Idempotent and fast: if the pinned version is installed and loads (its
# dependencies too), npm is not run.
#
# Usage: tests/telegram/install.sh       (prints the package directory on the last line)
# Env:   TELEGRAM_TEST_API_VERSION  override the pinned version (default 4.2.1)
set -euo pipefail

TELEGRAM_TEST_API_VERSION="${TELEGRAM_TEST_API_VERSION:-4.2.1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PREFIX="$ROOT/.deps/npm-telegram"
PKG="$PREFIX/node_modules/telegram-test-api"

die() { echo "install-telegram-test-api: error: $*" >&2; exit 1; }

command -v node >/dev/null 2>&1 || die "node not found on PATH"

installed_version() {
  [ -f "$PKG/package.json" ] || return 1
  # require() the package itself, so a half-installed tree (missing express...) counts as absent
  node -e 'require(process.argv[1]); process.stdout.write(require(process.argv[1] + "/package.json").version)' \
    "$PKG" 2>/dev/null
}

if [ "$(installed_version || true)" = "$TELEGRAM_TEST_API_VERSION" ]; then
  echo "install-telegram-test-api: telegram-test-api $TELEGRAM_TEST_API_VERSION already installed"
  echo "$PKG"
  exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm not found on PATH (Node.js with npm is required)"

echo "install-telegram-test-api: installing telegram-test-api@$TELEGRAM_TEST_API_VERSION into $PREFIX" >&2
mkdir -p "$PREFIX"
start=$(date +%s)
# Same flags as scripts/install-claude.sh: .deps is a cache, not a project.
if ! npm install --prefix "$PREFIX" --no-save --no-package-lock --no-audit --no-fund \
      --loglevel=error "telegram-test-api@$TELEGRAM_TEST_API_VERSION" >&2; then
  die "npm install of telegram-test-api@$TELEGRAM_TEST_API_VERSION failed (network/registry?)"
fi

got="$(installed_version || true)"
[ "$got" = "$TELEGRAM_TEST_API_VERSION" ] || die "installed, but $PKG reports version '$got' or does not load"

echo "install-telegram-test-api: telegram-test-api $got installed in $(( $(date +%s) - start )) s"
echo "$PKG"
