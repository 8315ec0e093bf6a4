#!/usr/bin/env bash
# `orch-host check` reads a task file as `run` would and prints the plan
# (waves, branches, approvals, checkpoints, context files, deliverables,
# acceptance commands, standing instructions, earlier feedback counted but
# not absorbed) without running anything: no
# agent starts, no state database, worktree, branch or instructions file is
# made. A problem the run would meet is exit 2 with the file, task and
# field named: a missing or outside context file, a cycle, an unreadable
# file, a repository with uncommitted changes. A good file is exit 0.
source "$(dirname "$0")/lib.bash"
export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"
work_commit spec.md "the spec"
mkdir -p "$T/feedback"
printf '# Standing instructions\n\n## Global\n- Keep changes small.\n' >"$T/feedback/instructions.md"
printf '# Feedback 2026-01-05\n\n## schema: Write the schema\nRating: 4/5\n- ✅ clear\nAction (task: schema): Add an index for each foreign key.\n' \
    >"$T/feedback/2026-01-05.md"
cp "$T/feedback/instructions.md" "$T/instructions.before"
branches() { git -C "$T/work" branch --list | sort; }
before=$(branches)

D=$T/day.yaml
cat >"$D" <<YAML
date: $(date +%F)
max_cost_usd: 4
tasks:
  - id: schema
    name: "Write the schema"
    prompt: "Write it."
    context_files: [spec.md]
    deliverables: [db/schema.sql]
    verify: ["test -s db/schema.sql", "echo nope; exit 3"]
  - id: missing
    name: "Reads a file that is not there"
    prompt: "Read it."
    context_files: [docs/missing.md]
  - id: api
    name: "The API on the schema"
    prompt: "Build it."
    depends_on: [schema]
    context_files: [db/schema.sql]
YAML
rc=0
orch check --tasks "$D" >"$T/bad.out" 2>&1 || rc=$?
expect_eq "$rc" 2 "a missing context file: exit code ($(cat "$T/bad.out"))"
for want in "$D: 3 tasks, yaml" "budget: \$4.00" "standing instructions: 2 items" \
    "wave 1 (ready at the start):" "wave 2 (after the waves before):" \
    "PROBLEM: task missing: context file docs/missing.md not found (looked in $T/work)" \
    "db/schema.sql (checked at its start: its worktree holds its dependencies' work)" \
    "2 standing instructions in its prompt" "1 standing instruction in its prompt" \
    "verify        test -s db/schema.sql" \
    "deliverables  db/schema.sql" "orch/SESSION/schema (derived" "after         schema" \
    "1 problem: the run would fail these tasks at their start"; do
    grep -qF -- "$want" "$T/bad.out" || fail "check: no '$want' in: $(cat "$T/bad.out")"
done
# two acceptance commands, one a line each (joined by "; " they read as one shell command)
grep -qE -- "^ +echo nope; exit 3$" "$T/bad.out" || fail "check: the second acceptance command not on its own line: $(cat "$T/bad.out")"
check "check: no joined acceptance commands" bash -c "! grep -qF 'schema.sql; echo nope' '$T/bad.out'"
# the waves in order: schema and missing first, api after
expect_eq "$(grep -E '^  [a-z]+  ' "$T/bad.out" | awk '{print $1}' | tr '\n' ' ')" "schema missing api " "plan order"

# nothing ran and nothing was written
expect_eq "$(wc -l <"$T/ledger")" 0 "agents started by check"
[[ ! -e $ORCH_STATE_DB ]] || fail "check made a state database"
expect_eq "$(branches)" "$before" "branches after check"
[[ ! -e $T/work/agent_workspaces ]] || fail "check made a worktree folder"
cmp -s "$T/feedback/instructions.md" "$T/instructions.before" || fail "check rewrote the instructions file"

