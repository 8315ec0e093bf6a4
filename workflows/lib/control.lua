-- control: what the remote commands mean (docs/webhook-api.md), shared by
-- the webhook routes, the Telegram bot and the schedules in serve.lua. Each
-- command takes (params, by) and returns a reply table -- status = "ok" |
-- "error" | "already_running" | ..., message = text for a person (the
-- Telegram texts of lib/format) -- and an HTTP status. Edit freely: this is
-- policy, not host code.
local fmt = require("lib.format")
local tasks_md = require("lib.tasks_md")
local S = require("lib.session")
local approval = require("lib.approval")

local M = {}

-- Sessions running in this process: id -> {task=, task_file=, by=, started_at=}
M.live = {}
-- (the command line runs none: its commands reach a session another host
-- runs through orch.push_command and the approvals table, see running())

local ACTIVE = S.SESSION_ACTIVE

local function cfg() return orch.config end

-- Whether a host runs session s: this process, or another one that holds the
-- run lock (`orch-host approve` beside `run` or `serve`).
local function running(s) return M.live[s.id] ~= nil or (ACTIVE[s.status] and orch.host_running()) end

local function not_running(s, what)
  return { status = "error", session_id = s.id,
           message = fmt.reply("not_running", s.id, s.status) .. (what and ("; " .. what) or "") }, 409
end

local function err(http, message, fields)
  local r = { status = "error", message = message }
  for k, v in pairs(fields or {}) do r[k] = v end
  return r, http
end

local function newest_live()
  local best, at
  for id, l in pairs(M.live) do
    if not at or l.started_at > at then best, at = id, l.started_at end
  end
  return best
end

-- The session a command is about: params.session, else the newest one
-- running here, else the newest stored one.
function M.session_id(params)
  if params and params.session and params.session ~= "" then return tostring(params.session) end
  local live = newest_live()
  if live then return live end
  return orch.latest_session()
end

local function load(params, how)
  local id = M.session_id(params)
  if not id then return nil, fmt.reply("no_session_yet") end
  local s = (how or S.load)(id)
  if not s then return nil, fmt.reply("no_session", id) end
  return s
end

-- waiting(s) -> the approval session s waits on | nil: while a host runs it,
-- or while none does and it is one that still waits then (S.waits_while_down)
function M.waiting(s)
  local p = orch.pending_approval(s.id)
  if p and (running(s) or S.waits_while_down(p)) then return p end
end

