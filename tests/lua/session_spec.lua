-- Specs for the session model of workflows/lib/session.lua: statuses, counts,
-- totals, position, current task and ids, kept up to date per change without
-- walking the session (a day of N tasks costs N steps, not N^2).
local T = require("orch.testing")
local S = require("lib.session")
local F = require("lib.format")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local function session(n)
  local s = { id = "20251120-093015", status = "running", started_at = 1763631000, tasks = {} }
  for i = 1, n do s.tasks[i] = { id = tostring(i), title = "Task " .. i, type = "backend", status = "pending" } end
  S.index(s)
  return s
end

-- Tasks from `from` on raise when anything reads them: what a walk would do.
local function poison(s, from)
  for i = from, #s.tasks do
    local function walked_into(_, k) error("walked the session: task " .. i .. "." .. k, 2) end
    s.tasks[i] = setmetatable({}, { __index = walked_into })
  end
end

-- the model, recomputed by a walk of a plain copy
local function walked(s)
  local plain = { tasks = {} }
  for i, t in ipairs(s.tasks) do plain.tasks[i] = t end
  local cur, at = S.current(plain)
  local cost, tokens, est = S.totals(plain)
  return { counts = S.counts(plain), cost = cost, tokens = tokens, estimated = est, current = cur and cur.id, at = at }
end

local function model(s)
  local cur, at = S.current(s)
  local cost, tokens, est = S.totals(s)
  return { counts = S.counts(s), cost = cost, tokens = tokens, estimated = est, current = cur and cur.id, at = at }
end

