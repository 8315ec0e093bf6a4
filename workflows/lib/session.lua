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

-- Task statuses. FINISHED ones are done for good (counted in `done`, never run
-- again); ACTIVE ones are a task in hand, the current task when one is.
M.STATUSES = { "pending", "running", "waiting_approval", "waiting_answer", "waiting_limit", "waiting_retry", "paused",
  "completed", "needs_review", "failed", "skipped", "cancelled", "blocked" }
M.FINISHED = { completed = true, needs_review = true, failed = true, skipped = true, cancelled = true, blocked = true }
M.ACTIVE_ORDER = { "running", "waiting_approval", "waiting_answer", "waiting_limit", "waiting_retry", "paused" }
M.ACTIVE = { running = true, waiting_approval = true, waiting_answer = true, waiting_limit = true,
  waiting_retry = true, paused = true }
-- A person's stop of one task: how = "skip" (skip --task ID, Telegram
-- /skip ID) ends it skipped, "cancel" (cancel --task ID, the webhook's and
-- REST cancel, Telegram /cancel ID) cancelled, in a day and in the inbox
-- alike. cancelled is the host's own too: an inbox file deleted or rewritten
-- while queued, an inbox that stops.
M.STOPPED_AS = { skip = "skipped", cancel = "cancelled" }

-- What a task in hand without a running agent waits for, by its status: the
-- words of its skip's error (skipped_in) and of the skip's or cancel's reply
-- (lib/control), which say that no agent was stopped. A paused one (its
-- agent stopped by a pause or Ctrl-C) waits for the session's resume.
M.WAITING_FOR = { waiting_retry = "waiting for a retry", waiting_answer = "waiting for an answer",
  waiting_limit = "waiting for its usage limit to reset", waiting_approval = "waiting for approval",
  paused = "paused" }

-- stopped_fields(t, by, stop, words) -> the fields of task t stopped by
-- `by` (nil: not known) as stop = {how=, note=, channel=, request_id=}
-- says (nil: a skip); words(status_word, by_part) gives its error. A
-- person's stop is also a decision kept on the task (t.approvals, with
-- its note: lib/approval), shown by status and the report.
local function stopped_fields(t, by, stop, words)
  stop = stop or {}
  local status = M.STOPPED_AS[stop.how] or "skipped"
  local f = { status = status, completed_at = orch.now() }
  if by ~= nil then
    f.skipped_by = tostring(by)
    f.approvals = require("lib.approval").recorded(t, { action = stop.how or "skip", by = f.skipped_by,
      channel = stop.channel, id = stop.request_id, note = stop.note })
  end
  f.error = words(status, by ~= nil and (" by " .. f.skipped_by) or "")
  return f
end

local function interrupted(word, who) return "interrupted when its host stopped, then " .. word .. who end

-- skipped_before_start(t, by [, stop]) -> the fields of task t a person
-- stopped before it started (stopped_fields): "skipped by NAME before it
-- ran"; one whose earlier run its host's end cut (interrupted_at) says so
function M.skipped_before_start(t, by, stop)
  if tonumber(t.interrupted_at) and (tonumber(t.agent_runs) or 0) == 0 then
    return stopped_fields(t, by, stop, interrupted)
  end
  return stopped_fields(t, by, stop, function(word, who) return word .. who .. " before it ran" end)
end

