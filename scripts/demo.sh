#!/usr/bin/env bash
# demo.sh: two orch-host sessions with the REAL Claude Code CLI editing files
# in a scratch git repo:
#   1. the markdown day, tasks/example-tasks.md: one task after another, with
#      approvals;
#   2. the team day, tasks/tasks.json (a JSON dependency graph), after the first
#      day's files are committed: --max-concurrent 2 --auto-approve --no-input,
#      each task in its own git worktree and branch (demo/workspace/
#      agent_workspaces/<task id>); task-1 and task-3 run at once, task-2 starts
#      from task-1's work. It runs in both modes below (with credentials it is
#      the real model again, with its own budget: each session gets
#      MAX_DAILY_COST_USD, so the demo may spend up to twice that); it is
#      skipped only when the first day was interrupted (paused).
#
#   bash scripts/demo.sh            on a terminal: you approve tasks there (a/s/p)
#   bash scripts/demo.sh </dev/null non-interactive: --auto-approve --no-input
#
# The model:
#   * ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN set: the real Anthropic API,
#     with CLAUDE_CLI_PATH, else a `claude` on PATH, else the pinned CLI in
#     .deps/npm (installed if missing). This spends real money: the demo sets
#     MAX_DAILY_COST_USD=2 (per session, so up to $4 for both days) unless you
#     set it.
#   * otherwise: the same real `claude` CLI (CLAUDE_CLI_PATH, else the pinned one)
#     against the offline scripted model, workflows/offline/demo-model.json (one
#     agent per task of both days),
#     served on loopback by tests/e2e/fake_messages_api.js (scripts/offline-model.sh).
#     Nothing leaves the machine.
#
# Everything goes under demo/ (gitignored), recreated on each run:
#   demo/workspace   the agents' git repo (git init + one commit; the first day's
#                    files are committed before the team day), CLAUDE_BASE_CWD
#   demo/state       ORCH_STATE_DB      demo/logs     ORCH_LOGS_DIR
#   demo/results     ORCH_RESULTS_DIR (a day's report, one part per session of that day)
#   demo/claude-config  the offline CLI's config dir
# so the demo never touches your real state, logs, results or ~/.claude.
# Notifications are off for the demo (N8N_NOTIFY_URL and TELEGRAM_* set empty,
# which also hides any values in .env).
#
# Build: runs `bash scripts/setup.sh` (idempotent: packages, pinned claude,
# incremental build), or cmake if setup.sh is absent. ORCH_HOST=/path/to/orch-host
# skips that step and uses the given binary.
#
# Exit code: orch-host's (0 all done, 1 tasks failed, 3 paused, ...): the first
# day's if it is not 0, else the team day's; 2 if the demo could not start.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 2
DEMO="$ROOT/demo"
TASKS="$ROOT/tasks/example-tasks.md"
MODEL_SCRIPT="$ROOT/workflows/offline/demo-model.json"
PINNED="$ROOT/.deps/npm/node_modules/.bin/claude"

