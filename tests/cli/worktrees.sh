#!/usr/bin/env bash
# A git worktree and a branch per task, in scratch repositories with real
# git: workflows/lib/worktree.lua (tests/cli/fixtures/worktree_spec.lua, run
# by `orch-host test`: branches, changes landing in the right worktree,
# nothing committed, a dependent task starting with its dependency's work,
# re-runs reusing, every bad input refused by name, two prepares of one task
# at once), then `orch-host clean worktrees [--dry-run] [--force]`: it keeps
# unmerged and uncommitted work, removes the merged clean worktree, deletes
# the merged task branches no worktree holds (a later day's task replaced
# theirs), refuses outside a git repository and while a run holds the lock.
source "$(dirname "$0")/lib.bash"

# --- the module, through a spec
mkdir -p "$T/wt"
OUT=$(WT_DIR="$T/wt" orch test --no-state "$ORCH_SRC/tests/cli/fixtures/worktree_spec.lua" 2>&1)
RC=$?
check_eq "$RC" 0 "worktree_spec.lua: exit code"
check "worktree_spec.lua: every test passes" grep -qE '^# ([0-9]+) tests, \1 passed, 0 failed' <<<"$OUT"
[ "$RC" = 0 ] || echo "$OUT" >&2

# --- the command
R="$T/cli"
mkdir -p "$R" "$T/plain"
g() { git -C "$R" -c user.email=t@t -c user.name=t "$@"; }
g init -q -b main
echo base >"$R/file.txt"
g add file.txt && g commit -qm init
g worktree add -q -b orch/t1 "$R/agent_workspaces/t1"        # nothing in it: merged
g worktree add -q -b orch/t2 "$R/agent_workspaces/t2"        # uncommitted work
echo work >"$R/agent_workspaces/t2/new.txt"
g worktree add -q -b orch/t3 "$R/agent_workspaces/t3"        # a commit main lacks
echo more >>"$R/agent_workspaces/t3/file.txt"
git -C "$R/agent_workspaces/t3" -c user.email=t@t -c user.name=t commit -qam t3
export CLAUDE_BASE_CWD="$R"

OUT=$(orch clean worktrees --dry-run 2>&1); RC=$?
check_eq "$RC" 0 "clean --dry-run: exit code"
check "dry run: would remove t1 ($OUT)" grep -q '^would remove agent_workspaces/t1 (orch/t1): merged into main' <<<"$OUT"
check "dry run: keeps t2, naming its file" grep -q '^kept agent_workspaces/t2 (orch/t2): uncommitted changes: new.txt' <<<"$OUT"
check "dry run: keeps t3, unmerged" grep -q '^kept agent_workspaces/t3 (orch/t3): branch orch/t3 has commits not merged into main' <<<"$OUT"
check "dry run: removes nothing" test -d "$R/agent_workspaces/t1"

# a run holds the lock: its agents may be in these worktrees
OUT=$(flock "$ORCH_STATE_DB.lock" "$ORCH_HOST" --root "$ORCH_SRC" clean worktrees 2>&1); RC=$?
check_eq "$RC" 4 "clean while a run is active: exit code"
check "clean while a run is active: says so ($OUT)" grep -q 'another run is active' <<<"$OUT"
check "clean while a run is active: removes nothing" test -d "$R/agent_workspaces/t1"

OUT=$(orch clean worktrees 2>&1); RC=$?
check_eq "$RC" 0 "clean: exit code"
check "clean: removed t1 ($OUT)" grep -q '^removed agent_workspaces/t1 (orch/t1): .*branch orch/t1 deleted' <<<"$OUT"
check "clean: t1's folder is gone" test ! -e "$R/agent_workspaces/t1"
check_eq "$(g branch --list orch/t1)" "" "clean: t1's merged branch is deleted"
check "clean: t2's work is still there" test -f "$R/agent_workspaces/t2/new.txt"
check "clean: t3 is still there" test -d "$R/agent_workspaces/t3"
check "clean: says what it kept" grep -q '^1 removed, 2 kept (--force removes the kept worktrees too' <<<"$OUT"

OUT=$(orch clean worktrees --force 2>&1); RC=$?
check_eq "$RC" 0 "clean --force: exit code"
check "clean --force: t2 gone" test ! -e "$R/agent_workspaces/t2"
check "clean --force: t3 gone" test ! -e "$R/agent_workspaces/t3"
check "clean --force: t3's unmerged branch stays ($OUT)" test -n "$(g branch --list orch/t3)"
check "clean --force: says it kept the branch" grep -q 'removed agent_workspaces/t3 (orch/t3): forced: .*branch orch/t3 kept' <<<"$OUT"

# t3's worktree went, its unmerged branch stays: clean says so, and never deletes it
OUT=$(orch clean worktrees --force 2>&1); RC=$?
check_eq "$RC" 0 "clean after --force: exit code"
check "clean after --force: keeps t3's unmerged branch, saying why ($OUT)" grep -q \
    '^kept branch orch/t3 (no worktree): branch orch/t3 has commits not merged into main' <<<"$OUT"
check "clean after --force: t3's branch stays" test -n "$(g branch --list orch/t3)"
g branch -qD orch/t3
OUT=$(orch clean worktrees 2>&1); RC=$?
check_eq "$RC" 0 "clean with nothing left: exit code"
check "clean with nothing left: says so ($OUT)" grep -q '^no task worktrees under agent_workspaces and no task branches' \
    <<<"$OUT"

OUT=$(CLAUDE_BASE_CWD="$T/plain" orch clean worktrees 2>&1); RC=$?
check_eq "$RC" 2 "clean outside a git repository: exit code"
check "clean outside a git repository: says so ($OUT)" grep -q "$T/plain is not a git repository" <<<"$OUT"

