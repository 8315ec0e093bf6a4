-- session: a day's session and its tasks as rows in the host's state
-- database, with the task states pending, running, waiting_approval,
-- completed, failed, skipped, paused. Every change is committed
-- (with its event) before the workflow moves on, so a crash loses nothing
-- that was reported done.
local M = {}

M.FINISHED = { completed = true, failed = true, skipped = true }

-- Running counts and totals (s._counts, s._cost, s._tokens), so a step of a
-- long day costs the same as a step of a short one. Keys starting with "_"
-- are not stored.
local function recount(s)
  local c = { total = #s.tasks, done = 0 }
  local cost, tokens = 0, 0
  for i, t in ipairs(s.tasks) do
    t.seq = t.seq or i
    local st = t.status or "pending"
    c[st] = (c[st] or 0) + 1
    if M.FINISHED[st] then c.done = c.done + 1 end
    cost = cost + (tonumber(t.cost_usd) or 0)
    tokens = tokens + (tonumber(t.tokens) or 0)
  end
  s._counts, s._cost, s._tokens = c, cost, tokens
end

local function account(s, t, old_status, old_cost, old_tokens)
  local c = s._counts
  if t.status ~= old_status then
    c[old_status] = (c[old_status] or 1) - 1
    c[t.status] = (c[t.status] or 0) + 1
    if M.FINISHED[old_status] then c.done = c.done - 1 end
    if M.FINISHED[t.status] then c.done = c.done + 1 end
  end
  s._cost = s._cost + (tonumber(t.cost_usd) or 0) - old_cost
  s._tokens = s._tokens + (tonumber(t.tokens) or 0) - old_tokens
end

local function date_id(now)
  return os.date("%Y%m%d-%H%M%S", math.floor(now))
end

-- new(doc, {task_file=, workflow=, auto_approve=, no_input=, ...}) -> session,
-- saved with every task pending; a plain resume reuses its flags
function M.new(doc, opts)
  local now = orch.now()
  local s = {
    id = opts.id or date_id(now), status = "running", task_file = opts.task_file,
    workflow = opts.workflow, started_at = now, pid = opts.pid, date = doc.date, started_by = opts.started_by,
    auto_approve = opts.auto_approve, no_input = opts.no_input, tasks = {},
  }
  -- a second session in the same second gets a suffix
  if orch.load_session(s.id) then s.id = s.id .. "-" .. tostring(math.floor((now % 1) * 1000)) end
  for i, t in ipairs(doc.tasks) do
    s.tasks[i] = {
      id = tostring(t.id), seq = i, title = t.title, type = t.type, priority = t.priority,
      requires_approval = t.requires_approval, description = t.description,
      acceptance_criteria = t.acceptance_criteria, instruction = t.instruction,
      line = t.line, status = "pending",
    }
  end
  recount(s)
  orch.atomically(function()
    M.save(s)
    for _, t in ipairs(s.tasks) do orch.save_task(s.id, t) end
    orch.emit("session_started", { session = s.id, task_file = s.task_file, tasks = #s.tasks })
  end)
  return s
end

-- today's task file under tasks_dir: YYYY-MM-DD-tasks.md or YYYY-MM-DD.md
-- (the first that exists; the first name when neither does)
function M.today_file(tasks_dir)
  local day = os.date("%Y-%m-%d")
  for _, name in ipairs({ day .. "-tasks.md", day .. ".md" }) do
    local p = tasks_dir .. "/" .. name
    if orch.file_info(p) then return p end
  end
  return tasks_dir .. "/" .. day .. "-tasks.md"
end

function M.load(id)
  local s = orch.load_session(id)
  if not s then return nil, "no session " .. tostring(id) end
  recount(s)
  return s
end

-- the session row without its tasks
function M.save(s)
  local row = {}
  for k, v in pairs(s) do
    if k ~= "tasks" and type(k) == "string" and k:sub(1, 1) ~= "_" then row[k] = v end
  end
  orch.save_session(row)
end

function M.set_status(s, status, fields, event)
  s.status = status
  for k, v in pairs(fields or {}) do s[k] = v end
  orch.atomically(function()
    M.save(s)
    if event then
      local e = { session = s.id }
      for k, v in pairs(fields or {}) do e[k] = v end
      orch.emit(event, e)
    end
  end)
end

-- set_task(s, t, fields, event, event_fields): update, save and record in one commit
function M.set_task(s, t, fields, event, event_fields)
  local old_status, old_cost, old_tokens = t.status or "pending", tonumber(t.cost_usd) or 0, tonumber(t.tokens) or 0
  for k, v in pairs(fields) do
    if v == orch.json.null then t[k] = nil else t[k] = v end  -- null clears a field
  end
  if s._counts then account(s, t, old_status, old_cost, old_tokens) end
  s.last_activity = orch.now()
  orch.atomically(function()
    orch.update_task(s.id, t.id, fields)  -- only what changed: a step stays cheap
    if event then
      local e = { session = s.id, task = t.id, status = t.status }
      for k, v in pairs(event_fields or {}) do e[k] = v end
      orch.emit(event, e)
    end
  end)
end

function M.counts(s)
  if not s._counts then recount(s) end
  local c = {}
  for k, v in pairs(s._counts) do c[k] = v end
  for _, st in ipairs({ "completed", "failed", "skipped", "pending" }) do c[st] = c[st] or 0 end
  return c
end

function M.totals(s)
  if not s._counts then recount(s) end
  return s._cost, s._tokens
end

-- position of t in the session, for "Task 2/3"
function M.position(s, t)
  if t.seq and s.tasks[t.seq] == t then return t.seq, #s.tasks end
  for i, x in ipairs(s.tasks) do if x == t then return i, #s.tasks end end
  return 0, #s.tasks
end

function M.next_unfinished(s, after)
  local seen = after == nil
  for _, t in ipairs(s.tasks) do
    if seen and not M.FINISHED[t.status] then return t end
    if t == after then seen = true end
  end
end

return M
