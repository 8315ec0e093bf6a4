#!/usr/bin/env bash
# End-to-end: an agent's question parks its task, with the REAL Claude Code CLI
# (pinned, .deps/npm) against the fake Messages API (tests/e2e/fake_messages_api.js).
#
#   task 1  agent ASK ends its first run with "QUESTION: ...": the task is
#           waiting_answer and holds no agent slot;
#   task 2  agent OTHER writes other.txt meanwhile (a serial day: it can only
#           run because task 1 gave its slot back), and the day then waits;
#   `orch-host answer --task 1 goodbye` from "another shell": task 1 continues
#           its own claude session (--resume <its session id>, same cwd) with the
#           answer as the prompt, writes note.txt and completes.
# Asserted: the statuses while waiting and at the end; the second claude run of
# task 1 had --resume with the first run's session id; the fake API's request
# for that run carried the history (the task prompt, the question, the answer:
# --resume really continued the session); the task's cost is the sum of its two
# runs' (once per run); the question and answer are in the report.
#
# Env (ctest sets both): ORCH_HOST (default <repo>/build/orch-host), ORCH_SRC
# (default: this checkout). KEEP_TMP=1 keeps the scratch directory. If the pinned
# claude is missing it runs scripts/install-claude.sh, and FAILS when that does not work.
set -euo pipefail

E2E_NAME=question_e2e
# shellcheck source=tests/e2e/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/question_e2e.XXXXXX")"
RUN_PID=""
orch() { "$ORCH_HOST" --root "$ROOT" --config "$TMP/config.lua" "$@"; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ $rc -ne 0 ]; then
    echo "---- run output (tail) ----" >&2; tail -n 30 "$TMP/run.out" >&2 2>/dev/null || true
    echo "---- events ----" >&2; cut -c1-300 "$TMP/logs/events.ndjson" >&2 2>/dev/null || true
    echo "---- fake API log ----" >&2; cut -c1-600 "$TMP/fake.log" >&2 2>/dev/null || true
  fi
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
    kill -TERM "$RUN_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$RUN_PID" 2>/dev/null || true
  fi
  [ -n "$RUN_PID" ] && { wait "$RUN_PID" 2>/dev/null || true; }
  offline_model_stop
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "question_e2e: scratch kept in $TMP" >&2; else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

REPO="$TMP/repo"
mkdir -p "$REPO"
REPO="$(cd "$REPO" && pwd -P)"
git -C "$REPO" init -q
echo "# scratch repo for question_e2e" >"$REPO/README.md"
git -C "$REPO" add README.md
git -C "$REPO" -c user.name=e2e -c user.email=e2e@localhost -c commit.gpgsign=false commit -q -m "initial commit"

cat >"$TMP/tasks.md" <<'EOF'
# Tasks - 2025-11-20

## Task 1: Write the note
**Type:** backend
**Priority:** high
**Requires Approval:** false
**Description:** The agent asks before it writes
**Acceptance Criteria:**
- note.txt exists

**Claude Instruction:**
E2E-ASK: write note.txt in the repository root; ask what it should say.

---

## Task 2: Write the other note
**Type:** backend
**Priority:** medium
**Requires Approval:** false
**Description:** Runs while task 1 waits for its answer
**Acceptance Criteria:**
- other.txt exists

**Claude Instruction:**
E2E-OTHER: write other.txt in the repository root.

---
EOF

