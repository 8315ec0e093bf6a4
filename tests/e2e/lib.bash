# tests/e2e/lib.bash: how every end-to-end test with the real claude CLI starts
# (sourced, with E2E_NAME set to the test's name): ROOT, ORCH_HOST (ctest sets
# it and ORCH_SRC), CLAUDE (the pinned CLI in .deps, or CLAUDE_BIN: another
# one, e.g. the latest), fail and info, the pinned claude installed by
# scripts/install-claude.sh when it is missing (the test FAILS, never skips,
# when that does not work), and scripts/offline-model.sh: the fake Messages API.
ROOT="${ORCH_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
ORCH_HOST="${ORCH_HOST:-$ROOT/build/orch-host}"
CLAUDE="${CLAUDE_BIN:-$ROOT/.deps/npm/node_modules/.bin/claude}"

fail() { echo "FAIL: $*" >&2; exit 1; }
info() { echo "$E2E_NAME: $*"; }

[ -x "$ORCH_HOST" ] || fail "orch-host not found at $ORCH_HOST (build it, or set ORCH_HOST)"
command -v node >/dev/null || fail "node not found on PATH"
if [ ! -x "$CLAUDE" ]; then
  info "the pinned claude is missing: running scripts/install-claude.sh"
  bash "$ROOT/scripts/install-claude.sh" >&2 || fail "scripts/install-claude.sh could not install the claude CLI"
fi
[ -x "$CLAUDE" ] || fail "claude still missing at $CLAUDE after scripts/install-claude.sh"

# shellcheck source=scripts/offline-model.sh
source "$ROOT/scripts/offline-model.sh"
