-- session_model: the task statuses, and the model of a session that
-- lib/session's new/load build and its set_task keeps up to date: counts,
-- totals, the tasks in hand, the current task. Part of lib/session, which
-- re-exports it (callers use S.counts, S.FINISHED, ...; its save stores
-- summary(s)):
--   STATUSES, FINISHED, ACTIVE_ORDER, ACTIVE, USAGE_FIELDS, QUESTION_CHARS
--   tokens(v) -> n;  add_usage(a, b) -> usage;  cost_units(usd) -> nano-dollars
--   index(s);  apply(s, t, fields, null);  summary(s) -> table
--   agents(s) -> list;  retry_at(t) -> time | nil
--   counts(s [, t, as]) -> table;  totals(s) -> cost_usd, tokens, estimated
--   position(s, t) -> i | nil, n;  task(s, id) -> t | nil
--   current(s) -> t, i | nil;  next_unfinished(s, after) -> t | nil
local M = {}

-- Task statuses. FINISHED ones are done for good (counted in `done`, never run
-- again); ACTIVE ones are a task in hand, the current task when one is.
M.STATUSES = { "pending", "running", "waiting_approval", "waiting_answer", "waiting_limit", "waiting_retry", "paused",
  "completed", "needs_review", "failed", "skipped", "cancelled", "blocked" }
M.FINISHED = { completed = true, needs_review = true, failed = true, skipped = true, cancelled = true, blocked = true }
M.ACTIVE_ORDER = { "running", "waiting_approval", "waiting_answer", "waiting_limit", "waiting_retry", "paused" }
M.ACTIVE = { running = true, waiting_approval = true, waiting_answer = true, waiting_limit = true,
  waiting_retry = true, paused = true }

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
M.summary = summary

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
