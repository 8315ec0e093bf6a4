#!/usr/bin/env bash
# A task skipped while it waits for its worktree (worktrees are made one at
# a time, lib/workspaces) ends `skipped`, not `failed: worktree: cancelled`,
# and the task whose worktree was being made carries on. The wait is made
# certain by a git on PATH that holds task-1's `worktree add` until the test
# lets it go.
source "$(dirname "$0")/lib.bash"

REAL_GIT=$(command -v git)
mkdir -p "$T/bin"
cat >"$T/bin/git" <<SH
#!/usr/bin/env bash
case " \$* " in
  *" worktree add "*task-1*)
    touch "$T/held"
    for _ in \$(seq 1200); do [ -e "$T/release" ] && break; sleep 0.1; done ;;
esac
exec "$REAL_GIT" "\$@"
SH
chmod +x "$T/bin/git"

J=$T/tasks.json
cat >"$J" <<'JSON'
{ "tasks": [
  { "id": "task-1", "name": "One", "description": "One.", "prompt": "One. [key:t1]", "dependencies": [] },
  { "id": "task-2", "name": "Two", "description": "Two.", "prompt": "Two. [key:t2]", "dependencies": [] }
] }
JSON
PATH="$T/bin:$PATH" bg_run "$T/run.out" orch run daily.lua --tasks "$J" --auto-approve --no-input --max-concurrent 2
wait_for test -e "$T/held"
# task-2 has started and waits for its turn to make a worktree
wait_for sj_true "[t['status'] for t in s['tasks']] == ['running', 'running']"
orch skip --task task-2 --by tester >"$T/skip.out" 2>&1 || fail "skip --task task-2: $(cat "$T/skip.out")"
wait_for sj_true "s['tasks'][1]['status'] != 'running'"
touch "$T/release"
rc=$(bg_wait "$T/run.out")
[ "$rc" = 0 ] || fail "run: expected exit 0, got $rc: $(tail -5 "$T/run.out")"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "skipped"]' \
    "a task skipped while waiting for its worktree"
expect_eq "$(sj "s['tasks'][1].get('error')")" "skipped by tester before it ran" "its reason"
[ ! -e "$T/work/agent_workspaces/task-2" ] || fail "the skipped task got a worktree"
note "ok"
