#!/usr/bin/env bash
# End-to-end: orch-host runs workflows/daily.lua over a three-task file with the
# REAL Claude Code CLI (pinned, .deps/npm), which really edits files in a scratch
# git repo, while the fake Messages API (tests/e2e/fake_messages_api.js, started
# through scripts/offline-model.sh) plays the model from a script written below.
#
#   task 1 (no approval)    agent ALPHA writes alpha.txt
#   task 2 (**Requires Approval:** true)
#                           agent BETA writes beta.txt, after `orch-host approve`
#   task 3 (no approval)    agent GAMMA writes gamma.txt, then tries the Bash tool
#                           call `git commit -m x`, which must be DENIED.
#
# The run uses the project's own workflows/config.lua with one change, in a temp
# --config file: orchestrator.approval_mode = "auto", so exactly one approval is
# asked (task 2's). It runs in the background with --no-input; the test waits for
# `status --json` to show waiting_approval, approves from "another shell", and
# waits for the run to exit.
#
# How the denial is asserted. The product refuses a git commit before it runs:
#  (a) claude.disallowed_tools in config, passed as --disallowedTools: the CLI
#      refuses the call ("Permission to use Bash with command git commit -m x
#      has been denied."), and the PreToolUse hook (orch-host hook
#      pre-tool-use, workflows/lib/safety.lua) would refuse it too.
#  (b) the refused call does not stop the agent: it is told why and carries
#      on, and a run whose only permission denials are calls the safety policy
#      forbids is not failed for them (lib/safety.refused_only). So task 3
#      completes, the session completes, and orch-host exits 0.
# The test asserts:
#  * nothing committed: the scratch repo has a STAGED file, so a commit that got
#    through would show in `git log`, which must hold only the initial commit;
#  * (a) was in force: claude runs through a wrapper that records its argv and
#    execs the real CLI; every run got --permission-mode acceptEdits and a
#    --disallowedTools list holding "Bash(git commit:*)", and the commit was
#    answered with the hook's refusal (or the disallowed-rule denial);
#  * (b) task 3 completed, its agent's third turn carrying the denied result.
#
# Env (ctest sets both): ORCH_HOST (default <repo>/build/orch-host),
# ORCH_SRC (default: this checkout). KEEP_TMP=1 keeps the scratch directory.
# If the pinned claude is missing it runs scripts/install-claude.sh, and FAILS
# (never skips) when that does not work.
set -euo pipefail

E2E_NAME=real_claude_e2e
# shellcheck source=tests/e2e/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
T0=$(date +%s.%N)
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
command -v git >/dev/null || fail "git not found on PATH"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/real_claude_e2e.XXXXXX")"
RUN_PID=""
orch() { "$ORCH_HOST" --root "$ROOT" --config "$TMP/config.lua" "$@"; }

diagnostics() {
  echo "---- orch-host run output (tail) ----" >&2
  tail -n 40 "$TMP/run.out" >&2 2>/dev/null || true
  echo "---- status --json ----" >&2
  orch status --json 2>&1 | head -c 4000 >&2 || true
  echo; echo "---- events.ndjson ----" >&2
  cut -c1-300 "$TMP/logs/events.ndjson" >&2 2>/dev/null || true
  echo "---- fake API log ----" >&2
  cut -c1-300 "$TMP/fake.log" >&2 2>/dev/null || true
  echo "---- fake API stderr ----" >&2
  cat "${OFFLINE_MODEL_STDERR:-/dev/null}" >&2 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ $rc -ne 0 ] && diagnostics
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
    # SIGTERM: orch-host pauses and stops its agents; a second signal exits at once.
    kill -TERM "$RUN_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$RUN_PID" 2>/dev/null || true
  fi
  [ -n "$RUN_PID" ] && { wait "$RUN_PID" 2>/dev/null || true; }
  offline_model_stop
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "real_claude_e2e: scratch kept in $TMP" >&2; else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# The scratch repo: one commit, plus a staged file an allowed commit would take.
REPO="$TMP/repo"
mkdir -p "$REPO"
REPO="$(cd "$REPO" && pwd -P)"   # the CLI reports the resolved path
git -C "$REPO" init -q
echo "# scratch repo for real_claude_e2e" >"$REPO/README.md"
git -C "$REPO" add README.md
git -C "$REPO" -c user.name=e2e -c user.email=e2e@localhost -c commit.gpgsign=false commit -q -m "initial commit"
echo "staged, never to be committed by an agent" >"$REPO/staged.txt"
git -C "$REPO" add staged.txt
INITIAL="$(git -C "$REPO" rev-parse HEAD)"

