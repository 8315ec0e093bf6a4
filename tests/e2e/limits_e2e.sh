#!/usr/bin/env bash
# End-to-end, with the REAL Claude Code CLI (pinned, .deps/npm) against the fake
# Messages API (tests/e2e/fake_messages_api.js):
#
#  1. A stalled stream. The model's first answer sends one text block and then
#     stops sending ({"stall": true}), leaving the response open. No stream line
#     comes for claude.stall_timeout (20 s here, CLAUDE_STALL_TIMEOUT_SEC; on a
#     loaded 2-core machine the CLI has taken over 10 s to print its first
#     line, a false stall that used up the one retry): the host stops the CLI's process tree, records agent_stalled with the last
#     line seen (the assistant text), and the retry policy runs it again
#     (orchestrator.retry_transient); the second run completes.
#  2. The usage limit. With a subscription token (CLAUDE_CODE_OAUTH_TOKEN, no
#     API key) the CLI reads the anthropic-ratelimit-unified-* response headers;
#     a 429 with `anthropic-ratelimit-unified-status: rejected`,
#     `-reset: <epoch>` and `-representative-claim: five_hour` makes it print a
#     `rate_limit_event` (status rejected, resetsAt, rateLimitType) and the
#     result "You've hit your session limit · resets ...". The task parks
#     (waiting_limit), one notification says when work resumes, and at that
#     time the same claude session continues (--resume <session_id>) and
#     completes. With an API key the CLI ignores those headers: a 429 is a
#     plain rate limit ("API Error: Request rejected (429)").
#
# Env (ctest sets both): ORCH_HOST (default <repo>/build/orch-host), ORCH_SRC.
# KEEP_TMP=1 keeps the scratch directory.
set -euo pipefail

E2E_NAME=limits_e2e
# shellcheck source=tests/e2e/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/limits_e2e.XXXXXX")"
orch() { "$ORCH_HOST" --root "$ROOT" --config "$TMP/config.lua" "$@"; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ $rc -ne 0 ]; then
    for f in "$TMP"/run-*.out; do echo "---- $f (tail)" >&2; tail -n 30 "$f" >&2 2>/dev/null || true; done
    echo "---- events ----" >&2; cut -c1-300 "$TMP/logs/events.ndjson" >&2 2>/dev/null || true
    echo "---- fake API log ----" >&2; cut -c1-300 "$TMP/fake.log" >&2 2>/dev/null || true
  fi
  offline_model_stop
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "limits_e2e: scratch kept in $TMP" >&2; else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

REPO="$TMP/repo"
mkdir -p "$REPO" "$TMP/state" "$TMP/logs" "$TMP/results" "$TMP/argv"
REPO="$(cd "$REPO" && pwd -P)"
git -C "$REPO" init -q
git -C "$REPO" -c user.name=e2e -c user.email=e2e@localhost -c commit.gpgsign=false commit -q --allow-empty -m init

task_file() {  # task_file FILE MARKER
  cat >"$1" <<EOF
# Tasks - 2025-11-20

## Task 1: $2
**Type:** backend
**Priority:** high
**Requires Approval:** false
**Description:** limits e2e
**Acceptance Criteria:**
- it answers

**Claude Instruction:**
$2: answer in one line.

---
EOF
}
task_file "$TMP/stall.md" E2E-STALL
task_file "$TMP/limit.md" E2E-LIMIT

cat >"$TMP/model.json" <<'EOF'
{"agents": [
  {"name": "stall", "match": "E2E-STALL", "turns": [
    [{"text": "Starting the work."}, {"stall": true}],
    [{"text": "done after the stall"}]
  ]},
  {"name": "limit", "match": "E2E-LIMIT", "turns": [
    {"http_error": 429, "message": "usage limit",
     "headers": {"anthropic-ratelimit-unified-status": "rejected",
                 "anthropic-ratelimit-unified-reset": "{{now+4}}",
                 "anthropic-ratelimit-unified-representative-claim": "five_hour"}},
    [{"text": "done after the limit"}]
  ]}
]}
EOF

{
  echo "local c = (function()"
  cat "$ROOT/workflows/config.lua"
  echo "end)()"
  echo "c.orchestrator = c.orchestrator or {}"
  echo "c.orchestrator.approval_mode = \"auto\""
  echo "c.orchestrator.limit_jitter = 0.5"
  echo "return c"
} >"$TMP/config.lua"

{
  echo '#!/bin/sh'
  printf 'printf %s "$@" >%q/argv/run.$$\n' "'%s\\0'" "$TMP"
  printf 'exec %q "$@"\n' "$CLAUDE"
} >"$TMP/claude-wrapper"
chmod +x "$TMP/claude-wrapper"
export CLAUDE_CLI_PATH="$TMP/claude-wrapper" CLAUDE_BASE_CWD="$REPO" CLAUDE_TIMEOUT_SEC=300
export ORCH_STATE_DB="$TMP/state/orch.db" ORCH_LOGS_DIR="$TMP/logs" ORCH_RESULTS_DIR="$TMP/results"
export N8N_NOTIFY_URL="" TELEGRAM_BOT_TOKEN="" TELEGRAM_CHAT_ID="" TELEGRAM_ALLOWED_USERS=""
export ORCH_RETRY_TRANSIENT=1 ORCH_RETRY_BACKOFF=0.2 CLAUDE_STALL_TIMEOUT_SEC=20
unset ORCH_ROOT APPROVAL_MODE CLAUDE_PERMISSION_MODE CLAUDE_SKIP_PERMISSIONS CLAUDE_MAX_TURNS CLAUDE_MODEL \
  CLAUDE_ALLOWED_ROOT MAX_DAILY_COST_USD ORCH_RETRY_FAILED ORCH_RETRY_BACKOFF_MAX

