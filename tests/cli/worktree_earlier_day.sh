#!/usr/bin/env bash
# Task ids recur from day to day: a day whose task a names another branch
# than an earlier day's task a finds that day's worktree in its folder. With
# no uncommitted changes it is replaced (its branch kept), and `check` says
# so; holding uncommitted work it stays, and the task works beside it in
# a.2 (`check` says so); one an unfinished task of another session works in
# stays and the task fails, and `check` (which reads the state) says so too.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"
printf '{"tasks":[{"id":"a","name":"A","prompt":"x [key:a1]","branch_name":"t/a"}]}' >"$T/w1.json"
printf '{"tasks":[{"id":"a","name":"A again","prompt":"x [key:a2]","branch_name":"u/a"}]}' >"$T/w2.json"
WT=$T/work/agent_workspaces/a
orch run --tasks "$T/w1.json" --auto-approve --no-input >"$T/r1.out" 2>&1 || fail "day 1: $(cat "$T/r1.out")"
expect_eq "$(git -C "$WT" rev-parse --abbrev-ref HEAD)" t/a "day 1's worktree"

RC=0
orch check --tasks "$T/w2.json" >"$T/c2.out" 2>&1 || RC=$?
check_eq "$RC" 0 "check of day 2 ($(cat "$T/c2.out"))"
check "check says the earlier worktree is replaced" \
    grep -q "worktree      replaces the earlier worktree of branch t/a at $WT" "$T/c2.out"
check_eq "$(git -C "$WT" rev-parse --abbrev-ref HEAD)" t/a "check left the worktree alone"
RC=0
orch run --tasks "$T/w2.json" --auto-approve --no-input >"$T/r2.out" 2>&1 || RC=$?
check_eq "$RC" 0 "day 2 runs ($(cat "$T/r2.out"))"
check_eq "$(git -C "$WT" rev-parse --abbrev-ref HEAD)" u/a "day 2's worktree"
check_eq "$(git -C "$T/work" for-each-ref --format='%(refname:short)' refs/heads/t refs/heads/u | tr '\n' ' ')" 't/a u/a ' "both branches are kept"

# day 2's work is uncommitted: day 1 again must not replace it; its task works
# beside it, in a.2, and check says so
echo wip >"$WT/wip.txt"
RC=0
orch check --tasks "$T/w1.json" >"$T/c3.out" 2>&1 || RC=$?
check_eq "$RC" 0 "check of a day whose folder holds another day's work ($(cat "$T/c3.out"))"
check "check says where it works" grep -qF "works beside the earlier worktree at $WT, which holds work: in $WT.2" \
    "$T/c3.out"
RC=0
orch run --tasks "$T/w1.json" --auto-approve --no-input >"$T/r3.out" 2>&1 || RC=$?
check_eq "$RC" 0 "the run beside it ($(cat "$T/r3.out"))"
check_eq "$(git -C "$WT.2" rev-parse --abbrev-ref HEAD)" t/a "its worktree beside"
check_eq "$(sj "s['tasks'][0]['workspace']['path']")" "$WT.2" "the task's worktree"
check_eq "$(cat "$WT/wip.txt")" wip "the uncommitted work is kept"
check_eq "$(grep -c '^start a1$' "$T/ledger")" 2 "day 1's agent ran again, beside"
git -C "$T/work" worktree remove --force "$WT.2"

# a day whose host died while its task a ran (its session not completed, the
# task not finished) keeps its worktree, clean or not
rm "$WT/wip.txt"
printf '{"tasks":[{"id":"a","name":"A hangs","prompt":"x [fake:hang] [key:a3]","branch_name":"v/a"}]}' >"$T/w3.json"
bg_run "$T/r4.out" orch run --tasks "$T/w3.json" --auto-approve --no-input
SUB=$BG_PID
wait_for grep -q '^start a3$' "$T/ledger"
kill -KILL "$(host_pid_of "$SUB")"
bg_wait "$T/r4.out" >/dev/null
S3=$(sj "s['id']")
RC=0
orch run --tasks "$T/w1.json" --auto-approve --no-input >"$T/r5.out" 2>&1 || RC=$?
check_eq "$RC" 1 "a day after one whose host died ($(cat "$T/r5.out"))"
check "it names the unfinished task" grep -qF "it stays (task a of session $S3 works in it (running))" "$T/r5.out"
check_eq "$(git -C "$WT" rev-parse --abbrev-ref HEAD)" v/a "the unfinished task's worktree is kept"
# check opens the state (read-only) and refuses that day as the run did
RC=0
orch check --tasks "$T/w1.json" >"$T/c5.out" 2>&1 || RC=$?
check_eq "$RC" 2 "check of a day after one whose host died ($(cat "$T/c5.out"))"
check "check names the unfinished task" grep -qF "task a of session $S3 works in it (running)" "$T/c5.out"
finish