# The task file. Types avoid the default checkpoint_after list (database, deployment).
cat >"$TMP/tasks.md" <<'EOF'
# Tasks - 2025-11-20

## Task 1: Write the alpha note
**Type:** backend
**Priority:** high
**Requires Approval:** false
**Description:** First e2e task
**Acceptance Criteria:**
- alpha.txt exists

**Claude Instruction:**
E2E-ALPHA: write alpha.txt in the repository root.

---

## Task 2: Write the beta note
**Type:** backend
**Priority:** medium
**Requires Approval:** true
**Description:** Second e2e task, approved by a human
**Acceptance Criteria:**
- beta.txt exists

**Claude Instruction:**
E2E-BETA: write beta.txt in the repository root.

---

## Task 3: Write the gamma note and try to commit
**Type:** frontend
**Priority:** low
**Requires Approval:** false
**Description:** Third e2e task; its commit must be denied
**Acceptance Criteria:**
- gamma.txt exists

**Claude Instruction:**
E2E-GAMMA: write gamma.txt in the repository root, then commit it.

---
EOF

# The model: one agent per task, routed by the marker in its prompt.
cat >"$TMP/model.json" <<'EOF'
{"agents": [
  {"name": "alpha", "match": "E2E-ALPHA", "turns": [
    [{"text": "Writing alpha.txt."},
     {"tool_use": {"name": "Write", "input": {"file_path": "{{cwd}}/alpha.txt", "content": "alpha from the real claude\n"}}}],
    {"blocks": [{"text": "alpha done"}], "usage": {"input_tokens": 4000, "output_tokens": 20}}
  ]},
  {"name": "beta", "match": "E2E-BETA", "turns": [
    [{"tool_use": {"name": "Write", "input": {"file_path": "{{cwd}}/beta.txt", "content": "beta from the real claude\n"}}}],
    [{"text": "beta done"}]
  ]},
  {"name": "gamma", "match": "E2E-GAMMA", "turns": [
    [{"tool_use": {"name": "Write", "input": {"file_path": "{{cwd}}/gamma.txt", "content": "gamma from the real claude\n"}}}],
    [{"text": "Now committing."},
     {"tool_use": {"name": "Bash", "input": {"command": "git commit -m x", "description": "Commit the note"}}}],
    [{"text": "gamma done (the commit was refused)"}]
  ]}
]}
EOF

# The project's config with one change: approval_mode "auto" (only task 2 asks).
{
  echo "local c = (function()"
  cat "$ROOT/workflows/config.lua"
  echo "end)()"
  echo "c.orchestrator = c.orchestrator or {}"
  echo "c.orchestrator.approval_mode = \"auto\""
  echo "c.paths = c.paths or {}"
  echo "c.paths.questions_dir = \"$TMP/questions\""
  echo "return c"
} >"$TMP/config.lua"

# The real CLI behind a wrapper that records each run's argv (NUL-separated).
mkdir -p "$TMP/argv"
{
  echo '#!/bin/sh'
  printf 'printf %s "$@" >%q/argv/run.$$\n' "'%s\\0'" "$TMP"
  printf 'exec %q "$@"\n' "$CLAUDE"
} >"$TMP/claude-wrapper"
chmod +x "$TMP/claude-wrapper"
export CLAUDE_CLI_PATH="$TMP/claude-wrapper"
export CLAUDE_BASE_CWD="$REPO"
export CLAUDE_TIMEOUT_SEC=120
export ORCH_STATE_DB="$TMP/state/orch.db"
export ORCH_LOGS_DIR="$TMP/logs"
export ORCH_RESULTS_DIR="$TMP/results"
# No notifications from a test, whatever the environment or .env says.
export N8N_NOTIFY_URL="" TELEGRAM_BOT_TOKEN="" TELEGRAM_CHAT_ID="" TELEGRAM_ALLOWED_USERS=""
unset ORCH_ROOT APPROVAL_MODE CLAUDE_PERMISSION_MODE CLAUDE_SKIP_PERMISSIONS CLAUDE_MAX_TURNS CLAUDE_MODEL \
  CLAUDE_ALLOWED_ROOT MAX_DAILY_COST_USD
