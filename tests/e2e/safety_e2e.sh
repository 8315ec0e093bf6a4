#!/usr/bin/env bash
# End-to-end: the three safety layers with the REAL Claude Code CLI (pinned,
# .deps/npm) against the fake Messages API (tests/e2e/fake_messages_api.js).
#
#  1. The PreToolUse hook alone (tests/e2e/safety_agent.lua: lib/agent_env's
#     environment, no stream check, --permission-mode bypassPermissions and no
#     disallowed tools, so nothing else stops the calls). The scripted model
#     tries `git commit -am x`, `bash -c 'git commit -m x'`, `env git push`,
#     `GIT_DIR=.git git commit -m x`, `rm -r -f src` and a Write outside the
#     allowed root, then a harmless `touch`. Asserted: each of the six got an
#     error tool_result naming orch-host's block, the touch ran, src/ is there,
#     the repository still has its one commit and the remote none, no file
#     outside, six tool_blocked events of the run's session and task.
#  2. The agent's git alone (no --settings): `git commit -am x`,
#     `git commit --no-verify -m x` and `git push --no-verify origin HEAD` run
#     and fail: still one commit, the remote empty.
#  3. The day (daily.lua, a worktree per task): task-m writes
#     supabase/migrations/001_init.sql -> needs_review; task-x commits behind
#     the hook's and git's back (python clears the git environment) -> the
#     check after the run fails it, naming the moved ref; the per-task
#     CLAUDE_CONFIG_DIR is on the task and holds the CLI's session.
#
# Env (ctest sets both): ORCH_HOST, ORCH_SRC. CLAUDE_BIN: another claude (e.g.
# the latest). KEEP_TMP=1 keeps the scratch directory.
set -euo pipefail