# the file fixed: exit 0; --auto-approve plans no approvals
sed -i 's#docs/missing.md#spec.md#' "$D"
orch check --tasks "$D" --auto-approve >"$T/good.out" 2>&1 || fail "a good file: exit $? ($(cat "$T/good.out"))"
grep -qF "ok: nothing ran, nothing was written" "$T/good.out" || fail "good file: $(cat "$T/good.out")"
grep -qF "approval      none: --auto-approve: no prompts" "$T/good.out" || fail "auto-approve: $(cat "$T/good.out")"
grep -qF "agents at once: 3" "$T/good.out" || fail "agents at once: $(cat "$T/good.out")"
orch check --tasks "$D" --max-concurrent 1 | grep -qF "wave 1 (ready at the start, 1 at a time in file order):" ||
    fail "--max-concurrent 1: no 'one at a time' wave"

# a checkpoint (a database task: checkpoint_after) is said as what the run does: the next task asks first
task_md "$T/cp.md" 1 "Migrate" database "Migrate it."
task_md "$T/cp.md" 2 "Use it" backend "Use it."
orch check --tasks "$T/cp.md" >"$T/cp.out" 2>&1 || fail "a day with a checkpoint: exit $? ($(cat "$T/cp.out"))"
grep -qF "checkpoint    once it completes, the next task asks for approval before it starts (a review of this one; " \
    "$T/cp.out" || fail "check: the checkpoint's wording: $(grep -A1 checkpoint "$T/cp.out")"
! grep -q "pauses" "$T/cp.out" || fail "check: a checkpoint said to pause: $(cat "$T/cp.out")"
# one on the day's last task asks nothing: no task starts after it
task_md "$T/cp-last.md" 1 "Use it" backend "Use it."
task_md "$T/cp-last.md" 2 "Migrate" database "Migrate it."
orch check --tasks "$T/cp-last.md" >"$T/cp-last.out" 2>&1 || fail "a day ending with a checkpoint: exit $?"
grep -qF "checkpoint    none in effect: no task starts after it, so nothing is asked (" "$T/cp-last.out" ||
    fail "check: the last task's checkpoint: $(grep -A1 checkpoint "$T/cp-last.out")"
! grep -q "the next task asks" "$T/cp-last.out" || fail "check: the last task's checkpoint promises a next task"

# a cycle: the file, the task's JSON pointer, the cycle spelled out
printf '{"tasks":[{"id":"a","name":"A","prompt":"x","dependencies":["b"]},
{"id":"b","name":"B","prompt":"y","dependencies":["a"]}]}\n' >"$T/cycle.json"
rc=0
orch check --tasks "$T/cycle.json" >"$T/cycle.out" 2>&1 || rc=$?
expect_eq "$rc" 2 "a cycle: exit code"
grep -qF "$T/cycle.json: /tasks/1/dependencies/0: task b 'B': dependency cycle: a -> b -> a" "$T/cycle.out" ||
    fail "cycle: $(cat "$T/cycle.out")"

# a markdown day runs one task at a time, no worktrees
printf '# Tasks - %s\n\n## Task 1: One\n**Type:** docs\n**Requires Approval:** false\n**Description:** d\n**Claude Instruction:**\nDo it.\n\n---\n\n## Task 2: Two\n**Type:** docs\n**Description:** d\n**Claude Instruction:**\nDo it too.\n' \
    "$(date +%F)" >"$T/day.md"
orch check --tasks "$T/day.md" >"$T/md.out" 2>&1 || fail "markdown day: exit $? ($(cat "$T/md.out"))"
grep -qF "worktrees: none" "$T/md.out" && grep -qF "1 at a time in file order" "$T/md.out" || fail "markdown: $(cat "$T/md.out")"