mkdir -p "$TMP/state" "$TMP/logs" "$TMP/results"

offline_model_start "$TMP/model.json" "$TMP/fake.log" || fail "the fake Messages API did not start"
info "$("$CLAUDE" --version) against the fake Messages API on port $OFFLINE_MODEL_PORT"

# ---------------------------------------------------------------------------
info "run daily.lua in the background (--no-input)"
# Started directly (not through the orch function, which would put a subshell
# between): RUN_PID must be orch-host itself, so cleanup's SIGTERM reaches it.
"$ORCH_HOST" --root "$ROOT" --config "$TMP/config.lua" run daily.lua --tasks "$TMP/tasks.md" --no-input \
  </dev/null >"$TMP/run.out" 2>&1 &
RUN_PID=$!

# json_get EXPR: evaluates a JS expression over `s` (status --json) and prints it.
status_get() {
  orch status --json 2>/dev/null | node -e '
    let t = ""; process.stdin.on("data", (d) => t += d).on("end", () => {
      let s; try { s = JSON.parse(t); } catch (e) { process.stdout.write(""); return; }
      const v = eval(process.argv[1]); process.stdout.write(v === undefined || v === null ? "" : String(v));
    });' "$1"
}

info "wait for task 2's approval request"
waited=""
for _ in $(seq 1 600); do   # up to 60 s
  kill -0 "$RUN_PID" 2>/dev/null || fail "orch-host exited before asking for approval"
  if [ "$(status_get 's.status + "/" + (s.pending_approval ? s.pending_approval.task_id : "")')" = "waiting_approval/2" ]; then
    waited=1
    break
  fi
  sleep 0.1
done
[ -n "$waited" ] || fail "status --json never showed waiting_approval for task 2 within 60 s"
[ "$(status_get 's.tasks.map((t) => t.status).join(",")')" = "completed,waiting_approval,pending" ] ||
  fail "while waiting, task states are $(status_get 's.tasks.map((t) => t.status).join(",")'), want completed,waiting_approval,pending"
[ -f "$REPO/alpha.txt" ] || fail "task 1 did not write alpha.txt before the approval"
[ ! -e "$REPO/beta.txt" ] || fail "beta.txt exists before task 2 was approved"
info "approval asked after $(elapsed) s; approving"
orch approve --by e2e-test || fail "orch-host approve failed"

info "wait for the run to exit"
RUN_RC=""
for _ in $(seq 1 1800); do   # up to 180 s (CLAUDE_TIMEOUT_SEC=120 per task)
  if ! kill -0 "$RUN_PID" 2>/dev/null; then
    RUN_RC=0
    wait "$RUN_PID" || RUN_RC=$?
    RUN_PID=""
    break
  fi
  sleep 0.1
done
[ -n "$RUN_RC" ] || fail "orch-host run did not exit within 180 s of the approval"
info "orch-host exited $RUN_RC after $(elapsed) s"
[ "$RUN_RC" -eq 0 ] || fail "orch-host exit code $RUN_RC, want 0 (task 3's commit was refused, the agent carried on)"

# ---------------------------------------------------------------------------
# 1. The real claude wrote the files, in the scratch repo.
check_file() {
  [ -f "$REPO/$1" ] || fail "expected $REPO/$1, written by the real claude"
  [ "$(cat "$REPO/$1")" = "$2" ] || fail "$1 has '$(cat "$REPO/$1")', want '$2'"
}
check_file alpha.txt "alpha from the real claude"
check_file beta.txt "beta from the real claude"
check_file gamma.txt "gamma from the real claude"

