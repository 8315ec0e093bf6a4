#!/usr/bin/env bash
# The check after the run (lib/safety_after) of a run cut short: a commit
# made behind the hook while the task ran, then the host killed, fails the
# task at its resume. The resume compares against the refs kept on the task
# from before its run first began (safety_before), not against a snapshot
# taken at the resume, which would hold the commit and let it pass.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"
printf '{"tasks":[{"id":"a","name":"A","prompt":"x [key:a] [fake:await:go]","branch_name":"t/a"}]}' >"$T/d.json"
bg_run "$T/r1.out" orch run --tasks "$T/d.json" --auto-approve --no-input
SUB=$BG_PID
wait_for grep -q '^start a$' "$T/ledger"
WT=$T/work/agent_workspaces/a
expect_eq "$(sj "s['tasks'][0].get('safety_before', {}).get('dir')")" "$WT" "the state before the run, kept on the task"
# what an agent could do behind the hook (its own git refuses; this one does not)
git -C "$WT" -c core.hooksPath=/dev/null -c user.email=t@t -c user.name=t commit -q --allow-empty --no-verify \
    -m sneaky || fail "the commit behind the hook"
kill_resume "$SUB" "$T/r1.out" 1
expect_eq "$(sj "s['tasks'][0]['status']")" failed "the task whose run committed behind the hook"
expect_eq "$(sj "'ref moved: refs/heads/t/a' in (s['tasks'][0].get('error') or '')")" true \
    "its error names the ref: $(sj "s['tasks'][0].get('error')")"
expect_eq "$(sj "s['tasks'][0].get('safety_before')")" null "the kept state, once checked"
finish
