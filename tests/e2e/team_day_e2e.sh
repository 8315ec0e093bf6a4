#!/usr/bin/env bash
# End-to-end: the team day with the REAL Claude Code CLI (pinned, .deps/npm).
# orch-host runs workflows/daily.lua over a YAML day file with
# --max-concurrent 2 in a scratch git repository; each task gets its own git
# worktree and branch (agent_workspaces/<task id>), and the fake Messages API
# (tests/e2e/fake_messages_api.js, through scripts/offline-model.sh) plays the
# three agents, routed by the marker in each prompt:
#
#   task-a  agent ALPHA writes alpha.txt. Its first answer is held until BETA's
#           first request has arrived ("await"), so A and B overlap for sure.
#   task-b  agent BETA writes beta.txt (no dependency: runs beside task-a).
#   task-c  depends on task-a. Agent GAMMA Reads alpha.txt (task-a's work, which
#           its worktree starts with, uncommitted), then asks a QUESTION; the
#           test answers it (`orch-host answer`), daily.lua resumes the CLI's
#           conversation (--resume, from the same worktree), and GAMMA writes
#           gamma.txt.
#
# Asserted, from the fake's request log and events.ndjson (never from sleeps):
#  * A and B ran at the same time: B's first request came before A's second
#    one (A was still waiting for its first answer), and both claude_started
#    before either claude_finished;
#  * each request came from its task's worktree (the CLI's working directory);
#  * each file landed only in its own task's worktree (C's also has task-a's
#    alpha.txt), none in the main work tree; each worktree is on its branch;
#    nothing committed (one commit in the whole repository);
#  * C started after A finished, and its Read of alpha.txt succeeded;
#  * C's second run resumed its conversation: claude_started with resume =
#    the first run's session id, and the CLI re-sent the whole history;
#  * the report (results/YYYY-MM-DD-report.md) lists all three with their
#    status, branch and files changed.
#
# Env (ctest sets both): ORCH_HOST (default <repo>/build/orch-host), ORCH_SRC
# (default: this checkout). CLAUDE_BIN: another claude to try (e.g. the latest).
# KEEP_TMP=1 keeps the scratch directory. If the pinned claude is missing it
# runs scripts/install-claude.sh, and FAILS (never skips) when that does not work.
set -euo pipefail