describe("session model", function()
  it("a task's time sums its runs: each stopped one to its stop, the pause between left out", function()
    eq(S.task_time({ status = "pending" }), nil)
    eq(S.task_time({ status = "completed", started_at = 100, completed_at = 130 }), 30)
    -- running: counted to now only when asked
    local t = { status = "running", started_at = 100 }
    eq(S.task_time(t), 0)
    eq(S.task_time(t, 112), 12)
    -- stopped at 110 (a pause), resumed at 500: the next run starts with 10 s spent
    t.status, t.stopped_at = "paused", 110
    eq(S.task_time(t, 900), 10)
    local f = S.started_fields(t, 500)
    eq({ f.status, f.started_at, f.spent_s, f.stopped_at }, { "running", 500, 10, orch.json.null })
    t.status, t.started_at, t.spent_s, t.stopped_at, t.completed_at = "completed", 500, 10, nil, 520
    eq(S.task_time(t), 30)
    -- a stop older than the run in hand is an earlier run's: not this one's end
    eq(S.task_time({ status = "running", started_at = 500, stopped_at = 110, spent_s = 10 }, 505), 15)
  end)

  it("a task's time leaves out its waits for a person's answer, answered or not yet", function()
    local t = { status = "completed", started_at = 100, completed_at = 400,
                questions = { { asked_at = 150, answered_at = 250 } }, question = "Q?", asked_at = 150 }
    eq(S.task_time(t), 200)
    -- asked again at 300, no answer yet: the time stops at the question
    t.status, t.completed_at, t.asked_at, t.question = "waiting_answer", nil, 300, "Again?"
    eq(S.task_time(t, 1000), 100)
    -- a wait before this run (its earlier run's, in spent_s already) is not taken off twice
    eq(S.task_time({ status = "completed", started_at = 500, completed_at = 560, spent_s = 30,
                     questions = { { asked_at = 150, answered_at = 250 } } }), 90)
  end)

  it("stop_unrecorded gives a run stopped unseen (its host killed) the session's last update as its stop", function()
    local s = session(3)
    local saved = {}
    local update_task = orch.update_task
    rawset(orch, "update_task", function(_, id, fields) saved[id] = fields end)
    s.tasks[1].status, s.tasks[1].started_at, s.tasks[1].completed_at = "completed", 100, 120
    s.tasks[2].status, s.tasks[2].started_at = "running", 130
    s.tasks[3].status, s.tasks[3].started_at, s.tasks[3].stopped_at = "paused", 140, 150
    local ok_, err = pcall(S.stop_unrecorded, s, 170)
    rawset(orch, "update_task", update_task)
    assert(ok_, err)
    -- the running one's run was cut by its host's end: a skip of it says so (skipped_in)
    eq(saved, { ["2"] = { stopped_at = 170, interrupted_at = 170 } })
    eq(S.task_time(s.tasks[2], 999), 40)
  end)

  it("says how a person's skip or cancel found a task, and keeps the decision with its note", function()
    local f = S.skipped_in({ id = "1", status = "running", agent_runs = 0 }, "cli:ann",
      { how = "cancel", note = "wrong idea", channel = "cli", down = true })
    eq({ f.status, f.error, f.skipped_by },
       { "cancelled", "interrupted when its host stopped, then cancelled by cli:ann", "cli:ann" })
    eq(#f.approvals, 1)
    local d = f.approvals[1]
    eq({ d.action, d.by, d.channel, d.note, d.request_id }, { "cancel", "cli:ann", "cli", "wrong idea", nil })
    -- resumed, before its agent starts again (stop_unrecorded marked it)
    eq(S.skipped_before_start({ id = "1", status = "running", interrupted_at = 5 }, "bob").error,
       "interrupted when its host stopped, then skipped by bob")
    eq(S.skipped_in({ id = "1", status = "running", agent_runs = 1, interrupted_at = 5 }, "bob").error,
       "skipped by bob while it ran")
    eq(S.skipped_in({ id = "1", status = "waiting_retry", agent_runs = 1 }, "bob", { down = true }).error,
       "skipped by bob while waiting for a retry")
    -- paused by Ctrl-C or a pause (its agent stopped then), skipped while no host runs it
    eq(S.skipped_in({ id = "1", status = "paused", agent_runs = 1 }, "bob", { down = true }).error,
       "skipped by bob while paused")
    local p = S.skipped_before_start({ id = "2", status = "pending", approvals = { { action = "approve" } } }, "bob",
      { how = "skip", note = "  " })
    eq({ p.status, p.error, #p.approvals, p.approvals[2].note }, { "skipped", "skipped by bob before it ran", 2, nil })
    local host = S.skipped_in({ id = "3", status = "running", agent_runs = 2 }, nil)
    eq({ host.error, host.skipped_by, host.approvals }, { "skipped while it ran", nil, nil })
  end)

  it("has one FINISHED set, which lib/format uses", function()
    eq(S.FINISHED, { completed = true, needs_review = true, failed = true, skipped = true, cancelled = true,
                     blocked = true })
    for _, st in ipairs({ "completed", "needs_review", "failed", "skipped", "cancelled", "blocked" }) do
      eq(F.status({ id = "x", status = st, tasks = {} }):match("[^\n]+$"), "/logs /start /help", st)
    end
  end)

  it("a change that leaves the cost alone leaves the total alone (exactly: x + c - c ~= x in floats)", function()
    local s = session(3)
    S.apply(s, s.tasks[1], { cost_usd = 0.034215 })
    S.apply(s, s.tasks[2], { cost_usd = 0.034215 })
    local before = select(1, S.totals(s))
    for _ = 1, 3 do S.apply(s, s.tasks[2], { approval_wait_s = 1 }) end
    eq(select(1, S.totals(s)) == before, true, "the total moved: " .. string.format("%.17g", S.totals(s)))
  end)
  it("stays equal to a recount through a day's changes", function()
    local s = session(6)
    local steps = {
      { 1, { status = "running" } }, { 1, { status = "completed", cost_usd = 0.5, tokens = 100 } },
      { 2, { status = "waiting_approval" } }, { 2, { status = "skipped" } },
      { 3, { status = "running" } }, { 4, { status = "paused", cost_usd = 0.125, cost_estimated_usd = 0.125 } },
      { 3, { status = "failed", cost_usd = 0.25 } },
      { 4, { status = "pending" } }, { 1, { status = "pending" } }, { 5, { status = "cancelled", tokens = 7 } },
      { 1, { status = "completed", cost_usd = 1 } }, { 4, { status = "running", cost_usd = 0.5 } },
    }
    for k, st in ipairs(steps) do
      S.apply(s, s.tasks[st[1]], st[2])
      eq(model(s), walked(s), "after step " .. k)
    end
    eq(S.counts(s).done, 4)
    -- task 4's stopped run (estimated, 0.125) and then its finished run (0.375 more)
    eq({ S.totals(s) }, { 1.75, 107, 0.125 })
    eq(S.current(s).id, "4")
  end)

  it("position, task lookup and the next task", function()
    local s = session(3)
    eq({ S.position(s, s.tasks[2]) }, { 2, 3 })
    eq({ S.position(s, { id = "3" }) }, { 3, 3 })
    eq({ S.position(s, { id = "9" }) }, { nil, 3 })
    eq(S.task(s, 2), s.tasks[2])
    S.apply(s, s.tasks[2], { status = "completed" })
    eq(S.next_unfinished(s, s.tasks[1]).id, "3")
    eq(S.next_unfinished(s, s.tasks[3]), nil)
  end)

  it("keeps the cost total equal to a fresh load's, to the last bit", function()
    -- the webhook's status (kept up to date) and `status --json` (a fresh
    -- load) must print the same cost; float sums differ with their order
    -- (these six, added last to first, end one bit away from first to last)
    local costs = { 0.885192, 0.619829, 0.049844, 0.900174, 0.784459, 0.082304 }
    local s = session(6)
    for i = 6, 1, -1 do S.apply(s, s.tasks[i], { status = "completed", cost_usd = costs[i] }) end
    local fresh = { tasks = {} }
    for i, t in ipairs(s.tasks) do fresh.tasks[i] = { id = t.id, status = t.status, cost_usd = t.cost_usd } end
    S.index(fresh)
    eq(S.totals(s), S.totals(fresh))
  end)

  it("a step reads only the tasks it is about (no walk per task)", function()
    local s = session(1000)
    S.apply(s, s.tasks[1], { status = "completed", cost_usd = 0.1, tokens = 10 })
    poison(s, 4)  -- task 3 is the next one: a message about task 2 may read it
    local t = s.tasks[2]
    S.apply(s, t, { status = "running", started_at = 1763631100 })
    eq({ S.position(s, t) }, { 2, 1000 })
    eq(S.current(s), t)
    eq(S.counts(s).done, 1)
    eq({ S.totals(s) }, { 0.1, 10, 0 })
    ok(F.task_started(s, t):find("Task 2/1000", 1, true))
    ok(F.status(s, 1763631200):find("Current: Task 2", 1, true))
    ok(F.paused(s):find("Current: Task 2/1000", 1, true))
    S.apply(s, t, { status = "failed", completed_at = 1763631160, cost_usd = 0.2 })
    ok(F.task_failed(s, t, { error = "boom" }):find("Progress: 2/1000", 1, true))
    ok(F.task_completed(s, t, {}):find("Next: Task 3/1000", 1, true))
    eq({ S.totals(s) }, { 0.3, 10, 0 })  -- whole nano-dollars: no float drift
  end)
end)

describe("session: the agents in hand", function()
  it("agents lists the running and waiting tasks in file order, from the model or a plain table", function()
    local s = session(5)
    S.apply(s, s.tasks[4], { status = "running", started_at = 100, cost_usd = 0.5, branch = "b4" })
    S.apply(s, s.tasks[2], { status = "waiting_approval", started_at = 90 })
    S.apply(s, s.tasks[1], { status = "completed" })
    S.apply(s, s.tasks[3], { status = "paused" })
    local want = { { id = "2", title = s.tasks[2].title, status = "waiting_approval", started_at = 90, seq = 2 },
                   { id = "4", title = s.tasks[4].title, status = "running", started_at = 100, cost_usd = 0.5,
                     branch = "b4", seq = 4 } }
    eq(S.agents(s), want)
    eq(S.agents({ tasks = s.tasks }), want)
  end)
  it("a long question is cut in bytes on a UTF-8 boundary, keeping a whole last character", function()
    local s = session(2)
    local n = S.QUESTION_CHARS
    -- "é" (2 bytes) ending exactly at the limit is kept whole; one that straddles it goes
    S.apply(s, s.tasks[1], { status = "waiting_answer", question = string.rep("a", n - 2) .. "é" .. "tail" })
    S.apply(s, s.tasks[2], { status = "waiting_answer", question = string.rep("a", n - 1) .. "é" .. "tail" })
    local a = S.agents(s)
    eq(a[1].question, string.rep("a", n - 2) .. "é…")
    eq(a[2].question, string.rep("a", n - 1) .. "…")
  end)
end)

describe("session: the row saved with its summary", function()
  -- the row M.save would write now (nothing written)
  local function would_save(s)
    local real, row = orch.save_session, nil
    rawset(orch, "save_session", function(r) row = r end)
    S.save(s)
    rawset(orch, "save_session", real)
    return row
  end
  local function stored(s) return orch.load_session(s.id, { tasks = false }) end

  it("set_task saves the row when a change reaches the summary; the stored one is always the model's", function()
    local real_now, now = orch.now, 1000
    rawset(orch, "now", function() return now end)
    local okay, err = pcall(function()
      local d = { tasks = {} }
      for i = 1, 3 do d.tasks[i] = { id = i, title = "Task " .. i, type = "backend" } end
      local s = S.new(d, { id = "spec-summary-save", workflow = "daily.lua" })
      local steps = {  -- task, change, whether it reaches the summary
        { 1, { status = "running", started_at = 1001, error = orch.json.null }, true },
        { 1, { agent_dir = "/tmp/a1" }, false },
        { 1, { instructions_applied = orch.json.array({}) }, false },
        { 2, { status = "waiting_answer", question = "Which one?" }, true },
        { 2, { question_session = "q2" }, false },
        { 1, { cost_usd = 0.25, tokens = 40 }, true },
        { 1, { branch = "orch/1" }, true },
        { 1, { status = "completed", completed_at = 1010, result = "done" }, true },
      }
      for i, step in ipairs(steps) do
        now = now + 10
        local before = stored(s).last_activity
        S.set_task(s, s.tasks[step[1]], step[2])
        local row = stored(s)
        eq(row.summary, would_save(s).summary, "step " .. i)
        eq(row.last_activity, step[3] and now or before, "step " .. i)
      end
    end)
    rawset(orch, "now", real_now)
    if not okay then error(err, 0) end
  end)

  it("add_task commits the task with its event; the row too, or (row = \"later\") left stale for the caller", function()
    local s = S.new({ tasks = {} }, { id = "spec-add-task", kind = "inbox" })
    local function events(task) return orch.recent_events({ session = s.id, task = task, limit = 5 }) end
    local a = S.add_task(s, { id = "a", title = "A", inbox = { file = "/in/a.task.md" } })
    eq(stored(s).summary.counts.total, 1)
    eq(s._row.summary.counts.total, 1)
    eq(#events("a"), 1)
    eq(events("a")[1].event, "task_added")
    eq(events("a")[1].file, "/in/a.task.md")
    local b = S.add_task(s, { id = "a", title = "B", inbox = { file = "/in/b.task.md" } },
      { event = "parsed", fields = { file = "in/b.task.md", parsed_by = "file" }, row = "later" })
    eq(b.id, "a-2")
    eq(orch.load_session(s.id).tasks[2].title, "B")  -- the task itself is committed
    eq(stored(s).summary.counts.total, 1)            -- the row is not
    eq(s._row, nil)
    local e = events("a-2")
    eq(#e, 1)
    eq(e[1].event, "parsed")
    eq({ e[1].file, e[1].parsed_by }, { "in/b.task.md", "file" })
    S.save(s)
    eq(stored(s).summary.counts.total, 2)
    eq(a.seq, 1)
    eq(b.seq, 2)
  end)
end)

describe("session: a staged change", function()
  it("is in memory at once and stored with the task's next set_task, in its commit", function()
    local d = { tasks = { { id = 1, title = "Task 1", type = "backend" },
      { id = 2, title = "Task 2", type = "backend" } } }
    local s = S.new(d, { id = "spec-staged", workflow = "daily.lua" })
    local function row(id)
      for _, t in ipairs(orch.load_session(s.id).tasks) do if t.id == id then return t end end
    end
    local t1, t2 = s.tasks[1], s.tasks[2]
    S.stage(s, t1, { agent_dir = "/tmp/a1" })
    S.stage(s, t1, { instructions_applied = orch.json.array({ "be brief" }) })
    eq(t1.agent_dir, "/tmp/a1")
    eq(row("1").agent_dir, nil, "not stored yet")
    S.set_task(s, t2, { status = "running" })
    eq(row("2").status, "running")
    eq(row("1").agent_dir, nil, "another task's change does not store it")
    S.set_task(s, t1, { cost_usd = 0.5, agent_dir = "/tmp/a1b" })
    local r = row("1")
    eq(r.cost_usd, 0.5)
    eq(r.agent_dir, "/tmp/a1b", "the change given wins over the staged one")
    eq(r.instructions_applied, { "be brief" })
    eq(s._staged[t1], nil, "stored once")
    S.set_task(s, t1, { status = "completed" })
    eq(row("1").agent_dir, "/tmp/a1b")
  end)
end)

describe("session: the same task file on resume", function()
  local function doc(branch)
    return { tasks = { { id = "a", title = "A", type = "backend", branch = branch }, { id = "b", title = "B" } } }
  end
  it("a derived branch (the file gives none) is not an edit; a changed given one is", function()
    local s = { tasks = {} }
    for i, t in ipairs(doc(nil).tasks) do s.tasks[i] = { id = t.id, title = t.title, type = t.type } end
    s.tasks[1].branch = "orch/20261204-120000/a"  -- set with its worktree
    ok(S.same_tasks(s, doc(nil)), "derived branch read as an edit")
    s.tasks[1].branch = "feature/a"
    ok(S.same_tasks(s, doc("feature/a")))
    ok(not S.same_tasks(s, doc("feature/b")), "a changed branch_name is an edit")
    local edited = doc(nil)
    edited.tasks[2].title = "B, edited"
    ok(not S.same_tasks(s, edited), "an edited title")
  end)
end)