QUESTION="Should the note say hello or goodbye?"
cat >"$TMP/model.json" <<EOF
{"agents": [
  {"name": "ask", "match": "E2E-ASK", "turns": [
    [{"text": "I need one thing first.\nQUESTION: $QUESTION"}],
    [{"tool_use": {"name": "Write", "input": {"file_path": "{{cwd}}/note.txt", "content": "goodbye\n"}}}],
    [{"text": "note written"}]
  ]},
  {"name": "other", "match": "E2E-OTHER", "turns": [
    [{"tool_use": {"name": "Write", "input": {"file_path": "{{cwd}}/other.txt", "content": "other\n"}}}],
    [{"text": "other done"}]
  ]}
]}
EOF

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
export N8N_NOTIFY_URL="" TELEGRAM_BOT_TOKEN="" TELEGRAM_CHAT_ID="" TELEGRAM_ALLOWED_USERS=""
unset ORCH_ROOT APPROVAL_MODE CLAUDE_PERMISSION_MODE CLAUDE_SKIP_PERMISSIONS CLAUDE_MAX_TURNS CLAUDE_MODEL \
  CLAUDE_ALLOWED_ROOT MAX_DAILY_COST_USD
mkdir -p "$TMP/state" "$TMP/logs" "$TMP/results"

offline_model_start "$TMP/model.json" "$TMP/fake.log" || fail "the fake Messages API did not start"
info "$("$CLAUDE" --version) against the fake Messages API on port $OFFLINE_MODEL_PORT"

"$ORCH_HOST" --root "$ROOT" --config "$TMP/config.lua" run daily.lua --tasks "$TMP/tasks.md" --no-input \
  </dev/null >"$TMP/run.out" 2>&1 &
RUN_PID=$!

status_get() {
  orch status --json 2>/dev/null | node -e '
    let t = ""; process.stdin.on("data", (d) => t += d).on("end", () => {
      let s; try { s = JSON.parse(t); } catch (e) { return; }
      const v = eval(process.argv[1]); process.stdout.write(v === undefined || v === null ? "" : String(v));
    });' "$1"
}

info "wait for task 1 to wait for its answer and task 2 to complete meanwhile"
waited=""
for _ in $(seq 1 1200); do   # up to 120 s
  kill -0 "$RUN_PID" 2>/dev/null || fail "orch-host exited while task 1 waited for its answer"
  if [ "$(status_get 's.tasks.map((t) => t.status).join(",")')" = "waiting_answer,completed" ]; then waited=1; break; fi
  sleep 0.1
done
[ -n "$waited" ] || fail "status never showed waiting_answer,completed within 120 s: $(status_get 's.tasks.map((t) => t.status).join(",")')"
[ "$(status_get 's.tasks[0].question')" = "$QUESTION" ] || fail "task 1's question: $(status_get 's.tasks[0].question')"
[ "$(status_get 's.agents.map((a) => a.question).join("|")')" = "$QUESTION" ] || fail "status' agents do not show the question"
[ "$(status_get 's.status')" = running ] || fail "session status $(status_get 's.status') while only a question is open"
SESSION1="$(status_get 's.tasks[0].question_session')"
[ -n "$SESSION1" ] || fail "no claude session stored on task 1"
[ ! -e "$REPO/note.txt" ] || fail "note.txt exists before the answer"
info "answering"
orch answer --task 1 goodbye --by e2e-test || fail "orch-host answer failed"

RUN_RC=""
for _ in $(seq 1 1800); do   # up to 180 s
  if ! kill -0 "$RUN_PID" 2>/dev/null; then RUN_RC=0; wait "$RUN_PID" || RUN_RC=$?; RUN_PID=""; break; fi
  sleep 0.1
done
[ -n "$RUN_RC" ] || fail "orch-host run did not exit within 180 s of the answer"
[ "$RUN_RC" -eq 0 ] || fail "orch-host exit code $RUN_RC, want 0"
[ "$(cat "$REPO/note.txt")" = goodbye ] || fail "note.txt: $(cat "$REPO/note.txt" 2>&1)"
[ "$(cat "$REPO/other.txt")" = other ] || fail "other.txt: $(cat "$REPO/other.txt" 2>&1)"