# 2. Nothing committed by the agent: only the initial commit; staged.txt still staged.
[ "$(git -C "$REPO" rev-list --count HEAD)" = 1 ] || fail "git log has more than the initial commit: $(git -C "$REPO" log --oneline)"
[ "$(git -C "$REPO" rev-parse HEAD)" = "$INITIAL" ] || fail "HEAD moved"
git -C "$REPO" diff --cached --name-only | grep -qx staged.txt || fail "staged.txt is no longer staged"

# 3. status --json: the session and each task.
orch status --json >"$TMP/status.json" || fail "orch-host status --json failed"
node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const bad = (m) => { console.error("status --json: " + m + "\n" + JSON.stringify(s, null, 1).slice(0, 3000)); process.exit(1); };
  if (s.status !== "completed") bad("session status " + s.status + ", want completed");
  if (s.host_alive) bad("host_alive is still true");
  if (s.pending_approval) bad("an approval is still pending");
  if (!Array.isArray(s.tasks) || s.tasks.length !== 3) bad("want 3 tasks");
  for (const t of s.tasks) {
    if (t.status !== "completed") bad("task " + t.id + " is " + t.status + ", want completed");
    if (!(t.cost_usd > 0)) bad("task " + t.id + " cost_usd " + t.cost_usd + " is not > 0");
    if (!(t.tokens > 0)) bad("task " + t.id + " tokens " + t.tokens + " is not > 0");
  }
  const t3 = s.tasks[2];
  if (t3.error) bad("task 3 error " + JSON.stringify(t3.error) + ", want none");
  if (s.completed_tasks !== 3) bad("completed_tasks " + s.completed_tasks + ", want 3");
  if (!(s.cost_usd > 0) || !(s.tokens > 0)) bad("session totals not > 0");
  console.log("real_claude_e2e: status ok: " + s.tasks.map((t) => t.id + " " + t.status + " $" + t.cost_usd.toFixed(4) + " " + t.tokens + " tok").join("; ") +
    "; task 3 result: " + t3.result);
' "$TMP/status.json" || fail "status --json assertions"

# 4. events.ndjson: claude_started/claude_finished per task, exactly one approval.
node -e '
  const evs = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const bad = (m) => { console.error("events.ndjson: " + m); process.exit(1); };
  const of = (name) => evs.filter((e) => e.event === name);
  for (const id of ["1", "2", "3"]) {
    if (of("claude_started").filter((e) => e.task === id).length !== 1) bad("want one claude_started for task " + id);
    const f = of("claude_finished").filter((e) => e.task === id);
    if (f.length !== 1) bad("want one claude_finished for task " + id);
    if (f[0].ok !== true || f[0].exit_code !== 0) bad("task " + id + ": claude_finished " + JSON.stringify(f[0]));
    if (!(f[0].cost_usd > 0 && f[0].tokens > 0)) bad("task " + id + ": claude_finished without cost/tokens");
  }
  const asked = of("approval_requested");
  if (asked.length !== 1 || asked[0].task !== "2") bad("want exactly one approval_requested, for task 2; got " + JSON.stringify(asked));
  const resolved = of("approval_resolved");
  if (resolved.length !== 1 || resolved[0].action !== "approve" || resolved[0].by !== "e2e-test")
    bad("want one approval_resolved approve by e2e-test; got " + JSON.stringify(resolved));
  if (of("session_completed").length !== 1) bad("want one session_completed");
' "$TMP/logs/events.ndjson" || fail "events.ndjson assertions"

# 5. The disallowed rule was in force (argv of every run), and the CLI itself
#    refused the commit.
node -e '
  const fs = require("fs"), path = require("path");
  const dir = process.argv[1];
  const runs = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), "utf8").split("\0").slice(0, -1));
  const bad = (m) => { console.error("claude argv: " + m + "\n" + JSON.stringify(runs)); process.exit(1); };
  if (runs.length !== 3) bad(runs.length + " claude runs, want 3");
  for (const a of runs) {
    const v = (flag) => { const i = a.indexOf(flag); return i >= 0 ? a[i + 1] : undefined; };
    if (!a.includes("-p")) bad("no -p");
    if (v("--permission-mode") !== "acceptEdits") bad("--permission-mode " + v("--permission-mode"));
    const dis = v("--disallowedTools");
    if (!dis || !dis.split(",").map((x) => x.trim()).includes("Bash(git commit:*)")) bad("--disallowedTools " + dis);
  }
  const a = runs[0];
  console.log("real_claude_e2e: argv ok: --permission-mode acceptEdits --disallowedTools " +
    JSON.stringify(a[a.indexOf("--disallowedTools") + 1]));