E2E_NAME=safety_e2e
# shellcheck source=tests/e2e/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
command -v python3 >/dev/null || fail "python3 not found on PATH"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/safety_e2e.XXXXXX")"
TMP="$(cd "$TMP" && pwd -P)"
orch() { "$ORCH_HOST" --root "$ROOT" --config "$TMP/config.lua" "$@"; }
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ $rc -ne 0 ]; then
    echo "---- run output ----" >&2; cat "$TMP"/*.out >&2 2>/dev/null || true
    echo "---- events ----" >&2; cut -c1-300 "$TMP/logs/events.ndjson" >&2 2>/dev/null || true
    echo "---- fake log ----" >&2; cut -c1-600 "$TMP"/fake*.log >&2 2>/dev/null || true
  fi
  offline_model_stop
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "safety_e2e: scratch kept in $TMP" >&2; else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

commits() { git -C "$1" rev-list --all --count; }
new_repo() {  # new_repo DIR: one commit with src/main.c, a bare remote "origin"
  mkdir -p "$1/src"
  git -C "$1" init -q
  echo "int main(void) { return 0; }" >"$1/src/main.c"
  echo "# scratch" >"$1/README.md"
  git -C "$1" add -A
  git -C "$1" -c user.name=e2e -c user.email=e2e@localhost -c commit.gpgsign=false commit -q -m "initial commit"
  git init -q --bare "$1.remote.git"
  git -C "$1" remote add origin "$1.remote.git"
}

{
  echo "local c = (function()"
  cat "$ROOT/workflows/config.lua"
  echo "end)()"
  echo "c.paths.questions_dir = \"$TMP/questions\""
  echo "c.claude.disallowed_tools = { \"NotebookEdit\" }"   # only orch-host's own layers stop the calls
  echo "c.claude.permission_mode = \"bypassPermissions\""
  echo "return c"
} >"$TMP/config.lua"
export CLAUDE_CLI_PATH="$CLAUDE" CLAUDE_TIMEOUT_SEC=180
export ORCH_STATE_DB="$TMP/state/orch.db" ORCH_LOGS_DIR="$TMP/logs" ORCH_RESULTS_DIR="$TMP/results"
export N8N_NOTIFY_URL="" TELEGRAM_BOT_TOKEN="" TELEGRAM_CHAT_ID="" TELEGRAM_ALLOWED_USERS=""
unset ORCH_ROOT APPROVAL_MODE CLAUDE_PERMISSION_MODE CLAUDE_SKIP_PERMISSIONS CLAUDE_MAX_TURNS CLAUDE_MODEL \
  MAX_DAILY_COST_USD
mkdir -p "$TMP/state" "$TMP/logs" "$TMP/results"

bash_use() { printf '[{"tool_use": {"name": "Bash", "input": {"command": %s, "description": "try"}}}]' "$(node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$1")"; }

# ---------------------------------------------------------------------------
info "1. the PreToolUse hook stops six forbidden calls before they run ($("$CLAUDE" --version))"
R1="$TMP/one"
new_repo "$R1"
cat >"$TMP/model1.json" <<EOF
{"agents": [{"name": "hook", "turns": [
  $(bash_use "git commit -am x"),
  $(bash_use "bash -c 'git commit -m x'"),
  $(bash_use "env git push"),
  $(bash_use "GIT_DIR=.git git commit -m x"),
  $(bash_use "rm -r -f src"),
  [{"tool_use": {"name": "Write", "input": {"file_path": "{{cwd}}/../outside.txt", "content": "outside\n"}}}],
  $(bash_use "touch {{cwd}}/allowed.txt"),
  [{"text": "done"}]
]}]}
EOF
offline_model_start "$TMP/model1.json" "$TMP/fake1.log" || fail "the fake Messages API did not start"
CLAUDE_ALLOWED_ROOT="$R1" SAFETY_CWD="$R1" SAFETY_DIR="$TMP/agent1" SAFETY_PROMPT="SAFETY-HOOK: try things" \
  orch run tests/e2e/safety_agent.lua --no-input </dev/null >"$TMP/one.out" 2>&1 || fail "the agent run failed"
offline_model_stop
[ -f "$R1/allowed.txt" ] || fail "the harmless touch did not run"
[ -f "$R1/src/main.c" ] || fail "rm -r -f src ran: src/main.c is gone"
[ -e "$TMP/outside.txt" ] && fail "the Write outside the root ran"
[ "$(commits "$R1")" = 1 ] || fail "a commit was made: $(git -C "$R1" log --oneline --all)"
[ "$(git -C "$R1.remote.git" rev-list --all --count)" = 0 ] || fail "something was pushed"
node -e '
  const reqs = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse);
  const main = reqs.filter((r) => r.path.startsWith("/v1/messages") && !r.side);
  // (a newer CLI may put a note after a tool result: then the request logs none)
  const res = main.slice(1, 7).map((r) => r.tool_results[0]).filter(Boolean);
  const bad = res.filter((t) => !t.is_error || !/orch-host blocked this tool call/.test(t.text || ""));
  if (main.length !== 8 || res.length < 5 || bad.length) { console.error("tool results: " + JSON.stringify(res)); process.exit(1); }
  if (main[7].tool_results[0].is_error) { console.error("the touch was refused"); process.exit(1); }
' "$TMP/fake1.log" || fail "the six calls were not all blocked by the hook"
n=$(grep -c '"event":"tool_blocked".*"session":"e2e-safety".*"task":"t1"' "$TMP/logs/events.ndjson" || true)
[ "$n" = 6 ] || fail "$n tool_blocked events, want 6"
for what in "git commit" "git push" "rm -rf" "outside the allowed root"; do
  grep '"event":"tool_blocked"' "$TMP/logs/events.ndjson" | grep -q "$what" || fail "no tool_blocked event names '$what'"
done
[ -f "$TMP/agent1/.claude.json" ] || fail "no .claude.json in the agent's config dir"
ls "$TMP/agent1/projects/"*/*.jsonl >/dev/null 2>&1 || fail "the CLI kept its session elsewhere"

# ---------------------------------------------------------------------------
info "2. the agent's git refuses commits and pushes (no hook)"
R2="$TMP/two"
new_repo "$R2"
echo change >>"$R2/README.md"
cat >"$TMP/model2.json" <<EOF
{"agents": [{"name": "git", "turns": [
  $(bash_use "git commit -am x"),
  $(bash_use "git -c user.name=a -c user.email=a@b commit --no-verify -am y"),
  $(bash_use "git push --no-verify origin HEAD"),
  [{"text": "done"}]
]}]}
EOF
offline_model_start "$TMP/model2.json" "$TMP/fake2.log" || fail "the fake Messages API did not start"
SAFETY_HOOK=0 SAFETY_CWD="$R2" SAFETY_DIR="$TMP/agent2" SAFETY_PROMPT="SAFETY-GIT: commit" \
  orch run tests/e2e/safety_agent.lua --no-input </dev/null >"$TMP/two.out" 2>&1 || fail "the agent run failed"
offline_model_stop
[ "$(commits "$R2")" = 1 ] || fail "the agent's git committed: $(git -C "$R2" log --oneline --all)"
[ "$(git -C "$R2.remote.git" rev-list --all --count)" = 0 ] || fail "the agent's git pushed"
node -e '
  const reqs = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse);
  const main = reqs.filter((r) => r.path.startsWith("/v1/messages") && !r.side);
  const res = main.slice(1, 4).map((r) => r.tool_results[0] || {});
  if (main.length !== 4 || res.some((t) => !t.is_error)) { console.error(JSON.stringify(res)); process.exit(1); }
  if (!/agents may not commit or push/.test(res[0].text) || !/agents may not/.test(res[1].text)) {
    console.error(JSON.stringify(res)); process.exit(1); }
