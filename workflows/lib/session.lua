-- session: a day's session and its tasks as rows in the host's state
-- database, with the task states pending, running, waiting_approval,
-- waiting_answer (its agent asked a question: lib/questions), waiting_limit
-- (parked on a usage limit, holding no agent: lib/limits), waiting_retry
-- (its agent failed, it runs again at retry_at: lib/run_task), completed,
-- needs_review (the agent finished, a deliverable is missing:
-- lib/acceptance), failed, skipped, paused, cancelled, blocked (a task it
-- depends on did not complete). Every change is committed
-- (with its event) before the workflow moves on, so a crash loses nothing
-- that was reported done.
local M = {}

-- The parts of the session in their own modules, re-exported here: callers
-- use lib.session alone (S.task_time, S.counts, ...).
local model = require("lib.session_model")
local function export(mod, names)
  for _, k in ipairs(names) do M[k] = assert(mod[k], k) end
end
export(model, { "STATUSES", "FINISHED", "ACTIVE_ORDER", "ACTIVE", "USAGE_FIELDS", "QUESTION_CHARS", "tokens",
  "add_usage", "cost_units", "index", "apply", "agents", "retry_at", "counts", "totals", "position", "task", "current",
  "next_unfinished" })
export(require("lib.session_stop"), { "STOPPED_AS", "WAITING_FOR", "skipped_before_start", "skipped_in",
  "skipped_at_approval" })
export(require("lib.session_time"), { "SESSION_ACTIVE", "last_seen", "touch", "runtime", "resumed_fields",
  "task_time", "started_fields", "agent_started_fields", "stop_unrecorded" })
local index, cost_units, summary = model.index, model.cost_units, model.summary

-- failures(c) -> whether counts c (M.counts) hold a task that failed, is
-- blocked or needs review (counted like a failure): the session's end is
-- then a warning, and `run` exits 1
function M.failures(c) return (c.failed or 0) + (c.blocked or 0) + (c.needs_review or 0) > 0 end

-- waits_while_down(p) -> whether pending approval p still waits while no host
-- runs its session: a decision on an approval, or the answer to an agent's
-- question, is kept, and the session applies it when it resumes and asks the
-- same again (a parked question is stored on its task: lib/questions).
function M.waits_while_down(p) return p ~= nil and (p.kind == "approval" or p.kind == "question") end

-- new_id([base [, taken]]) -> "YYYYmmdd-HHMMSS" (now), or base, with "-2",
-- "-3", ... while a stored session has it or taken(id) says it is handed out
-- already (lib/control's sessions launched and not stored yet): the one
-- session-id generator
function M.new_id(base, taken)
  local id = base or os.date("%Y%m%d-%H%M%S", math.floor(orch.now()))
  local n, candidate = 1, id
  while orch.load_session(candidate) or (taken and taken(candidate)) do n = n + 1; candidate = id .. "-" .. n end
  return candidate
end

-- the model's lists (lib/task_model) stored as JSON arrays, also when empty
local function list(t) return t and orch.json.array(t) end

-- the session's row of task t (lib/task_model's), the i-th, pending
local function task_row(t, i)
  return {
    id = tostring(t.id), seq = i, title = t.title, type = t.type, priority = t.priority,
    requires_approval = t.requires_approval, description = t.description,
    acceptance_criteria = list(t.acceptance_criteria), instruction = t.instruction,
    module = t.module, complexity = t.complexity, branch = t.branch, depends_on = list(t.depends_on),
    context_files = list(t.context_files), deliverables = list(t.deliverables), verify = list(t.verify),
    line = t.line, inbox = t.inbox, status = "pending",
  }
end

