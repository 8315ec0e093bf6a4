#!/usr/bin/env bash
# End-to-end: the task inbox with the REAL Claude Code CLI (pinned, .deps/npm).
# `orch-host watch` watches a scratch tasks folder; one .task.md dropped into
# it runs through the real CLI against the fake Messages API
# (tests/e2e/fake_messages_api.js, through scripts/offline-model.sh), whose
# agent writes inbox.txt. Asserted from the files and events.ndjson (never
# from sleeps): the file the agent wrote is there; the result JSON
# (results/<name>_result.json) says completed, lists inbox.txt among the files
# touched and has no violation of the shipped schema (`orch-host
# validate-artifacts`); the summary is written; the task file moved to
# processed/; the inbox's events came in their order; SIGTERM ends the watch.
#
# Env (ctest sets both): ORCH_HOST, ORCH_SRC. CLAUDE_BIN: another claude to
# try. KEEP_TMP=1 keeps the scratch directory.
set -euo pipefail

E2E_NAME=inbox_e2e
# shellcheck source=tests/e2e/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/inbox_e2e.XXXXXX")"
WATCH_PID=""
orch() { "$ORCH_HOST" --root "$ROOT" "$@"; }

diagnostics() {
  echo "---- watch output (tail) ----" >&2
  tail -n 40 "$TMP/watch.out" >&2 2>/dev/null || true
  echo "---- events.ndjson ----" >&2
  cut -c1-300 "$TMP/logs/events.ndjson" >&2 2>/dev/null || true
  echo "---- fake API log ----" >&2
  cut -c1-400 "$TMP/fake.log" >&2 2>/dev/null || true
  ls -R "$TMP/tasks" "$TMP/results" >&2 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ $rc -ne 0 ] && diagnostics
  if [ -n "$WATCH_PID" ] && kill -0 "$WATCH_PID" 2>/dev/null; then
    kill -TERM "$WATCH_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$WATCH_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$WATCH_PID" 2>/dev/null || true
  fi
  [ -n "$WATCH_PID" ] && { wait "$WATCH_PID" 2>/dev/null || true; }
  offline_model_stop
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "inbox_e2e: scratch kept in $TMP" >&2; else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK="$TMP/work"
mkdir -p "$WORK" "$TMP/tasks" "$TMP/state" "$TMP/logs" "$TMP/results" "$TMP/summaries"
WORK="$(cd "$WORK" && pwd -P)"   # the CLI reports the resolved path

cat >"$TMP/model.json" <<'EOF'
{"agents": [
  {"name": "inbox", "match": "INBOX-E2E", "turns": [
    [{"text": "Writing inbox.txt."},
     {"tool_use": {"name": "Write", "input": {"file_path": "{{cwd}}/inbox.txt", "content": "written from the inbox\n"}}}],
    [{"text": "inbox.txt is written."}]
  ]}
]}
EOF

export CLAUDE_CLI_PATH="$CLAUDE"
export CLAUDE_BASE_CWD="$WORK"
export CLAUDE_TIMEOUT_SEC=180
export ORCH_STATE_DB="$TMP/state/orch.db"
export ORCH_LOGS_DIR="$TMP/logs"
export ORCH_RESULTS_DIR="$TMP/results"
export ORCH_SUMMARIES_DIR="$TMP/summaries"
export ORCH_TASKS_DIR="$TMP/tasks"
export N8N_NOTIFY_URL="" TELEGRAM_BOT_TOKEN="" TELEGRAM_CHAT_ID="" TELEGRAM_ALLOWED_USERS=""
unset ORCH_ROOT APPROVAL_MODE CLAUDE_PERMISSION_MODE CLAUDE_SKIP_PERMISSIONS CLAUDE_MAX_TURNS CLAUDE_MODEL \
  CLAUDE_ALLOWED_ROOT MAX_DAILY_COST_USD OLLAMA_HOST

offline_model_start "$TMP/model.json" "$TMP/fake.log" || fail "the fake Messages API did not start"
info "$("$CLAUDE" --version) against the fake Messages API on port $OFFLINE_MODEL_PORT"

has_event() { grep -q "\"event\":\"$1\"" "$TMP/logs/events.ndjson" 2>/dev/null; }
wait_until() {  # wait_until SECONDS WHAT CMD...
  local secs=$1 what=$2; shift 2
  for _ in $(seq 1 $((secs * 10))); do
    "$@" && return 0
    [ -n "$WATCH_PID" ] && ! kill -0 "$WATCH_PID" 2>/dev/null && fail "orch-host watch exited while waiting for $what"
    sleep 0.1
  done
  fail "no $what within $secs s"
}

"$ORCH_HOST" --root "$ROOT" watch --auto-approve --no-input </dev/null >"$TMP/watch.out" 2>&1 &
WATCH_PID=$!
wait_until 60 "inbox_started" has_event inbox_started

cat >"$TMP/note.tmp" <<'EOF'
---
id: e2e-note
type: fix
priority: high
---

# Write the inbox note

**Prompt:**
INBOX-E2E: write inbox.txt in the working directory.

**Success Criteria:**
- [ ] `inbox.txt` exists
EOF
mv "$TMP/note.tmp" "$TMP/tasks/note.task.md"
info "note.task.md dropped"

wait_until 300 "processed/note.task.md" test -f "$TMP/tasks/processed/note.task.md"
R="$TMP/results/note_result.json"
[ -f "$R" ] || fail "no $R"
[ -s "$TMP/summaries/note_summary.txt" ] || fail "no summaries/note_summary.txt"
[ "$(cat "$WORK/inbox.txt")" = "written from the inbox" ] || fail "inbox.txt is not the agent's"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (r.status !== "completed") throw new Error("status " + r.status);
  if (!JSON.stringify(r).includes("inbox.txt")) throw new Error("inbox.txt is not among the files touched");
' "$R" || fail "the result: $(cat "$R")"
orch validate-artifacts "$R" >"$TMP/validate.out" 2>&1 || fail "validate-artifacts: $(cat "$TMP/validate.out")"

node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const want = ["task_received", "parsed", "claude_started", "claude_finished", "validated", "summarized",
                "artifacts_written", "task_archived"];
  let at = -1;
  for (const w of want) {
    const i = lines.findIndex((e, k) => k > at && e.event === w);
    if (i < 0) throw new Error("no " + w + " after event " + at);
    at = i;
  }
' "$TMP/logs/events.ndjson" || fail "the inbox's events are not there in their order"

kill -TERM "$WATCH_PID"
RC=0
wait "$WATCH_PID" || RC=$?
WATCH_PID=""
[ "$RC" -eq 0 ] || fail "watch exit code $RC after SIGTERM, want 0"
info "ok"