say() { printf '%s\n' "$*"; }
bold() { if [ -t 1 ]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
die() { echo "demo: error: $*" >&2; exit 2; }

# shellcheck source=scripts/offline-model.sh
source "$ROOT/scripts/offline-model.sh"
trap 'offline_model_stop' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. build ----------------------------------------------------------------
if [ -n "${ORCH_HOST:-}" ]; then
  [ -x "$ORCH_HOST" ] || die "ORCH_HOST=$ORCH_HOST is not an executable"
  say "demo: using ORCH_HOST=$ORCH_HOST (setup/build skipped)"
else
  if [ -f "$ROOT/scripts/setup.sh" ]; then
    bash "$ROOT/scripts/setup.sh" || die "scripts/setup.sh failed"
  else
    { cmake -S "$ROOT" -B "$ROOT/build" && cmake --build "$ROOT/build" -j2; } || die "build failed"
  fi
  ORCH_HOST="$ROOT/build/orch-host"
  [ -x "$ORCH_HOST" ] || die "no $ORCH_HOST after the build"
fi
ORCH=("$ORCH_HOST" --root "$ROOT")

# --- 2. which claude, which model --------------------------------------------
pinned_claude() {
  if [ ! -x "$PINNED" ]; then
    bash "$ROOT/scripts/install-claude.sh" >&2 || die "could not install the claude CLI (scripts/install-claude.sh)"
  fi
  echo "$PINNED"
}

if [ -n "${ANTHROPIC_API_KEY:-}" ] || [ -n "${CLAUDE_CODE_OAUTH_TOKEN:-}" ]; then
  MODE=real
  if [ -n "${CLAUDE_CLI_PATH:-}" ]; then CLAUDE="$CLAUDE_CLI_PATH"
  elif command -v claude >/dev/null 2>&1; then CLAUDE="$(command -v claude)"
  else CLAUDE="$(pinned_claude)"
  fi
else
  MODE=offline
  CLAUDE="${CLAUDE_CLI_PATH:-$(pinned_claude)}"
fi
CLAUDE_VERSION="$("$CLAUDE" --version 2>/dev/null | head -n1)" || true
[ -n "$CLAUDE_VERSION" ] || die "$CLAUDE does not run (\`$CLAUDE --version\` failed)"

# --- 3. a fresh demo/ ----------------------------------------------------------
if [ -f "$DEMO/state/orch.db.lock" ] && ! flock -n -s "$DEMO/state/orch.db.lock" true 2>/dev/null; then
  die "another demo run is active ($(cat "$DEMO/state/orch.db.lock")); wait for it or pause it"
fi
rm -rf "$DEMO/workspace" "$DEMO/state" "$DEMO/logs" "$DEMO/results" "$DEMO/claude-config" "$DEMO/fake-api.log" \
  "$DEMO/inbox" "$DEMO/summaries"
mkdir -p "$DEMO/workspace" "$DEMO/state" "$DEMO/logs" "$DEMO/results"
WS="$DEMO/workspace"
git -C "$WS" init -q || die "git init failed"
cat >"$WS/README.md" <<'EOF'
# Demo workspace

A scratch repository for `scripts/demo.sh`: orch-host's agents (the real
Claude Code CLI) work here. It is recreated on every demo run.
EOF
git -C "$WS" add README.md
git -C "$WS" -c user.name="orch-host demo" -c user.email="demo@localhost" -c commit.gpgsign=false \
  commit -q -m "Initial commit" || die "git commit in $WS failed"

export CLAUDE_CLI_PATH="$CLAUDE"
export CLAUDE_BASE_CWD="$WS"
export ORCH_STATE_DB="$DEMO/state/orch.db"
export ORCH_LOGS_DIR="$DEMO/logs"
export ORCH_RESULTS_DIR="$DEMO/results"
export N8N_NOTIFY_URL="" TELEGRAM_BOT_TOKEN="" TELEGRAM_CHAT_ID="" TELEGRAM_ALLOWED_USERS=""
unset ORCH_ROOT

if [ "$MODE" = offline ]; then
  offline_model_start "$MODEL_SCRIPT" "$DEMO/fake-api.log" "$DEMO/claude-config" ||
    die "could not start the offline scripted model"
  export CLAUDE_TIMEOUT_SEC="${CLAUDE_TIMEOUT_SEC:-120}"
fi

say ""
if [ "$MODE" = offline ]; then
  bold "No Anthropic credentials found: running the real claude CLI against the offline scripted model (workflows/offline/demo-model.json)."
  say "  claude:  $CLAUDE ($CLAUDE_VERSION)"
  say "  model:   scripted fake Messages API on $ANTHROPIC_BASE_URL (requests logged to demo/fake-api.log)"
  say "  Set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN to run the same demo with the real model."
