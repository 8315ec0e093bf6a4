-- status_cli: `orch-host status [SESSION] [--json]` and `orch-host sessions
-- [--limit N] [--json]` (host/cli/info.cpp calls run(req) and prints what it
-- returns). The view is lib/control's status reply (the webhook's: the same
-- counts, totals, current task and wait for every caller) with the stored
-- session's fields and tasks; the texts are lib/format_status's. Policy:
-- edit freely.
local control = require("lib.control")
local S = require("lib.session")
local fmt = require("lib.format")
local fs = require("lib.format_status")

local M = {}

local EXIT = { ok = 0, bad_input = 2 }

M.DEAD_SHOWN = 5  -- dead notifications listed

-- the machine's clock: "2025-11-20 09:30:15"
local function clock(epoch) return os.date("%Y-%m-%d %H:%M:%S", math.floor(epoch)) end

local function json(v) return orch.json.encode(v, { pretty = true }) .. "\n" end

-- the view of a loaded session s (S.load's or S.load_summary's), its tasks aside
local function head(s)
  local v = control.status_of(s)
  for k, x in pairs(s) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" and k ~= "tasks" and v[k] == nil then v[k] = x end
  end
  v.host_alive = control.host_runs(s) == true
  v.refused = s.kind == "inbox" and (tonumber(s.refused) or 0) or nil  -- the files it refused (lib/inbox_run_files)
  v.pending_approval = control.waiting(s)
  v.total_tasks, v.completed_tasks = v.total, v.completed
  v.runtime = S.runtime(s, orch.now(), v.host_alive)
  v.budget_max_usd = require("lib.report").budget(s, orch.config)  -- the report's: the session's own, else the config's
  local dead = orch.dead_notifications(M.DEAD_SHOWN)
  if dead.count > 0 then v.dead_notifications = dead end
  return v
end

-- recorded_answer(s, t) -> {action = "answer", by=, text=}: the answer
-- given to the question task t of session s waits on while no host ran it
-- (lib/questions recorded) | nil
-- waits(s) -> whether session s, its host not running, has tasks that a
-- resume runs (a paused session, or one its host left running): only then
-- can a decision or an answer be recorded for it; a completed one has none
local function waits(s) return s.status == "paused" or S.SESSION_ACTIVE[s.status] == true end

local function recorded_answer(s, t)
  local a = require("lib.questions").recorded(s, t)
  return a and { action = "answer", by = a.by, text = a.text } or nil
end