' "$TMP/fake2.log" || fail "the git refusals did not reach the agent"
git -C "$R2" -c user.name=o -c user.email=o@x commit -qam "the orchestrator's commit" || fail "plain git cannot commit"

# ---------------------------------------------------------------------------
info "3. the day: migrations -> needs_review, a commit behind the layers' back -> failed, a blocked call -> carries on"
R3="$TMP/three"
new_repo "$R3"
cat >"$TMP/day.yaml" <<'EOF'
date: 2026-12-01
tasks:
  - id: task-m
    name: "Add a migration"
    description: "Writes a migration file."
    prompt: "SAFETY-MIGRATION: add the first migration."
  - id: task-x
    name: "Sneak a commit"
    description: "Commits behind the hook's and git's back."
    prompt: "SAFETY-SNEAK: commit your work."
  - id: task-b
    name: "Blocked, carries on"
    description: "Tries a commit, is told no, writes its file."
    prompt: "SAFETY-CARRY: commit, then write the notes."
EOF
SNEAK='python3 -c "import os,subprocess; e={k:v for k,v in os.environ.items() if not k.startswith(\"GIT_CONFIG\")}; subprocess.run([\"git\",\"-c\",\"user.name=x\",\"-c\",\"user.email=x@y\",\"commit\",\"-q\",\"--allow-empty\",\"-m\",\"sneaky\"],env=e,check=True)"'
cat >"$TMP/model3.json" <<EOF
{"agents": [
  {"name": "migration", "match": "SAFETY-MIGRATION", "turns": [
    [{"tool_use": {"name": "Write", "input": {"file_path": "{{cwd}}/supabase/migrations/001_init.sql", "content": "create table t (id int);\n"}}}],
    [{"text": "migration added"}]
  ]},
  {"name": "sneak", "match": "SAFETY-SNEAK", "turns": [
    $(bash_use "$SNEAK"),
    [{"text": "committed"}]
  ]},
  {"name": "carry", "match": "SAFETY-CARRY", "turns": [
    $(bash_use "git commit -am wip"),
    [{"tool_use": {"name": "Write", "input": {"file_path": "{{cwd}}/carried.txt", "content": "carried on\n"}}}],
    [{"text": "could not commit; wrote carried.txt"}]
  ]}
]}
EOF
offline_model_start "$TMP/model3.json" "$TMP/fake3.log" || fail "the fake Messages API did not start"
rc=0
CLAUDE_BASE_CWD="$R3" orch run daily.lua --tasks "$TMP/day.yaml" --auto-approve --no-input </dev/null \
  >"$TMP/three.out" 2>&1 || rc=$?
offline_model_stop
[ "$rc" = 1 ] || fail "orch-host run exited $rc, want 1 (a task failed)"
orch status --json >"$TMP/status.json" || fail "status --json failed"
node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const [m, x, b] = s.tasks;
  const bad = (w) => { console.error(w + "\n" + JSON.stringify(s.tasks, null, 1).slice(0, 3000)); process.exit(1); };
  if (m.status !== "needs_review" || !/migrations.*supabase\/migrations\/001_init.sql/.test(m.error)) bad("task-m");
  if (x.status !== "failed" || !/safety check after the run: ref moved: refs\/heads\/orch\/.*task-x/.test(x.error)) bad("task-x");
  if (!x.safety_violation) bad("no safety_violation on task-x");
  if (!m.agent_dir || m.agent_dir === x.agent_dir) bad("agent_dir");
  // the hook blocked its commit before it ran; the agent carried on and the task completed
  if (b.status !== "completed") bad("task-b: a blocked call stopped the agent");
  if (!Array.isArray(b.tool_blocks) || b.tool_blocks.length !== 1) bad("task-b: tool_blocks");
  if (JSON.stringify(b.files_changed) !== JSON.stringify(["carried.txt"])) bad("task-b: files_changed");
' "$TMP/status.json" || fail "the day's tasks are not what the safety layers say"
M_DIR="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).tasks[0].agent_dir)' "$TMP/status.json")"
ls "$M_DIR/projects/"*/*.jsonl >/dev/null 2>&1 || fail "task-m's CLI session is not in its config dir $M_DIR"
grep -q '"event":"safety_violation"' "$TMP/logs/events.ndjson" || fail "no safety_violation event"
info "OK"