else
  export MAX_DAILY_COST_USD="${MAX_DAILY_COST_USD:-2}"
  bold "Anthropic credentials found: running the real claude CLI against the REAL Anthropic API (this costs money; budget \$$MAX_DAILY_COST_USD per day, MAX_DAILY_COST_USD)."
  say "  claude:  $CLAUDE ($CLAUDE_VERSION)"
  if [ -n "${ANTHROPIC_BASE_URL:-}" ]; then say "  API:     ANTHROPIC_BASE_URL=$ANTHROPIC_BASE_URL"; fi
fi
say "  tasks:   tasks/example-tasks.md (the markdown day), then tasks/tasks.json (the team day), then the task inbox (a sample .task.md)"
say "  agents work in demo/workspace (a fresh git repo); state, logs and results go to demo/"

RUN_ARGS=(run daily.lua --tasks "$TASKS")
if [ -t 0 ] && [ -t 1 ]; then
  say "  approvals: asked here on the terminal ([a]pprove, [s]kip, [p]ause)"
else
  RUN_ARGS+=(--auto-approve --no-input)
  say "  approvals: not on a terminal, so running with --auto-approve --no-input (no questions asked)"
fi
say ""

# --- 4. the session -------------------------------------------------------------
# Ctrl-C goes to orch-host too: it pauses the session (exit 3). The demo must
# not die with it, so the summary below is still printed.
rc=0
interrupted=""
trap 'interrupted=1' INT TERM
"${ORCH[@]}" "${RUN_ARGS[@]}" || rc=$?
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 5. what happened -----------------------------------------------------------
say ""
bold "== day 1, the markdown day: orch-host status =="
"${ORCH[@]}" status || true
say ""
bold "== files the agents created (git -C demo/workspace status --short) =="
changes="$(git -C "$WS" status --short --untracked-files=all)"
if [ -n "$changes" ]; then printf '%s\n' "$changes"; else say "(none)"; fi
commits="$(git -C "$WS" rev-list --count HEAD 2>/dev/null || echo '?')"
say "commits in demo/workspace: $commits (the agents may not commit; review and commit yourself)"
say ""
report="$(ls -t "$DEMO/results"/*.md 2>/dev/null | head -n1)"
say "Report:    ${report:-(none written)}"
say "Logs:      $DEMO/logs/ (events.ndjson, the daily log, one task-*-output.log per agent run)"
[ "$MODE" = offline ] && say "Fake API:  $DEMO/fake-api.log"
say "Workspace: $WS"
if [ -n "$interrupted" ]; then
  say "Interrupted: the session was paused, the team day is not run. Run scripts/demo.sh again to start over."
  say "orch-host exit code: $rc"
  exit "$rc"
fi
say "day 1 exit code: $rc"

# --- 6. the team day ------------------------------------------------------------
# Task worktrees start from HEAD, so the first day's files are committed first.
say ""
bold "== day 2, the team day: tasks/tasks.json, --max-concurrent 2, a git worktree per task =="
if [ -n "$(git -C "$WS" status --porcelain)" ]; then
  git -C "$WS" add -A
  git -C "$WS" -c user.name="orch-host demo" -c user.email="demo@localhost" -c commit.gpgsign=false \
    commit -q -m "The markdown day's files" || die "git commit in $WS failed"
  say "committed the first day's files in demo/workspace; each task's worktree starts from that commit"
else
  say "the first day left no files to commit; each task's worktree starts from demo/workspace's HEAD"
fi
say "  task-1 (db/schema.sql) and task-3 (src/ui/) run at once; task-2 (src/api/notes.js) starts from task-1's work"
say ""
rc2=0
interrupted=""
trap 'interrupted=1' INT TERM
"${ORCH[@]}" run daily.lua --tasks "$ROOT/tasks/tasks.json" \
  --max-concurrent 2 --auto-approve --no-input </dev/null || rc2=$?
trap 'exit 130' INT
trap 'exit 143' TERM