-- view(id) -> what `orch-host status --json` prints for session id | nil (no
-- such session): control.status_of's reply (task, total, done, completed,
-- failed, skipped, pending, cost_usd, tokens, current, waiting, message...)
-- and the stored session's other fields with its tasks, plus session_id,
-- host_alive (another live host holds the run lock), pending_approval (the
-- approval row control.waiting gives), total_tasks, completed_tasks,
-- runtime (lib/session's) and dead_notifications when there are any
function M.view(id)
  local s = S.load(id)
  if not s then return nil end
  local v = head(s)
  v.tasks = orch.json.array(s.tasks)
  -- a decision recorded while no host runs the session: the task still reads
  -- waiting_approval (or pending, after a clean stop), and the view says
  -- what applies when it resumes (it asks again and takes the decision at once)
  if not v.host_alive and waits(s) then
    for _, t in ipairs(s.tasks or {}) do
      t.recorded = recorded_answer(s, t)  -- an answer to its agent's question
      if t.approval_reason and (t.status == "waiting_approval" or t.status == "pending") then
        local d = orch.recorded_decision({ session = s.id, task = tostring(t.id), kind = "approval",
                                           prompt = fmt.approval_prompt(t) })  -- the request run_approve makes
        if d and d.action then t.recorded = { action = d.action, by = d.by } end
      end
    end
  end
  return v
end

M.ASKED_MAX = 1000  -- the newest question_asked events of a session read for recorded answers

-- answered(s) -> {task id -> true} of the tasks of session s whose question
-- has an answer given while no host ran it | nil when none has: one lookup
-- per task that asked (the question_asked events hold the whole question a
-- task waits on, a paused one's too), none per task of the session
local function answered(s)
  local found, seen = nil, {}
  local asked = orch.recent_events({ session = s.id, event = "question_asked", limit = M.ASKED_MAX })
  for i = #asked, 1, -1 do  -- newest first: a task's last question is the one it waits on
    local e = asked[i]
    local task = e.task_id or e.task
    if task and not seen[tostring(task)] and type(e.question) == "string" then
      seen[tostring(task)] = true
      local d = orch.recorded_decision({ session = s.id, task = tostring(task), kind = "question",
                                         prompt = e.question })
      if d and d.action == "answer" then
        found = found or {}
        found[tostring(task)] = true
      end
    end
  end
  return found
end

-- view_json(id) -> the view as `status --json` prints it | nil: the same
-- fields, built from the session row's summary (S.load_summary) with the
-- tasks' JSON text as the store gives it, so a session of 10,000 tasks
-- turns none of them into Lua tables and back. A text object
-- (orch.session_tasks_json's): the CLI prints it as the rows are read;
-- tostring() gives the string. While no host runs the session, a task
-- whose question was answered meanwhile carries that answer as `recorded`
-- {action = "answer", by=, text=}, as `status` shows it (the tasks are
-- loaded then, only then)
function M.view_json(id)
  local s = S.load_summary(id)
  if not s then return nil end
  local v = head(s)
  local given = not v.host_alive and waits(s) and answered(s)
  local whole = given and S.load(id)
  if whole then
    for _, t in ipairs(whole.tasks) do
      t.recorded = given[tostring(t.id)] and recorded_answer(whole, t) or nil  -- (one that still waits)
    end
    v.tasks = orch.json.array(whole.tasks)
    return json(v)
  end
  local out = orch.json.encode(v, { pretty = true })  -- "{\n  ...\n}"
  return orch.session_tasks_json(id, out:sub(1, -3) .. ',\n  "tasks": ', "\n}\n")
end

local function text(...)
  local out = {}
  for i = 1, select("#", ...) do
    local b = select(i, ...)
    if b and b ~= "" then out[#out + 1] = b end
  end
  return #out > 0 and (table.concat(out, "\n\n") .. "\n") or ""
end

-- status{session=, json=, state=} -> {exit=, out= | err=}; state: whether a
-- state database exists (none before the first run); session: the one named,
-- else lib/control's default (the commands')
function M.status(req)
  local id = req.state and (req.session or control.session_id({})) or nil  -- the commands' default too
  if not id then
    if req.json then
      return { exit = EXIT.ok, out = json({ session = orch.json.null, tasks = orch.json.array({}) }) }
    end
    local dead = req.state and fs.dead_notifications(orch.dead_notifications(M.DEAD_SHOWN), { clock = clock })
    return { exit = EXIT.ok, out = text(fs.NO_SESSIONS, dead) }
  end
  if req.json then
    local out = M.view_json(id)
    if not out then return { exit = EXIT.bad_input, err = fmt.reply("no_session", id) } end
    return { exit = EXIT.ok, out = out }
  end
  local v = M.view(id)
  if not v then return { exit = EXIT.bad_input, err = fmt.reply("no_session", id) } end
  local opts = { clock = clock, now = orch.now() }
  return { exit = EXIT.ok, out = text(fs.session(v, opts), fs.dead_notifications(v.dead_notifications, opts)) }
end

-- sessions{limit=, json=, state=} -> {exit=, out=}: the newest `limit` (20);
-- each line's progress from the counts the session's row keeps (S.load_summary)
function M.sessions(req)
  local list = req.state and orch.list_sessions(req.limit or 20) or {}
  if req.json then return { exit = EXIT.ok, out = json(orch.json.array(list)) } end
  for _, row in ipairs(list) do
    local s = S.load_summary(row.id)
    row.counts = s and S.counts(s) or nil
  end
  return { exit = EXIT.ok, out = text(fs.sessions(list, { clock = clock })) }
end

-- run{command = "status" | "sessions", ...} -> {exit=, out= | err=}
function M.run(req)
  if req.command == "sessions" then return M.sessions(req) end
  return M.status(req)
end

return M
