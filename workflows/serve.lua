-- serve.lua: what `orch-host serve` does (config server.workflow). Registers
-- the HTTP routes -- the webhook API (/webhook/*, docs/webhook-api.md) with
-- the secret in the JSON body, the REST API (/api/*, docs/rest-api.md) with a
-- Bearer token, /health -- then
-- starts the task inbox, the Telegram bot and the schedules. Sessions started from any of
-- them run inside this process (lib/control.lua). Routes can be added or
-- changed here; orch.route works only at the top level of this file (and the
-- modules it requires), before the server opens.
local control = require("lib.control")
local S = require("lib.session")
local tasks = require("lib.tasks")
local model = require("lib.task_model")
local fmt = require("lib.format")

local cfg = orch.config
local started = orch.monotonic()

-- The webhook API: {"command": ..., "secret": ..., "params": {...}}. A missing or
-- wrong secret (or none configured) gets 401 and runs nothing.
local fresh = require("lib.config_reload").fresh

local function webhook_auth(req)
  fresh("serve")  -- a rotated secret applies to this request
  local body = req.json
  if type(body) ~= "table" or body[1] ~= nil then
    return nil, orch.reply(400, { status = "error", error = "expected a JSON object body" })
  end
  local secret = cfg.server.secret
  if secret == "" then
    return nil, orch.reply(401, { status = "error",
      error = "webhooks are disabled: set WEBHOOK_SECRET (server.secret) on the server" })
  end
  if type(body.secret) ~= "string" or not orch.secure_compare(body.secret, secret) then
    orch.log("warn", "webhook " .. req.path .. " from " .. req.remote .. ": wrong or missing secret")
    return nil, orch.reply(401, { status = "error", error = "wrong or missing secret" })
  end
  return body
end

local function caller(params, req, kind)
  if type(params.by) == "string" and params.by ~= "" then
    return (params.by:sub(1, 100):gsub("%c", "?"))  -- it goes into logs: no forged lines
  end
  return kind .. ":" .. (req.remote:match("^(.*):%d+$") or req.remote)
end

local function reply(r, http)
  return orch.reply(http or 200, r)
end

-- {"command": ..., "params": {...}} (the webhook's and the REST API's) -> reply
local function command(body, req, kind)
  local refused = control.request_error(body.command, body.params)  -- "params": [1] too: an array is no object
  if refused then return orch.reply(400, { status = "error", error = refused, message = refused }) end
  local params = body.params == nil and {} or body.params
  local channel = kind == "api" and "rest" or kind  -- how a decision came, kept with it (lib/approval)
  local opts = { channel = channel, deadline = req.deadline }  -- deadline: a reply past it is a 503
  return reply(control.run(body.command, params, caller(params, req, kind), opts))
end

orch.route("POST", "/webhook/command", function(req)
  local body, denied = webhook_auth(req)
  if not body then return denied end
  return command(body, req, "webhook")
end)

-- /webhook/<command>: the same commands, their params at the top level or in "params"
local in_params = control.param_path()
for _, name in ipairs({ "status", "approve", "pause", "resume", "skip", "logs", "answer" }) do
  orch.route("POST", "/webhook/" .. name, function(req)
    local body, denied = webhook_auth(req)
    if not body then return denied end
    local refused = control.request_error(name, body.params)
    if refused then return orch.reply(400, { status = "error", error = refused, message = refused }) end
    local params, top = body.params == nil and {} or body.params, {}
    for k, v in pairs(body) do
      if k ~= "secret" and k ~= "params" and params[k] == nil then params[k], top[k] = v, true end
    end
    -- a field given at the top level is named so in a refusal: text, not params.text
    local opts = { channel = "webhook", deadline = req.deadline,
                   param_path = function(k) return top[k] and k or in_params(k) end }
    return reply(control.run(name, params, caller(params, req, "webhook"), opts))
  end)
end

orch.route("GET", "/health", function()
  return { status = "ok", version = orch.version, uptime = math.floor(orch.monotonic() - started),
           sessions_running = (function() local n = 0 for _ in pairs(control.live) do n = n + 1 end return n end)() }
end)

-- The REST API: Authorization: Bearer ORCHESTRATOR_AUTH_TOKEN
local function bearer(req)
  fresh("serve")  -- a rotated token applies to this request
  local token = cfg.server.auth_token
  if token == "" then
    return orch.reply(401, { error = "the REST API is disabled: set ORCHESTRATOR_AUTH_TOKEN (server.auth_token)" })
  end
  local scheme, given = (req.headers.authorization or ""):match("^%s*(%a+)%s+(%S+)%s*$")
  if not scheme or scheme:lower() ~= "bearer" then given = nil end  -- the scheme is case-insensitive (RFC 7235)
  if not given or not orch.secure_compare(given, token) then
    orch.log("warn", "api " .. req.path .. " from " .. req.remote .. ": wrong or missing bearer token")
    return orch.reply(401, { error = "wrong or missing bearer token" }, { ["WWW-Authenticate"] = "Bearer" })
  end
end

local function api_reply(r, http)
  if r.status == "started" then r.message = "Orchestration started successfully" end
  if r.status == "error" and r.error == nil then r.error = r.message end
  return orch.reply(http, r)
end

-- /api/orchestrate's params are the body's top-level fields: a refusal names by, not params.by
local function top_level(k) return k end
local function api_start(params, req)
  return api_reply(control.run("start", params, caller(params, req, "api"),
                               { param_path = top_level, deadline = req.deadline }))
end

local function api_error(http, message)
  return orch.reply(http, { status = "error", error = message, message = message })
end

-- The REST API's task file: tasks/tasks.json (the JSON task list) under the tasks folder
local function default_task_file() return cfg.paths.tasks_dir .. "/tasks.json" end

-- An inline task list (the body's "tasks") checked as a JSON task list, then
-- kept as a task file of its own under tasks/api/ (a resumed session reads
-- it) -> path | nil, http, message. body: the request's, whose day fields
-- (DAY_FIELDS: a budget, a date) go into that file beside the list
local DAY_FIELDS = { "date", "title", "priority", "max_cost_usd" }
local function inline_task_file(list, body)
  local doc = { tasks = list }  -- a list that is no array is the JSON task list's refusal at /tasks
  for _, k in ipairs(DAY_FIELDS) do doc[k] = body[k] end
  local _, terr = tasks.from_value(doc, "request body")
  if terr then return nil, 400, tostring(terr.message or terr) end
  local dir = cfg.paths.tasks_dir .. "/api"
  local file = string.format("%s/%s-%06d.json", dir, os.date("%Y%m%d-%H%M%S"), math.floor((orch.now() % 1) * 1e6))
  orch.make_dir(dir)
  local ok, werr = orch.write_file(file, orch.json.encode(doc, { pretty = true }) .. "\n")
  if not ok then return nil, 500, fmt.reply("cannot_write_tasks", werr) end
  return file
end

-- POST /api/orchestrate {"use_task_file", "task_file", "tasks", "max_parallel_agents",
-- "auto_approve", "force", "by"} and, with "tasks", the day's DAY_FIELDS: the
-- tasks inline, else task_file, else tasks/tasks.json. A field it does not
-- know is refused (a misspelt auto_approve would leave the day waiting)
local ORCHESTRATE_FIELDS = { "use_task_file", "task_file", "tasks", "max_parallel_agents", "auto_approve", "force",
                             "by" }
local function unknown_field(body)
  local known = {}
  for _, k in ipairs(ORCHESTRATE_FIELDS) do known[k] = true end
  for _, k in ipairs(DAY_FIELDS) do known[k] = true end
  local bad = {}
  for k in pairs(body) do if not known[k] then bad[#bad + 1] = tostring(k) end end
  if #bad == 0 then return nil end
  table.sort(bad)
  return string.format("request body: unknown field%s %s (known: %s; with \"tasks\" also %s)", #bad > 1 and "s" or "",
    table.concat(bad, ", "), table.concat(ORCHESTRATE_FIELDS, ", "), table.concat(DAY_FIELDS, ", "))
end

orch.route("POST", "/api/orchestrate", function(req)
  local denied = bearer(req)
  if denied then return denied end
  local body = req.json
  if req.body ~= "" and (type(body) ~= "table" or body[1] ~= nil or model.kind(body) == "list") then
    return api_error(400, "expected a JSON object body")
  end
  body = body or {}
  local unknown = unknown_field(body)
  if unknown then return api_error(400, unknown) end
  if body.tasks == nil then
    for _, k in ipairs(DAY_FIELDS) do
      if body[k] ~= nil then
        return api_error(400, "request body: /" .. k .. " goes with inline \"tasks\"; for a task file, set it in "
          .. "the file")
      end
    end
  end
  -- a wrong type (auto_approve: "yes") is control's 400 naming the field
  local params = { auto_approve = body.auto_approve, by = body.by, force = body.force }
  if body.max_parallel_agents ~= nil then
    local n, merr = control.parallel_limit(body.max_parallel_agents, "max_parallel_agents")
    if not n then return api_error(400, merr) end
    params.max_concurrent = n
  end
  if body.use_task_file ~= nil and type(body.use_task_file) ~= "boolean" then
    return api_error(400, "use_task_file must be true or false")
  end
  if body.tasks ~= nil then
    if body.use_task_file == true or body.task_file ~= nil then
      return api_error(400, "give either \"tasks\" (a task list) or use_task_file/task_file (a task file), not both")
    end
    local file, http, ierr = inline_task_file(body.tasks, body)
    if not file then return api_error(http, ierr) end
    params.task_file = file
    local r, status = control.run("start", params, caller(params, req, "api"),
                                  { param_path = top_level, deadline = req.deadline })
    -- a list the run refuses leaves no task file behind (a resumed session reads its file again)
    if r.status ~= "started" then orch.remove_file(file) end
    return api_reply(r, status)
  elseif body.use_task_file == false then
    return api_error(400, "use_task_file is false and no \"tasks\" are given: nothing to run")
  else
    if body.task_file ~= nil and type(body.task_file) ~= "string" then
      return api_error(400, "task_file must be a string (a path under the project, or absolute)")
    end
    params.task_file = body.task_file or default_task_file()
  end
  return api_start(params, req)
end)

-- POST /api/command {"command", "params"}: the webhook's commands (approve,
-- skip, answer, cancel... with params.task for one task of a parallel day)
orch.route("POST", "/api/command", function(req)
  local denied = bearer(req)
  if denied then return denied end
  local body = req.json
  if type(body) ~= "table" or body[1] ~= nil or model.kind(body) == "list" then
    return api_error(400, "expected a JSON object body")
  end
  return command(body, req, "api")
end)

-- POST /api/quick-start: tasks/tasks.json; 404 when there is none
orch.route("POST", "/api/quick-start", function(req)
  local denied = bearer(req)
  if denied then return denied end
  local file = default_task_file()
  if not orch.file_info(file) then
    return api_error(404, "no default task file: " .. file .. " does not exist (docs/task-file-json.md)")
  end
  return api_start({ task_file = file }, req)
end)

-- GET /api/status/{session_id}: lib/control's status view (the webhook's and
-- `orch-host status --json`'s) in the REST API's words, with the tasks
orch.route("GET", "/api/status/{session_id}", function(req)
  local denied = bearer(req)
  if denied then return denied end
  local s = S.load(req.params.session_id)
  if not s then return orch.reply(404, { error = "no session " .. req.params.session_id }) end
  local v = control.status_of(s)
  local list = {}
  for i, t in ipairs(s.tasks) do
    list[i] = { id = t.id, title = t.title, type = t.type, status = t.status, cost_usd = t.cost_usd,
                cost_estimated_usd = t.cost_estimated_usd,  -- the part of cost_usd that is an estimate
                tokens = t.tokens, started_at = t.started_at, completed_at = t.completed_at, error = t.error,
                dependencies = orch.json.array(t.depends_on or {}), branch_name = t.branch,
                retry_at = S.retry_at(t),  -- waiting_retry: when its next attempt starts
                skipped_by = t.skipped_by,  -- who skipped or cancelled it
                approvals = t.approvals }  -- the decisions on it: who, when, how, the note (lib/approval)
  end
  local in_progress = #v.agents
  return { session_id = v.session_id, status = v.status, total_tasks = v.total, completed_tasks = v.completed,
           failed_tasks = v.failed, skipped_tasks = v.skipped, cancelled_tasks = v.cancelled, blocked_tasks = v.blocked,
           needs_review_tasks = v.needs_review, in_progress_tasks = in_progress,
           pending_tasks = v.total - v.done - in_progress, cost_usd = v.cost_usd,
           cost_estimated_usd = v.cost_estimated_usd, tokens = v.tokens,
           started_at = v.started_at, task_file = v.task_file, running_here = v.running_here,
           max_parallel_agents = tonumber(s.max_concurrent), waiting = v.waiting,
           agents = orch.json.array(v.agents), tasks = orch.json.array(list) }
end)

orch.route("GET", "/api/sessions", function(req)
  local denied = bearer(req)
  if denied then return denied end
  local r, http = control.sessions(req.args)
  if http ~= 200 then return api_error(http, r.message) end
  r.sessions = orch.json.array(r.sessions)
  return r
end)

-- commands for sessions this server does not run yet (`orch-host resume`)
control.watch()

if cfg.server.secret == "" then
  orch.log("warn", "WEBHOOK_SECRET is not set: /webhook/* answers 401 until it is")
end

-- The task inbox (workflows/inbox.lua: the tasks folder watched), when configured.
if cfg.inbox.enabled then control.start_inbox("serve") end

-- The Telegram bot and the schedules, when configured.
if cfg.telegram.bot_token ~= "" then
  require("lib.telegram").start(control)
end
if #cfg.schedules > 0 then
  require("lib.schedule").start(cfg.schedules, control)
end