E2E_NAME=team_day_e2e
# shellcheck source=tests/e2e/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
T0=$(date +%s.%N)
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
command -v git >/dev/null || fail "git not found on PATH"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/team_day_e2e.XXXXXX")"
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
  cut -c1-400 "$TMP/fake.log" >&2 2>/dev/null || true
  echo "---- fake API stderr ----" >&2
  cat "${OFFLINE_MODEL_STDERR:-/dev/null}" >&2 2>/dev/null || true
  echo "---- report ----" >&2
  cat "$TMP/results"/*-report.md >&2 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ $rc -ne 0 ] && diagnostics
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
    kill -TERM "$RUN_PID" 2>/dev/null || true   # pauses, stops its agents; a second signal exits at once
    for _ in $(seq 1 100); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$RUN_PID" 2>/dev/null || true
  fi
  [ -n "$RUN_PID" ] && { wait "$RUN_PID" 2>/dev/null || true; }
  offline_model_stop
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "team_day_e2e: scratch kept in $TMP" >&2; else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# The scratch repository: one commit, a clean work tree.
REPO="$TMP/repo"
mkdir -p "$REPO"
REPO="$(cd "$REPO" && pwd -P)"   # the CLI reports the resolved path
git -C "$REPO" init -q
echo "# scratch repo for team_day_e2e" >"$REPO/README.md"
git -C "$REPO" add README.md
git -C "$REPO" -c user.name=e2e -c user.email=e2e@localhost -c commit.gpgsign=false commit -q -m "initial commit"
WS="$REPO/agent_workspaces"

cat >"$TMP/day.yaml" <<'EOF'
date: 2026-12-01
tasks:
  - id: task-a
    name: "Write the alpha note"
    description: "The first of two tasks at once."
    branch_name: team/alpha
    prompt: "TEAM-ALPHA: write alpha.txt in the repository root."
  - id: task-b
    name: "Write the beta note"
    description: "The second of two tasks at once."
    prompt: "TEAM-BETA: write beta.txt in the repository root."
  - id: task-c
    name: "Write the gamma note"
    description: "Starts from task-a's work."
    depends_on: [task-a]
    prompt: "TEAM-GAMMA: read alpha.txt, then write gamma.txt in the repository root."
EOF

cat >"$TMP/model.json" <<'EOF'
{"agents": [
  {"name": "alpha", "match": "TEAM-ALPHA", "turns": [
    {"await": {"agent": "beta", "timeout_ms": 120000},
     "blocks": [{"text": "Writing alpha.txt."},
                {"tool_use": {"name": "Write", "input": {"file_path": "{{cwd}}/alpha.txt", "content": "alpha from the real claude\n"}}}]},
    [{"text": "alpha done"}]
  ]},
  {"name": "beta", "match": "TEAM-BETA", "turns": [
    {"await": {"agent": "alpha", "timeout_ms": 120000},
     "blocks": [{"tool_use": {"name": "Write", "input": {"file_path": "{{cwd}}/beta.txt", "content": "beta from the real claude\n"}}}]},
    [{"text": "beta done"}]
  ]},
  {"name": "gamma", "match": "TEAM-GAMMA", "turns": [
    [{"tool_use": {"name": "Read", "input": {"file_path": "{{cwd}}/alpha.txt"}}}],
    [{"text": "alpha.txt is there.\nQUESTION: which greeting goes in gamma.txt?"}],
    [{"tool_use": {"name": "Write", "input": {"file_path": "{{cwd}}/gamma.txt", "content": "gamma from the real claude\n"}}}],
    [{"text": "gamma done"}]
  ]}
]}
EOF

# The project's config, the questions kept in the scratch directory.
{
  echo "local c = (function()"
  cat "$ROOT/workflows/config.lua"
  echo "end)()"
  echo "c.paths = c.paths or {}"
  echo "c.paths.questions_dir = \"$TMP/questions\""
  echo "return c"
} >"$TMP/config.lua"

export CLAUDE_CLI_PATH="$CLAUDE"
export CLAUDE_BASE_CWD="$REPO"
export CLAUDE_TIMEOUT_SEC=180
export ORCH_STATE_DB="$TMP/state/orch.db"
export ORCH_LOGS_DIR="$TMP/logs"
export ORCH_RESULTS_DIR="$TMP/results"
export N8N_NOTIFY_URL="" TELEGRAM_BOT_TOKEN="" TELEGRAM_CHAT_ID="" TELEGRAM_ALLOWED_USERS=""
unset ORCH_ROOT APPROVAL_MODE CLAUDE_PERMISSION_MODE CLAUDE_SKIP_PERMISSIONS CLAUDE_MAX_TURNS CLAUDE_MODEL \
  CLAUDE_ALLOWED_ROOT MAX_DAILY_COST_USD
mkdir -p "$TMP/state" "$TMP/logs" "$TMP/results"

offline_model_start "$TMP/model.json" "$TMP/fake.log" || fail "the fake Messages API did not start"
info "$("$CLAUDE" --version) against the fake Messages API on port $OFFLINE_MODEL_PORT"

# ---------------------------------------------------------------------------
info "run daily.lua --max-concurrent 2"
"$ORCH_HOST" --root "$ROOT" --config "$TMP/config.lua" run daily.lua --tasks "$TMP/day.yaml" \
  --max-concurrent 2 --auto-approve --no-input </dev/null >"$TMP/run.out" 2>&1 &
RUN_PID=$!

status_get() {
  orch status --json 2>/dev/null | node -e '
    let t = ""; process.stdin.on("data", (d) => t += d).on("end", () => {
      let s; try { s = JSON.parse(t); } catch (e) { return; }
      const v = eval(process.argv[1]); process.stdout.write(v === undefined || v === null ? "" : String(v));
    });' "$1"
}
info "wait for task-c's question"
asked=""
for _ in $(seq 1 3000); do   # up to 300 s
  kill -0 "$RUN_PID" 2>/dev/null || fail "orch-host exited before task-c asked its question"
  if [ "$(status_get 's.tasks.map((t) => t.status).join(",")')" = "completed,completed,waiting_answer" ]; then
    asked=1
    break
  fi
  sleep 0.1
done
[ -n "$asked" ] || fail "task-c never waited with its question within 300 s"
[ "$(status_get 's.tasks[2].question')" = "which greeting goes in gamma.txt?" ] ||
  fail "task-c's question is '$(status_get 's.tasks[2].question')'"
[ ! -e "$WS/task-c/gamma.txt" ] || fail "gamma.txt exists before the answer"
info "task-c asked after $(elapsed) s; answering"
orch answer "the one from the real claude" --by e2e-test || fail "orch-host answer failed"

RUN_RC=""
for _ in $(seq 1 3000); do   # up to 300 s
  if ! kill -0 "$RUN_PID" 2>/dev/null; then
    RUN_RC=0
    wait "$RUN_PID" || RUN_RC=$?
    RUN_PID=""
    break
  fi
  sleep 0.1
done
[ -n "$RUN_RC" ] || fail "orch-host run did not exit within 300 s"
info "orch-host exited $RUN_RC after $(elapsed) s"
[ "$RUN_RC" -eq 0 ] || fail "orch-host exit code $RUN_RC, want 0"

# ---------------------------------------------------------------------------
# 1. status --json: three completed tasks, each on its branch in its worktree.
orch status --json >"$TMP/status.json" || fail "orch-host status --json failed"
node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const ws = process.argv[2];
  const bad = (m) => { console.error("status --json: " + m + "\n" + JSON.stringify(s, null, 1).slice(0, 3000)); process.exit(1); };
  if (s.status !== "completed") bad("session status " + s.status);
  if (s.max_concurrent !== 2) bad("max_concurrent " + s.max_concurrent + ", want 2");
  const want = { "task-a": ["alpha.txt"], "task-b": ["beta.txt"], "task-c": ["gamma.txt"] };
  if (s.tasks.map((t) => t.id).join(",") !== "task-a,task-b,task-c") bad("task ids");
  for (const t of s.tasks) {
    if (t.status !== "completed") bad(t.id + " is " + t.status);
    if (!t.workspace || t.workspace.path !== ws + "/" + t.id) bad(t.id + " worktree " + JSON.stringify(t.workspace));
    if (!t.branch) bad(t.id + " has no branch");
    if (JSON.stringify(t.files_changed) !== JSON.stringify(want[t.id]))
      bad(t.id + " files_changed " + JSON.stringify(t.files_changed) + ", want " + JSON.stringify(want[t.id]));
    if (!(t.cost_usd > 0 && t.tokens > 0)) bad(t.id + " has no cost or tokens");
  }
  if (s.tasks[0].branch !== "team/alpha") bad("task-a branch " + s.tasks[0].branch);
  console.log(s.tasks.map((t) => t.id + "\t" + t.branch).join("\n"));
' "$TMP/status.json" "$WS" >"$TMP/branches" || fail "status --json assertions"

# 2. The files, each only in its own task's worktree (task-c's also has
#    task-a's work), each worktree on its branch, nothing committed.
while IFS=$'\t' read -r id branch; do
  [ "$(git -C "$WS/$id" rev-parse --abbrev-ref HEAD)" = "$branch" ] || fail "$id's worktree is not on $branch"
  git -C "$REPO" rev-parse -q --verify "refs/heads/$branch" >/dev/null || fail "branch $branch does not exist"
done <"$TMP/branches"
has() { [ -f "$WS/$1/$2" ] || fail "$2 missing in $1's worktree"; [ "$(cat "$WS/$1/$2")" = "$3" ] || fail "$1/$2 has '$(cat "$WS/$1/$2")'"; }
hasnt() { [ ! -e "$WS/$1/$2" ] || fail "$2 should not be in $1's worktree"; }
has task-a alpha.txt "alpha from the real claude"; hasnt task-a beta.txt; hasnt task-a gamma.txt
has task-b beta.txt "beta from the real claude"; hasnt task-b alpha.txt; hasnt task-b gamma.txt
has task-c alpha.txt "alpha from the real claude"; has task-c gamma.txt "gamma from the real claude"; hasnt task-c beta.txt
for f in alpha.txt beta.txt gamma.txt; do [ ! -e "$REPO/$f" ] || fail "$f was written in the main work tree"; done
[ "$(git -C "$REPO" rev-list --all --count)" = 1 ] || fail "commits were made: $(git -C "$REPO" log --all --oneline)"
[ -z "$(git -C "$REPO" status --porcelain)" ] || fail "the main work tree changed: $(git -C "$REPO" status --porcelain)"
for id in task-a task-b task-c; do
  [ -z "$(git -C "$WS/$id" diff --cached --name-only)" ] || fail "$id staged files"
done

# 3. The fake's request log: the CLI's cwd per task, A and B at once, C after A.
node -e '
  const reqs = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
    .sort((a, b) => a.seq - b.seq);
  const ws = process.argv[2];
  const bad = (m) => { console.error("fake API log: " + m + "\n" + reqs.map((r) => JSON.stringify(r)).join("\n")); process.exit(1); };
  const main = reqs.filter((r) => r.path.startsWith("/v1/messages") && !r.side);
  if (main.some((r) => r.agent === null || r.status !== 200)) bad("a request matched no agent or failed");
  const cwd = { alpha: "task-a", beta: "task-b", gamma: "task-c" };
  for (const r of main) if (r.cwd !== ws + "/" + cwd[r.agent]) bad(r.agent + " asked from " + r.cwd);
  const at = (agent, turn) => main.find((r) => r.agent === agent && r.turn === turn);
  const a0 = at("alpha", 0), a1 = at("alpha", 1), b0 = at("beta", 0), g0 = at("gamma", 0), g1 = at("gamma", 1);
  if (!a0 || !a1 || !b0 || !g0 || !g1) bad("missing turns");
  const b1 = at("beta", 1);
  if (!b1) bad("missing beta:1");
  if (!(a0.awaited && a0.awaited.ok)) bad("alpha:0 was not answered after beta asked: " + JSON.stringify(a0.awaited));
  if (!(b0.awaited && b0.awaited.ok)) bad("beta:0 was not answered after alpha asked: " + JSON.stringify(b0.awaited));
  // each first request came before the other agent'"'"'s second: both were mid-run at once
  if (!(b0.seq < a1.seq && a0.seq < b1.seq)) bad("alpha and beta did not overlap");
  const lastA = Math.max(...main.filter((r) => r.agent === "alpha").map((r) => r.seq));
  if (!(g0.seq > lastA)) bad("gamma asked before alpha was done");
  if (!(g1.tool_results.length === 1 && g1.tool_results[0].is_error === false)) bad("gamma could not Read alpha.txt");
  // the resumed run re-sent the whole conversation: prompt, Read, its result, the question, the answer
  const g2 = at("gamma", 2), g3 = at("gamma", 3);
  if (!g2 || !g3) bad("gamma was not resumed after the answer");
  if (!(g2.n_messages >= 5 && g2.n_messages > g1.n_messages)) bad("gamma:2 has " + g2.n_messages + " messages: not the resumed history");
  if (!(g3.tool_results.length === 1 && g3.tool_results[0].is_error === false)) bad("gamma could not write gamma.txt");
  console.log("team_day_e2e: fake API ok: " + main.map((r) => r.agent + ":" + r.turn).join(",") +
    "; alpha held " + a0.awaited.waited_ms + " ms for beta, beta " + b0.awaited.waited_ms + " ms for alpha");
' "$TMP/fake.log" "$WS" || fail "fake API log assertions"

# 4. events.ndjson: claude_started/claude_finished order.
node -e '
  const evs = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const bad = (m) => { console.error("events.ndjson: " + m); process.exit(1); };
  const idx = (ev, task) => {
    const i = evs.findIndex((e) => e.event === ev && e.task === task);
    if (i < 0) bad("no " + ev + " for " + task);
    if (evs.filter((e) => e.event === ev && e.task === task).length !== 1) bad("more than one " + ev + " for " + task);
    return i;
  };
  const sa = idx("claude_started", "task-a"), sb = idx("claude_started", "task-b");
  const fa = idx("claude_finished", "task-a"), fb = idx("claude_finished", "task-b");
  if (!(Math.max(sa, sb) < Math.min(fa, fb))) bad("task-a and task-b did not both start before either finished");
  for (const i of [fa, fb]) if (evs[i].ok !== true || evs[i].exit_code !== 0) bad("claude_finished " + JSON.stringify(evs[i]));
  // task-c: a run, its question, the resumed run
  const c = evs.filter((e) => e.task === "task-c" && /^(claude_started|claude_finished|question_asked|question_answered)$/.test(e.event));
  if (c.map((e) => e.event).join(",") !== "claude_started,claude_finished,question_asked,question_answered,claude_started,claude_finished")
    bad("task-c events " + c.map((e) => e.event).join(","));
  if (!(evs.indexOf(c[0]) > fa)) bad("task-c started before task-a finished");
  if (c[0].resume) bad("task-c first run resumed " + c[0].resume);
  if (!c[4].resume) bad("task-c second run did not resume");
  const log = require("fs").readFileSync(process.argv[2], "utf8");
  const init = log.split("\n").filter(Boolean).map((l) => { try { return JSON.parse(l); } catch (e) { return {}; } })
    .find((o) => o.type === "system" && o.subtype === "init");
  if (!init || init.session_id !== c[4].resume) bad("task-c resumed " + c[4].resume + ", its first run was " + (init && init.session_id));
  for (const e of [c[1], c[5]]) if (e.ok !== true || e.exit_code !== 0) bad("claude_finished " + JSON.stringify(e));
 ' "$TMP/logs/events.ndjson" "$(ls "$TMP/logs"/task-*-task-c-output.log | head -n1)" || fail "events.ndjson assertions"

# 5. The report lists all three: status, branch, files changed.
REPORT="$(ls "$TMP/results"/*-report.md 2>/dev/null | head -n1)"
[ -n "$REPORT" ] || fail "no report in $TMP/results"
head -n1 "$REPORT" | grep -q "^# Report " || fail "the report has no title"
header="$(grep -m1 '^| # |' "$REPORT")" || fail "the report has no task table"
for col in Status Branch Files; do
  case "$header" in *"| $col |"*) ;; *) fail "the report's task table has no $col column: $header" ;; esac
done
while IFS=$'\t' read -r id branch; do
  row="$(grep -m1 "^| $id |" "$REPORT")" || fail "the report's table has no row for $id"
  case "$row" in *"| completed |"*) ;; *) fail "the report's row for $id lacks its status: $row" ;; esac
  case "$row" in *"\`$branch\`"*) ;; *) fail "the report's row for $id lacks its branch $branch: $row" ;; esac
  case "$row" in *"| 1 file (+1 -0) |"*) ;; *) fail "the report's row for $id lacks its files changed: $row" ;; esac
done <"$TMP/branches"
for f in alpha.txt beta.txt gamma.txt; do grep -q "$f" "$REPORT" || fail "the report does not name $f"; done
for id in task-a task-b task-c; do
  grep -qF -- "worktree \`$WS/$id\`" "$REPORT" || fail "the report does not give $id's worktree $WS/$id"
done
! grep -q "table: 0x" "$REPORT" || fail "the report prints a Lua table: $(grep -m1 'table: 0x' "$REPORT")"

info "OK in $(elapsed) s"