offline_model_start "$TMP/model.json" "$TMP/fake.log" || fail "the fake Messages API did not start"
info "$("$CLAUDE" --version) against the fake Messages API on port $OFFLINE_MODEL_PORT"

# ev_get EXPR: a JS expression over ev (the events, ts in Unix seconds) and s (status --json)
ev_get() {
  orch status --json >"$TMP/status.json" 2>/dev/null || true
  node -e '
    const fs = require("fs");
    const ev = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => {
      const e = JSON.parse(l); e.ts = Date.parse(e.ts) / 1000; return e; });
    let s = {}; try { s = JSON.parse(fs.readFileSync(process.argv[2], "utf8")); } catch (e) {}
    const v = eval(process.argv[3]);
    process.stdout.write(v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
  ' "$TMP/logs/events.ndjson" "$TMP/status.json" "$1"
}

# ---------------------------------------------------------------------------
info "1. a stream that stops mid-response"
t0=$SECONDS
rc=0
timeout 240 "$ORCH_HOST" --root "$ROOT" --config "$TMP/config.lua" run daily.lua --tasks "$TMP/stall.md" \
  --auto-approve --no-input </dev/null >"$TMP/run-stall.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "stall: orch-host exited $rc, want 0"
[ "$(ev_get 's.tasks[0].status')" = completed ] || fail "stall: task is $(ev_get 's.tasks[0].status')"
stalled=$(ev_get 'ev.filter((e) => e.event === "agent_stalled").map((e) => e.last_event)')
[ "$stalled" = '[{"type":"assistant"}]' ] || fail "stall: agent_stalled events: $stalled"
reason=$(ev_get 'ev.filter((e) => e.event === "retry").map((e) => e.reason).join("|")')
[ "$reason" = "stalled: no output for 20 s" ] || fail "stall: retry reasons: $reason"
[ $((SECONDS - t0)) -lt 200 ] || fail "stall: took $((SECONDS - t0)) s"
[ -z "$(pgrep -f "$TMP/claude-wrapper" || true)" ] || fail "stall: a claude process is left"
info "stalled run stopped and retried, completed in $((SECONDS - t0)) s"

# ---------------------------------------------------------------------------
info "2. the usage limit, as a subscription sees it"
unset ANTHROPIC_API_KEY
export CLAUDE_CODE_OAUTH_TOKEN=offline-subscription
: >"$TMP/logs/events.ndjson"
rm -f "$TMP"/argv/run.*
rc=0
timeout 240 "$ORCH_HOST" --root "$ROOT" --config "$TMP/config.lua" run daily.lua --tasks "$TMP/limit.md" \
  --auto-approve --no-input </dev/null >"$TMP/run-limit.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "limit: orch-host exited $rc, want 0"
[ "$(ev_get 's.tasks[0].status')" = completed ] || fail "limit: task is $(ev_get 's.tasks[0].status')"
sid=$(ev_get 's.tasks[0].claude_session')
grep -q '"type":"rate_limit_event","rate_limit_info":{"status":"rejected"' "$TMP"/logs/task-*-1-output.log ||
  fail "limit: the CLI printed no rejected rate_limit_event"
[ "$(grep -c 'Usage limit reached' "$TMP/run-limit.out")" = 1 ] || fail "limit: want one notification"
gate=$(ev_get 'ev.filter((e) => e.event === "usage_limit").map((e) => [e.resets_at > 0, e.until >= e.resets_at])')
[ "$gate" = '[[true,true]]' ] || fail "limit: usage_limit events: $gate"
late=$(ev_get '(() => { const g = ev.find((e) => e.event === "usage_limit");
  return ev.filter((e) => e.event === "claude_started" && e.ts > g.ts).every((e) => e.ts >= g.until - 0.05 && e.resume); })()')
[ "$late" = true ] || fail "limit: an agent started before the gate opened, or not as a resume"
resumed=""
for f in "$TMP"/argv/run.*; do
  if tr '\0' '\n' <"$f" | grep -qx -- "--resume" && tr '\0' '\n' <"$f" | grep -qx -- "$sid"; then resumed=1; fi
done
[ -n "$resumed" ] || fail "limit: no run continued claude session $sid with --resume"
[ "$(ev_get 's.tasks[0].result')" = "done after the limit" ] || fail "limit: result $(ev_get 's.tasks[0].result')"
info "parked on the limit, then resumed session $sid: completed"
info "PASS"