-- skipped_in(t, by [, stop]) -> the fields of task t that a skip or a cancel
-- stopped (stopped_fields), its error saying what t was doing then (its
-- status): waiting (M.WAITING_FOR), running its agent, or not started yet
-- (no agent run: skipped_before_start). A run its host's end cut (stop.down:
-- no host runs the session and t still reads running; or, before its agent
-- starts again, one stop_unrecorded marked interrupted_at) says so:
-- "interrupted when its host stopped, then skipped by NAME" (an agent's
-- start is counted with the run's next commit, which a kill -9 loses)
function M.skipped_in(t, by, stop)
  local runs = tonumber(t.agent_runs) or 0
  if (stop and stop.down and t.status == "running") or (runs == 0 and tonumber(t.interrupted_at)) then
    return stopped_fields(t, by, stop, interrupted)
  end
  if runs == 0 then return M.skipped_before_start(t, by, stop) end
  local doing = M.WAITING_FOR[t.status] or "it ran"
  return stopped_fields(t, by, stop, function(word, who) return word .. who .. " while " .. doing end)
end

-- skipped_at_approval(by [, how]) -> the error of a task skipped (how:
-- "skip", or "cancel": cancelled) while it waited for approval: by whoever
-- decided (skipped_by), or by approval_timeout
-- (orchestrator.on_approval_timeout = "skip")
function M.skipped_at_approval(by, how)
  if by == "approval_timeout" then
    return "skipped: no decision within approval_timeout (on_approval_timeout is skip)"
  end
  return (M.STOPPED_AS[how] or "skipped") .. " by " .. tostring(by) .. " while it waited for approval"
end

-- failures(c) -> whether counts c (M.counts) hold a task that failed, is
-- blocked or needs review (counted like a failure): the session's end is
-- then a warning, and `run` exits 1
function M.failures(c) return (c.failed or 0) + (c.blocked or 0) + (c.needs_review or 0) > 0 end

-- Session statuses a host works on (a paused or completed session has none).
M.SESSION_ACTIVE = { running = true, waiting_approval = true }

-- stopped_since(s) -> when session s stopped working: its pause (paused_at,
-- while it is paused since its last resume: an inbox paused still records the
-- files dropped meanwhile), else its last update (a pause, its host's last
-- heartbeat: M.touch) | nil
local function stopped_since(s)
  local p = tonumber(s.paused_at)
  if s.status == "paused" and p and p >= (tonumber(s.resumed_at) or tonumber(s.started_at) or 0) then return p end
  return tonumber(s.updated_at)
end

-- last_seen(s, now, live) -> when session s last ran: now while a live host
-- runs it; else when it stopped (stopped_since)
function M.last_seen(s, now, live)
  if M.SESSION_ACTIVE[s.status] and live then return now end
  return stopped_since(s) or now
end

-- touch(s): the row of active session s saved again as it was (s._row): its
-- updated_at says its host was alive now (lib/runner's heartbeat), so a host
-- killed later leaves its runtime and the elapsed time of its agents
-- (last_seen) at about its death, not at the session's last change. Only
-- while it has tasks in hand: an idle inbox writes nothing (its last task's
-- end is when it last worked)
function M.touch(s)
  if s._row and M.SESSION_ACTIVE[s.status] and next(s._active or {}) then orch.save_session(s._row) end
end

-- runtime(s, now, live) -> seconds from the start to the finish; a session a
-- live host runs grows until now, one whose host is gone (or that is paused)
-- stopped when it was last seen (last_seen). nil before it started. The time it stood
-- paused or stopped before a resume (s.stopped_s, M.resumed_fields) is left out.
function M.runtime(s, now, live)
  local started = tonumber(s.started_at)
  if not started or started <= 0 then return nil end
  local ended = tonumber(s.finished_at)
  if not ended or ended <= 0 then ended = M.last_seen(s, now, live) end
  return math.max(0, ended - started - (tonumber(s.stopped_s) or 0))
end

-- resumed_fields(s, now) -> the fields of session s resuming now: resumed_at,
-- and stopped_s grown by the time since it stopped (paused, or its host gone)
function M.resumed_fields(s, now)
  local since = stopped_since(s) or now
  return { resumed_at = now, stopped_s = (tonumber(s.stopped_s) or 0) + math.max(0, now - since) }
end

-- A task's time is the sum of its runs: started_at to completed_at, plus
-- spent_s, the runs before the last, each stopped short (a pause, Ctrl-C, a
-- permanent error, its host gone) and counted to its stopped_at. The time it
-- stood stopped is not counted, as for the session's runtime.
-- task_time(t [, now]) -> seconds | nil (it never ran); the run in hand, not
-- stopped, counts to now when given, else not at all.
-- The time it waited for a person's answer (lib/questions: it holds no slot
-- then) is not counted either: its own time, not the person's (the report's
-- time saved by parallelism would count a long wait as work).
local function waited(t, a, b)
  local w, open = 0, tonumber(t.asked_at)
  for _, q in ipairs(type(t.questions) == "table" and t.questions or {}) do
    local x, y = tonumber(q.asked_at), tonumber(q.answered_at)
    if x and y then w = w + math.max(0, math.min(y, b) - math.max(x, a)) end
    if x and open and x == open then open = nil end  -- the last question asked is answered
  end
  if open and t.question ~= nil then w = w + math.max(0, b - math.max(open, a)) end  -- still waiting
  return w
end