# what the run refuses, check refuses: no file, uncommitted changes
rc=0
orch check --tasks "$T/nope.yaml" >"$T/nope.out" 2>&1 || rc=$?
expect_eq "$rc" 2 "no such file: exit code"
grep -qF "cannot read the task file: $T/nope.yaml" "$T/nope.out" || fail "no file: $(cat "$T/nope.out")"
echo changed >>"$T/work/spec.md"
rc=0
orch check --tasks "$D" >"$T/dirty.out" 2>&1 || rc=$?
expect_eq "$rc" 2 "uncommitted changes: exit code"
grep -qF "has uncommitted changes to tracked files: spec.md" "$T/dirty.out" || fail "dirty: $(cat "$T/dirty.out")"

# an inbox task file: the watch's parser, where its agent works, the prompt as the agent gets it
orch create-sample --dir "$T/inbox" >/dev/null || fail "create-sample"
orch check --tasks "$T/inbox/sample.task.md" >"$T/inbox.out" 2>&1 || fail "inbox sample: exit $? ($(cat "$T/inbox.out"))"
for want in "an inbox task file, task sample (type summarize, priority medium)" "works in          $T/work" \
    "success criteria  2, 1 checked by the orchestrator" \
    "    - \`SUMMARY.md\` is written: the task must write the file SUMMARY.md (missing or left as it was: needs_review)" \
    "    - The summary is at most ten lines and names how to start the project: for the reviewer, not checked" \
    "the prompt, as the agent gets it:" \
    "    Target Files:" "    - README.md" "ok: nothing ran, nothing was written"; do
    grep -qF -- "$want" "$T/inbox.out" || fail "inbox check: no '$want' in: $(cat "$T/inbox.out")"
done
# each criterion, with how the orchestrator checks it
printf -- '---\ntype: fix\n---\n**Prompt:**\nfix it\n\n**Success Criteria:**\n- [ ] `make test` passes\n' >"$T/inbox/cmd.task.md"
orch check --tasks "$T/inbox/cmd.task.md" >"$T/cmd.out" 2>&1 || fail "inbox with a command: exit $? ($(cat "$T/cmd.out"))"
grep -qF -- "    - \`make test\` passes: the command \`make test\` is run after the agent (failing: the task fails)" \
    "$T/cmd.out" || fail "the command criterion: $(cat "$T/cmd.out")"
rm "$T/inbox/cmd.task.md"
printf -- '---\ntype: bogus\n---\n# X\n**Prompt:**\nhi\n' >"$T/inbox/bad.task.md"
rc=0
orch check --tasks "$T/inbox/bad.task.md" >"$T/inbox-bad.out" 2>&1 || rc=$?
expect_eq "$rc" 2 "a bad inbox task file: exit code"
grep -qF "$T/inbox/bad.task.md:2: type: \"bogus\" is not one of" "$T/inbox-bad.out" || fail "bad inbox: $(cat "$T/inbox-bad.out")"
[[ -e $T/inbox/bad.task.md && ! -e $T/inbox/failed ]] || fail "check moved the inbox file"
# a relative --tasks that is a symlink: its own name picks the parser (the
# target's name, real.md, would pick the markdown day file's)
printf -- '---\ntype: fix\n---\n**Prompt:**\nhello\n' >"$T/inbox/real.md"
ln -s real.md "$T/inbox/lnk.task.md"
(cd "$T/inbox" && orch check --tasks lnk.task.md) >"$T/lnk.out" 2>&1 || fail "a relative symlink: exit $? ($(cat "$T/lnk.out"))"
grep -qF "$T/inbox/lnk.task.md: an inbox task file, task lnk" "$T/lnk.out" || fail "a relative symlink: $(cat "$T/lnk.out")"
# in the inbox folder (paths.tasks_dir), a file is read as the watch reads it:
# a symlink there pointing out of the folder is refused, one inside is not
printf -- '---\ntype: fix\n---\n**Prompt:**\nhello\n' >"$T/outside.task.md"
ln -s ../outside.task.md "$T/inbox/out.task.md"
rc=0
ORCH_TASKS_DIR=$T/inbox orch check --tasks "$T/inbox/out.task.md" >"$T/out.out" 2>&1 || rc=$?
expect_eq "$rc" 2 "a symlink in the inbox out of it: exit code ($(cat "$T/out.out"))"
grep -qF "$T/inbox/out.task.md: a symlink to $T/outside.task.md, outside the folder" "$T/out.out" \
    || fail "a symlink in the inbox out of it: $(cat "$T/out.out")"
