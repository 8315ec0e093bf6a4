#!/usr/bin/env bash
# Install the pinned Claude Code CLI into <repo>/.deps/npm (gitignored).
#
# Why pinned: the registry's `latest` may require a newer node than the machine
# has, and the e2e tests depend on the CLI's exact wire behaviour. Bump
# CLAUDE_VERSION deliberately, then rerun tests/e2e/check_real_claude.sh.
#
# Idempotent and fast: if .deps/npm/node_modules/.bin/claude --version already
# reports the pinned version, nothing is downloaded.
#
# Usage: scripts/install-claude.sh            (prints the binary path on the last line)
# Env:   CLAUDE_VERSION  override the pinned version (default 2.1.197)
set -euo pipefail

CLAUDE_VERSION="${CLAUDE_VERSION:-2.1.197}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="$ROOT/.deps/npm"
BIN="$PREFIX/node_modules/.bin/claude"

die() { echo "install-claude: error: $*" >&2; exit 1; }

installed_version() {
  # `claude --version` prints e.g. "2.1.197 (Claude Code)".
  [ -x "$BIN" ] || return 1
  "$BIN" --version 2>/dev/null | awk 'NR==1{print $1}'
}

if [ "$(installed_version || true)" = "$CLAUDE_VERSION" ]; then
  echo "install-claude: claude $CLAUDE_VERSION already installed"
  echo "$BIN"
  exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm not found on PATH (Node.js with npm is required)"
command -v node >/dev/null 2>&1 || die "node not found on PATH"

echo "install-claude: installing @anthropic-ai/claude-code@$CLAUDE_VERSION into $PREFIX (node $(node --version))" >&2
mkdir -p "$PREFIX"
# --no-save/--no-package-lock: .deps is a cache, not a project; keep it free of
# manifests that could pin a different version on the next run.
# The postinstall script (install.cjs) must run: it links the native binary.
start=$(date +%s)
if ! npm install --prefix "$PREFIX" --no-save --no-package-lock --no-audit --no-fund \
      --loglevel=error "@anthropic-ai/claude-code@$CLAUDE_VERSION" >&2; then
  die "npm install of @anthropic-ai/claude-code@$CLAUDE_VERSION failed (network/registry?)"
fi

got="$(installed_version || true)"
[ -n "$got" ] || die "installed, but $BIN is missing or does not run (did the postinstall script link the native binary?)"
[ "$got" = "$CLAUDE_VERSION" ] || die "installed, but $BIN --version reports '$got', expected $CLAUDE_VERSION"

echo "install-claude: claude $got installed in $(( $(date +%s) - start )) s"
echo "$BIN"
