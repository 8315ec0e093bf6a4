#!/usr/bin/env bash
# Smoke check: the REAL `claude` CLI (pinned, from scripts/install-claude.sh) runs
# fully offline against tests/e2e/fake_messages_api.js and really edits files.
#
#   1. one agent: Write {{cwd}}/hello.txt, then "done"; asserts the file, exit 0,
#      result is_error false, total_cost_usd > 0, and what the CLI sent.
#   2. two agents on ONE fake server, routed by prompt substrings; each run in its
#      own scratch repo gets only its own file. Then `--resume` of the first run
#      continues that agent's turn cursor.
#
# Exit 0 on success; non-zero with "FAIL: <reason>" otherwise.
# Env: CLAUDE_BIN (default <repo>/.deps/npm/node_modules/.bin/claude),
#      KEEP_TMP=1 keeps the scratch directory for inspection.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLAUDE="${CLAUDE_BIN:-$ROOT/.deps/npm/node_modules/.bin/claude}"
FAKE="$ROOT/tests/e2e/fake_messages_api.js"

fail() { echo "FAIL: $*" >&2; exit 1; }
info() { echo "check_real_claude: $*"; }

[ -x "$CLAUDE" ] || fail "claude not found at $CLAUDE (run scripts/install-claude.sh)"
command -v node >/dev/null || fail "node not found on PATH"
command -v git >/dev/null || fail "git not found on PATH"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/check_real_claude.XXXXXX")"
FAKE_PID=""