say ""
bold "== day 2, the team day: orch-host status =="
"${ORCH[@]}" status || true
say ""
bold "== the task worktrees (git -C demo/workspace worktree list) =="
git -C "$WS" worktree list
for wt in "$WS"/agent_workspaces/*/; do
  [ -d "$wt" ] || continue
  id="$(basename "$wt")"
  say ""
  bold "-- agent_workspaces/$id on $(git -C "$wt" rev-parse --abbrev-ref HEAD 2>/dev/null): git status --short --"
  changes="$(git -C "$wt" status --short --untracked-files=all)"
  if [ -n "$changes" ]; then printf '%s\n' "$changes"; else say "(no changes)"; fi
done
say ""
say "The agents leave their work uncommitted, each on its task's branch: review it there."
say "task-2's worktree also holds task-1's db/schema.sql (it started from task-1's work); the report counts only each task's own files."
report2="$(ls -t "$DEMO/results"/*-report.md 2>/dev/null | head -n1)"
if [ -n "$report2" ] && [ "$report2" = "${report:-}" ]; then
  say "Report:    $report2 (the team day's is its second part, after the markdown day's)"
else  # a report is filed under its day file's date: the markdown day's heading, else the start's
  say "Report:    ${report2:-(none written)} (the markdown day's is ${report:-none}: filed under its heading's date)"
fi
# the team day's part of it (the last "# Report" of the file) up to its first task's section
if [ -n "$report2" ]; then
  awk '/^# Report /{part = ""} {part = part $0 "\n"} END {printf "%s", part}' "$report2" \
    | awk '/^## Task /{exit} {print "  | " $0}'
fi
[ -n "$interrupted" ] && say "Interrupted: the team day was paused. Run scripts/demo.sh again to start over."
say ""
bold "== the task inbox: orch-host watch, and the sample task file (orch-host create-sample) dropped in =="
INBOX="$DEMO/inbox"
export ORCH_TASKS_DIR="$INBOX" ORCH_SUMMARIES_DIR="$DEMO/summaries"
rc3=0
"${ORCH[@]}" watch --auto-approve --no-input </dev/null >"$DEMO/logs/watch.out" 2>&1 &
watch_pid=$!
# the watch is up once it logged its start; then the sample is written into the folder
for _ in $(seq 1 600); do
  grep -q '"event":"inbox_started"' "$DEMO/logs/events.ndjson" 2>/dev/null && break
  kill -0 "$watch_pid" 2>/dev/null || break
  sleep 0.1
done
"${ORCH[@]}" create-sample >/dev/null || rc3=2
say "dropped $INBOX/sample.task.md (a summarize task: the agent writes SUMMARY.md in demo/workspace)"
archived=""
for _ in $(seq 1 3000); do   # at most 300 s: the task runs, then its file moves to processed/ or failed/
  archived="$(ls "$INBOX"/processed/sample*.task.md "$INBOX"/failed/sample*.task.md 2>/dev/null | head -n1)"
  [ -n "$archived" ] && break
  kill -0 "$watch_pid" 2>/dev/null || break
  sleep 0.1
done
kill -TERM "$watch_pid" 2>/dev/null
wait "$watch_pid" || rc3=$?
cat "$DEMO/logs/watch.out"  # one task: the whole of what the watch printed
say ""
if [ -z "$archived" ]; then
  say "the sample task did not finish (see demo/logs/watch.out)"
  [ "$rc3" -eq 0 ] && rc3=1
else
  say "Task file:  ${archived#"$ROOT/"}"
  say "Result:     demo/results/sample_result.json (status $(sed -n 's/^  "status": "\(.*\)",$/\1/p' "$DEMO/results/sample_result.json"))"
  say "Summary:    demo/summaries/sample_summary.txt"
  sed 's/^/  | /' "$DEMO/summaries/sample_summary.txt"
  "${ORCH[@]}" validate-artifacts "$DEMO/results" || rc3=1
  case "$archived" in */failed/*) [ "$rc3" -eq 0 ] && rc3=1 ;; esac
fi

say ""
say "exit codes: day 1 (markdown) $rc, day 2 (team) $rc2, the inbox $rc3"
[ "$rc" -eq 0 ] && rc=$rc2
[ "$rc" -eq 0 ] && rc=$rc3
exit "$rc"