# workspace.root (config, ORCH_WORKSPACE_ROOT) is where clean looks
g worktree add -q -b orch/t9 "$R/elsewhere/t9"
OUT=$(ORCH_WORKSPACE_ROOT=elsewhere orch clean worktrees 2>&1); RC=$?
check_eq "$RC" 0 "clean under ORCH_WORKSPACE_ROOT: exit code"
check "clean under ORCH_WORKSPACE_ROOT: removed t9 ($OUT)" grep -q '^removed elsewhere/t9 (orch/t9)' <<<"$OUT"
printf 'return { workspace = { root = "  " } }\n' >"$T/bad_root.lua"
OUT=$(orch --config "$T/bad_root.lua" clean worktrees 2>&1); RC=$?
check_eq "$RC" 2 "a blank workspace.root: exit code"
check "a blank workspace.root: names the key ($OUT)" grep -q "'workspace.root' must name a folder" <<<"$OUT"
printf 'return { workspace = { push = "yes" } }\n' >"$T/bad_push.lua"
OUT=$(orch --config "$T/bad_push.lua" clean worktrees 2>&1); RC=$?
check_eq "$RC" 2 "a workspace.push that is not a boolean: exit code"
check "a workspace.push that is not a boolean: names the key ($OUT)" grep -q "'workspace.push' must be a boolean" <<<"$OUT"

# a later day's task-1 and task-2 replace day 1's worktrees (each branch
# kept, no worktree any more): clean finds day 1's branches, deletes the
# merged one and keeps the one with a commit main lacks; a branch the
# orchestrator did not make is never its to delete
D="$T/days"
mkdir -p "$D"
gd() { git -C "$D" -c user.email=t@t -c user.name=t "$@"; }
gd init -q -b main
echo base >"$D/file.txt"
gd add file.txt && gd commit -qm init
day_file() {  # day_file FILE SUFFIX: task-1 on feature/aSUFFIX, task-2 on feature/bSUFFIX
    printf '{"tasks": [{"id": "task-1", "name": "one", "prompt": "ok", "branch_name": "feature/a%s"},
 {"id": "task-2", "name": "two", "prompt": "ok", "branch_name": "feature/b%s"}]}\n' "$2" "$2" >"$1"
}
day_file "$T/day1.json" 1
day_file "$T/day2.json" 2
OUT=$(CLAUDE_BASE_CWD="$D" orch run daily.lua --tasks "$T/day1.json" --auto-approve --no-input 2>&1) ||
    fail "day 1: $OUT"
echo more >>"$D/agent_workspaces/task-2/file.txt"
git -C "$D/agent_workspaces/task-2" -c user.email=t@t -c user.name=t commit -qam "day 1's work"
OUT=$(CLAUDE_BASE_CWD="$D" orch run daily.lua --tasks "$T/day2.json" --auto-approve --no-input 2>&1) ||
    fail "day 2: $OUT"
check_eq "$(git -C "$D/agent_workspaces/task-1" branch --show-current)" feature/a2 "day 2's task-1 worktree"
gd branch user/topic
OUT=$(CLAUDE_BASE_CWD="$D" orch clean worktrees --dry-run 2>&1); RC=$?
check_eq "$RC" 0 "clean --dry-run after two days: exit code"
check "dry run: would delete day 1's merged branch ($OUT)" grep -q \
    '^would remove branch feature/a1 (no worktree): merged into main, no worktree$' <<<"$OUT"
check "dry run: keeps day 1's unmerged branch" grep -q \
    '^kept branch feature/b1 (no worktree): branch feature/b1 has commits not merged into main$' <<<"$OUT"
check "dry run: would remove day 2's worktrees" grep -q '^would remove agent_workspaces/task-2 (feature/b2)' <<<"$OUT"
check "dry run: never a branch the orchestrator did not make" test -z "$(grep user/topic <<<"$OUT")"
check "dry run: counts them" grep -q '^3 would remove, 1 kept$' <<<"$OUT"
check "dry run: deletes nothing" test -n "$(gd branch --list feature/a1)"
OUT=$(CLAUDE_BASE_CWD="$D" orch clean worktrees 2>&1); RC=$?
check_eq "$RC" 0 "clean after two days: exit code"
check "clean: deleted day 1's merged branch ($OUT)" grep -q \
    '^removed branch feature/a1 (no worktree): merged into main, no worktree; branch deleted$' <<<"$OUT"
check_eq "$(gd branch --list feature/a1 feature/a2 feature/b2)" "" "clean: the merged task branches are gone"
check "clean: day 1's unmerged branch stays" test -n "$(gd branch --list feature/b1)"
check "clean: the other branch stays" test -n "$(gd branch --list user/topic)"
OUT=$(CLAUDE_BASE_CWD="$D" orch clean worktrees --force 2>&1); RC=$?
check_eq "$RC" 0 "clean --force after two days: exit code"
check "clean --force: says it keeps the unmerged branch ($OUT)" grep -q '^kept branch feature/b1 (no worktree)' <<<"$OUT"
check "clean --force: day 1's unmerged branch stays" test -n "$(gd branch --list feature/b1)"

OUT=$(orch clean branches 2>&1); RC=$?
check_eq "$RC" 2 "clean of an unknown target: exit code"
check "clean of an unknown target: names it ($OUT)" grep -q "unknown target 'branches'" <<<"$OUT"
OUT=$(orch clean 2>&1); RC=$?
check_eq "$RC" 2 "clean without a target: exit code"

finish