-- the fields of a task row that come from its task file (task_row's, less seq, line and status)
local FILE_FIELDS = { "id", "title", "type", "priority", "requires_approval", "description", "acceptance_criteria",
  "instruction", "module", "complexity", "branch", "depends_on", "context_files", "deliverables", "verify" }

local function same_value(a, b)
  local function none(v) return v == nil or v == orch.json.null or (type(v) == "table" and next(v) == nil) end
  if none(a) and none(b) then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same_value(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil and not none(b[k]) then return false end end
  return true
end

-- same_tasks(s, doc) -> whether doc (a task file as lib/tasks reads it) holds the
-- tasks session s (loaded with its tasks) was started with: false once the file is edited
function M.same_tasks(s, doc)
  if #(s.tasks or {}) ~= #doc.tasks then return false end
  for i, t in ipairs(doc.tasks) do
    local row, had = task_row(t, i), s.tasks[i]
    for _, k in ipairs(FILE_FIELDS) do
      -- a task the file gives no branch gets a derived one with its worktree
      -- (orch/<session>/<id>): that is not an edit of the file
      local derived = k == "branch" and row[k] == nil
      if not derived and not same_value(row[k], had[k]) then return false end
    end
  end
  return true
end

-- new(doc, {task_file=, workflow=, auto_approve=, no_input=, kind=, ...}) -> session,
-- saved with every task pending; a plain resume reuses its flags. kind: "inbox"
-- for the task inbox's (workflows/inbox.lua: no tasks at first, add_task adds
-- each as it arrives), nil for a day's
function M.new(doc, opts)
  local now = orch.now()
  local s = {
    id = M.new_id(opts.id), status = "running", task_file = opts.task_file, kind = opts.kind,
    workflow = opts.workflow, started_at = now, pid = opts.pid, date = doc.date, started_by = opts.started_by,
    auto_approve = opts.auto_approve, no_input = opts.no_input, max_concurrent = opts.max_concurrent,
    workspace_base = opts.workspace_base, budget_usd = opts.budget_usd, tasks = {},
  }
  for i, t in ipairs(doc.tasks) do s.tasks[i] = task_row(t, i) end
  index(s)
  orch.atomically(function()
    M.save(s)
    for _, t in ipairs(s.tasks) do orch.save_task(s.id, t) end
    orch.emit("session_started", { session = s.id, task_file = s.task_file, tasks = #s.tasks })
  end)
  return s
end

-- day_names(day) -> the names a day's file may have, in the order looked for;
-- day_file(tasks_dir, day) -> the day's task file under tasks_dir:
-- DAY-tasks.md, DAY.md, DAY.yaml, DAY.yml or DAY.json (DAY: YYYY-MM-DD), the
-- first that exists | nil, the first name when none does
function M.day_names(day) return { day .. "-tasks.md", day .. ".md", day .. ".yaml", day .. ".yml", day .. ".json" } end

function M.day_file(tasks_dir, day)
  for _, name in ipairs(M.day_names(day)) do
    local p = tasks_dir .. "/" .. name
    if orch.file_info(p) then return p end
  end
  return nil, tasks_dir .. "/" .. day .. "-tasks.md"
end

-- today's task file under tasks_dir (day_file's names; the first when none exists)
function M.today_file(tasks_dir)
  local file, first = M.day_file(tasks_dir, os.date("%Y-%m-%d"))
  return file or first
end

-- new_task_id(s, id) -> the id add_task gives a task of that id now
function M.new_task_id(s, base)
  base = tostring(base)
  local id, n = base, 1
  while M.task(s, id) do n = n + 1; id = base .. "-" .. n end
  return id
end

-- add_task(s, t [, opts]) -> the session's new task: t (lib/task_model's,
-- t.inbox kept) appended, pending, under t's id, or "<id>-2", "<id>-3", ...
-- while the session has a task with it; saved with the session row and the
-- event task_added in one commit. opts.event: the caller's own event in
-- place of task_added (session, task and file, then opts.fields); opts.row
-- = "later": the session row is left to the caller to save (a burst of
-- added tasks, one save), s._row is nil until then (the row as saved is stale)
function M.add_task(s, t, opts)
  opts = opts or {}
  local id = M.new_task_id(s, t.id)
  local i = #s.tasks + 1
  local row = task_row(t, i)
  row.id = id
  s.tasks[i] = row
  if s._counts then
    local c = s._counts
    c.total, c.pending = c.total + 1, (c.pending or 0) + 1
    s._by_id[id] = row
  end
  local e = { session = s.id, task = id, file = t.inbox and t.inbox.file or nil }
  for k, v in pairs(opts.fields or {}) do e[k] = v end
  orch.atomically(function()
    orch.save_task(s.id, row)
    if opts.row == "later" then s._row = nil else M.save(s) end
    orch.emit(opts.event or "task_added", e)
  end)
  return row
end

function M.load(id)
  local s = orch.load_session(id)
  if not s then return nil, "no session " .. tostring(id) end
  index(s)
  return s
end

-- load_summary(id) -> the session row, its model read from the summary the row
-- stores (counts, totals, current and position; no tasks: s.tasks is nil) |
-- nil, err. A row saved without one (by an older host) is loaded whole.
function M.load_summary(id)
  local s = orch.load_session(id, { tasks = false })
  if not s then return nil, "no session " .. tostring(id) end
  local sum = s.summary
  s.summary = nil
  if type(sum) ~= "table" or type(sum.counts) ~= "table" then return M.load(id) end
  s._counts, s._cost, s._tokens = sum.counts, cost_units(sum.cost_usd), tonumber(sum.tokens) or 0
  s._estimated = cost_units(sum.cost_estimated_usd)
  s._current, s._position, s._agents = sum.current or false, sum.position, sum.agents or {}
  return s
end

-- the session row without its tasks, with the model's summary when there is
-- one; s._row keeps the row as saved
function M.save(s)
  local row = {}
  for k, v in pairs(s) do
    if k ~= "tasks" and type(k) == "string" and k:sub(1, 1) ~= "_" then row[k] = v end
  end
  row.summary = s._counts and summary(s) or nil
  orch.save_session(row)
  s._row = row  -- as last saved (a caller may skip a save that would change nothing it keeps)
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

-- The task fields the session row's summary is made of (summary: counts,
-- totals, current, agents): a change to none of them leaves the row as it was
-- saved (its last_activity and updated_at aside), so set_task does not save it
-- again. A workflow that changes a session field itself saves it (M.save).
M.SUMMARY_FIELDS = { id = true, seq = true, title = true, type = true, status = true, started_at = true,
  cost_usd = true, cost_estimated_usd = true, tokens = true, branch = true, question = true, slot_wait = true }

