#!/usr/bin/env bash
# The JSON task list's example graph (task-1 and task-3 at once, task-2 after
# task-1) at the configured concurrency (orchestrator.max_concurrent, 3), each
# task in its own git worktree and branch: the agent works there, task-2
# starts with task-1's work, the changed files are recorded, nothing is
# committed and the main work tree is untouched. Order from the stand-in's
# ledger, never from sleeps.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger FAKE_CLAUDE_WRITE=1
touch "$T/ledger"
J=$T/tasks.json
cat >"$J" <<'JSON'
{ "tasks": [
  { "id": "task-1", "name": "Schema", "description": "The schema.", "branch_name": "feature/notes-schema",
    "prompt": "Write the schema. [key:t1] [fake:await:start t3]", "dependencies": [] },
  { "id": "task-2", "name": "API", "description": "The API.", "branch_name": "feature/notes-api",
    "prompt": "Write the API. [key:t2]", "dependencies": ["task-1"] },
  { "id": "task-3", "name": "UI", "description": "The UI.", "branch_name": "feature/notes-ui",
    "prompt": "Write the UI. [key:t3] [fake:await:start t1]", "dependencies": [] }
] }
JSON
orch run daily.lua --tasks "$J" --auto-approve --no-input >"$T/run.out" 2>&1 || fail "run failed: $(tail -5 "$T/run.out")"

line_no() { grep -n -x -- "$1" "$T/ledger" | head -n1 | cut -d: -f1; }
before() {
    local a b
    a=$(line_no "$1"); b=$(line_no "$2")
    [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] || fail "ledger: '$1' should come before '$2': $(cat "$T/ledger")"
}
before "start t1" "end t3"
before "start t3" "end t1"
before "end t1" "start t2"

expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "completed", "completed"]' "statuses"
expect_eq "$(sj "s['max_concurrent']")" 3 "a JSON day runs at orchestrator.max_concurrent"
expect_eq "$(sj "[t['branch'] for t in s['tasks']]")" \
    '["feature/notes-schema", "feature/notes-api", "feature/notes-ui"]' "task branches"
WS=$(cd "$T/work" && pwd -P)/agent_workspaces
expect_eq "$(sj "[t['workspace']['path'] for t in s['tasks']]")" "[\"$WS/task-1\", \"$WS/task-2\", \"$WS/task-3\"]" \
    "task worktrees"
expect_eq "$(sj "[t['files_changed'] for t in s['tasks']]")" '[["fake-1.txt"], ["fake-2.txt"], ["fake-1.txt"]]' \
    "files changed by each task (task-2 started with task-1's fake-1.txt)"
expect_eq "$(sj "[[f['path'] for f in t['changes']['files']] for t in s['tasks']]")" \
    '[["fake-1.txt"], ["fake-2.txt"], ["fake-1.txt"]]' "the changes the report shows"
grep -q '^| # | Task | Type | Status | Branch | Files |' "$T/results"/*-report.md ||
    fail "the report's table has no Files column: $(grep -m1 '^| # |' "$T/results"/*-report.md)"
[ -f "$WS/task-2/fake-1.txt" ] || fail "task-2's worktree lacks task-1's work"
[ -f "$WS/task-1/agent_instructions.md" ] || fail "no agent_instructions.md in task-1's worktree"
grep -q "Write the schema" "$WS/task-1/agent_instructions.md" || fail "agent_instructions.md lacks the prompt"
expect_eq "$(git -C "$T/work" status --porcelain)" "" "the main work tree after the day (agent_workspaces/ is ignored)"
touch "$T/work/summary.md" "$T/work/notes.md"
expect_eq "$(git -C "$T/work" status --porcelain | tr '\n' ' ')" "?? notes.md ?? summary.md " \
    "the user's own summary.md and notes.md stay visible in the main checkout"
rm "$T/work/summary.md" "$T/work/notes.md"
for b in feature/notes-schema feature/notes-api feature/notes-ui; do
    git -C "$T/work" rev-parse -q --verify "refs/heads/$b" >/dev/null || fail "branch $b does not exist"
done
expect_eq "$(git -C "$T/work" rev-list --all --count)" 1 "commits in the repository (nothing committed)"
expect_eq "$(ls "$T/work" | grep -c '^fake-' || true)" 0 "files written in the main work tree"

# --- kill -9 while two tasks run in their worktrees, then resume: they start
# again in the same worktrees (reused), the finished one is not run again
: >"$T/ledger"
K=$T/kill.json
cat >"$K" <<'JSON'
{ "tasks": [
  { "id": "k-1", "name": "Quick", "description": "Quick.", "prompt": "Quick. [key:k1]", "dependencies": [] },
  { "id": "k-2", "name": "Long A", "description": "A.", "prompt": "A. [key:k2] [fake:await:resumed]",
    "dependencies": ["k-1"] },
  { "id": "k-3", "name": "Long B", "description": "B.", "prompt": "B. [key:k3] [fake:await:resumed]",
    "dependencies": [] }
] }
JSON
bg_run "$T/kill1.out" orch run daily.lua --tasks "$K" --auto-approve --no-input
wait_for sj_true "[t['status'] for t in s['tasks']] == ['completed', 'running', 'running']"
wait_for grep -q -x "start k2" "$T/ledger"
wait_for grep -q -x "start k3" "$T/ledger"
HOST=$(host_pid_of "$BG_PID")
[ -n "$HOST" ] || fail "cannot find the orch-host pid"
kill -KILL "$HOST"
expect_eq "$(bg_wait "$T/kill1.out")" 137 "exit code of the killed host"
WAIT_TIMEOUT=15 wait_for no_agents
echo resumed >>"$T/ledger"
orch resume --no-input >"$T/kill2.out" 2>&1 || fail "resume: $(tail -5 "$T/kill2.out")"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "completed", "completed"]' "after resume"
expect_eq "$(grep -c -x 'start k1' "$T/ledger")" 1 "runs of the finished task"
expect_eq "$(sj "[t['workspace']['reused'] for t in s['tasks'][1:]]")" '[true, true]' \
    "the restarted tasks continue in their own worktrees"
expect_eq "$(sj "[t['workspace']['path'] for t in s['tasks']]")" "[\"$WS/k-1\", \"$WS/k-2\", \"$WS/k-3\"]" \
    "worktrees after resume"
expect_eq "$(sj "s['tasks'][1]['files_changed']")" '["fake-2.txt"]' "k-2 started with k-1's work, wrote its own"
# lists are JSON arrays, also when empty (an empty Lua table used to come out as {})
expect_eq "$(sj "sorted(set(type(t.get(k, [])).__name__ for t in s['tasks'] for k in
                  ('acceptance_criteria', 'depends_on', 'context_files', 'deliverables', 'verify', 'files_changed')))")" \
    '["list"]' "the lists' JSON type in status --json"
note "ok"