stop_fake() {
  if [ -n "$FAKE_PID" ]; then
    kill "$FAKE_PID" 2>/dev/null || true
    wait "$FAKE_PID" 2>/dev/null || true
    FAKE_PID=""
  fi
}
cleanup() {
  local rc=$?
  stop_fake
  # Keep the scratch on a real failure (rc 1) for inspection, not on a signal.
  if [ "${KEEP_TMP:-0}" = 1 ] || [ $rc -eq 1 ]; then
    echo "check_real_claude: scratch kept in $TMP" >&2
  else
    rm -rf "$TMP"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_fake SCRIPT LOG: starts the fake, sets FAKE_PID and PORT.
start_fake() {
  local script="$1" log="$2" out="$TMP/fake.$RANDOM.out"
  : >"$out"
  node "$FAKE" --script "$script" --log "$log" >"$out" 2>>"$TMP/fake.err" &
  FAKE_PID=$!
  local _
  for _ in $(seq 1 200); do
    if grep -q '^LISTENING ' "$out"; then
      PORT="$(awk '/^LISTENING /{print $2; exit}' "$out")"
      return 0
    fi
    kill -0 "$FAKE_PID" 2>/dev/null || fail "fake server exited early: $(cat "$TMP/fake.err")"
    sleep 0.05
  done
  fail "fake server did not print LISTENING within 10 s"
}

# new_repo NAME: a scratch git repo, path on stdout.
new_repo() {
  local d="$TMP/$1"
  mkdir -p "$d"
  git -C "$d" init -q
  echo "$d"
}

# run_claude DIR PROMPT OUT [extra claude args...]: runs claude with the prompt on stdin.
run_claude() {
  local dir="$1" prompt="$2" out="$3"
  shift 3
  local t0 t1 rc=0
  t0=$(date +%s.%N)
  (
    cd "$dir"
    printf '%s' "$prompt" | env \
      -u ANTHROPIC_AUTH_TOKEN -u CLAUDE_CODE_USE_BEDROCK -u CLAUDE_CODE_USE_VERTEX -u ANTHROPIC_MODEL \
      ANTHROPIC_BASE_URL="http://127.0.0.1:$PORT" \
      ANTHROPIC_API_KEY=test \
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
      DISABLE_TELEMETRY=1 \
      DISABLE_AUTOUPDATER=1 \
      CLAUDE_CODE_MAX_RETRIES=0 \
      CLAUDE_CONFIG_DIR="$TMP/claude-config" \
      IS_SANDBOX=1 \
      timeout 120 "$CLAUDE" -p --output-format stream-json --verbose --permission-mode acceptEdits "$@"
  ) >"$out" 2>"$out.err" || rc=$?
  t1=$(date +%s.%N)
  info "$(basename "$out"): claude exit $rc in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s"
  [ $rc -eq 0 ] || fail "claude exited $rc for $out; stderr: $(head -c 2000 "$out.err"); stdout tail: $(tail -c 2000 "$out")"
}

# check_result OUT EXPECTED_RESULT_TEXT: asserts the stream-json result line; prints session_id.
check_result() {
  node -e '
    const fs = require("fs");
    const [file, want] = process.argv.slice(1);
    const lines = fs.readFileSync(file, "utf8").split("\n").filter(Boolean);
    const objs = lines.map((l) => { try { return JSON.parse(l); } catch (e) { return null; } });
    if (objs.some((o) => o === null)) { console.error("non-JSON line in " + file); process.exit(1); }
    const res = objs.filter((o) => o.type === "result").pop();
    const bad = (m) => { console.error(file + ": " + m + "\nresult: " + JSON.stringify(res)); process.exit(1); };
    if (!res) bad("no result line");
    if (res.is_error !== false) bad("is_error is not false");
    if (!(res.total_cost_usd > 0)) bad("total_cost_usd is not > 0");
    if (want && res.result !== want) bad("result text is " + JSON.stringify(res.result) + ", want " + JSON.stringify(want));
    if ((res.permission_denials || []).length) bad("permission_denials not empty");
    const init = objs.find((o) => o.type === "system" && o.subtype === "init");
    if (!init) bad("no system/init line");
    console.error("  result: is_error=" + res.is_error + " cost=$" + res.total_cost_usd + " turns=" + res.num_turns +
      " tokens in/out=" + res.usage.input_tokens + "/" + res.usage.output_tokens + " duration_ms=" + res.duration_ms +
      " version=" + init.claude_code_version + " model=" + init.model);
    process.stdout.write(res.session_id);
  ' "$1" "${2:-}" || fail "bad result in $1"
}

# check_file PATH CONTENT
check_file() {
  [ -f "$1" ] || fail "expected file $1 was not written"
  [ "$(cat "$1")" = "$2" ] || fail "file $1 has content '$(cat "$1")', want '$2'"
}

# check_log LOG NODE_EXPR: asserts a JS predicate over `reqs` (parsed log lines).
check_log() {
  node -e '
    const fs = require("fs");
    const reqs = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const ok = eval(process.argv[2]);
    if (!ok) { console.error("log check failed: " + process.argv[2] + "\n" + reqs.map((r) => JSON.stringify(r)).join("\n")); process.exit(1); }
  ' "$1" "$2" || fail "fake log assertion failed: $2"
}

START=$(date +%s.%N)
info "$("$CLAUDE" --version) at $CLAUDE"

# ---------------------------------------------------------------------------
info "1. one agent: Write {{cwd}}/hello.txt, then done"
cat >"$TMP/one.json" <<'EOF'
{"agents": [
  {"name": "hello", "turns": [
    [{"text": "I'll create the file."},
     {"tool_use": {"name": "Write", "input": {"file_path": "{{cwd}}/hello.txt", "content": "hello from the fake model\n"}}}],
    [{"text": "done"}]
  ]}
]}
EOF
start_fake "$TMP/one.json" "$TMP/one.log"
REPO1="$(new_repo one)"
run_claude "$REPO1" "Create hello.txt containing a greeting." "$TMP/one.out"
check_result "$TMP/one.out" "done" >/dev/null
check_file "$REPO1/hello.txt" "hello from the fake model"
# The main loop asked twice (turn 0, turn 1), with tools, on /v1/messages?beta=true;
# the second request carried a successful tool_result; nothing unrouted.
check_log "$TMP/one.log" '
  const main = reqs.filter((r) => r.path.startsWith("/v1/messages") && !r.side);
  main.length === 2 && main[0].turn === 0 && main[1].turn === 1 &&
  main.every((r) => r.agent === "hello" && r.has_tools && r.stream && r.path === "/v1/messages?beta=true") &&
  main[0].cwd !== null &&
  main[1].tool_results.length === 1 && main[1].tool_results[0].is_error === false &&
  !reqs.some((r) => r.kind === "unknown" || r.kind === "no_agent")'
stop_fake

# ---------------------------------------------------------------------------
info "2. two agents on one server, routed by prompt substring; then --resume"
cat >"$TMP/two.json" <<'EOF'
{"agents": [
  {"name": "alpha", "match": "ALPHA-TASK", "turns": [
    [{"tool_use": {"name": "Write", "input": {"file_path": "{{cwd}}/alpha.txt", "content": "alpha\n"}}}],
    [{"text": "alpha done"}],
    [{"tool_use": {"name": "Write", "input": {"file_path": "{{cwd}}/alpha-resumed.txt", "content": "alpha again\n"}}}],
    {"blocks": [{"text": "alpha resumed done"}], "usage": {"input_tokens": 5000, "output_tokens": 12}}
  ]},
  {"name": "beta", "match": "BETA-TASK", "turns": [
    [{"tool_use": {"name": "Write", "input": {"file_path": "{{cwd}}/beta.txt", "content": "beta\n"}}}],
    [{"text": "beta done"}]
  ]}
]}
EOF
start_fake "$TMP/two.json" "$TMP/two.log"
REPO_A="$(new_repo alpha)"
REPO_B="$(new_repo beta)"
# Beta first: routing must not depend on the order of the agents or of the runs.
run_claude "$REPO_B" "Please do the BETA-TASK now." "$TMP/beta.out"
check_result "$TMP/beta.out" "beta done" >/dev/null
run_claude "$REPO_A" "Please do the ALPHA-TASK now." "$TMP/alpha.out"
SID_A="$(check_result "$TMP/alpha.out" "alpha done")"
check_file "$REPO_B/beta.txt" "beta"
check_file "$REPO_A/alpha.txt" "alpha"
if [ -e "$REPO_A/beta.txt" ] || [ -e "$REPO_B/alpha.txt" ]; then fail "a file landed in the wrong repo"; fi
# Resume alpha's session from the same cwd: the fake continues alpha's cursor at turn 2.
run_claude "$REPO_A" "continue" "$TMP/alpha-resume.out" --resume "$SID_A"
SID_A2="$(check_result "$TMP/alpha-resume.out" "alpha resumed done")"
[ "$SID_A2" = "$SID_A" ] || info "note: resumed run reports session_id $SID_A2 (was $SID_A)"
check_file "$REPO_A/alpha-resumed.txt" "alpha again"
check_log "$TMP/two.log" '
  const main = reqs.filter((r) => r.path.startsWith("/v1/messages") && !r.side);
  const seq = main.map((r) => r.agent + ":" + r.turn).join(",");
  seq === "beta:0,beta:1,alpha:0,alpha:1,alpha:2,alpha:3" &&
  !reqs.some((r) => r.kind === "unknown" || r.kind === "no_agent")'
stop_fake

info "OK in $(awk -v a="$START" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
