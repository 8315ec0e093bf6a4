-- control: what the remote commands mean (docs/webhook-api.md), shared by
-- the webhook routes, the Telegram bot and the schedules in serve.lua. Each
-- command takes (params, by) and returns a reply table -- status = "ok" |
-- "error" | "already_running" | ..., message = text for a person (the
-- Telegram texts of lib/format) -- and an HTTP status. Edit freely: this is
-- policy, not host code.
local fmt = require("lib.format")
local S = require("lib.session")
local model = require("lib.task_model")

local M = {}

-- Sessions running in this process: id -> {task=, task_file=, by=, started_at=}
M.live = {}
-- (the command line runs none: its commands reach a session another host
-- runs through orch.push_command and the approvals table, see running())

local ACTIVE = S.SESSION_ACTIVE

local function cfg() return orch.config end

-- host_runs(s) -> whether another live host runs session s: the one holding
-- the run lock, when s stores its pid (a session a killed host left is not
-- that host's, even once another `serve` holds the lock); one whose pid the
-- lock does not say counts as its
function M.host_runs(s)
  local up, pid = orch.host_running()
  return up and (pid == nil or tonumber(s.pid) == nil or tonumber(s.pid) == pid)
end

-- Whether a host runs session s: this process, or another one that holds the
-- run lock (`orch-host approve` beside `run` or `serve`).
local function running(s) return M.live[s.id] ~= nil or (ACTIVE[s.status] and M.host_runs(s)) end

-- hosted(s) -> whether a live host works on session s (active): this process
-- (its own sessions too, s.pid: the workflow writing its day's report), or
-- another one holding the run lock (host_runs). Not a killed host's session:
-- its times count to when it was last seen (S.last_seen).
function M.hosted(s)
  return ACTIVE[s.status] == true and (M.live[s.id] ~= nil or tonumber(s.pid) == orch.pid or M.host_runs(s) == true)
end

local function not_running(s, what)
  -- a status a host works on, but no host: it died without recording its stop (kill -9)
  local msg = S.SESSION_ACTIVE[s.status] and fmt.reply("host_gone", s.id, s.status)
    or fmt.reply("not_running", s.id, s.status)
  return { status = "error", session_id = s.id, message = msg .. (what and ("; " .. what) or "") }, 409
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

-- The session a command (or `status`) is about: params.session, else the
-- newest one running here, else, while a host runs (`orch-host approve`
-- beside `serve`), the newest stored one that host runs (what that host's
-- own commands mean), else the newest stored one.
function M.session_id(params)
  if params and params.session and params.session ~= "" then return tostring(params.session) end
  local live = newest_live()
  if live then return live end
  local up, pid = orch.host_running()
  if up and pid then
    for _, s in ipairs(orch.list_sessions(20)) do
      if ACTIVE[s.status] and tonumber(s.pid) == pid then return s.id end  -- one that host runs
    end
  end
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
-- While several wait (a parallel day), the one of the task status names as
-- current (S.current), so a reply's words and its buttons name one task;
-- else the newest.
function M.waiting(s)
  local cur = S.current(s)
  local p = cur and orch.pending_approval(s.id, tostring(cur.id)) or orch.pending_approval(s.id)
  if p and (running(s) or S.waits_while_down(p)) then return p end
end

-- status_of(s) -> the status reply of a loaded session (S.load_summary's or
-- S.load's: the same answer); the webhook's and `orch-host status --json`'s
function M.status_of(s)
  local c = S.counts(s)
  local cost, tokens, est = S.totals(s)
  local t, pos = S.current(s)
  local out = {
    session_id = s.id, status = s.status, task = pos or c.done, total = c.total, done = c.done,
    pending = c.pending,
    cost_usd = cost, cost_estimated_usd = est > 0 and est or nil, tokens = tokens,
    started_at = s.started_at, task_file = s.task_file,
    running_here = M.live[s.id] ~= nil,
    message = fmt.status(s, orch.now(), { live = running(s) }),
  }
  -- how the done ones ended, a count per finished state (completed, failed,
  -- ...: lib/session's), which lib/format's progress lists
  for st in pairs(S.FINISHED) do out[st] = c[st] end
  if t then out.current = { id = t.id, title = t.title, type = t.type, status = t.status } end
  -- every task in hand (several at once in a parallel day): task, elapsed time, cost so far
  out.agents = orch.json.array()  -- [] when none, as documented (an empty table encodes as {})
  -- (a session whose host is gone: to when it was last seen, not growing)
  local seen = S.last_seen(s, orch.now(), running(s))
  for i, a in ipairs(S.agents(s)) do
    out.agents[i] = { task = a.id, title = a.title, status = a.status, branch = a.branch, cost_usd = a.cost_usd or 0,
                      started_at = a.started_at, elapsed_s = a.started_at and math.max(0, seen - a.started_at) or nil,
                      question = a.question,  -- a waiting_answer task's question
                      waiting_slot = a.slot_wait ~= nil or nil,  -- running, its agent waiting for a free slot
                      retry_at = a.retry_at }  -- waiting_retry: when its agent runs again
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
  if not s and params and params.session and params.session ~= "" then return err(404, e) end  -- one named
  if not s then return { status = "idle", message = e, running = false }, 200 end
  return M.status_of(s), 200
end

-- start and resume, the decisions (approve, pause, answer), a task's stops
-- (skip, cancel) and progress, and /task: their own files (lib/control_start,
-- lib/control_decide, lib/control_stop, lib/control_task), installed into
-- this table with the helpers they share (a skip decides as the decisions
-- do: control_decide's decide)
local shared = { cfg = cfg, err = err, load = load, running = running, not_running = not_running }
require("lib.control_start").install(M, shared)
shared.decide = require("lib.control_decide").install(M, shared)
require("lib.control_stop").install(M, shared)
require("lib.control_task").install(M, shared)

function M.help()
  return { status = "ok", message = fmt.help() }, 200
end

-- count(v, field, default, max) -> n | nil, message: a request's count (a
-- number, or a string of digits: a query string's) as a whole number from 1
-- to max; default when v is nil or ""
function M.count(v, field, default, max)
  if v == nil or v == "" then return default end
  local n = (type(v) == "number" or (type(v) == "string" and v:match("^%d+$"))) and tonumber(v) or nil  -- not 1e2, 0x10
  if not n or n ~= n or n % 1 ~= 0 or n < 1 or n > max then
    return nil, string.format("%s must be a whole number from 1 to %d, not %s", field, max,
      fmt.truncate(type(v) == "string" and v or orch.json.encode(v), 40))
  end
  return n
end

function M.sessions(params)
  local limit, lerr = M.count(params and params.limit, "limit", 20, 200)
  if not limit then return err(400, "sessions: " .. lerr) end
  local list = orch.list_sessions(limit)
  for _, s in ipairs(list) do s.running_here = M.live[s.id] ~= nil end
  return { sessions = list, count = #list }, 200
end

-- logs: the last `lines` lines of today's log (1..200, default 20)
function M.logs(params)
  local n, nerr = M.count(params and params.lines, "lines", 20, 200)
  if not n then return err(400, "logs: " .. nerr) end
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

M.commands = { start = M.start, status = M.status, approve = M.approve, pause = M.pause, resume = M.resume,
  skip = M.skip, logs = M.logs, answer = M.answer, help = M.help, progress = M.progress,
  cancel = function(params, by, opts) return M.cancel(params, by, nil, opts) end,
  task = M.task }

-- The parameters commands read, by type: a request's JSON is the caller's,
-- so a table where a task id belongs is a 400 naming the field, not a
-- handler error. ("id": a string or a number.)
local PARAM_TYPES = { session = "id", task = "id", request_id = "id", task_file = "string", tasks = "string",
  text = "string", answer = "string", description = "string", lines = "id", limit = "id",
  auto_approve = "boolean", force = "boolean", no_input = "boolean", by = "string" }

local function check_params(params, path)
  for k, want in pairs(PARAM_TYPES) do
    local v, t = params[k], type(params[k])
    if v ~= nil and not (t == want or (want == "id" and (t == "string" or t == "number"))) then
      return string.format("%s must be a %s, not %s", path(k), want == "id" and "string or number" or want,
        model.kind(v, "json"))
    end
  end
end

-- The field a param came in, for messages: params.NAME (the request's
-- "params"), or opts.param_path(NAME) where the caller took it from elsewhere
-- (serve: a short route's or the REST API's top-level field is NAME itself)
function M.param_path(opts)
  return opts and opts.param_path or function(k) return "params." .. k end
end

-- The command names, sorted: "answer, approve, cancel, ..."
function M.command_names()
  local names = {}
  for k in pairs(M.commands) do names[#names + 1] = k end
  table.sort(names)
  return table.concat(names, ", ")
end

-- The refusal of a request's "command" and "params" by their JSON types
-- (a missing command, one that is no string, params that are no object),
-- or nil: serve checks them before it reads the params
function M.request_error(command, params)
  if command == nil then return fmt.reply("command_missing", M.command_names()) end
  if type(command) ~= "string" then return fmt.reply("command_string", model.kind(command, "json")) end
  if params ~= nil and model.kind(params) ~= "mapping" then
    return fmt.reply("params_object", model.kind(params, "json"))
  end
end

-- run(command, params, by [, opts]) -> reply, http status
-- (opts: for the command, e.g. resume's opts.run; opts.param_path: M.param_path)
function M.run(command, params, by, opts)
  local fn = M.commands[command]
  if not fn then
    return err(400, fmt.reply("unknown_command", command, M.command_names()))
  end
  local refused = M.request_error(command, params)
  if refused then return err(400, refused) end
  local bad = check_params(params or {}, M.param_path(opts))
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