ORCH_TASKS_DIR=$T/inbox orch check --tasks "$T/inbox/lnk.task.md" >"$T/lnk2.out" 2>&1 \
    || fail "a symlink in the inbox to a file in it: exit $? ($(cat "$T/lnk2.out"))"
ORCH_TASKS_DIR=$T/inbox orch check --tasks "$T/outside.task.md" >"$T/out2.out" 2>&1 \
    || fail "a task file outside the inbox: exit $? ($(cat "$T/out2.out"))"

# a deliverable outside the task's folder: check refuses the day, and the run
# fails the task before its agent (the check after it could never find it)
printf '{"tasks":[{"id":"dx","name":"DX","prompt":"p [key:dx]","deliverables":["../escape.txt"]}]}' >"$T/dx.json"
export CLAUDE_BASE_CWD=$T/dxrepo   # a clean repository of its own
git init -q "$CLAUDE_BASE_CWD" && git -C "$CLAUDE_BASE_CWD" -c user.email=t@t -c user.name=t commit -q --allow-empty -m init
rc=0
orch check --tasks "$T/dx.json" >"$T/dx.out" 2>&1 || rc=$?
expect_eq "$rc" 2 "a deliverable outside the worktree: check's exit code ($(cat "$T/dx.out"))"
grep -qF "task dx: deliverable ../escape.txt is outside the task's folder $T/dxrepo/agent_workspaces/dx" "$T/dx.out" \
    || fail "a deliverable outside the worktree: $(cat "$T/dx.out")"
rc=0
orch run --tasks "$T/dx.json" --auto-approve --no-input >"$T/dx-run.out" 2>&1 || rc=$?
expect_eq "$rc" 1 "a deliverable outside the worktree: the run's exit code ($(cat "$T/dx-run.out"))"
expect_eq "$(sj "s['tasks'][0]['status']")" failed "the task with a deliverable outside"
expect_eq "$(grep -c '^start dx$' "$T/ledger" 2>/dev/null || true)" 0 "agents started for it"

# a day's max_cost_usd: 0 is no budget of its own: check says the configured
# one, which the run enforces
printf '{"max_cost_usd": 0, "tasks":[{"id":"z1","name":"Z1","prompt":"p [key:z1]"}]}' >"$T/zero.json"
MAX_DAILY_COST_USD=0.01 orch check --tasks "$T/zero.json" >"$T/zero.out" 2>&1 || fail "zero budget: $(cat "$T/zero.out")"
grep -qF 'budget: $0.01' "$T/zero.out" || fail "a day's 0 budget under a configured one: $(cat "$T/zero.out")"

# a feedback file that does not parse: left out, named; the others' instructions apply
FB=$T/feedback
mkdir -p "$FB"
printf '## z1: Z\nRating: 6/5\n' >"$FB/2020-01-01.md"
printf '## z1: Z\nAction: global: keep it short\n' >"$FB/2020-01-02.md"
ORCH_FEEDBACK_DIR=$FB orch check --tasks "$T/zero.json" >"$T/fb.out" 2>&1 || fail "a bad feedback file: $(cat "$T/fb.out")"
grep -qE "standing instructions: [1-9][0-9]* item" "$T/fb.out" || fail "the good file's instruction: $(cat "$T/fb.out")"
grep -qF "feedback left out (fix it): $FB/2020-01-01.md:2: Rating" "$T/fb.out" || fail "the bad file named: $(cat "$T/fb.out")"
finish
