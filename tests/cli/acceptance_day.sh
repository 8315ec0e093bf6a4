#!/usr/bin/env bash
# Context in, deliverables out, acceptance commands, the budget and
# yesterday's feedback, for a YAML day whose tasks work in their own git
# worktrees (lib/acceptance, daily.lua): the agent's claim of success is never
# enough; the orchestrator checks the deliverables and runs the commands
# itself. Order from the stand-in's ledger, never from sleeps.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger FAKE_CLAUDE_WRITE=1 ORCH_FEEDBACK_DIR=$T/feedback
touch "$T/ledger"
TODAY=$(date +%F)
YESTERDAY=$(date -d yesterday +%F)
g() { git -C "$T/work" -c user.email=t@t -c user.name=t "$@"; }
echo "the spec" >"$T/work/spec.md"
echo "*.log" >"$T/work/.gitignore"
g add spec.md .gitignore && g commit -qm spec
echo secret >"$T/outside.txt"

# yesterday's feedback: its action becomes a standing instruction for today's prompts
mkdir -p "$T/feedback"
cat >"$T/feedback/$YESTERDAY.md" <<MD
# Feedback - $YESTERDAY
## task-9: An old task
Rating: 3/5
⚠️ no tests were run
Action (global): Always run the unit tests before you stop.
MD

D=$T/day.yaml
cat >"$D" <<YAML
date: $TODAY
max_concurrent: 2
tasks:
  - id: good
    name: "Writes its deliverable"
    prompt: "Write out.md. [key:good] [fake:tool:Write:out.md]"
    context_files: [spec.md]
    deliverables: [out.md]
    verify: ["test -f out.md && sleep 1 && echo out.md is there"]
  - id: nodeliv
    name: "Says done, leaves nothing"
    prompt: "Write docs/api.md. [key:nodeliv]"
    deliverables: [docs/api.md]
  - id: after
    name: "Needs the docs"
    prompt: "Use docs/api.md. [key:after]"
    depends_on: [nodeliv]
  - id: broken
    name: "Its check fails"
    prompt: "Fix it. [key:broken]"
    verify: ["echo checking; echo 'assertion failed: 2 != 3' >&2; exit 4"]
  - id: outside
    name: "Reads outside the repository"
    prompt: "Read it. [key:outside]"
    context_files: [../outside.txt]
  - id: nofile
    name: "Reads a file that is not there"
    prompt: "Read it. [key:nofile]"
    context_files: [docs/missing.md]
  - id: same
    name: "Says done, leaves its deliverable as the base had it"
    prompt: "Update spec.md. [key:same]"
    deliverables: [spec.md]
  - id: ignored
    name: "Writes a deliverable git ignores"
    prompt: "Write build.log. [key:ignored] [fake:tool:Write:build.log]"
    deliverables: [build.log]
YAML
RC=0
orch run --tasks "$D" --auto-approve --no-input >"$T/day.out" 2>&1 || RC=$?
expect_eq "$RC" 1 "exit code of a day with a task that needs review and a failed one"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" \
    '["completed", "needs_review", "blocked", "failed", "failed", "failed", "needs_review", "completed"]' "statuses ($(sj "[t.get('error') for t in s['tasks']]"))"
# the agent said success every time
expect_eq "$(sj "[t.get('result') for t in s['tasks'][:2]]")" '["done", "done"]' "what the agents said"
expect_eq "$(sj "s['tasks'][1]['deliverables_missing']")" '["docs/api.md"]' "the missing deliverable"
expect_eq "$(sj "s['tasks'][1]['error']")" "deliverables missing: docs/api.md" "why it needs review"
expect_eq "$(sj "s['tasks'][2]['error']")" "blocked: nodeliv needs_review" "a task after one that needs review"
# a deliverable the worktree held from the base, untouched, is not delivered
expect_eq "$(sj "[s['tasks'][6]['error'], s['tasks'][6]['deliverables_unchanged']]")" \
    '["deliverables not changed by the task: spec.md", ["spec.md"]]' "an unchanged deliverable"
