#!/usr/bin/env bash
# A task whose branch_name exists already (an earlier day's branch):
# - one the session's base contains (merged, or it never moved) is moved up
#   to the base: the task starts from the session's code, as a new branch
#   would, and its worktree's base is that commit;
# - one with commits the base lacks keeps them (nothing thrown away): the
#   task continues it, and its files changed are counted from the branch's
#   tip, so the old commits' files are not this task's, nor its dependent's.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger FAKE_CLAUDE_WRITE=1
touch "$T/ledger"
work_commit first.txt one
git -C "$T/work" branch old/merged              # at first.txt's commit
work_commit second.txt two                      # the session's base is this one
BASE=$(git -C "$T/work" rev-parse HEAD)
# old/ahead: the base plus a commit of its own
TREE=$(printf '100644 blob %s\told.txt\n' "$(echo old | git -C "$T/work" hash-object -w --stdin)" |
    cat - <(git -C "$T/work" ls-tree HEAD) | git -C "$T/work" mktree)
AHEAD=$(git -C "$T/work" -c user.email=t@t -c user.name=t commit-tree "$TREE" -p "$BASE" -m "old work")
git -C "$T/work" branch old/ahead "$AHEAD"

cat >"$T/day.json" <<'EOF2'
{"tasks": [
  {"id": "m", "name": "M", "prompt": "Work. [key:m]", "branch_name": "old/merged"},
  {"id": "a", "name": "A", "prompt": "Work. [key:a]", "branch_name": "old/ahead"},
  {"id": "d", "name": "D", "prompt": "Work. [key:d]", "dependencies": ["a"]}
]}
EOF2
orch run --tasks "$T/day.json" --auto-approve --no-input --max-concurrent 2 >"$T/run.out" 2>&1 \
    || fail "the day: $(cat "$T/run.out")"
WS=$T/work/agent_workspaces
check_eq "$(git -C "$WS/m" rev-parse HEAD)" "$BASE" "the merged branch's worktree starts at the session's base"
check "the merged branch's worktree has the base's files" test -f "$WS/m/second.txt"
check_eq "$(git -C "$WS/a" rev-parse HEAD)" "$AHEAD" "the branch ahead keeps its commit"
check "its old work is there" test -f "$WS/a/old.txt"
check_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "completed", "completed"]' "statuses"
check_eq "$(sj "s['tasks'][0]['workspace']['base']")" "$BASE" "task m's base"
check_eq "$(sj "s['tasks'][1]['workspace']['base']")" "$AHEAD" "task a's base: its branch's tip"
for i in 1 2; do
    check_eq "$(sj "'old.txt' in (s['tasks'][$i].get('files_changed') or [])")" false \
        "the old commit's file among task $((i + 1))'s files changed"
done
check_eq "$(sj "s['tasks'][1]['files_changed']")" '["fake-1.txt"]' "task a's files changed"
finish