' "$TMP/argv" || fail "claude argv assertions"

LOG3="$(ls "$TMP/logs"/task-*-3-output.log 2>/dev/null | head -n1)"
[ -n "$LOG3" ] || fail "no output log for task 3 in $TMP/logs"
node -e '
  const objs = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean)
    .map((l) => { try { return JSON.parse(l); } catch (e) { return null; } }).filter(Boolean);
  const bad = (m) => { console.error(process.argv[1] + ": " + m); process.exit(1); };
  const init = objs.find((o) => o.type === "system" && o.subtype === "init");
  if (!init || init.permissionMode !== "acceptEdits") bad("system/init permissionMode " + (init && init.permissionMode) + ", want acceptEdits");
  const uses = objs.filter((o) => o.type === "assistant").flatMap((o) => o.message.content || []).filter((c) => c.type === "tool_use");
  const commit = uses.find((u) => u.name === "Bash" && u.input.command === "git commit -m x");
  if (!commit) bad("the agent never asked for git commit -m x");
  const results = objs.filter((o) => o.type === "user").flatMap((o) => (o.message.content || []).filter((c) => c.type === "tool_result"));
  const r = results.find((c) => c.tool_use_id === commit.id);
  if (!r) bad("the CLI never answered the commit (the agent was stopped?)");
  const text = typeof r.content === "string" ? r.content : JSON.stringify(r.content);
  // the PreToolUse hook answers first (the CLI runs it before its own rules), else the disallowed rule
  if (r.is_error !== true || !/orch-host blocked this tool call before it ran: forbidden command \(git commit\)|Permission to use Bash with command git commit -m x has been denied/.test(text))
    bad("the CLI answered the commit with " + JSON.stringify(r) + ", want the hook refusal or the disallowed-rule denial");
  console.log("real_claude_e2e: the commit was refused before it ran: " + JSON.stringify(text));
' "$LOG3" || fail "task 3 output log assertions"

# 6. The fake API saw what the CLI sent: two turns per agent, in order, from the
#    scratch repo (gamma's third turn carrying the denied tool_result).
node -e '
  const reqs = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const repo = process.argv[2];
  const bad = (m) => { console.error("fake API log: " + m + "\n" + reqs.map((r) => JSON.stringify(r)).join("\n")); process.exit(1); };
  if (reqs.some((r) => r.kind === "unknown" || r.kind === "no_agent" || r.agent === null && !r.side && r.path.startsWith("/v1/messages")))
    bad("a request matched no scripted agent");
  const main = reqs.filter((r) => r.path.startsWith("/v1/messages") && !r.side);
  const seq = main.map((r) => r.agent + ":" + r.turn).join(",");
  const base = "alpha:0,alpha:1,beta:0,beta:1,gamma:0,gamma:1";
  if (seq !== base + ",gamma:2") bad("request sequence " + seq + ", want " + base + ",gamma:2");
  if (!main.every((r) => r.cwd === repo && r.has_tools && r.stream && r.status === 200)) bad("a request had the wrong cwd, no tools, or no stream");
  const g2 = main.find((r) => r.agent === "gamma" && r.turn === 2);
  if (!(g2.tool_results.length === 1 && g2.tool_results[0].is_error === true)) bad("gamma:2 should carry the denied tool_result");
  if (!main.filter((r) => r.turn === 1).every((r) => r.tool_results.length === 1 && r.tool_results[0].is_error === false))
    bad("each Write should have succeeded");
  console.log("real_claude_e2e: fake API ok: " + main.length + " main requests (" + seq + "), " + reqs.length + " in all");
' "$TMP/fake.log" "$REPO" || fail "fake API log assertions"

# 7. The end-of-day report was written.
ls "$TMP/results"/*.md >/dev/null 2>&1 || fail "no report in $TMP/results"

info "OK in $(elapsed) s"
