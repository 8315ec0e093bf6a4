-- Specs for lib/control's status on a stored session: it answers from the
-- summary lib/session keeps in the session row, never loading the tasks (a
-- session of 1000 tasks answers as fast as one of 1), with the same reply a
-- full load gives; a row an older host saved without a summary still answers.
local T = require("orch.testing")
local S = require("lib.session")
local control = require("lib.control")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local NOW = 1763635000

local function doc(n)
  local d = { date = "2025-11-20", tasks = {} }
  for i = 1, n do d.tasks[i] = { id = i, title = "Task " .. i, type = "backend", priority = "medium" } end
  return d
end

-- fn() with orch.now fixed (the reply's runtime) and, with no_tasks, an
-- orch.load_session that raises when asked for the tasks
local function with(no_tasks, fn)
  local real_load, real_now = orch.load_session, orch.now
  rawset(orch, "now", function() return NOW end)
  if no_tasks then
    rawset(orch, "load_session", function(id, opts)
      if not (type(opts) == "table" and opts.tasks == false) then error("status loaded the tasks of " .. id, 2) end
      return real_load(id, opts)
    end)
  end
  local res = { pcall(fn) }
  rawset(orch, "load_session", real_load)
  rawset(orch, "now", real_now)
  if not res[1] then error(res[2], 0) end
  return res[2], res[3]
end

-- the reply from the whole session (what status answered before the summary)
local function full_status(id)
  local summary = S.load_summary
  S.load_summary = S.load
  local ok_, r, code = pcall(with, false, function() return control.status({ session = id }) end)
  S.load_summary = summary
  if not ok_ then error(r, 0) end
  return r, code
end

local function status(id) return with(true, function() return control.status({ session = id }) end) end

describe("status of a stored session", function()
  it("answers a 1000-task session without loading its tasks, as a full load does", function()
    local s = S.new(doc(1000), { id = "spec-status-big", task_file = "tasks/big.md", workflow = "daily.lua" })
    eq({ status(s.id) }, { full_status(s.id) }, "new session")
    local steps = {
      { 1, { status = "running", started_at = NOW - 50 } },
      { 1, { status = "completed", completed_at = NOW - 40, cost_usd = 0.5, tokens = 120 } },
      { 2, { status = "failed", cost_usd = 0.25, tokens = 7 } },
      { 4, { status = "skipped" } },
      { 3, { status = "waiting_approval" } },
    }
    for k, st in ipairs(steps) do
      S.set_task(s, s.tasks[st[1]], st[2])
      local r, code = status(s.id)
      eq({ r, code }, { full_status(s.id) }, "after step " .. k)
    end
    S.set_status(s, "waiting_approval")
    local r = status(s.id)
    eq(r, (full_status(s.id)), "after set_status")
    eq({ r.status, r.task, r.total, r.done, r.completed, r.failed, r.skipped, r.pending },
      { "waiting_approval", 3, 1000, 3, 1, 1, 1, 996 })
    eq({ r.cost_usd, r.tokens }, { 0.75, 127 })
    eq(r.current, { id = "3", title = "Task 3", type = "backend", status = "waiting_approval" })
    ok(r.message:find("Current: Task 3 - Task 3", 1, true), r.message)
  end)

  it("keeps the summary out of the session a full load or a listing gives", function()
    local s = S.new(doc(2), { id = "spec-status-hidden", task_file = "tasks/two.md", workflow = "daily.lua" })
    ok(orch.load_session(s.id, { tasks = false }).summary, "no summary stored in the row")
    eq(orch.load_session(s.id, { tasks = false }).tasks, nil)
    eq(orch.load_session(s.id).summary, nil)
    for _, row in ipairs(orch.list_sessions(200)) do eq(row.summary, nil, row.id) end
  end)

  it("answers a session stored without a summary (an older host) from its tasks", function()
    local s = S.new(doc(3), { id = "spec-status-old", task_file = "tasks/old.md", workflow = "daily.lua" })
    S.set_task(s, s.tasks[1], { status = "completed", cost_usd = 0.1, tokens = 5 })
    local want = full_status(s.id)
    local row = orch.load_session(s.id, { tasks = false })
    row.summary = nil
    orch.save_session(row)  -- as an older host left it
    eq(orch.load_session(s.id, { tasks = false }).summary, nil)
    local r = with(false, function() return control.status({ session = s.id }) end)
    eq(r, want)
    eq({ r.task, r.done, r.current.id }, { 2, 1, "2" })
  end)

  it("lists every task in hand (a parallel day) with its elapsed time, cost and branch", function()
    local s = S.new(doc(4), { id = "spec-status-agents", task_file = "tasks/p.json", workflow = "daily.lua" })
    S.set_task(s, s.tasks[1], { status = "running", started_at = NOW - 125, cost_usd = 0.25, branch = "feature/a" })
    S.set_task(s, s.tasks[3], { status = "running", started_at = NOW - 5 })
    S.set_task(s, s.tasks[4], { status = "waiting_approval", started_at = NOW - 1 })
    control.live[s.id] = { started_at = NOW }  -- a host runs it: the elapsed times count to now
    local r = status(s.id)
    local full = full_status(s.id)
    control.live[s.id] = nil
    eq(r, full)
    eq(r.agents, {
      { task = "1", title = "Task 1", status = "running", branch = "feature/a", cost_usd = 0.25,
        started_at = NOW - 125, elapsed_s = 125 },
      { task = "3", title = "Task 3", status = "running", cost_usd = 0, started_at = NOW - 5, elapsed_s = 5 },
      { task = "4", title = "Task 4", status = "waiting_approval", cost_usd = 0, started_at = NOW - 1, elapsed_s = 1 },
    })
    ok(r.message:find("🤖 Agents: 3\n⚙️ 1 Task 1 · 2m 05s · $0.2500 · feature/a\n⚙️ 3 Task 3 · 5s · $0.0000", 1, true),
      r.message)
  end)

  it("counts the elapsed times of a session whose host is gone to when it was last seen", function()
    local s = S.new(doc(2), { id = "spec-status-dead", task_file = "tasks/d.json", workflow = "daily.lua" })
    S.set_task(s, s.tasks[1], { status = "running", started_at = NOW - 125 })
    local row = orch.load_session(s.id, { tasks = false })
    local seen = row.updated_at  -- its last save: its host's last heartbeat (S.touch)
    local r = status(s.id)
    eq(r.running_here, false)
    eq({ #r.agents, r.agents[1].elapsed_s }, { 1, math.max(0, seen - (NOW - 125)) })
  end)

  it("counts blocked and needs_review tasks, from the summary as from a full load", function()
    local s = S.new(doc(4), { id = "spec-status-graph", task_file = "tasks/p.json", workflow = "daily.lua" })
    S.set_task(s, s.tasks[1], { status = "failed" })
    S.set_task(s, s.tasks[2], { status = "blocked", error = "blocked: 1 failed" })
    S.set_task(s, s.tasks[3], { status = "needs_review" })
    local r = status(s.id)
    eq(r, (full_status(s.id)))
    eq({ r.failed, r.blocked, r.needs_review, r.pending, r.done }, { 1, 1, 1, 1, 3 })
  end)

  it("gives agents as a JSON array also when no task is in hand", function()
    local s = S.new(doc(2), { id = "spec-status-no-agents", task_file = "tasks/p.json", workflow = "daily.lua" })
    local r = status(s.id)
    eq(#r.agents, 0)
    ok(orch.json.encode(r):find('"agents":[]', 1, true), orch.json.encode(r))
  end)
end)
