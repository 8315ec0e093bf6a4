-- Specs for workflows/lib/report.lua (and report_task, report_cli's date
-- reading): the end-of-day report of a markdown day run one task at a time
-- (none of the parallel day's fields) and of a parallel day with every field.
local T = require("orch.testing")
local R = require("lib.report")
local RC = require("lib.report_cli")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local T0 = 1763631000 -- 2025-11-20 09:30:00 UTC
local NO_BUDGET = { budget = { max_cost_usd = 0, warn_at = 0.75 } }

local function has(text, piece) ok(text:find(piece, 1, true), "missing " .. piece .. " in:\n" .. text) end
local function lacks(text, piece) ok(not text:find(piece, 1, true), "unexpected " .. piece .. " in:\n" .. text) end

local function serial_day()
  return { id = "20251120-093015", status = "completed", started_at = T0, finished_at = T0 + 600,
    task_file = "tasks/2025-11-20-tasks.md",
    tasks = {
      { id = "1", title = "Create the migration", type = "database", status = "completed", started_at = T0 + 10,
        completed_at = T0 + 130, cost_usd = 0.01, tokens = 10000, result = "Migration created",
        output_log = "logs/task-1-output.log", approval_wait_s = 90 },
      { id = "2", title = "Server actions", type = "backend", status = "failed", started_at = T0 + 200,
        completed_at = T0 + 380, cost_usd = 0.02, tokens = 20000, error = "API Error: 500",
        question = "Which pattern?" },
      { id = "3", title = "a | b\nc", type = "frontend", status = "skipped", error = "skipped while running" },
    } }
end

local function parallel_day()
  return { id = "20261201-090000", status = "completed", started_at = T0, finished_at = T0 + 600, budget_usd = 2,
    task_file = "tasks/2026-12-01.yaml",
    tasks = {
      { id = "task-1", title = "Parser", status = "completed", branch = "feature/t1",
        workspace = "agent_workspaces/task-1", started_at = T0, completed_at = T0 + 400, cost_usd = 0.5,
        tokens = 1000,
        changes = { stat = " 2 files changed",
                    files = { { path = "src/parser.lua", added = 10, removed = 2 },
                              { path = "tests/parser_spec.lua", added = 5, removed = 0 } } },
        deliverables = { "docs/a.md" }, deliverables_missing = {},
        verify_results = { { cmd = "make test", ok = true, exit_code = 0, output = "ok", duration_s = 3 } },
        questions = { { question = "Q1?", answer = "Use B", by = "alice", asked_at = T0 + 10, answered_at = T0 + 70 } },
        question = "Q1?", approval_wait_s = 60, instructions_applied = { "Write tests for every change" } },
      { id = "task-2", title = "Docs", status = "needs_review", branch = "feature/t2",
        workspace = "agent_workspaces/task-2", started_at = T0, completed_at = T0 + 500, cost_usd = 1.0,
        tokens = 1500, changes = { files = {} },
        deliverables = { "docs/b.md", "docs/c.md" }, deliverables_missing = { "docs/c.md" },
        verify_results = { { cmd = "lint", ok = false, exit_code = 1, output = "bad line 3", duration_s = 1 } },
        instructions_applied = { "Write tests for every change", "Keep functions short" } },
      { id = "task-3", title = "API", status = "failed", branch = "feature/t3", started_at = T0 + 100,
        completed_at = T0 + 300, cost_usd = 0.75, tokens = 500, error = "agent crashed" },
      { id = "task-4", title = "Deploy", status = "blocked", blocked_reason = "depends on task-3, which failed" },
    } }
end

describe("report: a markdown day, one task at a time", function()
  local text = R.render(serial_day(), T0 + 600, NO_BUDGET)

  it("leaves the time the session stood paused or stopped out of its duration", function()
    local day = parallel_day()
    day.stopped_s = 8 * 3600  -- paused overnight, then resumed
    day.finished_at = T0 + 8 * 3600 + 600
    local t = R.render(day, day.finished_at, NO_BUDGET)
    has(t, "\n- Duration: 10m 00s\n- Time saved by parallelism: 7m 20s (the tasks took 17m 20s together, " ..
      "the day 10m 00s)\n")
  end)

  it("says the approval waits are summed over tasks, a sum that can pass the Duration", function()
    local day = serial_day()
    day.tasks[2].approval_wait_s = 600  -- waited at the same time as task 1 (90 s)
    has(R.render(day, day.finished_at, NO_BUDGET), "\n- Duration: 10m 00s\n")
    has(R.render(day, day.finished_at, NO_BUDGET),
      "\n- Time waiting for approval, summed over tasks: 11m 30s over 2 tasks (average 5m 45s)\n")
  end)

  it("says a saving that is the difference of the two times it shows", function()
    local day = serial_day()
    day.finished_at = T0 + 2.9
    day.tasks = { { id = "1", title = "a", status = "completed", started_at = T0, completed_at = T0 + 1.6 },
                  { id = "2", title = "b", status = "completed", started_at = T0 + 0.5, completed_at = T0 + 2.0 } }
    has(R.render(day, day.finished_at, NO_BUDGET),
      "\n- Time saved by parallelism: 1s (the tasks took 3s together, the day 2s)\n")
  end)

  it("gives the success rate, the cost without a budget, the tokens and the time", function()
    has(text, "# Report " .. os.date("%Y-%m-%d", T0) .. " (session 20251120-093015)\n")
    has(text, "\n- Tasks: 1 completed, 1 failed, 1 skipped, 3 total (success rate 33%)\n")
    has(text, "\n- Cost: $0.0300 (no budget set)\n- Tokens: 30,000\n")
    has(text, "\n- Duration: 10m 00s\n- Task time: 5m 00s (no time saved by parallelism)\n")
    has(text, "\n- Time waiting for approval, summed over tasks: 1m 30s over 1 task (average 1m 30s)\n")
  end)

  it("has no column, line or section for what such a day does not have", function()
    has(text, "\n| # | Task | Type | Status | Duration | Cost | Tokens |\n")
    for _, word in ipairs({ "Branch", "Files", "Deliverables", "Acceptance", "Standing", "worktree",
                            "parallelism:" }) do
      lacks(text, word)
    end
  end)

  it("keeps a title with | and a newline in one table cell", function()
    has(text, "\n| 3 | a \\| b c | frontend | skipped |  |  |  |\n")
    has(text, "\n| 1 | Create the migration | database | completed | 2m 00s | $0.0100 | 10,000 |\n")
  end)

  it("lists what is left to review, with the reasons", function()
    has(text, "\n## For you to review and commit\n\nCompleted (review the changes, then commit them):\n\n" ..
      "- Task 1: Create the migration: files changed not recorded\n")
    has(text, "\nNot completed:\n\n- Task 2: Server actions: failed: API Error: 500\n" ..
      "- Task 3: a | b c: skipped: skipped while running\n")
  end)

  it("names the files a task's agent wrote when it has no diff, relative to its folder", function()
    local day = serial_day()
    local t1 = day.tasks[1]
    t1.cwd = "/work/app"
    t1.files_touched = { "/work/app/db/001.sql", "/elsewhere/notes.md" }
    for i = 1, 5 do t1.files_touched[#t1.files_touched + 1] = "/work/app/src/f" .. i .. ".lua" end
    has(R.render(day, T0 + 600, NO_BUDGET), "\n- Task 1: Create the migration: wrote 7 files: `db/001.sql`, " ..
      "`/elsewhere/notes.md`, `src/f1.lua`, `src/f2.lua`, `src/f3.lua` and 2 more\n")
  end)

  it("shows a question that still waits for its answer, also one asked before in the same words", function()
    local day = serial_day()
    local t = day.tasks[2]
    t.status, t.error, t.question, t.question_session = "waiting_answer", nil, "Which pattern?", "sess-1"
    t.questions = { { question = "Which pattern?", answer = "A", by = "cli" } }
    local out = R.render(day, T0 + 600, NO_BUDGET)
    has(out, "\n- Status: waiting_answer: waiting for an answer to its agent's question\n")
    has(out, "\n  - Q: Which pattern?\n    A: A (by cli)\n  - Q: Which pattern?\n    A: (waiting for the answer)\n")
  end)

  it("details each task: its numbers, the last question, the error and the result", function()
    has(text, "\n## Task 1: Create the migration\n\n- Status: completed\n" ..
      "- Time, cost, tokens: 2m 00s, $0.0100, 10,000 tokens\n- Waited for approval: 1m 30s\n" ..
      "- Output log: `logs/task-1-output.log`\n\nMigration created\n")
    has(text, "\n## Task 2: Server actions\n\n- Status: failed: API Error: 500\n")
    has(text, "\n- Questions:\n  - Q: Which pattern?\n    A: (not recorded)\n")
    lacks(text, "**Error:**")  -- a one-line error: the status line holds it
    local blocked = serial_day()
    blocked.tasks[2].tool_blocks = { { tool = "Bash", reason = "forbidden command (git push): env git push" } }
    has(R.render(blocked, T0 + 600, NO_BUDGET),
      "\n- Tool calls blocked before they ran:\n  - Bash: forbidden command (git push): env git push\n")
    local multi = serial_day()
    multi.tasks[2].error = "API Error: 500\nretry later"
    has(R.render(multi, T0 + 600, NO_BUDGET), "\n- Status: failed: API Error: 500 retry later\n")
    has(R.render(multi, T0 + 600, NO_BUDGET), "\n**Error:** API Error: 500\nretry later\n")
  end)

  it("takes the budget from the config when the session has none", function()
    local with = R.render(serial_day(), T0 + 600, { budget = { max_cost_usd = 0.1 } })
    has(with, "\n- Cost: $0.0300 of the $0.1000 budget (30%)\n")
  end)
end)

describe("report: a session still running, or left by a killed host", function()
  -- running since T0, its host last seen at T0 + 100 (its heartbeat), the report made at T0 + 600
  local function in_hand(pid)
    return { id = "20251120-093016", status = "running", started_at = T0, updated_at = T0 + 100, pid = pid,
      task_file = "tasks/x.md", tasks = { { id = "1", title = "Long", status = "running", started_at = T0 } } }
  end
  it("counts to now in the report of the host running it (its own lock is not another host's)", function()
    local text = R.render(in_hand(orch.pid), T0 + 600, NO_BUDGET)
    has(text, "\n- Duration: 10m 00s\n")
    has(text, "| 1 | Long |  | running | 10m 00s |")
  end)
  it("counts to when its host was last seen once that host is gone", function()
    local text = R.render(in_hand(orch.pid + 1), T0 + 600, NO_BUDGET)
    has(text, "\n- Duration: 1m 40s\n")
    has(text, "| 1 | Long |  | running | 1m 40s |")
  end)
end)

describe("report: a parallel day with every field", function()
  local text = R.render(parallel_day(), T0 + 600, NO_BUDGET)

  -- task-1 ran 400 s, 60 of them waiting for alice's answer: its time is 340 s
  it("gives the success rate, the cost against the day's budget and the time saved", function()
    has(text, "\n- Tasks: 1 completed, 1 failed, 0 skipped, ")
    has(text, "1 blocked")
    has(text, "1 needs review")
    has(text, ", 4 total (success rate 25%)\n")
    has(text, "\n- Cost: $2.25 of the $2.00 budget (113%, budget reached)\n- Tokens: 3,000\n")
    has(text, "\n- Duration: 10m 00s\n" ..
      "- Time saved by parallelism: 7m 20s (the tasks took 17m 20s together, the day 10m 00s)\n")
    has(text, "\n- Time waiting for approval, summed over tasks: 1m 00s over 1 task (average 1m 00s)\n")
    has(text, "\n- Standing instructions applied: 2 (listed under each task)\n")
  end)

  it("shows branches and files changed in the table", function()
    has(text, "\n| # | Task | Type | Status | Branch | Files | Duration | Cost | Tokens |\n")
    has(text, "\n| task-1 | Parser |  | completed | `feature/t1` | 2 files (+15 -2) | 5m 40s | $0.5000 | 1,000 |\n")
    has(text, "\n| task-4 | Deploy |  | blocked |  |  |  |  |  |\n")
  end)

  it("lists the completed work with its branch and worktree, and the rest with the reason", function()
    has(text, "\nCompleted (review the changes, then commit them):\n\n" ..
      "- Task task-1: Parser: 2 files (+15 -2), branch `feature/t1`, worktree `agent_workspaces/task-1`\n")
    has(text, "\nNot completed:\n\n- Task task-2: Docs: needs_review: deliverables missing: `docs/c.md` " ..
      "(no files changed, branch `feature/t2`, worktree `agent_workspaces/task-2`)\n" ..
      "- Task task-3: API: failed: agent crashed (branch `feature/t3`)\n" ..
      "- Task task-4: Deploy: blocked: depends on task-3, which failed\n")
  end)

  it("details a task: where, numbers, files, deliverables, acceptance, questions, instructions", function()
    has(text, "\n## Task task-1: Parser\n\n- Status: completed\n" ..
      "- Where: branch `feature/t1`, worktree `agent_workspaces/task-1`\n" ..
      "- Time, cost, tokens: 5m 40s, $0.5000, 1,000 tokens\n- Waited for approval: 1m 00s\n" ..
      "- Files changed: 2 files (+15 -2)\n  - `src/parser.lua` (+10 -2)\n  - `tests/parser_spec.lua` (+5 -0)\n" ..
      "- Deliverables: `docs/a.md` present\n- Acceptance commands:\n  - `make test`: passed (exit 0, 3s)\n" ..
      "- Questions:\n  - Q: Q1?\n    A: Use B (by alice, after 1m 00s)\n" ..
      "- Standing instructions applied:\n  - Write tests for every change\n")
    lacks(text, "Q: Q1?\n    A: Use B (by alice, after 1m 00s)\n  - Q: Q1?")  -- t.question is the last of t.questions
  end)

  it("shows a failed acceptance command's output and the missing deliverable", function()
    has(text, "\n## Task task-2: Docs\n\n- Status: needs_review: deliverables missing: `docs/c.md`\n")
    has(text, "\n- Files changed: no files changed\n")
    has(text, "\n- Deliverables: `docs/b.md` present, `docs/c.md` missing\n")
    has(text, "\n  - `lint`: failed (exit 1, 1s)\n\n    ```\n    bad line 3\n    ```\n")
    has(text, "\n- Standing instructions applied:\n  - Write tests for every change\n  - Keep functions short\n")
  end)

  it("gives the worktree's path when the task records it as daily.lua does (a table)", function()
    local day = parallel_day()
    day.tasks[1].workspace = { path = "/repo/agent_workspaces/task-1", branch = "feature/t1", reused = false }
    local out = R.render(day, T0 + 600, NO_BUDGET)
    has(out, "- Where: branch `feature/t1`, worktree `/repo/agent_workspaces/task-1`\n")
    lacks(out, "table: 0x")
  end)

  it("names the reason of a task with no error of its own", function()
    local t = { status = "failed", verify_results = { { cmd = "make test", ok = false, exit_code = 2 } } }
    eq(require("lib.report_task").reason(t), "acceptance failed: `make test`")
  end)

  it("does not repeat the status the stored reason starts with", function()
    local reason = require("lib.report_task").reason
    eq(reason({ status = "skipped", error = "skipped: budget" }), "budget")
    eq(reason({ status = "blocked", error = "blocked: task-1 failed" }), "task-1 failed")
    eq(reason({ status = "skipped", error = "skipped while running" }), "skipped while running")
  end)
end)

describe("report_cli: the SESSION|DATE argument", function()
  it("tells a date from a malformed one and from a session id", function()
    eq(RC.date("2026-12-01"), true)
    eq(RC.date("2024-02-29"), true)
    eq(RC.date("2026-13-01"), false)
    eq(RC.date("2026-02-30"), false)
    eq(RC.date("2026/12/01"), false)
    eq(RC.date("20261201-090000"), nil)
    eq(RC.date("20261201-090000-2"), nil)
    eq(RC.date("NOPE"), nil)
  end)
end)