function M.task_time(t, now)
  local spent, a = tonumber(t.spent_s) or 0, tonumber(t.started_at)
  if not a or a <= 0 then return spent > 0 and spent or nil end
  local b = tonumber(t.completed_at)
  if not b or b <= 0 then
    local stop = tonumber(t.stopped_at)
    b = (stop and stop >= a) and stop or now
  end
  return spent + (b and math.max(0, b - a - waited(t, a, b)) or 0)
end

-- started_fields(t, now) -> the fields of task t as a run of it starts now:
-- running, started_at, and spent_s its time so far (task_time); agent_runs
-- (its agent's starts, counted by lib/run_agent: with first_started_at, the
-- first) 0 until its agent starts
function M.started_fields(t, now)
  return { status = "running", started_at = now, spent_s = M.task_time(t) or orch.json.null,
           stopped_at = orch.json.null, agent_runs = tonumber(t.agent_runs) or 0 }
end

-- agent_started_fields(t, now) -> the fields of task t as its agent starts
-- now (a first run, a retry, a run continued after a usage limit, a question's
-- answer or a resume): agent_runs one more, first_started_at the first
function M.agent_started_fields(t, now)
  return { agent_runs = (tonumber(t.agent_runs) or 0) + 1, first_started_at = tonumber(t.first_started_at) or now }
end

-- stop_unrecorded(s, at): the tasks of s whose run stopped with no stopped_at
-- (the host killed, a workflow error) stopped `at` (the session's last update
-- before it resumes: where resumed_fields counts its stop from)
function M.stop_unrecorded(s, at)
  for _, t in ipairs(s.tasks or {}) do
    local a, stop = tonumber(t.started_at), tonumber(t.stopped_at)
    if a and a > 0 and not M.FINISHED[t.status] and not (stop and stop >= a) then
      -- one still running then: its host's end cut its run (what a skip of it says: skipped_in)
      M.set_task(s, t, { stopped_at = math.max(a, at), interrupted_at = t.status == "running" and at or nil })
    end
  end
end

-- waits_while_down(p) -> whether pending approval p still waits while no host
-- runs its session: a decision on an approval, or the answer to an agent's
-- question, is kept, and the session applies it when it resumes and asks the
-- same again (a parked question is stored on its task: lib/questions).
function M.waits_while_down(p) return p ~= nil and (p.kind == "approval" or p.kind == "question") end

-- The model of a session that new/load built (s._counts set), kept up to date
-- by set_task in O(1) per change, so a step of a long day costs what a step of
-- a short one does: s._counts (total, done, one per status), s._cost (in
-- nano-dollars, a whole number: adding and taking back a task's cost is exact,
-- so the running total equals the sum a fresh load makes; see M.cost_units),
-- s._tokens, s._estimated (the part of s._cost that is estimated: a task's
-- cost_estimated_usd, lib/run_agent), s._by_id (id -> task), s._active (task -> true while ACTIVE),
-- s._cursor (no task before it is unfinished). Keys starting with "_" are not
-- stored; save stores the model's summary in the session row, which
-- load_summary reads back without the tasks (status). The functions below also
-- take a plain {tasks=} table (tests, lib/format on its own): they walk it then.
-- tokens(v) -> a number: v itself, or the sum of a usage table {input_tokens=, output_tokens=, ...}
function M.tokens(v)
  if type(v) ~= "table" then return tonumber(v) or 0 end
  local sum = 0
  for _, x in pairs(v) do if type(x) == "number" then sum = sum + x end end
  return sum
end

-- add_usage(a, b) -> a + b field by field, over the four token counts of
-- claude's usage (a: nil or an earlier sum; b: a run's usage, nil when it
-- gave none: a is returned). A task's `usage` (lib/artifacts' tokens parts).
M.USAGE_FIELDS = { "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens" }
function M.add_usage(a, b)
  if type(b) ~= "table" then return a end
  local out = {}
  for _, k in ipairs(M.USAGE_FIELDS) do
    out[k] = (type(a) == "table" and tonumber(a[k]) or 0) + (tonumber(b[k]) or 0)
  end
  return out
end

-- cost_units(usd) -> whole nano-dollars. Sums of these are exact in a double (up
-- to millions of dollars), where sums of the dollar floats drift with the order.
local function cost_units(v) return math.floor((tonumber(v) or 0) * 1e9 + 0.5) end
M.cost_units = cost_units