orch status --json >"$TMP/status.json" || fail "status --json failed"
node -e '
  const fs = require("fs"), path = require("path");
  const [statusFile, argvDir, eventsFile, fakeLog, session1, repo] = process.argv.slice(1);
  const s = JSON.parse(fs.readFileSync(statusFile, "utf8"));
  const bad = (m) => { console.error(m); process.exit(1); };
  if (s.tasks.map((t) => t.status).join(",") !== "completed,completed") bad("statuses " + s.tasks.map((t) => t.status));
  const t1 = s.tasks[0];
  if (t1.result !== "note written") bad("task 1 result " + JSON.stringify(t1.result));
  if (t1.claude_session !== session1) bad("task 1 ended in session " + t1.claude_session + ", asked in " + session1);
  if (!(t1.questions.length === 1 && t1.questions[0].answer === "goodbye" && t1.questions[0].by === "e2e-test"))
    bad("task 1 questions " + JSON.stringify(t1.questions));
  // the claude runs: task 1 ask, task 2, task 1 resumed with its session from the repo
  const runs = fs.readdirSync(argvDir).map((f) => fs.readFileSync(path.join(argvDir, f), "utf8").split("\0").slice(0, -1));
  const resumed = runs.filter((a) => a.includes("--resume"));
  if (runs.length !== 3 || resumed.length !== 1) bad(runs.length + " runs, " + resumed.length + " resumed: " + JSON.stringify(runs));
  if (resumed[0][resumed[0].indexOf("--resume") + 1] !== session1) bad("--resume " + JSON.stringify(resumed[0]));
  // cost: once per run
  const evs = fs.readFileSync(eventsFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const fin = evs.filter((e) => e.event === "claude_finished" && e.task === "1");
  if (fin.length !== 2 || !fin.every((e) => e.ok && e.cost_usd > 0)) bad("task 1 claude_finished " + JSON.stringify(fin));
  const sum = fin[0].cost_usd + fin[1].cost_usd;
  if (Math.abs(t1.cost_usd - sum) > 1e-9) bad("task 1 cost " + t1.cost_usd + ", its runs cost " + sum);
  if (evs.filter((e) => e.event === "question_asked").length !== 1) bad("want one question_asked");
  // the resumed run re-sent the conversation: prompt, question, answer
  const reqs = fs.readFileSync(fakeLog, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
    .filter((r) => r.path.startsWith("/v1/messages") && !r.side && r.agent === "ask");
  if (reqs.map((r) => r.turn).join(",") !== "0,1,2") bad("ask turns " + reqs.map((r) => r.turn));
  const h = reqs[1].history;
  const users = h.filter((m) => m.role === "user"), asst = h.filter((m) => m.role === "assistant");
  if (!(reqs[1].n_messages >= 3 && users.length >= 2 && asst.length >= 1)) bad("resumed request history " + JSON.stringify(h));
  if (!users[0].text.includes("E2E-ASK")) bad("the first message is not the task prompt: " + JSON.stringify(h));
  if (!asst.some((m) => m.text.includes("QUESTION: Should the note say hello or goodbye?"))) bad("no question in " + JSON.stringify(h));
  if (!users[users.length - 1].text.includes("goodbye")) bad("the last message is not the answer: " + JSON.stringify(h));
  if (!reqs.every((r) => r.cwd === repo)) bad("a request from another cwd");
  console.log("question_e2e: ok: resumed " + session1 + " with " + h.length + " messages; task 1 cost $" + t1.cost_usd.toFixed(4));
' "$TMP/status.json" "$TMP/argv" "$TMP/logs/events.ndjson" "$TMP/fake.log" "$SESSION1" "$REPO" || fail "assertions"

REPORT="$(ls "$TMP/results"/*.md 2>/dev/null | head -n1)"
[ -n "$REPORT" ] || fail "no report in $TMP/results"
grep -qF "Q: $QUESTION" "$REPORT" || fail "the report does not show the question"
grep -qF "A: goodbye" "$REPORT" || fail "the report does not show the answer"
info "OK"
