-- The configuration: defaults, workflows/config.lua on top, then the
-- environment (and .env, loaded by the host) on top of that, with the variable
-- names of docs/config.md. Every value is
-- checked against the defaults' types; an unknown key or a wrong type is an
-- error naming the file and the key. The result records where each value
-- came from in `_sources` (shown by `orch-host doctor`).
local M = {}

-- A fresh table of the defaults each call: a table constructor is copied
-- whole by the VM, much cheaper than a deep copy at every start.
local function defaults() return {
  orchestrator = {
    approval_mode = "required",          -- required | auto | manual
    checkpoint_after = { "database", "deployment" },
    auto_approve = { "documentation", "testing" },
    pause_stops_agent = false,           -- pause: stop the running agent now, or after its task
    approval_timeout = 0,                -- seconds; 0 waits forever
    on_approval_timeout = "pause",       -- pause | skip | approve: what ends a wait approval_timeout ended
    retry_failed = 0,                    -- a failed task runs again up to this many times (ORCH_RETRY_FAILED)
    retry_transient = 3,                 -- API/network errors, stalls: runs again (ORCH_RETRY_TRANSIENT)
    retry_backoff = 30,                  -- seconds before the first such retry, doubled at each (ORCH_RETRY_BACKOFF)
    retry_backoff_max = 600,             -- the cap of that wait (ORCH_RETRY_BACKOFF_MAX)
    limit_jitter = 60,                   -- a usage limit parks until its reset plus up to this many seconds
    limit_wait = 3600,                   -- seconds to park when a usage limit names no reset time
    max_concurrent = 3,                  -- agents at once (MAX_CONCURRENT_AGENTS, MAX_PARALLEL_AGENTS); markdown: 1
    verify_timeout = 300,                -- seconds per acceptance command (ORCH_VERIFY_TIMEOUT)
    heartbeat = 30,                      -- seconds between a running session's "still alive" saves
  },
  claude = {
    path = "claude",                     -- CLAUDE_CLI_PATH
    model = "",
    timeout = 1800,                      -- seconds per task (CLAUDE_TIMEOUT_SEC)
    stall_timeout = 600,                 -- s with no output line: stopped (CLAUDE_STALL_TIMEOUT_SEC; 0 = off)
    max_turns = 0,                       -- 0 = the CLI's default (CLAUDE_MAX_TURNS)
    permission_mode = "acceptEdits",
    allowed_tools = {},
    disallowed_tools = { "Bash(git commit:*)", "Bash(git push:*)", "Bash(git add:*)",
                         "Bash(git reset:*)", "Bash(rm -rf:*)" },
    flags = {},                          -- extra command-line flags
    append_system_prompt = "",
    base_cwd = ".",                      -- where agents work (CLAUDE_BASE_CWD)
    allowed_root = "",                   -- agents may not touch paths outside (CLAUDE_ALLOWED_ROOT)
    kill_grace = 3,                      -- seconds between SIGTERM and SIGKILL
    nice = 10,                           -- agents run this much nicer than the host (0..19; 0: the same)
    max_log_mb = 64,                     -- per-task output log cap
    env = {},                            -- extra environment for the agent
  },
  paths = {
    tasks_dir = "tasks",
    logs_dir = "logs",
    state_db = "state/orch.db",
    results_dir = "results",             -- reports, and an inbox task's <name>_result.json (ORCH_RESULTS_DIR)
    summaries_dir = "summaries",         -- an inbox task's <name>_summary.txt (ORCH_SUMMARIES_DIR)
    questions_dir = "agent_questions",
    feedback_dir = "feedback",           -- feedback/YYYY-MM-DD.md and instructions.md (ORCH_FEEDBACK_DIR)
  },
  notify = {
    n8n_url = "",                        -- N8N_NOTIFY_URL
    console = true,
    flush_seconds = 3,                   -- how long a finishing run waits for deliveries
    progress_interval = 5,               -- seconds: progress updates closer than this are coalesced
    max_attempts = 8,                    -- 5xx answers before a row is parked as dead (4xx: at once)
    sinks = {},                          -- name = { kind = "telegram", chat_id = } | { kind = "webhook", url = }
    routes = {},                         -- { { types = { "error" }, when = fn, sinks = { "default", name } } }
  },
  server = {
    host = "127.0.0.1",                  -- HOST (0.0.0.0 exposes the server: set a secret)
    port = 5000,                         -- PORT
    secret = "",                         -- WEBHOOK_SECRET: "secret" in /webhook/* bodies
    auth_token = "",                     -- ORCHESTRATOR_AUTH_TOKEN: Bearer token of /api/*
    threads = 16,                        -- HTTP worker threads
    queue = 256,                         -- accepted connections waiting for a thread
    max_body_kb = 256,                   -- larger request bodies get 413
    max_parallel_agents = 16,            -- the most agents a REST body's max_parallel_agents may ask for
    handler_timeout = 10,                -- seconds a Lua handler may take before 503
    header_timeout = 10,                 -- seconds for a request's line and headers to arrive, else 408
    workflow = "serve.lua",              -- registers the routes, the bot and the schedules
    session_workflow = "daily.lua",      -- what the start command runs for a session
  },
  telegram = {
    bot_token = "",                      -- TELEGRAM_BOT_TOKEN
    chat_id = "",                        -- TELEGRAM_CHAT_ID: where notifications go
    allowed_users = "",                  -- TELEGRAM_ALLOWED_USERS: user ids, comma separated
    api_base = "https://api.telegram.org", -- TELEGRAM_API_BASE (a Bot API emulator in tests)
    poll_timeout = 25,                   -- getUpdates long-poll seconds (0: short polling)
  },
  workspace = {
    mode = "auto",                       -- a worktree per task: auto (YAML/JSON days in a git repo) | on | off
    root = "agent_workspaces",           -- <root>/<task id>, relative to the repository (ORCH_WORKSPACE_ROOT)
    repo = "",                           -- the repository of the task worktrees ("" = claude.base_cwd)
    push = false,                        -- lib/worktree's push refuses unless true
    remote = "origin",                   -- where push sends task branches
  },
  schedules = {},                        -- { { cron = "0 9 * * 1-5", tz = "UTC", workflow = "daily.lua", args = {} } }
  budget = { max_cost_usd = 0, warn_at = 0.75,
             stop_agents = false,        -- at the budget: stop the running agents too (else they finish)
             -- USD per million tokens, for the cost of an agent run stopped before claude reported it
             -- (lib/policy estimate_cost): the first row whose match (a Lua pattern) is in the model's
             -- name; the row without a match prices any other model. Anthropic's list prices.
             prices = {
               { match = "opus%-4%-[01]%f[%D]", input = 15, output = 75, cache_write = 18.75, cache_read = 1.50 },
               { match = "opus%-4%-2%d%d%d%d%d%d%d", input = 15, output = 75, cache_write = 18.75, cache_read = 1.50 },
               { match = "opus", input = 5, output = 25, cache_write = 6.25, cache_read = 0.50 },
               { match = "sonnet", input = 3, output = 15, cache_write = 3.75, cache_read = 0.30 },
               { match = "haiku", input = 1, output = 5, cache_write = 1.25, cache_read = 0.10 },
               { input = 15, output = 75, cache_write = 18.75, cache_read = 1.50 },  -- any other: the dearest
             } },
  control = { poll_interval = 2 },      -- seconds; a fallback look (decisions, commands, answer files arrive at once)
  log = {
    level = "info",                      -- LOG_LEVEL: debug | info | warn | error
    main_log_kb = 1024,                  -- logs/orchestrator.log is rotated at this size (ORCH_MAIN_LOG_KB)
    main_log_files = 3,                  -- orchestrator.log, .1.log, .2.log: the most kept (ORCH_MAIN_LOG_FILES)
  },
  inbox = {                              -- the task inbox (workflows/inbox.lua: `orch-host watch`)
    enabled = false,                     -- `orch-host serve` runs it too
    max_concurrent = 3,                  -- agents at once (MAX_CONCURRENT_TASKS)
    session_seconds = 0,                 -- 0: a session a day (from local midnight); N: a new one every N s
  },
  ollama = {                             -- the optional local model (lib/ollama.lua)
    enabled = "auto",                    -- auto | true | false (OLLAMA_ENABLED); a boolean works too
    host = "http://127.0.0.1:11434",     -- OLLAMA_HOST, also as host[:port] the way Ollama reads it
    model = "llama3.1:8b",               -- OLLAMA_MODEL
    timeout = 20,                        -- seconds per request (OLLAMA_TIMEOUT_SEC)
  },
  lua = {
    max_run_seconds = 30,                -- Lua that runs this long without waiting is stopped
    jit = false,                         -- the JIT compiler (compiled loops cannot be stopped)
  },
} end
M.defaults = defaults()

-- environment variable -> config key (and how to read it)
M.env = {
  { "CLAUDE_CLI_PATH", "claude.path" },
  { "CLAUDE_TIMEOUT_SEC", "claude.timeout", "number" },
  { "CLAUDE_STALL_TIMEOUT_SEC", "claude.stall_timeout", "number" },
  { "CLAUDE_MAX_TURNS", "claude.max_turns", "number" },
  { "CLAUDE_MODEL", "claude.model" },
  { "CLAUDE_PERMISSION_MODE", "claude.permission_mode" },
  { "CLAUDE_BASE_CWD", "claude.base_cwd" },
  { "CLAUDE_ALLOWED_ROOT", "claude.allowed_root" },
  { "CLAUDE_SKIP_PERMISSIONS", "claude.permission_mode", "skip" },
  { "APPROVAL_MODE", "orchestrator.approval_mode" },
  { "ORCH_RETRY_FAILED", "orchestrator.retry_failed", "number" },
  { "ORCH_RETRY_TRANSIENT", "orchestrator.retry_transient", "number" },
  { "ORCH_RETRY_BACKOFF", "orchestrator.retry_backoff", "number" },
  { "ORCH_RETRY_BACKOFF_MAX", "orchestrator.retry_backoff_max", "number" },
  { "ORCH_VERIFY_TIMEOUT", "orchestrator.verify_timeout", "number" },
  { "MAX_CONCURRENT_AGENTS", "orchestrator.max_concurrent", "number" },
  { "MAX_PARALLEL_AGENTS", "orchestrator.max_concurrent", "number" },
  { "MAX_CONCURRENT_TASKS", "inbox.max_concurrent", "number" },
  { "N8N_NOTIFY_URL", "notify.n8n_url" },
  { "WEBHOOK_SECRET", "server.secret" },
  { "HOST", "server.host" },
  { "PORT", "server.port", "number" },
  { "ORCHESTRATOR_AUTH_TOKEN", "server.auth_token" },
  { "TELEGRAM_BOT_TOKEN", "telegram.bot_token" },
  { "TELEGRAM_CHAT_ID", "telegram.chat_id" },
  { "TELEGRAM_ALLOWED_USERS", "telegram.allowed_users" },
  { "TELEGRAM_API_BASE", "telegram.api_base" },
  { "MAX_DAILY_COST_USD", "budget.max_cost_usd", "number" },
  { "ORCH_STATE_DB", "paths.state_db" },
  { "ORCH_LOGS_DIR", "paths.logs_dir" },
  { "ORCH_TASKS_DIR", "paths.tasks_dir" },
  { "ORCH_RESULTS_DIR", "paths.results_dir" },
  { "ORCH_SUMMARIES_DIR", "paths.summaries_dir" },
  { "ORCH_QUESTIONS_DIR", "paths.questions_dir" },
  { "ORCH_FEEDBACK_DIR", "paths.feedback_dir" },
  { "LOG_LEVEL", "log.level", "lower" },
  { "ORCH_MAIN_LOG_KB", "log.main_log_kb", "number" },
  { "ORCH_MAIN_LOG_FILES", "log.main_log_files", "number" },
  { "ORCH_WORKSPACE_ROOT", "workspace.root" },
  { "ORCH_WORKSPACE_MODE", "workspace.mode", "lower" },
  { "ORCH_LUA_MAX_RUN_SECONDS", "lua.max_run_seconds", "number" },
  { "OLLAMA_ENABLED", "ollama.enabled", "lower" },
  { "OLLAMA_HOST", "ollama.host" },
  { "OLLAMA_MODEL", "ollama.model" },
  { "OLLAMA_TIMEOUT_SEC", "ollama.timeout", "number" },
}

-- a deep copy of a plain table (the defaults, before a config goes on top)
local function copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy(x) end
  return out
end
M.copy = copy

local function is_list(t)
  return type(t) == "table" and (next(t) == nil or t[1] ~= nil)
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  return table.concat(keys, ", ")
end

-- Merge `user` into `base` (both tables), checking keys and types.
local function merge(base, user, prefix, file, sources)
  for k, v in pairs(user) do
    local key = prefix == "" and tostring(k) or prefix .. "." .. tostring(k)
    local d = base[k]
    if d == nil then
      error(string.format("%s: unknown key '%s' (known here: %s)", file, key, sorted_keys(base)), 0)
    end
    if type(d) == "table" and not is_list(d) then
      if type(v) ~= "table" then
        error(string.format("%s: '%s' must be a table, got %s", file, key, type(v)), 0)
      end
      merge(d, v, key, file, sources)
    else
      local want = is_list(d) and "list" or type(d)
      local got = is_list(v) and "list" or type(v)
      if (key == "claude.env" or key == "notify.sinks") and type(v) == "table" then got = "list" end
      if key == "ollama.enabled" and type(v) == "boolean" then v, got = tostring(v), "string" end
      if want ~= got then
        error(string.format("%s: '%s' must be a %s, got %s", file, key, want, got), 0)
      end
      base[k] = copy(v)
      sources[key] = "config"
    end
  end
end

local function set(cfg, key, value)
  local t = cfg
  local parts = {}
  for p in key:gmatch("[^.]+") do parts[#parts + 1] = p end
  for i = 1, #parts - 1 do t = t[parts[i]] end
  t[parts[#parts]] = value
end

local function apply_env(cfg, sources, getenv)
  for _, e in ipairs(M.env) do
    local name, key, how = e[1], e[2], e[3]
    local raw = getenv(name)
    if raw ~= nil and raw ~= "" then
      local value = raw
      if how == "number" then
        value = tonumber(raw)
        if not value then error(string.format("environment: %s=%q is not a number", name, raw), 0) end
      elseif how == "lower" then
        value = raw:lower()
      elseif how == "skip" then
        local b = raw:lower()
        if b ~= "1" and b ~= "true" and b ~= "0" and b ~= "false" then
          error(string.format("environment: %s=%q must be 1, true, 0 or false", name, raw), 0)
        end
        value = (b == "1" or b == "true") and "bypassPermissions" or nil
      end
      if value ~= nil then
        set(cfg, key, value)
        sources[key] = "env " .. name
      end
    end
  end
end

-- the values the claude CLI's --permission-mode takes
-- the claude CLI's --permission-mode choices: 2.1.197 lists default, later
-- versions manual in its place (both are taken: the CLI in use decides)
M.PERMISSION_MODES = { acceptEdits = true, auto = true, bypassPermissions = true, default = true, dontAsk = true,
  manual = true, plan = true }

local function validate(cfg, file, sources)
  local function fail(key, msg)
    local src = sources[key] or ""
    local where = src:match("^env (.+)") and ("environment " .. src:match("^env (.+)")) or file
    error(string.format("%s: '%s' %s", where, key, msg), 0)
  end
  -- every number finite (0/0 or 1e999 would only fail later, far from here)
  local function finite(t, prefix)
    for k, v in pairs(t) do
      local key = prefix == "" and tostring(k) or prefix .. "." .. tostring(k)
      if type(v) == "number" and (v ~= v or v == math.huge or v == -math.huge) then
        fail(key, "must be a finite number (got " .. tostring(v) .. ")")
      elseif type(v) == "table" and k ~= "_sources" then
        finite(v, key)
      end
    end
  end
  finite(cfg, "")
  local mode = cfg.orchestrator.approval_mode
  if mode ~= "required" and mode ~= "auto" and mode ~= "manual" then
    fail("orchestrator.approval_mode", "must be required, auto or manual (got '" .. tostring(mode) .. "')")
  end
  local pm = cfg.claude.permission_mode
  if not M.PERMISSION_MODES[pm] then
    fail("claude.permission_mode", "must be one of the claude CLI's --permission-mode values: " ..
      "acceptEdits, auto, bypassPermissions, default, dontAsk, manual or plan (got '" .. tostring(pm) .. "')")
  end
  local oat = cfg.orchestrator.on_approval_timeout
  if oat ~= "pause" and oat ~= "skip" and oat ~= "approve" then
    fail("orchestrator.on_approval_timeout", "must be pause, skip or approve (got '" .. tostring(oat) .. "')")
  end
  if cfg.orchestrator.approval_timeout < 0 then fail("orchestrator.approval_timeout", "must be >= 0 seconds") end
  local mc = cfg.orchestrator.max_concurrent
  if mc < 1 or mc % 1 ~= 0 then fail("orchestrator.max_concurrent", "must be a whole number >= 1") end
  if cfg.claude.timeout < 0 then fail("claude.timeout", "must be >= 0") end
  local oc = cfg.orchestrator
  if oc.retry_transient < 0 or oc.retry_transient % 1 ~= 0 then
    fail("orchestrator.retry_transient", "must be a whole number of retries >= 0")
  end
  if oc.retry_backoff < 0 then fail("orchestrator.retry_backoff", "must be >= 0 seconds") end
  if oc.retry_backoff_max < oc.retry_backoff then
    fail("orchestrator.retry_backoff_max", "must be >= orchestrator.retry_backoff (" .. oc.retry_backoff .. ")")
  end
  if oc.limit_jitter < 0 then fail("orchestrator.limit_jitter", "must be >= 0 seconds") end
  if oc.limit_wait <= 0 then fail("orchestrator.limit_wait", "must be > 0 seconds") end
  if cfg.claude.stall_timeout < 0 then fail("claude.stall_timeout", "must be >= 0 seconds (0 = off)") end
  if cfg.orchestrator.verify_timeout <= 0 then fail("orchestrator.verify_timeout", "must be > 0 seconds") end
  if cfg.orchestrator.heartbeat <= 0 then fail("orchestrator.heartbeat", "must be > 0 seconds") end
  local wa = cfg.budget.warn_at
  if wa <= 0 or wa > 1 then fail("budget.warn_at", "must be a share of the budget, > 0 and <= 1") end
  if cfg.budget.max_cost_usd < 0 then fail("budget.max_cost_usd", "must be >= 0") end
  for i, row in ipairs(cfg.budget.prices) do
    local bad = type(row) ~= "table" and "must be a table"
      or (row.match ~= nil and type(row.match) ~= "string") and "match must be a Lua pattern (a string)"
    for _, k in ipairs({ "input", "output", "cache_write", "cache_read" }) do
      if not bad and (type(row) ~= "table" or type(row[k]) ~= "number" or row[k] < 0) then
        bad = k .. " must be a number >= 0 (USD per million tokens)"
      end
    end
    if bad then fail("budget.prices", string.format("row %d: %s", i, bad)) end
  end
  if cfg.claude.max_turns < 0 then fail("claude.max_turns", "must be >= 0") end
  local nice = cfg.claude.nice
  if nice < 0 or nice > 19 or nice % 1 ~= 0 then fail("claude.nice", "must be a whole number 0..19") end
  if cfg.server.port < 0 or cfg.server.port > 65535 then fail("server.port", "must be 0..65535") end
  if cfg.server.threads < 1 or cfg.server.threads > 256 then fail("server.threads", "must be 1..256") end
  if cfg.server.queue < 1 then fail("server.queue", "must be >= 1") end
  if cfg.server.max_body_kb <= 0 then fail("server.max_body_kb", "must be > 0") end
  local im = cfg.inbox.max_concurrent
  if im < 1 or im % 1 ~= 0 then fail("inbox.max_concurrent", "must be a whole number >= 1") end
  if cfg.inbox.session_seconds < 0 then
    fail("inbox.session_seconds", "must be >= 0 (0: a session a day; N: a new session every N seconds)")
  end
  local mp = cfg.server.max_parallel_agents
  if mp < 1 or mp % 1 ~= 0 then fail("server.max_parallel_agents", "must be a whole number >= 1") end
  if cfg.server.handler_timeout <= 0 then fail("server.handler_timeout", "must be > 0") end
  if cfg.server.header_timeout <= 0 then fail("server.header_timeout", "must be > 0") end
  for _, key in ipairs({ "workflow", "session_workflow" }) do
    if not cfg.server[key]:match("%S") then
      fail("server." .. key, "must name a workflow file (workflows/<name>, or a path under the project)")
    end
  end
  for i, sc in ipairs(cfg.schedules) do
    if type(sc) ~= "table" or type(sc.cron) ~= "string" then
      fail("schedules", string.format("entry %d must be a table with a cron string", i))
    end
  end
  local wm = cfg.workspace.mode
  if wm ~= "auto" and wm ~= "on" and wm ~= "off" then
    fail("workspace.mode", "must be auto, on or off (got '" .. tostring(wm) .. "')")
  end
  if not cfg.workspace.root:match("%S") then
    fail("workspace.root", "must name a folder (relative to the repository, or absolute)")
  end
  if not cfg.workspace.remote:match("^[^%s-][^%s]*$") then
    fail("workspace.remote", "must name a git remote (got '" .. cfg.workspace.remote .. "')")
  end
  if cfg.log.main_log_kb < 1 then fail("log.main_log_kb", "must be >= 1 (KB)") end
  local mf = cfg.log.main_log_files
  if mf < 1 or mf > 1000 or mf % 1 ~= 0 then fail("log.main_log_files", "must be a whole number 1..1000") end
  local lv = cfg.log.level
  if lv ~= "debug" and lv ~= "info" and lv ~= "warn" and lv ~= "error" then
    fail("log.level", "must be debug, info, warn or error (got '" .. tostring(lv) .. "')")
  end
  local oe = cfg.ollama.enabled
  if oe ~= "auto" and oe ~= "true" and oe ~= "false" then
    fail("ollama.enabled", "must be auto, true or false (got '" .. tostring(oe) .. "')")
  end
  if not cfg.ollama.host:match("%S") then fail("ollama.host", "must name the Ollama server (host:port or a URL)") end
  if cfg.ollama.timeout <= 0 then fail("ollama.timeout", "must be > 0 seconds") end
  require("orch.notify").resolve(cfg, fail, sources)  -- notify.sinks and notify.routes
end

-- A value inside a table that has a source as a whole (claude.env, each of
-- notify.sinks) came from where that table came from: doctor shows each one.
local function inherit_sources(t, prefix, src, sources)
  for k, v in pairs(t) do
    local key = prefix == "" and tostring(k) or prefix .. "." .. tostring(k)
    local s = sources[key] or src
    if type(v) == "table" and not is_list(v) then
      inherit_sources(v, key, s, sources)
    elseif s and not sources[key] then
      sources[key] = s
    end
  end
end

-- the runaway limit of the config file's own code: the environment's, else
-- the default (the file's own lua.max_run_seconds is known only after it ran)
local function config_run_limit(getenv)
  for _, e in ipairs(M.env) do
    if e[2] == "lua.max_run_seconds" then return tonumber(getenv(e[1]) or "") or M.defaults.lua.max_run_seconds end
  end
end

-- load(path, root [, getenv [, must_exist [, guard]]]) -> cfg | nil, message
-- guard(fn, seconds) runs the config file's code (the host passes one that
-- stops it after that many seconds without returning).
function M.load(path, root, getenv, must_exist, guard)
  getenv = getenv or os.getenv
  guard = guard or function(fn) return fn() end
  local display = path
  if root and path:sub(1, #root + 1) == root .. "/" then display = path:sub(#root + 2) end
  local cfg, sources = defaults(), {}
  local ok, err = pcall(function()
    local text, rerr = orch.read_file(path)
    if text then
      -- copies of the libraries: the file cannot change the host's own
      local libs = { tostring = tostring, tonumber = tonumber, pairs = pairs, ipairs = ipairs,
                     string = string, math = math, table = table }
      local env = setmetatable({}, { __index = function(t, k)
        local v = libs[k]
        if k == "os" then v = { getenv = getenv } elseif type(v) == "table" then v = copy(v) end
        if v ~= nil then rawset(t, k, v) end
        return v
      end })
      local chunk, serr = load(text, "@" .. display, "t", env)
      if not chunk then error(serr, 0) end
      local ran, user = pcall(guard, chunk, config_run_limit(getenv))
      if not ran then  -- the runaway guard's message names no file
        local msg = tostring(user)
        error(msg:find(display, 1, true) and msg or display .. ": " .. msg, 0)
      end
      if type(user) ~= "table" then error(display .. ": must return a table (got " .. type(user) .. ")", 0) end
      merge(cfg, user, "", display, sources)
    elseif rerr.code ~= "not_found" or must_exist then
      error(tostring(rerr), 0)
    end
    apply_env(cfg, sources, getenv)
    validate(cfg, display, sources)
    inherit_sources(cfg, "", nil, sources)
  end)
  if not ok then return nil, tostring(err) end
  cfg._sources = sources
  return cfg
end

-- Two config values alike: tables by content, anything else (functions of
-- notify.routes among them) by identity.
local function same(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

-- dst takes src's content in place: its nested tables stay the same tables
-- (src's own are fresh from load, so nothing else holds them)
local function fill(dst, src)
  for k, v in pairs(src) do
    if type(v) == "table" and type(dst[k]) == "table" then fill(dst[k], v) else dst[k] = v end
  end
  for k in pairs(dst) do
    if src[k] == nil then dst[k] = nil end
  end
end

-- update(cur, new) -> the keys whose values changed, sorted ("claude.timeout",
-- a list or free-form table such as "claude.env" as one key). cur becomes
-- new IN PLACE: the same tables (modules hold `local cfg = orch.config` and
-- `cfg.orchestrator`), keys new lacks removed, `_sources` too.
function M.update(cur, new)
  local changed = {}
  local function walk(dst, src, shape, prefix)
    for k, v in pairs(src) do
      local key = prefix == "" and tostring(k) or prefix .. "." .. tostring(k)
      local d, sh = dst[k], shape and shape[k]
      if not same(d, v) then
        local section = type(sh) == "table" and not is_list(sh)
        if section and type(d) == "table" and type(v) == "table" then
          walk(d, v, sh, key)
        else
          changed[#changed + 1] = key
          if type(d) == "table" and type(v) == "table" then fill(d, v) else dst[k] = v end
        end
      end
    end
    for k in pairs(dst) do
      if src[k] == nil then
        changed[#changed + 1] = prefix == "" and tostring(k) or prefix .. "." .. tostring(k)
        dst[k] = nil
      end
    end
  end
  local sources = new._sources
  new._sources = nil
  local cur_sources = cur._sources
  cur._sources = nil
  walk(cur, new, M.defaults, "")
  if type(cur_sources) == "table" then fill(cur_sources, sources or {}) else cur_sources = sources end
  cur._sources = cur_sources
  table.sort(changed)
  return changed
end

-- rebuild(path, root, overrides, must_exist, guard) -> cfg | nil, message:
-- the config built again the way load() builds it at start, with the
-- environment as .env now makes it (overrides: NAME = value, or false for a
-- variable .env no longer sets; others as the process has them).
-- orch.reload_config puts it into orch.config with update().
function M.rebuild(path, root, overrides, must_exist, guard)
  local function getenv(name)
    local v = overrides and overrides[name]
    if v == nil then return os.getenv(name) end
    return v or nil
  end
  return M.load(path, root, getenv, must_exist, guard)
end

return M