expect_eq "$(grep -c -x 'start after' "$T/ledger")" 0 "runs of the blocked task"
expect_eq "$(sj "[(v['ok'], v['exit_code']) for v in s['tasks'][0]['verify_results']]")" '[[true, 0]]' \
    "the passing acceptance command"
expect_eq "$(sj "s['tasks'][0]['completed_at'] - s['tasks'][0]['started_at'] >= 1")" true \
    "the task's time holds its acceptance command's (1 s)"
expect_eq "$(sj "[(v['ok'], v['exit_code']) for v in s['tasks'][3]['verify_results']]")" '[[false, 4]]' \
    "the failing acceptance command"
expect_eq "$(sj "'assertion failed: 2 != 3' in s['tasks'][3]['verify_results'][0]['output']")" true \
    "its output kept on the task"
expect_eq "$(sj "s['tasks'][3]['error']")" "acceptance failed: echo checking; echo 'assertion failed: 2 != 3' >&2; exit 4" \
    "why it failed"
expect_eq "$(grep -c -e '^start outside' -e '^start nofile' "$T/ledger")" 0 "runs of tasks whose context is refused"
expect_eq "$(sj "s['tasks'][4]['error'].startswith('task outside: context file ../outside.txt is outside the allowed folders')")" \
    true "the refusal names the task and the file: $(sj "s['tasks'][4]['error']")"
expect_eq "$(sj "s['tasks'][5]['error'].startswith('task nofile: context file docs/missing.md not found')")" true \
    "a missing context file names the task and the file"
grep -q "Needs review" "$T/day.out" || fail "no needs-review notification: $(cat "$T/day.out")"

# the notes the agent is asked for stay out of the files changed
WS=$(sj "s['tasks'][0]['workspace']['path']")
grep -q "summary.md" "$WS/agent_instructions.md" || fail "the prompt does not ask for summary.md"
# (lib/worktree leaves them out by name: tests/cli/fixtures/worktree_spec.lua); the
# instructions file is hidden from the agent's own git status too
expect_eq "$(git -C "$WS" status --porcelain --untracked-files=all | grep -c 'agent_instructions.md')" 0 \
    "the instructions file in the agent's git status"

# yesterday's action in every prompt, and saved on the task for the report
grep -q "Always run the unit tests before you stop." "$WS/agent_instructions.md" \
    || fail "the standing instruction is not in the prompt: $(cat "$WS/agent_instructions.md")"
expect_eq "$(sj "s['tasks'][0]['instructions_applied']")" '["Always run the unit tests before you stop."]' \
    "instructions applied"

R=$T/results/$TODAY-report.md
[ -f "$R" ] || fail "no report: $(ls "$T/results")"
grep -q "Status: needs_review: deliverables missing: docs/api.md" "$R" || fail "report: needs_review: $(cat "$R")"
grep -q "Deliverables: \`docs/api.md\` missing" "$R" || fail "report: the missing deliverable"
grep -q "Deliverables: \`spec.md\` unchanged" "$R" || fail "report: the unchanged deliverable"
grep -q "failed (exit 4" "$R" || fail "report: the failing command"
grep -q "assertion failed: 2 != 3" "$R" || fail "report: the failing command's output"
grep -q "passed (exit 0" "$R" || fail "report: the passing command"
grep -q "worktree \`$WS\`" "$R" || fail "report: the worktree's path"
grep -q "^- Task good: Writes its deliverable: 1 file (+1 -0)" "$R" || fail "report: the files changed"
grep -q "Always run the unit tests before you stop." "$R" || fail "report: the standing instruction applied"
note "acceptance ok"