-- status_of(s) -> the status reply of a loaded session (S.load_summary's or
-- S.load's: the same answer); the webhook's and `orch-host status --json`'s
function M.status_of(s)
  local c = S.counts(s)
  local cost, tokens = S.totals(s)
  local t, pos = S.current(s)
  local out = {
    session_id = s.id, status = s.status, task = pos or c.done, total = c.total, done = c.done,
    completed = c.completed, failed = c.failed, skipped = c.skipped, pending = c.pending,
    blocked = c.blocked or 0, needs_review = c.needs_review or 0,
    cost_usd = cost, tokens = tokens, started_at = s.started_at, task_file = s.task_file,
    running_here = M.live[s.id] ~= nil,
    message = fmt.status(s, orch.now(), { live = running(s) }),
  }
  if t then out.current = { id = t.id, title = t.title, type = t.type, status = t.status } end
  -- every task in hand (several at once in a parallel day): task, elapsed time, cost so far
  out.agents = orch.json.array()  -- [] when none, as documented (an empty table encodes as {})
  for i, a in ipairs(S.agents(s)) do
    out.agents[i] = { task = a.id, title = a.title, status = a.status, branch = a.branch, cost_usd = a.cost_usd or 0,
                      started_at = a.started_at, elapsed_s = a.started_at and (orch.now() - a.started_at) or nil,
                      question = a.question }  -- a waiting_answer task's question
  end
  if #out.agents > 1 then out.message = out.message .. "\n\n" .. fmt.agents(out.agents) end
  local p = M.waiting(s)
  if p then
    out.waiting = { kind = p.kind, task = p.task_id, prompt = p.prompt, since = p.created_at, request_id = p.id }
  end
  return out
end

-- status: {task, total, status} plus what a dashboard wants, from the
-- session row's summary (no task read: a session of 1000 tasks answers as fast)
function M.status(params)
  local s, e = load(params, S.load_summary)
  if not s then return { status = "idle", message = e, running = false }, 200 end
  return M.status_of(s), 200
end

local function resolve_task_file(params)
  local f = params.task_file or params.tasks
  if f == nil or f == "" then return nil end
  f = tostring(f)
  if f:sub(1, 1) ~= "/" then f = orch.root .. "/" .. f end
  return f
end

-- Runs the day's workflow (or `workflow`) as a task here; forgets it when it ends.
local function launch(id, args, by, task_file, workflow)
  args.no_input = true
  args.started_by = by
  local task, lerr = orch.start_workflow(workflow or cfg().server.session_workflow, args)
  if not task then return nil, tostring(lerr) end
  M.live[id] = { task = task, task_file = task_file, by = by, started_at = orch.now() }
  orch.spawn(function()
    local ok, result = orch.wait(task)
    M.live[id] = nil
    -- the host's stop (SIGTERM, Ctrl-C) cancels it: that is no error
    orch.log((ok or orch.interrupted()) and "info" or "error", string.format("session %s ended: %s", id,
      ok and ("exit " .. tostring(result)) or tostring(result)))
  end)
  return task
end

local function same_file(a, b)
  if a == nil or b == nil then return false end
  local root = orch.root .. "/"
  if a:sub(1, #root) == root then a = a:sub(#root + 1) end
  if b:sub(1, #root) == root then b = b:sub(#root + 1) end
  return a == b
end

-- the newest stored session over this task file (among the last 50)
function M.prior_session(file)
  for _, s in ipairs(orch.list_sessions(50)) do
    if same_file(s.task_file, file) then return s end
  end
end

-- parallel_limit(v, field) -> n | nil, message: how many agents a request
-- may ask for (a whole number from 1 to server.max_parallel_agents)
function M.parallel_limit(v, field)
  local cap = cfg().server.max_parallel_agents
  if type(v) ~= "number" or v ~= v or v % 1 ~= 0 or v < 1 then
    return nil, string.format("%s must be a whole number of agents >= 1, not %s", field,
      fmt.truncate(orch.json.encode(v), 40))
  end
  if v > cap then
    return nil, string.format("%s: %.0f is over this server's limit of %d (server.max_parallel_agents)", field, v, cap)
  end
  return v
end

-- start: a new session from a task file (params.task_file, else today's),
-- or a clear answer when one is already running here; params.max_concurrent:
-- agents at once (M.parallel_limit). opts.workflow (from
-- lib/schedule, never from a request's params) runs another workflow file.
function M.start(params, by, opts)
  params = params or {}
  if params.max_concurrent ~= nil then
    local _, merr = M.parallel_limit(params.max_concurrent, "max_concurrent")
    if merr then return err(400, merr) end
  end
  local file = resolve_task_file(params) or S.today_file(cfg().paths.tasks_dir)
  for id, l in pairs(M.live) do
    if l.task_file == file then
      return { status = "already_running", session_id = id, message = fmt.reply("already_running", file, id) }, 409
    end
  end
  -- the same file's latest session, unless params.force: a paused one is
  -- resumed (not started over), a finished one is not run again by accident
  if not params.force then
    local prior = M.prior_session(file)
    if prior and (prior.status == "paused" or ACTIVE[prior.status]) then
      return { status = "paused", session_id = prior.id,
               message = fmt.reply("prior_active", prior.id, file, prior.status) }, 409
    elseif prior and prior.status == "completed" then
      return { status = "completed", session_id = prior.id, message = fmt.reply("prior_completed", prior.id, file) },
        409
    end
  end
  local doc, perr = require("lib.tasks").load(file)
  if not doc then return err(400, perr.stage == "read" and fmt.unreadable_tasks(perr) or tostring(perr)) end
  local id = S.new_id()
  local _, lerr = launch(id, { tasks = file, session_id = id, auto_approve = params.auto_approve == true,
                              max_concurrent = params.max_concurrent }, by, file, opts and opts.workflow)
  if lerr then return err(500, fmt.reply("cannot_start", lerr)) end
  return { status = "started", session_id = id, total_tasks = #doc.tasks, task_file = file,
           message = fmt.reply("started", id, #doc.tasks, file) }, 200
end

-- start_inbox(by): the task inbox (workflows/inbox.lua, config inbox) as a
-- session of this process -> its session id | nil, err
function M.start_inbox(by)
  local id = S.new_id()
  local _, lerr = launch(id, { session_id = id }, by, cfg().paths.tasks_dir, "inbox.lua")
  if lerr then
    orch.log("error", "inbox: " .. tostring(lerr))
    return nil, lerr
  end
  return id
end

-- What resuming session s runs: the workflow it stored, its task file and the
-- flags it was started with (auto_approve, no_input, max_concurrent), unless
-- params give one (params.auto_approve, params.no_input: booleans). The task
-- inbox (workflows/inbox.lua) reads only these; a day reads its stored
-- session too.
function M.resume_args(s, params)
  local args = { resume = true, session = s.id, tasks = s.task_file, no_input = s.no_input == true,
                 auto_approve = s.auto_approve == true, max_concurrent = tonumber(s.max_concurrent) }
  if type(params.no_input) == "boolean" then args.no_input = params.no_input end
  if type(params.auto_approve) == "boolean" then args.auto_approve = params.auto_approve end
  return s.workflow or cfg().server.session_workflow, args
end

-- resume: a completed session has nothing to resume; one running here gets
-- the command, and so does the host running in another process (lib/control's
-- watch resumes it there); else it continues here: as a task
-- of this process, or with opts.run(workflow, args) (the command line runs
-- it itself, under the run lock).
function M.resume(params, by, opts)
  local s, e = load(params)
  if not s then return err(404, e) end
  if s.status == "completed" then
    return { status = "ok", session_id = s.id, message = fmt.reply("already_completed", s.id) }, 200
  end
  if M.live[s.id] then
    orch.push_command(s.id, "resume", {}, by)
    return { status = "ok", session_id = s.id, message = fmt.reply("resuming", s.id) }, 200
  end
  if orch.host_running() then
    orch.push_command(s.id, "resume", {}, by)
    return { status = "ok", session_id = s.id, message = fmt.reply("resume_sent", s.id) }, 200
  end
  local workflow, args = M.resume_args(s, params)
  if opts and opts.run then
    opts.run(workflow, args)
    return { status = "ok", session_id = s.id, message = fmt.reply("resuming", s.id) }, 200
  end
  local _, lerr = launch(s.id, args, by, s.task_file, workflow)
  if lerr then return err(500, fmt.reply("cannot_resume", lerr)) end
  return { status = "ok", session_id = s.id, message = fmt.reply("resumed", s.id) }, 200
end

-- the requests of s waiting for a person that `action` could decide, "#12
-- (task task-1), #13 (task task-3)", and their tasks' ids: an answer is for a
-- waiting_answer task (an agent's question), an approve for a
-- waiting_approval one, a skip for either
local WAITS_FOR = { answer = { waiting_answer = true }, approve = { waiting_approval = true } }
local function waiting_requests(s, action)
  local list, ids, want = {}, {}, WAITS_FOR[action] or { waiting_approval = true, waiting_answer = true }
  for _, t in ipairs(s.tasks or {}) do
    if want[t.status] then
      local p = orch.pending_approval(s.id, t.id)
      list[#list + 1] = p and string.format("#%s (task %s)", tostring(p.id), tostring(t.id)) or
        string.format("task %s", tostring(t.id))
      ids[#ids + 1] = tostring(t.id)
    end
  end
  return list, ids
end

-- asking(task, params) -> whether task (an id) of the session params name
-- waits for the answer to its agent's question
function M.asking(task, params)
  local s = load(params)
  local t = s and S.task(s, task)
  return t ~= nil and t.status == "waiting_answer"
end

-- refused(p, why) -> the reply refusing a decision on request p, and its HTTP status
local function refused(p, why, newest)
  local msg
  if why == "decided" then
    msg = fmt.reply("request_decided", p.id, p.task_id, p.action, p.by)
  elseif why == "expired" then
    msg = fmt.reply("request_expired", p.id, p.task_id)
  elseif why == "older_session" then
    msg = fmt.reply("request_older_session", p.id, p.session_id, newest)
  else
    msg = fmt.reply("request_withdrawn", p.id, p.task_id, p.text or "withdrawn")
  end
  return err(approval.HTTP[why], msg, { reason = why, request_id = p.id, session_id = p.session_id, task = p.task_id })
end

-- the newest session over s's task file, when it is not s
local function newer_session(s)
  local newest = s and s.task_file and M.prior_session(s.task_file)
  if newest and newest.id ~= s.id then return newest.id end
end

-- The decision on request p (a row of orch.get_approval or pending_approval)
-- of session s: applied once, or refused (already decided, expired, from an
-- older session, withdrawn; a question where an approval was meant).
-- named: the caller named p by its id. -> reply, http | nil, s (nothing
-- this action could decide)
local function decide_on(p, s, action, by, text, describe, channel, named)
  local newest = newer_session(s)
  local why = approval.refusal(p, newest)
  if why then return refused(p, why, newest) end
  -- While no host runs the session, a decision on an approval, or an answer
  -- to a question, is kept: the resumed session asks the same again and
  -- takes it at once (S.waits_while_down). Pause has nothing to pause.
  -- An inbox's is refused (below).
  local up = running(s)
  if not up and (action == "pause" or not S.waits_while_down(p)) then return nil, s end
  -- an inbox keeps none: its next start runs the task from its file again
  if not up and s.kind == "inbox" then
    return err(409, fmt.reply("inbox_down", s.id, p.task_id), { session_id = s.id, request_id = p.id })
  end
  if action == "answer" and p.kind ~= "question" then
    if not named then return nil, s end
    return err(409, fmt.reply("request_not_question", p.id, p.task_id), { session_id = s.id, request_id = p.id })
  end
  if action == "approve" and p.kind == "question" then
    return err(409, fmt.reply("approve_question", p.task_id, p.task_id, p.task_id),
      { session_id = s.id, request_id = p.id, waiting = { kind = p.kind, task = p.task_id, prompt = p.prompt } })
  end
  if not orch.resolve_approval(p.id, action, text or "", by, channel) then
    local now = orch.get_approval(p.id)  -- decided by someone else between the look and the write
    if now and now.status ~= "pending" then return refused(now, approval.refusal(now) or "withdrawn") end
    return err(409, fmt.reply("decided_first"), { session_id = s.id, request_id = p.id })
  end
  local r = { status = "ok", session_id = s.id, task = p.task_id, kind = p.kind, request_id = p.id }
  r.message = up and describe(r, s) or fmt.reply("recorded", action, p.task_id, s.id)
  return r, 200
end

-- decide: resolve one pending request with `action`: params.request_id's
-- (exactly that one, or a refusal saying why not), else params.task's, else
-- the only one waiting (naming none while several wait is refused with their
-- ids); describe(r, s) words the reply. opts.channel: how the decision came
-- (cli, webhook, rest, telegram). -> reply, http status (decided, or
-- refused) | nil, session (nothing waits that this action could decide)
local function decide(action, params, by, text, describe, opts)
  local channel = approval.channel(by, opts and opts.channel)
  if params.request_id ~= nil and params.request_id ~= "" then
    local rid = tonumber(params.request_id)
    if not rid or rid % 1 ~= 0 or rid < 1 then
      return err(400, fmt.reply("request_bad_id", fmt.truncate(tostring(params.request_id), 40)))
    end
    local p = orch.get_approval(rid)
    if not p then return err(404, fmt.reply("request_not_found", rid), { reason = "not_found", request_id = rid }) end
    if params.session ~= nil and params.session ~= "" and tostring(params.session) ~= p.session_id then
      return err(409, fmt.reply("request_other_session", rid, p.session_id, params.session),
        { reason = "other_session", request_id = rid, session_id = p.session_id })
    end
    local s = S.load(p.session_id)
    if not s then return err(404, fmt.reply("no_session", p.session_id)) end
    local r, x = decide_on(p, s, action, by, text, describe, channel, true)
    if r then return r, x end
    return not_running(s, "request #" .. tostring(rid) .. " applies only while its session runs")
  end
  local s, e = load(params)
  if not s then return err(404, e) end
  local task = params.task ~= nil and params.task ~= "" and tostring(params.task) or nil
  if task and not S.task(s, task) then return err(404, fmt.reply("no_task", task, s.id)) end
  if not task and action ~= "pause" then
    local list, ids = waiting_requests(s, action)
    if #list > 1 then
      return err(409, fmt.reply(action == "answer" and "answer_which" or "request_which", s.id,
        table.concat(action == "answer" and ids or list, ", "), action), { session_id = s.id })
    end
    if action == "answer" then task = ids[1] end  -- the one question, though an approval waits too
  end
  local p = orch.pending_approval(s.id, task)
  if not p then return nil, s end
  return decide_on(p, s, action, by, text, describe, channel)
end

function M.approve(params, by, opts)
  local r, x = decide("approve", params, by, params.text, function(d, s)
    local t = S.task(s, d.task)
    return fmt.executing(d.task, t and t.title)
  end, opts)
  if r then return r, x end
  if not running(x) then return not_running(x, "nothing is waiting for approval") end
  return err(409, fmt.reply("nothing_to_approve", x.id, x.status), { session_id = x.id })
end

-- the tasks of s in hand (running, or waiting for a person), "1 (running), 3 (waiting_approval)"
local function in_hand(s)
  local list = {}
  for _, t in ipairs(s.tasks or {}) do
    if ACTIVE[t.status] or t.status == "waiting_answer" then
      list[#list + 1] = string.format("%s (%s)", tostring(t.id), t.status)
    end
  end
  return list
end

-- skip [task]: the task named (a parallel day runs several), else the one
-- waiting or running; while several are in hand, which one must be said
function M.skip(params, by, opts)
  local named = params.request_id ~= nil and params.request_id ~= ""
  if params.task ~= nil and params.task ~= "" and not named then return M.cancel(params, by, "skipping_task", opts) end
  local whole = not named and load(params)
  local hand = whole and in_hand(whole) or {}
  if #hand > 1 then
    return err(409, fmt.reply("skip_which", whole.id, table.concat(hand, ", ")), { session_id = whole.id })
  end
  local r, s = decide("skip", params, by, params.text, function(d) return fmt.reply("skipped", d.task) end, opts)
  if r then return r, s end
  if not running(s) then return not_running(s, "nothing to skip") end
  local t = S.current(s)
  if ACTIVE[s.status] and t and t.status == "running" then
    orch.push_command(s.id, "skip", {}, by)
    return { status = "ok", session_id = s.id, task = t.id, message = fmt.reply("skipping", t.id) }, 200
  end
  return err(409, fmt.reply("nothing_to_skip", s.id, s.status), { session_id = s.id })
end

function M.pause(params, by, opts)
  local r, s = decide("pause", params, by, params.text, function(d) return fmt.reply("paused", d.session_id) end,
    opts)
  if r then return r, s end
  if not ACTIVE[s.status] then
    return { status = "ok", session_id = s.id, message = fmt.reply("session_is", s.id, s.status) }, 200
  end
  if not running(s) then return not_running(s, "nothing to pause") end
  orch.push_command(s.id, "pause", {}, by)
  return { status = "ok", session_id = s.id, message = fmt.reply("pausing", s.id) }, 200
end

function M.answer(params, by, opts)
  local text = params and (params.text or params.answer)
  if type(text) ~= "string" or text:match("^%s*$") then return err(400, fmt.reply("answer_missing")) end
  local r, s = decide("answer", params, by, text, function(d) return fmt.reply("answer_sent", d.task) end, opts)
  if r then return r, s end
  if not running(s) then return not_running(s, "no question is waiting") end
  return err(409, fmt.reply("no_question", s.id), { session_id = s.id })
end

-- logs: the last `lines` lines of today's log (1..200, default 20)
function M.logs(params)
  local n = math.floor(tonumber(params and params.lines) or 20)
  if n < 1 then n = 1 elseif n > 200 then n = 200 end
  local path = string.format("%s/%s.log", cfg().paths.logs_dir, os.date("%Y-%m-%d"))
  local text = orch.read_file(path) or ""
  local lines = {}
  for line in text:gmatch("[^\n]+") do
    lines[#lines + 1] = line
    if #lines > n then table.remove(lines, 1) end
  end
  return { status = "ok", logs = table.concat(lines, "\n"), lines = #lines,
           message = fmt.logs(lines, { path = path }) }, 200
end

-- The session a command about one task means when params names none and
-- the one M.session_id names lacks it (has(id) says): the newest one with an
-- event of that task, e.g. the inbox's while a day runs beside it
local function task_session(params, task, has)
  local id = M.session_id(params)
  if (params.session and params.session ~= "") or (id and has(id)) then return id end
  local last = orch.recent_events({ task = tostring(task), limit = 1 })[1]
  return last and last.session_id or id
end

-- progress: the last events of one task (the bot's /progress <task_id>)
function M.progress(params)
  local task = params and params.task
  if not task or task == "" then return err(400, fmt.reply("progress_which")) end
  task = tostring(task)
  local evs
  local sid = task_session(params, task, function(id)
    evs = orch.recent_events({ session = id, task = task, limit = 10 })
    return #evs > 0
  end)
  if not evs or #evs == 0 then evs = orch.recent_events({ session = sid, task = task, limit = 10 }) end
  return { status = "ok", session_id = sid, task = task, events = evs,
           message = fmt.task_events(task, evs, function(ts) return os.date("%H:%M:%S", math.floor(ts)) end) },
    200
end

-- cancel: stop a task (the running one gets its agent stopped, a waiting
-- one stops waiting, a pending one is skipped); reply_key: skip's words
function M.cancel(params, by, reply_key, opts)
  local task = params and params.task
  if not task or task == "" then return err(400, fmt.reply("cancel_which")) end
  local loaded = {}
  local sid = task_session(params, task, function(id)
    loaded[id] = S.load(id)
    return loaded[id] ~= nil and S.task(loaded[id], task) ~= nil
  end)
  local s, e = loaded[sid], nil
  if not s then s, e = load({ session = sid }) end
  if not s then return err(404, e) end
  local t = S.task(s, task)
  if not t then return err(404, fmt.reply("no_task", task, s.id)) end
  if S.FINISHED[t.status] then
    return { status = "ok", session_id = s.id, message = fmt.reply("task_already", t.id, t.status) }, 200
  end
  local p = orch.pending_approval(s.id, t.id)
  if p then
    orch.resolve_approval(p.id, "skip", "cancelled", by, approval.channel(by, opts and opts.channel))
  elseif t.status == "running" then
    orch.push_command(s.id, "skip", { task = t.id }, by)
  else
    orch.push_command(s.id, "cancel", { task = t.id }, by)
  end
  return { status = "ok", session_id = s.id, task = t.id, message = fmt.reply(reply_key or "cancel_requested", t.id) },
    200
end

-- adhoc_doc(text, date) -> the task file of /task as a tasks_md doc: one
-- general task, titled with the text on one line (80 characters), the text
-- itself as the instruction (fenced when a line of it would read as markdown
-- structure: lib/tasks_md.literal)
function M.adhoc_doc(text, date)
  text = fmt.truncate((text:gsub("\r\n?", "\n")), 2000)
  local title = fmt.truncate(text:gsub("%s+", " "):match("^%s*(.-)%s*$"), 80)
  return { title = "Tasks - " .. date, date = date, tasks = { { id = 1, title = title, type = "general",
    priority = "medium", requires_approval = false, description = title, acceptance_criteria = {},
    instruction = tasks_md.literal(text) } } }
end

-- inbox_task(text, by) -> reply, http: the sentence as an inbox task file
-- (lib/inbox_request reads it: type, target files, criteria, the folder
-- named by "in /project"), written into the watched folder so the inbox runs
-- it as it runs a dropped file (c: the config, orch.config's by default)
function M.inbox_task(text, by, c)
  c = c or cfg()
  local req, rerr = require("lib.inbox_request").structure(c, text)
  if not req then return err(400, fmt.reply("task_refused", tostring(rerr))) end
  local now = orch.now()
  local id = string.format("phone-%s-%06d", os.date("%Y%m%d-%H%M%S", math.floor(now)), math.floor((now % 1) * 1e6))
  local it = require("lib.inbox_task")
  local body, berr = it.render({ id = id, type = req.type, title = req.title, priority = req.priority,
    instruction = req.prompt, inbox = { created = math.floor(now), cwd = req.cwd, target_files = req.target_files,
      success_criteria = (function()
        local list = {}
        for i, crit in ipairs(req.success_criteria or {}) do list[i] = { text = crit } end
        return list
      end)() } })
  if not body then return err(400, fmt.reply("task_refused", tostring(berr))) end
  local dir = c.paths.tasks_dir
  local file = dir .. "/" .. id .. it.SUFFIX
  local _, perr = it.parse(body, file)  -- what the inbox will read: refused before anything is written
  if perr then return err(400, fmt.reply("task_refused", tostring(perr))) end
  orch.make_dir(dir)
  local ok, werr = orch.write_file(file, body)  -- a temp file renamed in: the watch sees it whole
  if not ok then return err(500, fmt.reply("cannot_write_tasks", werr)) end
  orch.log("info", "inbox task " .. id .. " from " .. tostring(by) .. " (read by " .. req.via ..
    (req.fallback and (", " .. req.fallback) or "") .. ")")
  return { status = "queued", task = id, task_file = file, type = req.type, cwd = req.cwd, via = req.via,
           message = fmt.reply("task_queued", id, req.type,
             req.via == "ollama" and "the local model" or "the plain parser", id) }, 202
end

-- task: a sentence (the bot's /task <description>, a plain message) as an
-- inbox task when the inbox runs (inbox.enabled), else a one-task session
function M.task(params, by)
  local text = params and (params.text or params.description)
  if type(text) ~= "string" or text:match("^%s*$") then return err(400, fmt.reply("task_missing")) end
  local icfg = cfg().inbox
  if icfg and icfg.enabled then return M.inbox_task(text, by) end
  local dir = cfg().paths.tasks_dir .. "/adhoc"
  local file = string.format("%s/%s-%d.md", dir, os.date("%Y%m%d-%H%M%S"), math.floor((orch.now() % 1) * 1e6))
  local md = tasks_md.render(M.adhoc_doc(text, os.date("%Y-%m-%d")))
  local _, perr = tasks_md.parse(md, file)  -- what start will read: refused before anything is written
  if perr then return err(400, tostring(perr)) end
  orch.make_dir(dir)
  local ok, werr = orch.write_file(file, md)
  if not ok then return err(500, fmt.reply("cannot_write_tasks", werr)) end
  return M.start({ task_file = file, auto_approve = params.auto_approve }, by)
end

function M.help()
  return { status = "ok", message = fmt.help() }, 200
end

function M.sessions(params)
  local limit = math.floor(tonumber(params and params.limit) or 20)
  if limit < 1 then limit = 1 elseif limit > 200 then limit = 200 end
  local list = orch.list_sessions(limit)
  for _, s in ipairs(list) do s.running_here = M.live[s.id] ~= nil end
  return { sessions = list, count = #list }, 200
end

M.commands = { start = M.start, status = M.status, approve = M.approve, pause = M.pause, resume = M.resume,
  skip = M.skip, logs = M.logs, answer = M.answer, help = M.help, progress = M.progress,
  cancel = function(params, by, opts) return M.cancel(params, by, nil, opts) end,
  task = M.task }

-- The parameters commands read, by type: a request's JSON is the caller's,
-- so a table where a task id belongs is a 400 naming the field, not a
-- handler error. ("id": a string or a number.)
local PARAM_TYPES = { session = "id", task = "id", request_id = "id", task_file = "string", tasks = "string",
  text = "string", answer = "string", description = "string", lines = "id", limit = "id" }

local function check_params(params)
  for k, want in pairs(PARAM_TYPES) do
    local v, t = params[k], type(params[k])
    if v ~= nil and not (t == want or (want == "id" and (t == "string" or t == "number"))) then
      return string.format("params.%s must be a %s, not a %s", k, want == "id" and "string or number" or want,
        v == orch.json.null and "null" or t)
    end
  end
end

-- run(command, params, by [, opts]) -> reply, http status
-- (opts: for the command, e.g. resume's opts.run)
function M.run(command, params, by, opts)
  local fn = M.commands[command]
  if not fn then
    local names = {}
    for k in pairs(M.commands) do names[#names + 1] = k end
    table.sort(names)
    return err(400, fmt.reply("unknown_command", command, table.concat(names, ", ")))
  end
  if params ~= nil and type(params) ~= "table" then return err(400, fmt.reply("params_object")) end
  local bad = check_params(params or {})
  if bad then return err(400, command .. ": " .. bad) end
  return fn(params or {}, by, opts)
end

-- Commands for sessions not running here (`orch-host resume` while the
-- server holds the lock): the server acts on them.
function M.watch()
  orch.watch_session("*")
  orch.on("command", function(cmd)
    if cmd.command == "resume" and cmd.session_id and not M.live[cmd.session_id] then
      local r = M.resume({ session = cmd.session_id }, cmd.by)
      orch.log("info", "resume from " .. tostring(cmd.by) .. ": " .. tostring(r.message))
    end
  end)
end

return M
