#!/usr/bin/env bash
# A task whose context files are missing or outside the allowed folders fails
# before anyone is asked to approve it (the error names the task and the
# file), in a markdown day (no worktree) and in a YAML day (its own worktree,
# no dependency: the repository is where its files come from): no approval is
# requested, no agent runs, the day goes on. A task that depends on another
# is checked when it starts (its worktree holds that task's work), and a task
# whose context files are there is asked as before.
source "$(dirname "$0")/lib.bash"
export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"
work_commit spec.md "the spec"

# --- a markdown day: task 1 asks for approval but its context file is missing
TASKS=$T/tasks.md
printf '# Tasks - %s\n\n' "$(date +%F)" >"$TASKS"
cat >>"$TASKS" <<'MD'
## Task 1: Reads a missing file
**Type:** backend
**Priority:** medium
**Requires Approval:** true
**Description:** it reads docs/missing.md
**Context Files:**
- docs/missing.md

**Claude Instruction:**
Read it. [key:m1]

---

## Task 2: Runs
**Type:** backend
**Priority:** medium
**Requires Approval:** false
**Description:** it runs
**Claude Instruction:**
Do it. [key:m2]

---
MD
APPROVAL_MODE=auto bg_run "$T/md.out" orch run daily.lua --tasks "$TASKS" --no-input
# asked (the defect) or failed: either ends the wait, the first fails the test
wait_for sj_true "s['tasks'][0]['status'] in ('failed', 'waiting_approval')"
expect_eq "$(task_status 1)" failed "markdown day: task 1 ($(sj "s['tasks'][0].get('error')"))"
expect_eq "$(bg_wait "$T/md.out")" 1 "markdown day: exit code ($(tail -3 "$T/md.out"))"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["failed", "completed"]' "markdown day: statuses"
expect_eq "$(sj "s['tasks'][0]['error'].startswith('task 1: context file docs/missing.md not found')")" true \
    "markdown day: the error names the task and the file ($(sj "s['tasks'][0]['error']"))"
expect_eq "$(event_names approval_requested | wc -l)" 0 "markdown day: approvals requested"
expect_eq "$(starts m1)" 0 "markdown day: runs of the task that cannot run"

# --- a YAML day, a worktree per task: one outside, one missing, one after a dependency, one fine
: >"$T/logs/events.ndjson"
D=$T/day.yaml
cat >"$D" <<YAML
date: $(date +%F)
max_concurrent: 1
tasks:
  - id: outside
    name: "Reads outside the repository"
    prompt: "Read it. [key:y1]"
    context_files: [../outside.txt]
  - id: nofile
    name: "Reads a file that is not there"
    prompt: "Read it. [key:y2]"
    context_files: [docs/missing.md]
  - id: fine
    name: "Reads the spec"
    prompt: "Read it. [key:y3]"
    context_files: [spec.md]
YAML
echo "outside" >"$T/outside.txt"
CLAUDE_BASE_CWD=$T/work APPROVAL_MODE=manual bg_run "$T/yaml.out" orch run --tasks "$D" --no-input
# only the task whose context is there is asked about (the first asked ends the wait)
wait_for sj_true "bool(s.get('pending_approval'))"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["failed", "failed", "waiting_approval"]' "YAML day: statuses"
expect_eq "$(sj "s['tasks'][0]['error'].startswith('task outside: context file ../outside.txt is outside the allowed folders')")" \
    true "YAML day: the outside file ($(sj "s['tasks'][0]['error']"))"
expect_eq "$(sj "s['tasks'][1]['error'].startswith('task nofile: context file docs/missing.md not found')")" true \
    "YAML day: the missing file ($(sj "s['tasks'][1]['error']"))"
expect_eq "$(ev "sorted(e['task'] for e in ev if e['event'] == 'approval_requested')")" "['fine']" \
    "YAML day: approvals requested"
orch approve --by tester >"$T/approve.out" 2>&1 || fail "approve: $(cat "$T/approve.out")"
expect_eq "$(bg_wait "$T/yaml.out")" 1 "YAML day: exit code ($(tail -3 "$T/yaml.out"))"
expect_eq "$(sj "s['tasks'][2]['status']")" completed "YAML day: the task whose context is there"
expect_eq "$(starts y1)$(starts y2)" 00 "YAML day: runs of the tasks that cannot run"
note "ok"