# --- the budget from the day file: a warning at 75 % (once, also across a
# kill -9 and resume), then at 100 % no new agent starts and the rest is
# skipped: budget. One run costs 0.034215: 2 runs pass 75 % of 0.08, 3 reach it.
: >"$T/ledger"
B=$T/budget.yaml
cat >"$B" <<YAML
date: $TODAY
max_cost_usd: 0.08
max_concurrent: 1
tasks:
  - { id: b1, name: "One", prompt: "One. [key:b1]" }
  - { id: b2, name: "Two", prompt: "Two. [key:b2]", depends_on: [b1] }
  - { id: b3, name: "Three", prompt: "Three. [key:b3] [fake:await:go]", depends_on: [b2] }
  - { id: b4, name: "Four", prompt: "Four. [key:b4]", depends_on: [b3] }
  - { id: b5, name: "Five", prompt: "Five. [key:b5]", depends_on: [b4] }
YAML
bg_run "$T/b1.out" orch run --tasks "$B" --auto-approve --no-input
wait_for grep -q -x "start b3" "$T/ledger"
wait_for sj_true "s.get('budget_warned') == True"
HOST=$(host_pid_of "$BG_PID")
[ -n "$HOST" ] || fail "cannot find the orch-host pid"
kill -KILL "$HOST"
expect_eq "$(bg_wait "$T/b1.out")" 137 "exit code of the killed host"
WAIT_TIMEOUT=15 wait_for no_agents
expect_eq "$(grep -c "of the day's budget used" "$T/b1.out")" 1 "warnings before the kill"
echo go >>"$T/ledger"
RC=0
orch resume --no-input >"$T/b2.out" 2>&1 || RC=$?
expect_eq "$RC" 0 "exit code of a day the budget ended"
expect_eq "$(grep -c "of the day's budget used" "$T/b2.out")" 0 "warnings after the resume (sent once)"
expect_eq "$(grep -c "Budget reached" "$T/b2.out")" 1 "budget reached notifications"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "completed", "completed", "skipped", "skipped"]' \
    "statuses after the budget"
expect_eq "$(sj "[t.get('error') for t in s['tasks'][3:]]")" '["skipped: budget", "skipped: budget"]' "the reason"
expect_eq "$(grep -c -e '^start b4' -e '^start b5' "$T/ledger")" 0 "agents started after the budget"
expect_eq "$(sj "abs(s['cost_usd'] - 3 * 0.034215) < 1e-9")" true "the cost (each run once): $(sj "s['cost_usd']")"
R=$T/results/$TODAY-report.md
grep -q "budget reached" "$R" || fail "report: the budget reached: $(cat "$R")"
grep -q "skipped: budget" "$R" || fail "report: the reason of the skipped tasks"
note "budget ok"

# --- budget.stop_agents: at the budget the running agents stop too (their
# tasks end skipped: budget, and so do their dependents, which no failure
# blocked: the exit code is a budget-ended day's); s1 ends (spending it) only once s2 has started
: >"$T/ledger"
printf 'return { budget = { stop_agents = true } }\n' >"$T/stop-config.lua"
M=$T/stop.md
cat >"$M" <<MD
# Tasks - $TODAY

## Task 1: Spends it
**Type:** backend
**Description:** One.

**Claude Instruction:**
One. [key:s1] [fake:await:start s2]

---

## Task 2: Runs on
**Type:** backend
**Description:** Two.

**Claude Instruction:**
Two. [key:s2] [fake:hang]

---

## Task 3: After the stopped one
**Type:** backend
**Depends On:** 2
**Description:** Three.

**Claude Instruction:**
Three. [key:s3]
MD
RC=0
MAX_DAILY_COST_USD=0.03 orch --config "$T/stop-config.lua" run daily.lua --tasks "$M" --auto-approve --no-input \
    --max-concurrent 2 >"$T/stop.out" 2>&1 || RC=$?
expect_eq "$RC" 0 "exit code of a day whose budget stopped an agent ($(tail -3 "$T/stop.out"))"
expect_eq "$(sj "[t['status'] for t in s['tasks']]")" '["completed", "skipped", "skipped"]' "statuses with stop_agents"
expect_eq "$(sj "s['tasks'][2]['error']")" "skipped: budget" "the stopped task's dependent: skipped for the budget, not blocked"
expect_eq "$(sj "s['tasks'][1]['error']")" "skipped: budget" "the stopped task's reason"
WAIT_TIMEOUT=15 wait_for no_agents
note "stop_agents ok"