local function reaches_summary(s, fields)
  if not s._counts then return true end
  for k in pairs(fields) do if M.SUMMARY_FIELDS[k] then return true end end
  return false
end

-- stage(s, t, fields): the change in memory now, stored with t's next
-- set_task, in its commit (one commit less a step): only for fields that a
-- rerun of the task sets again the same way, since a host killed before
-- that commit loses them (never a status or the summary's fields; a cost
-- only where that commit comes before anything can wait: lib/run_agent)
function M.stage(s, t, fields)
  M.apply(s, t, fields, orch.json.null)
  s._staged = s._staged or {}
  local f = s._staged[t] or {}
  for k, v in pairs(fields) do f[k] = v end
  s._staged[t] = f
end

-- fields with those staged for t (M.stage) under them -> the fields to
-- write, whether any were staged (cleared once written)
local function with_staged(s, t, fields)
  local staged = s._staged and s._staged[t]
  if not staged then return fields, false end
  local write = {}
  for k, v in pairs(staged) do write[k] = v end
  for k, v in pairs(fields) do write[k] = v end
  return write, true
end

-- set_task(s, t, fields, event, event_fields): update, save (the task, and the
-- session row with its summary when the change reaches it: M.SUMMARY_FIELDS)
-- and record in one commit; fields staged for t (M.stage) go with it
function M.set_task(s, t, fields, event, event_fields)
  M.apply(s, t, fields, orch.json.null)
  s.last_activity = orch.now()
  local write, staged = with_staged(s, t, fields)
  local save = reaches_summary(s, write)  -- a staged cost reaches it too
  orch.atomically(function()
    orch.update_task(s.id, t.id, write)  -- only what changed: a step stays cheap
    if save then M.save(s) end
    if event then
      local e = { session = s.id, task = t.id, status = t.status }
      for k, v in pairs(event_fields or {}) do e[k] = v end
      orch.emit(event, e)
    end
  end)
  if staged then s._staged[t] = nil end
end

-- set_task_row(s, t, fields): as set_task without an event, but the task's
-- row alone is written: the session row (its summary: counts, totals, the
-- agents' costs) waits for t's next set_task (lib/run_agent: a run's cost
-- while only its artifacts or its worktree's diff come before the task's
-- end). A host killed in between leaves the cost on the task; a resume or the
-- inbox's next start reads the session's totals from its tasks.
function M.set_task_row(s, t, fields)
  M.apply(s, t, fields, orch.json.null)
  local write, staged = with_staged(s, t, fields)
  orch.update_task(s.id, t.id, write)
  if staged then s._staged[t] = nil end
end

return M
