#!/usr/bin/env bash
# A day whose tasks get worktrees (a JSON or YAML day in a git repository) is
# refused before anything runs when two tasks name the same branch, or a task
# names the repository's own checked-out branch (a branch is checked out in
# one worktree only: the second task would fail after the first had run), or
# one task's branch is a folder of another's (feat/x and feat/x/y):
# exit 2, naming the file, the task and the branch; no agent starts.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"
cat >"$T/same.json" <<'EOF2'
{"tasks": [
  {"id": "a", "name": "A", "prompt": "p [key:a]", "branch_name": "feat/x"},
  {"id": "b", "name": "B", "prompt": "q [key:b]", "branch_name": "feat/x"}
]}
EOF2
RC=0
orch run --tasks "$T/same.json" --auto-approve --no-input >"$T/same.out" 2>&1 || RC=$?
expect_eq "$RC" 2 "exit code of a day with a shared branch ($(cat "$T/same.out"))"
grep -q "$T/same.json: /tasks/1/branch_name: task b 'B': branch_name: \"feat/x\" is task a's branch too" "$T/same.out" \
    || fail "the refusal: $(cat "$T/same.out")"
expect_eq "$(wc -l <"$T/ledger")" 0 "agents started"

# one branch a folder of another (either order): git cannot hold both
for order in "feat/x feat/x/y" "feat/x/y feat/x"; do
    read -r B1 B2 <<<"$order"
    printf '{"tasks": [{"id": "a", "name": "A", "prompt": "p [key:a]", "branch_name": "%s"},
      {"id": "b", "name": "B", "prompt": "q [key:b]", "branch_name": "%s"}]}\n' "$B1" "$B2" >"$T/nest.json"
    RC=0
    orch check --tasks "$T/nest.json" >"$T/nest.out" 2>&1 || RC=$?
    expect_eq "$RC" 2 "exit code of check with branches $order ($(cat "$T/nest.out"))"
    grep -q "/tasks/1/branch_name: task b 'B': branch_name: \"$B2\" and task a's \"$B1\" cannot both be git branches" \
        "$T/nest.out" || fail "the refusal of $order: $(cat "$T/nest.out")"
done
expect_eq "$(wc -l <"$T/ledger")" 0 "agents started"

CUR=$(git -C "$T/work" rev-parse --abbrev-ref HEAD)
printf '{"tasks": [{"id": "m", "name": "M", "prompt": "p [key:m]", "branch_name": "%s"}]}\n' "$CUR" >"$T/cur.json"
RC=0
orch run --tasks "$T/cur.json" --auto-approve --no-input >"$T/cur.out" 2>&1 || RC=$?
expect_eq "$RC" 2 "exit code of a day naming the repository's branch ($(cat "$T/cur.out"))"
grep -q "task m 'M': branch_name: \"$CUR\" is the branch checked out in $T/work" "$T/cur.out" \
    || fail "the refusal: $(cat "$T/cur.out")"
expect_eq "$(wc -l <"$T/ledger")" 0 "agents started"
note "ok"
