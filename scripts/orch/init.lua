-- The Lua half of the orch API: conveniences over the C primitives (which
-- stay small). Loaded once by the host right after the C functions are
-- registered; extends the same `orch` table. See _meta.lua for the
-- annotated reference of every function.
local orch = package.loaded.orch
local notify = require("orch.notify")

-- orch.err(code, message [, fields]) -> an error value with __tostring: the one
-- constructor (scripts/orch/errors.lua), with the host's own metatable
local errors = require("orch.errors")
errors.mt = orch.error_mt
orch.err = errors.new

local function list(v)
  if v == nil or v == "" then return nil end
  if type(v) == "string" then return { v } end
  return v
end

local function merged(a, b)
  local out = {}
  for k, v in pairs(a or {}) do out[k] = v end
  for k, v in pairs(b or {}) do out[k] = v end
  return out
end

-- orch.run_claude{prompt=, cwd=, timeout=, stall_timeout=, model=, max_turns=, allowed_tools=,
--   disallowed_tools=, permission_mode=, resume=, append_system_prompt=,
--   log_path=, env=, extra_args=, on_event=fn} -> result | nil, err   [yields]
-- Cancelled: nil, {code="cancelled", reason=, result=<the stopped run's result>}.
-- stall_timeout: no stream line for that many seconds stops the agent's tree;
-- the result then has stalled=true, error="stalled: ..." and last_event=
-- {type=, subtype=, tool=} of the last line (0 = no stall watch).
-- Options left out come from config.claude.
function orch.run_claude(opts)
  if type(opts) ~= "table" then error("orch.run_claude: expected a table of options", 2) end
  local c = (orch.config or {}).claude or {}
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.binary = o.binary or c.path
  o.cwd = o.cwd or c.base_cwd
  if o.timeout == nil then o.timeout = c.timeout end
  if o.stall_timeout == nil then o.stall_timeout = c.stall_timeout end
  if o.model == nil and c.model ~= "" then o.model = c.model end
  if o.max_turns == nil then o.max_turns = c.max_turns end
  if o.permission_mode == nil and c.permission_mode ~= "" then o.permission_mode = c.permission_mode end
  o.allowed_tools = list(o.allowed_tools) or list(c.allowed_tools)
  o.disallowed_tools = list(o.disallowed_tools) or list(c.disallowed_tools)
  if o.append_system_prompt == nil and c.append_system_prompt ~= "" then
    o.append_system_prompt = c.append_system_prompt
  end
  o.extra_args = o.extra_args or c.flags
  o.env = merged(c.env, o.env)
  if o.kill_grace == nil then o.kill_grace = c.kill_grace end
  if o.nice == nil then o.nice = c.nice end
  if o.max_log_bytes == nil and c.max_log_mb then o.max_log_bytes = c.max_log_mb * 1024 * 1024 end
  local r, err = orch.raw_run_claude(o)
  for _, w in ipairs((r or err.result or {}).warnings or {}) do orch.log("warn", w) end
  return r, err
end

-- orch.notify(message [, fields]) : to the terminal now, and through the
-- outbox to the sinks notify.routes picks (scripts/orch/notify.lua builds
-- each sink's request), durably. fields: type= ("info"|"success"|"error"|
-- "question"|"progress"|"warning"), session=, task=, progress={done=, total=},
-- buttons= (Telegram's inline keyboard), telegram_text=, plus anything a
-- webhook should see. Returns the number of rows queued.
function orch.notify(message, fields)
  if type(message) ~= "string" then error("orch.notify: message must be a string", 2) end
  local payload = { message = message, type = "info", ts = orch.now() }
  for k, v in pairs(fields or {}) do payload[k] = v end
  local bad = notify.check_buttons(payload.buttons)
  if bad then error("orch.notify: buttons" .. bad, 2) end
  local cfg = (orch.config or {}).notify or {}
  if cfg.console ~= false and not payload.quiet then orch.print(message) end
  payload.quiet = nil
  return orch.raw_notify(notify.rows(payload, cfg))
end

-- orch.notify_sinks() -> the names of the configured sinks, sorted
function orch.notify_sinks()
  local out = {}
  for name in pairs(((orch.config or {}).notify or {}).sinks or {}) do out[#out + 1] = name end
  table.sort(out)
  return out
end

-- orch.step(key, fn, ...) -> fn's result, recorded: after a restart the
-- recorded result is returned and fn is not run again.
function orch.step(key, fn, ...)
  local k = "step:" .. key
  local done = orch.load_state(k)
  if done ~= nil then return done.value end
  local value = fn(...)
  orch.save_state(k, { value = value, at = orch.now() })
  return value
end

-- orch.forget_step(key): run the step again next time
function orch.forget_step(key) orch.save_state("step:" .. key, orch.json.null) end

-- Webhook routes (orch-host serve). orch.route(method, pattern, fn) works only
-- while the server workflow loads; fn(req) runs as a task per request, with
-- req = {id, method, path, query, remote, headers (lower-case names), body,
-- json (the decoded body, when it was JSON), params (from {name} segments),
-- args (the decoded query)}. fn returns a table (sent as JSON, 200), a table
-- and a status, a string (text/plain), nil (204), or orch.reply(...).
local routes = { exact = {}, patterns = {} }
local reply_mt = {}
local METHODS = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true, OPTIONS = true }

-- orch.reply(status, value [, headers]) -> a reply: a table/array value is
-- sent as JSON, a string as text/plain (or headers["Content-Type"])
function orch.reply(status, value, headers)
  if type(status) ~= "number" or status < 100 or status > 599 then
    error("orch.reply: status must be an HTTP status code, got " .. tostring(status), 2)
  end
  local r = setmetatable({ status = status, headers = headers }, reply_mt)
  if type(value) == "string" then
    r.body = value
    for k, v in pairs(headers or {}) do
      if k:lower() == "content-type" then r.content_type = v; headers[k] = nil end
    end
  elseif value ~= nil then
    r.json = value
  end
  return r
end

local function segments(path)
  local out = {}
  for seg in path:gmatch("[^/]+") do out[#out + 1] = seg end
  return out
end

function orch.route(method, pattern, fn)
  if not orch.raw_route_window() then
    error("orch.route: routes can only be registered while the server workflow loads " ..
          "(at the top level of workflows/serve.lua or a module it requires)", 2)
  end
  if type(method) ~= "string" or not METHODS[method:upper()] then
    error("orch.route: method must be one of GET POST PUT PATCH DELETE OPTIONS, got " .. tostring(method), 2)
  end
  if type(pattern) ~= "string" or pattern:sub(1, 1) ~= "/" then
    error("orch.route: the path must start with '/', got " .. tostring(pattern), 2)
  end
  if type(fn) ~= "function" then error("orch.route: handler must be a function", 2) end
  method = method:upper()
  if not pattern:find("{", 1, true) then
    local e = routes.exact[pattern] or {}
    if e[method] then error("orch.route: " .. method .. " " .. pattern .. " is already registered", 2) end
    e[method] = fn
    routes.exact[pattern] = e
    return
  end
  local segs, names = segments(pattern), {}
  for i, s in ipairs(segs) do
    local name = s:match("^{([%a_][%w_]*)}$")
    if s:find("[{}]") and not name then error("orch.route: bad parameter segment '" .. s .. "' in " .. pattern, 2) end
    names[i] = name
  end
  for _, r in ipairs(routes.patterns) do
    if r.pattern == pattern and r.method == method then
      error("orch.route: " .. method .. " " .. pattern .. " is already registered", 2)
    end
  end
  routes.patterns[#routes.patterns + 1] = { method = method, pattern = pattern, segs = segs, names = names, fn = fn }
end

-- a path parameter is one plain segment: no "..", no leading dot, nothing
-- that could walk out of a folder when a handler builds a file name from it
local function good_param(v)
  return #v <= 200 and v:match("^[%w_%-][%w_%-%.:@]*$") ~= nil and not v:find("..", 1, true)
end

local function match(method, path)
  local e = routes.exact[path]
  if e and e[method] then return e[method], {} end
  local allowed = {}
  if e then for m in pairs(e) do allowed[#allowed + 1] = m end end
  if #routes.patterns > 0 then
    local segs = segments(path)
    for _, r in ipairs(routes.patterns) do
      if #r.segs == #segs then
        local params, ok = {}, true
        for i, s in ipairs(r.segs) do
          local name = r.names[i]
          if name then
            if not good_param(segs[i]) then ok = false break end
            params[name] = segs[i]
          elseif s ~= segs[i] then
            ok = false break
          end
        end
        if ok then
          if r.method == method then return r.fn, params end
          allowed[#allowed + 1] = r.method
        end
      end
    end
  end
  return nil, allowed
end

local function unescape(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

function orch.parse_query(q)
  local out = {}
  for pair in (q or ""):gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    if k ~= "" then out[unescape(k)] = unescape(v) end
  end
  return out
end

local function normalise(value, status)
  if getmetatable(value) == reply_mt then return value end
  if value == nil and status ~= nil and type(status) ~= "number" then error(status, 0) end  -- nil, err
  if type(status) ~= "number" then status = nil end
  if value == nil then return { status = status or 204 } end
  if type(value) == "string" then return { status = status or 200, body = value } end
  if type(value) == "table" then return { status = status or 200, json = value } end
  error("a route handler must return a table, a string, nil or orch.reply(...), got " .. type(value), 0)
end

-- called by the host for every request (host/lua/api_server.cpp)
function orch._serve_request(req)
  local fn, params = match(req.method, req.path)
  if not fn then
    if req.method == "OPTIONS" and #params > 0 then
      return { status = 204, headers = { Allow = table.concat(params, ", ") } }
    end
    if #params > 0 then
      table.sort(params)
      return { status = 405, headers = { Allow = table.concat(params, ", ") },
               json = { error = "method " .. req.method .. " not allowed on " .. req.path, allow = params } }
    end
    return { status = 404, json = { error = "no route for " .. req.method .. " " .. req.path } }
  end
  req.params = params
  req.args = req.query ~= "" and orch.parse_query(req.query) or {}
  return normalise(fn(req))
end

function orch._routes() return routes end

return orch
