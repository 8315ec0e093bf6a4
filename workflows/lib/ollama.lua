-- ollama: the client of the optional local model (README, "The local model
-- (optional)"). It speaks the Ollama HTTP API through orch.http:
--   POST /api/chat      {model, messages, stream = false, format = "json"|schema, options}
--                       -> {model, message = {role, content}, done}
--   POST /api/generate  {model, prompt, stream = false, options} -> {model, response, done}
--   GET  /api/tags      -> {models = {{name, model, size, ...}}}
--   GET  /api/version   -> {version}
-- An Ollama error answer is {error = "..."} with a 4xx/5xx status.
--
-- M.base_url(host) -> "http://127.0.0.1:11434" | nil, message
--   host as Ollama itself reads OLLAMA_HOST: [scheme://]host[:port][/path]
-- M.usable(cfg) -> url | nil, err       whether to try the model at all
-- M.chat(cfg, messages [, opts]) -> text, model | nil, err
--   opts = {format = "json" | a JSON schema, options = {}, timeout =, limit_name =
--           (what the timeout's message names; "ollama.timeout" by default)}
-- M.generate(cfg, prompt [, opts]) -> text, model | nil, err
-- M.probe(cfg [, timeout]) -> {url=, reachable=, version=, models={names}, has_model=, error=}
-- err is an orch error: code "disabled" | "down" | "timeout" | "http" |
-- "garbage" | "config", its message the reason a caller's fallback names.
--
-- cfg is the whole configuration (orch.config); its `ollama` section:
-- enabled = "auto" | "true" | "false", host, model, timeout (docs/config.md).
-- With "auto" a refused connection, and a request that got no answer within
-- the whole ollama.timeout (a hung Ollama), are remembered for M.DOWN_FOR
-- seconds or until a reload changes the ollama section (M.forget), so a machine
-- without Ollama pays one refused connect per minute and a hung one one timeout
-- per minute, not two per task; the log says so once, when it is remembered.
-- A shorter budget a caller gave (opts.timeout, a request's deadline) running
-- out says nothing about Ollama and is not remembered. "true" tries every
-- time; "false" never.
local M = {}

M.DOWN_FOR = 60        -- seconds a refused connection or a hang is remembered (enabled = "auto")
M.PROBE_TIMEOUT = 3    -- seconds for doctor's and status's look (a refused connect is instant)
M.transport = nil      -- specs put a fake orch.http here

local down = {}        -- base url -> { at = monotonic seconds, reason = text }

local function fail(code, message) return nil, orch.err(code, message) end
local function section(cfg) return (cfg or {}).ollama or {} end
local function http(opts) return (M.transport or orch.http)(opts) end

function M.base_url(host)
  local s = tostring(host or ""):match("^%s*(.-)%s*$")
  local scheme, rest = s:match("^(%a[%w+.-]*)://(.*)$")
  local port = "11434"
  if not scheme then
    scheme, rest = "http", s
  elseif scheme == "http" then
    port = "80"
  elseif scheme == "https" then
    port = "443"
  else
    return nil, "ollama.host: scheme must be http or https (got '" .. s .. "')"
  end
  local hostport, path = rest:match("^([^/]*)(.*)$")
  local h, p
  if hostport:sub(1, 1) == "[" then
    h, p = hostport:match("^(%[[^%]]*%]):?(%d*)$")
  else
    h, p = hostport:match("^([^:]*):?(%d*)$")
  end
  if not h or h:find("[%s@]") then return nil, "ollama.host: not a host[:port] (got '" .. s .. "')" end
  if h == "" then h = "127.0.0.1" end
  if p == "" then p = port end
  if tonumber(p) > 65535 then return nil, "ollama.host: port " .. p .. " is out of range" end
  return scheme .. "://" .. h .. ":" .. p .. path:gsub("/+$", "")
end

-- "auto" | "true" | "false" (a boolean from the config file counts too)
local function mode(cfg)
  local e = section(cfg).enabled
  if e == nil then return "auto" end
  return tostring(e):lower()
end
M.mode = mode

local urls = {}  -- ollama.host as given -> { base_url's answer }: its patterns once per host, not per task
function M.usable(cfg)
  local m = mode(cfg)
  if m == "false" then return fail("disabled", "the local model is off (ollama.enabled = false)") end
  local host = section(cfg).host
  local known = urls[host or false]
  if not known then
    known = { M.base_url(host) }
    urls[host or false] = known
  end
  local url, err = known[1], known[2]
  if not url then return fail("config", err) end
  local d = down[url]
  if m == "auto" and d then
    if orch.monotonic() - d.at < M.DOWN_FOR then return fail("down", d.reason) end
    down[url] = nil
  end
  return url
end

-- forget(): the remembered refusals and hangs go (specs, and a config reload
-- that changed the ollama section: lib/config_reload)
function M.forget() down = {} end

-- remember(cfg, url, reason, level): with enabled = "auto", the next M.DOWN_FOR
-- seconds of requests to url fall back at once with this reason; said once in
-- the log (a refusal at "info": no Ollama installed is the usual case, not a warning)
local function remember(cfg, url, reason, level)
  if mode(cfg) ~= "auto" then return end
  local why = reason .. "; not tried again for " .. M.DOWN_FOR .. " s"
  down[url] = { at = orch.monotonic(), reason = why }
  orch.log(level, "local model: " .. why .. ", the plain parser and summary are used meanwhile")
end

-- One request -> the decoded answer | nil, err. A refused connection, and no
-- answer within the whole ollama.timeout, are remembered (remember above).
local function call(cfg, method, path, body, timeout, limit_name)
  local url, uerr = M.usable(cfg)
  if not url then return nil, uerr end
  local own_limit = timeout == nil  -- ollama.timeout itself, not a caller's shorter budget
  timeout = timeout or tonumber(section(cfg).timeout) or 20
  limit_name = limit_name or "ollama.timeout"
  local started = orch.monotonic()
  local r, err = http({ method = method, url = url .. path, timeout = timeout,
                        body = body and orch.json.encode(body) or nil, content_type = "application/json" })
  if not r then
    local msg = tostring(err and err.message or err)
    if msg:find("Connection$") and orch.monotonic() - started < timeout * 0.9 then
      local reason = "Ollama not reachable at " .. url .. " (connection refused)"
      remember(cfg, url, reason, "info")
      return fail("down", reason)
    end
    if orch.monotonic() - started >= timeout * 0.9 then
      local reason = string.format("Ollama at %s gave no answer within %s s (%s)", url,
        timeout == math.floor(timeout) and string.format("%d", timeout) or string.format("%.1f", timeout), limit_name)
      if own_limit then remember(cfg, url, reason, "warn") end
      return fail("timeout", reason)
    end
    return fail("down", "Ollama at " .. url .. ": " .. msg)
  end
  local doc = orch.json.decode(r.body or "")
  if r.status ~= 200 then
    local why = type(doc) == "table" and type(doc.error) == "string" and doc.error or "no error text"
    return fail("http", string.format("Ollama %s%s: HTTP %s: %s", url, path, tostring(r.status), why:sub(1, 300)))
  end
  if type(doc) ~= "table" then return fail("garbage", "Ollama " .. path .. " answered something that is not JSON") end
  return doc
end

local function model_of(cfg, opts)
  local m = (opts and opts.model) or section(cfg).model
  if type(m) ~= "string" or m == "" then return nil, orch.err("config", "ollama.model is empty") end
  return m
end

function M.chat(cfg, messages, opts)
  opts = opts or {}
  local model, merr = model_of(cfg, opts)
  if not model then return nil, merr end
  local doc, err = call(cfg, "POST", "/api/chat", { model = model, messages = messages, stream = false,
                                                    format = opts.format, options = opts.options },
                        opts.timeout, opts.limit_name)
  if not doc then return nil, err end
  local msg = doc.message
  if type(msg) ~= "table" or type(msg.content) ~= "string" then
    return fail("garbage", "Ollama /api/chat answered without message.content")
  end
  return msg.content, type(doc.model) == "string" and doc.model or model
end

function M.generate(cfg, prompt, opts)
  opts = opts or {}
  local model, merr = model_of(cfg, opts)
  if not model then return nil, merr end
  local doc, err = call(cfg, "POST", "/api/generate", { model = model, prompt = prompt, stream = false,
                                                        format = opts.format, options = opts.options },
                        opts.timeout, opts.limit_name)
  if not doc then return nil, err end
  if type(doc.response) ~= "string" then
    return fail("garbage", "Ollama /api/generate answered without a response text")
  end
  return doc.response, type(doc.model) == "string" and doc.model or model
end

-- Whether `name` is among the installed models: "llama3.1:8b" matches itself,
-- "llama3.1" matches "llama3.1:latest" (Ollama's default tag).
local function has_model(models, name)
  local want = name:find(":", 1, true) and name or (name .. ":latest")
  for _, m in ipairs(models) do
    if m == name or m == want then return true end
  end
  return false
end
M.has_model = has_model

-- What doctor and status show: a short timeout, the refusal memory ignored
-- (a look is always a fresh look), never remembered.
function M.probe(cfg, timeout)
  local out = { mode = mode(cfg), model = section(cfg).model, reachable = false, models = {} }
  local url, uerr = M.base_url(section(cfg).host)
  out.url = url
  if not url then out.error = uerr return out end
  local probe_cfg = { ollama = { enabled = "true", host = url, model = out.model,
                                 timeout = timeout or M.PROBE_TIMEOUT } }
  local limit = "the look's limit"
  local v, err = call(probe_cfg, "GET", "/api/version", nil, nil, limit)
  if not v then out.error = tostring(err) return out end
  out.reachable = true
  out.version = type(v.version) == "string" and v.version or nil
  local tags, terr = call(probe_cfg, "GET", "/api/tags", nil, nil, limit)
  if not tags then out.error = tostring(terr) return out end
  for _, m in ipairs(type(tags.models) == "table" and tags.models or {}) do
    local name = type(m) == "table" and (m.name or m.model)
    if type(name) == "string" then out.models[#out.models + 1] = name end
  end
  out.has_model = type(out.model) == "string" and has_model(out.models, out.model) or false
  return out
end

return M
