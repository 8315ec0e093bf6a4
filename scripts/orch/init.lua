-- The Lua half of the orch API: conveniences over the C primitives (which
-- stay small). Loaded once by the host right after the C functions are
-- registered; extends the same `orch` table. See _meta.lua for the
-- annotated reference of every function.
local orch = package.loaded.orch

-- orch.err(code, message [, fields]) -> an error value with __tostring
function orch.err(code, message, fields)
  local e = fields or {}
  e.code, e.message = code, message
  return setmetatable(e, orch.error_mt)
end

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

-- orch.run_claude{prompt=, cwd=, timeout=, model=, max_turns=, allowed_tools=,
--   disallowed_tools=, permission_mode=, resume=, append_system_prompt=,
--   log_path=, env=, extra_args=, on_event=fn} -> result   [yields]
-- Options left out come from config.claude.
function orch.run_claude(opts)
  if type(opts) ~= "table" then error("orch.run_claude: expected a table of options", 2) end
  local c = (orch.config or {}).claude or {}
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.binary = o.binary or c.path
  o.cwd = o.cwd or c.base_cwd
  if o.timeout == nil then o.timeout = c.timeout end
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
  if o.max_log_bytes == nil and c.max_log_mb then o.max_log_bytes = c.max_log_mb * 1024 * 1024 end
  return orch.raw_run_claude(o)
end

-- orch.notify(message [, fields]) : to the terminal now, and through the
-- outbox to every configured sink (n8n, ...), durably. fields: type=
-- ("info"|"success"|"error"|"question"|"progress"|"warning"), session=, task=,
-- progress={done=, total=}, plus anything the sink should see.
function orch.notify(message, fields)
  if type(message) ~= "string" then error("orch.notify: message must be a string", 2) end
  local payload = { message = message, type = "info", ts = orch.now() }
  for k, v in pairs(fields or {}) do payload[k] = v end
  local cfg = (orch.config or {}).notify or {}
  if cfg.console ~= false and not payload.quiet then orch.print(message) end
  payload.quiet = nil
  return orch.raw_notify(payload)
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

return orch