local function index(s)
  local c = { total = #s.tasks, done = 0 }
  local cost, tokens, est, by_id, active = 0, 0, 0, {}, {}
  for i, t in ipairs(s.tasks) do
    t.seq = t.seq or i
    local st = t.status or "pending"
    c[st] = (c[st] or 0) + 1
    if M.FINISHED[st] then c.done = c.done + 1 end
    if M.ACTIVE[st] then active[t] = true end
    cost = cost + cost_units(t.cost_usd)
    est = est + cost_units(t.cost_estimated_usd)
    tokens = tokens + M.tokens(t.tokens)
    if t.id ~= nil then by_id[tostring(t.id)] = t end
  end
  s._counts, s._cost, s._tokens, s._by_id, s._active, s._cursor = c, cost, tokens, by_id, active, 1
  s._estimated = est
end

local function account(s, t, old_status, old_cost, old_tokens, old_est)
  local c, st = s._counts, t.status or "pending"
  if st ~= old_status then
    c[old_status] = (c[old_status] or 1) - 1
    c[st] = (c[st] or 0) + 1
    if M.FINISHED[old_status] then c.done = c.done - 1 end
    if M.FINISHED[st] then c.done = c.done + 1 end
    s._active[t] = M.ACTIVE[st] or nil
    if not M.FINISHED[st] and t.seq and t.seq < s._cursor then s._cursor = t.seq end
  end
  s._cost = s._cost + cost_units(t.cost_usd) - old_cost
  s._estimated = (s._estimated or 0) + cost_units(t.cost_estimated_usd) - old_est
  s._tokens = s._tokens + M.tokens(t.tokens) - old_tokens
end

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

-- agents(s) -> the tasks in hand (running, or waiting for a person, a limit
-- or a retry: every ACTIVE status but paused), in file order: { {id=, title=,
-- status=, started_at=, cost_usd=, branch=, question=, retry_at=} }
-- (question: what a waiting_answer task asks, cut to M.QUESTION_CHARS bytes): what
-- `status` lists, one line per agent (O(tasks in hand) on a model)
M.QUESTION_CHARS = 500

-- retry_at(t) -> when the next attempt of waiting_retry task t starts | nil
-- (any other status: none): what status, the REST tasks and the report show
function M.retry_at(t) return t.status == "waiting_retry" and tonumber(t.retry_at) or nil end

function M.agents(s)
  if s._agents and not s.tasks then return s._agents end  -- load_summary's
  local out = {}
  local function add(t)
    if M.ACTIVE[t.status] and t.status ~= "paused" then
      local q = t.status == "waiting_answer" and type(t.question) == "string" and t.question or nil
      if q and #q > M.QUESTION_CHARS then  -- cut in bytes, on a UTF-8 boundary (lib/format requires this module)
        q = require("lib.format").cut_bytes(q, M.QUESTION_CHARS) .. "…"
      end
      out[#out + 1] = { id = t.id, title = t.title, status = t.status, started_at = t.started_at,
                        cost_usd = t.cost_usd, branch = t.branch, seq = t.seq, question = q,
                        slot_wait = t.status == "running" and tonumber(t.slot_wait) or nil,
                        retry_at = M.retry_at(t) }
    end
  end
  if s._active then
    for t in pairs(s._active) do add(t) end
  else
    for _, t in ipairs(s.tasks or {}) do add(t) end
  end
  table.sort(out, function(a, b) return (tonumber(a.seq) or 0) < (tonumber(b.seq) or 0) end)
  return out
end

-- summary(s) -> what the model says without the tasks, stored in the session
-- row by save: {counts=, cost_usd=, cost_estimated_usd=, tokens=, current={id=, title=, type=,
-- status=} | nil, position= (current's), agents= (M.agents)}
local function summary(s)
  local counts = {}
  for k, v in pairs(s._counts) do counts[k] = v end
  local t, pos = M.current(s)
  local est = (s._estimated or 0) > 0 and s._estimated / 1e9 or nil
  return { counts = counts, cost_usd = s._cost / 1e9, cost_estimated_usd = est, tokens = s._tokens, position = pos,
           current = t and { id = t.id, title = t.title, type = t.type, status = t.status } or nil,
           agents = M.agents(s) }
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

-- index(s): builds the model of s (one walk; new and load do it)
M.index = index

-- apply(s, t, fields): the change in memory, the model kept up to date;
-- fields[k] == null (orch.json.null) clears k
function M.apply(s, t, fields, null)
  local old_status, old_cost, old_tokens = t.status or "pending", cost_units(t.cost_usd), M.tokens(t.tokens)
  local old_est = cost_units(t.cost_estimated_usd)
  for k, v in pairs(fields) do
    if v == null then t[k] = nil else t[k] = v end
  end
  if s._counts then account(s, t, old_status, old_cost, old_tokens, old_est) end
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

-- counts(s [, t, as]) -> {total=, done=, <status>=n for every status}: a copy;
-- with t and as, t counts as status `as` whatever its status says (a message
-- about a task that is finishing)
function M.counts(s, t, as)
  local c = {}
  if s._counts then
    for k, v in pairs(s._counts) do c[k] = v end
  else
    c.total, c.done = #(s.tasks or {}), 0
    for _, x in ipairs(s.tasks or {}) do
      local st = x.status or "pending"
      c[st] = (c[st] or 0) + 1
      if M.FINISHED[st] then c.done = c.done + 1 end
    end
  end
  for _, st in ipairs(M.STATUSES) do c[st] = c[st] or 0 end
  local was = t and (t.status or "pending")
  if t and as and was ~= as then  -- (a task already in state `as` is counted there)
    c[was], c[as] = (c[was] or 0) - 1, (c[as] or 0) + 1
    if M.FINISHED[was] then c.done = c.done - 1 end
    if M.FINISHED[as] then c.done = c.done + 1 end
  end
  return c
end

-- totals(s) -> cost_usd, tokens, the part of cost_usd that is estimated (a
-- stopped run's: lib/run_agent) over the session's tasks
function M.totals(s)
  if s._counts then return s._cost / 1e9, s._tokens, (s._estimated or 0) / 1e9 end
  local cost, tokens, est = 0, 0, 0
  for _, t in ipairs(s.tasks or {}) do
    cost = cost + cost_units(t.cost_usd)
    est = est + cost_units(t.cost_estimated_usd)
    tokens = tokens + M.tokens(t.tokens)
  end
  return cost / 1e9, tokens, est / 1e9
end

local function same(a, b) return a == b or (a.id ~= nil and tostring(a.id) == tostring(b.id)) end

-- position(s, t) -> index of t (or of the task with its id) | nil, number of tasks: "Task 2/3"
function M.position(s, t)
  if s._current ~= nil and not s.tasks then  -- load_summary's: its current task only
    if s._current and same(s._current, t) then return s._position, s._counts.total end
    return nil, s._counts.total
  end
  local tasks = s.tasks or {}
  local k = tonumber(t.seq)
  if k and tasks[k] and same(tasks[k], t) then return k, #tasks end
  for i, x in ipairs(tasks) do if same(x, t) then return i, #tasks end end
  return nil, #tasks
end

-- task(s, id) -> the task with this id | nil
function M.task(s, id)
  if id == nil then return nil end
  if s._by_id then return s._by_id[tostring(id)] end
  for _, t in ipairs(s.tasks or {}) do if tostring(t.id) == tostring(id) then return t end end
end

-- current(s) -> task, index | nil: the running task, else the one waiting,
-- else the paused one, else the first unfinished
function M.current(s)
  if s._current ~= nil and not s.tasks then  -- load_summary's
    if s._current then return s._current, s._position end
    return nil
  end
  local tasks = s.tasks or {}
  if s._counts then
    for _, want in ipairs(M.ACTIVE_ORDER) do
      local best
      for t in pairs(s._active) do
        if t.status == want and (not best or t.seq < best.seq) then best = t end
      end
      if best then return best, best.seq end
    end
    local i = s._cursor
    while tasks[i] and M.FINISHED[tasks[i].status] do i = i + 1 end
    s._cursor = i
    if tasks[i] then return tasks[i], i end
    return nil
  end
  for _, want in ipairs(M.ACTIVE_ORDER) do
    for i, t in ipairs(tasks) do if t.status == want then return t, i end end
  end
  for i, t in ipairs(tasks) do if not M.FINISHED[t.status or "pending"] then return t, i end end
end

-- next_unfinished(s, after) -> the first unfinished task after `after` (from
-- the start when nil) | nil
function M.next_unfinished(s, after)
  local tasks = s.tasks or {}
  local i = after and M.position(s, after) or 0
  if not i then i = #tasks end
  for k = i + 1, #tasks do
    if not M.FINISHED[tasks[k].status or "pending"] then return tasks[k] end
  end
end

return M
