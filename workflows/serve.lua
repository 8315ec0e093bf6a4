-- serve.lua: what `orch-host serve` does (config server.workflow). Registers
-- the HTTP routes -- the webhook API (/webhook/*, docs/webhook-api.md) with
-- the secret in the JSON body, the REST API (/api/*, docs/rest-api.md) with a
-- Bearer token, /health -- then
-- starts the Telegram bot and the schedules. Sessions started from any of
-- them run inside this process (lib/control.lua). Routes can be added or
-- changed here; orch.route works only at the top level of this file (and the
-- modules it requires), before the server opens.
local control = require("lib.control")
local S = require("lib.session")

local cfg = orch.config
local started = orch.monotonic()

-- The webhook API: {"command": ..., "secret": ..., "params": {...}}. A missing or
-- wrong secret (or none configured) gets 401 and runs nothing.
local function webhook_auth(req)
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

orch.route("POST", "/webhook/command", function(req)
  local body, denied = webhook_auth(req)
  if not body then return denied end
  if type(body.command) ~= "string" then
    return orch.reply(400, { status = "error", error = "missing \"command\" (start, status, approve, pause, " ..
      "resume, skip, logs, answer, help, task, progress, cancel)" })
  end
  local params = body.params == nil and {} or body.params
  if type(params) ~= "table" then
    return orch.reply(400, { status = "error", error = "\"params\" must be an object" })
  end
  return reply(control.run(body.command, params, caller(params, req, "webhook")))
end)

-- /webhook/<command>: the same commands, their params at the top level or in "params"
for _, name in ipairs({ "status", "approve", "pause", "resume", "skip", "logs", "answer" }) do
  orch.route("POST", "/webhook/" .. name, function(req)
    local body, denied = webhook_auth(req)
    if not body then return denied end
    local params = type(body.params) == "table" and body.params or {}
    for k, v in pairs(body) do
      if k ~= "secret" and k ~= "params" and params[k] == nil then params[k] = v end
    end
    return reply(control.run(name, params, caller(params, req, "webhook")))
  end)
end

orch.route("GET", "/health", function()
  return { status = "ok", version = orch.version, uptime = math.floor(orch.monotonic() - started),
           sessions_running = (function() local n = 0 for _ in pairs(control.live) do n = n + 1 end return n end)() }
end)

-- The REST API: Authorization: Bearer ORCHESTRATOR_AUTH_TOKEN
local function bearer(req)
  local token = cfg.server.auth_token
  if token == "" then
    return orch.reply(401, { error = "the REST API is disabled: set ORCHESTRATOR_AUTH_TOKEN (server.auth_token)" })
  end
  local given = (req.headers.authorization or ""):match("^[Bb]earer%s+(%S+)%s*$")
  if not given or not orch.secure_compare(given, token) then
    orch.log("warn", "api " .. req.path .. " from " .. req.remote .. ": wrong or missing bearer token")
    return orch.reply(401, { error = "wrong or missing bearer token" }, { ["WWW-Authenticate"] = "Bearer" })
  end
end

local function api_start(params, req)
  local r, http = control.run("start", params, caller(params, req, "api"))
  if r.status == "started" then r.message = "Orchestration started successfully" end
  return orch.reply(http, r)
end

orch.route("POST", "/api/orchestrate", function(req)
  local denied = bearer(req)
  if denied then return denied end
  local body = req.json
  if req.body ~= "" and (type(body) ~= "table" or body[1] ~= nil) then
    return orch.reply(400, { error = "expected a JSON object body" })
  end
  body = body or {}
  return api_start({ task_file = body.task_file, auto_approve = body.auto_approve == true, by = body.by,
                     force = body.force == true }, req)
end)

orch.route("POST", "/api/quick-start", function(req)
  local denied = bearer(req)
  if denied then return denied end
  return api_start({}, req)
end)

orch.route("GET", "/api/status/{session_id}", function(req)
  local denied = bearer(req)
  if denied then return denied end
  local s = orch.load_session(req.params.session_id)
  if not s then return orch.reply(404, { error = "no session " .. req.params.session_id }) end
  local c = S.counts(s)
  local tasks = {}
  for i, t in ipairs(s.tasks) do
    tasks[i] = { id = t.id, title = t.title, type = t.type, status = t.status, cost_usd = t.cost_usd,
                 tokens = t.tokens, started_at = t.started_at, completed_at = t.completed_at, error = t.error }
  end
  return { session_id = s.id, status = s.status, total_tasks = #s.tasks, completed_tasks = c.completed,
           failed_tasks = c.failed, skipped_tasks = c.skipped,
           in_progress_tasks = c.running + c.waiting_approval, pending_tasks = c.pending + c.paused,
           started_at = s.started_at, task_file = s.task_file, running_here = control.live[s.id] ~= nil,
           tasks = orch.json.array(tasks) }
end)

orch.route("GET", "/api/sessions", function(req)
  local denied = bearer(req)
  if denied then return denied end
  local r = control.sessions(req.args)
  r.sessions = orch.json.array(r.sessions)
  return r
end)

-- commands for sessions this server does not run yet (`orch-host resume`)
control.watch()

if cfg.server.secret == "" then
  orch.log("warn", "WEBHOOK_SECRET is not set: /webhook/* answers 401 until it is")
end

-- The Telegram bot and the schedules, when configured.
if cfg.telegram.bot_token ~= "" then
  require("lib.telegram").start(control)
end
if #cfg.schedules > 0 then
  require("lib.schedule").start(cfg.schedules, control)
end
