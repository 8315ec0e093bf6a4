-- policy: when a human must approve, when the budget stops the day and when a
-- failed task runs again, from the config's `orchestrator` and `budget` sections
-- (docs/config.md), the per-task **Requires Approval:** field and the --auto-approve flag.
--
--   cfg  = { approval_mode = "required" | "auto" | "manual"   (default "required"),
--            checkpoint_after = { types }, auto_approve = { types }, retry_failed = n }
--   opts = { auto_approve = true }                            (the --auto-approve flag)
--
-- The rules this module implements (each rule is tested):
--  1. --auto-approve means "run with auto-approve (no prompts)": never
--     ask and never checkpoint, whatever the mode or the task file says. It is the
--     operator's explicit choice for this run, so it outranks both.
--  2. manual: ask before every task, no exceptions; the auto_approve list and
--     "Requires Approval: false" do not apply. A human steps through the day.
--  3. required (the default): ask before every task unless its type is
--     in auto_approve ("Auto-approve these task types").
--  4. auto: run without asking.
--  5. "Requires Approval: true" asks in every mode, even for an auto_approve type
--     and in auto mode. "Requires Approval: false" never removes an approval the
--     mode demands: task files are often generated (by a script or an agent)
--     while the config is the operator's, so a task file may raise the bar, never
--     lower it. In effect false just means "this task adds no approval of its own".
--  6. checkpoint_after: after a task whose type is listed ("Always pause after
--     database tasks"), pause so a human reviews the result before anything else
--     runs, in every mode except with --auto-approve. Whether to pause after the
--     last task of a session is the workflow's choice.
--  7. A checkpoint after task N and an approval before task N+1 are one human
--     decision: the workflow asks once ("✅ Task 1/3 Complete! ... /approve to
--     continue").
--  8. budget: the day file's max_cost_usd (when > 0), else the config's `budget`
--     = { max_cost_usd= (MAX_DAILY_COST_USD), warn_at= }. Once the session's cost
--     reaches it no new agent starts, the running ones finish (or stop, with
--     budget.stop_agents) and the tasks left are skipped (reason budget), those
--     waiting for an approval, an answer, a retry or a usage limit too; from
--     warn_at (a share, 0.75) of it, a warning is sent once per session (kept
--     across a resume). No day budget and max_cost_usd 0 (or unset) is no budget.
--  9. retry_failed (orchestrator section): a task whose agent run failed runs again,
--     from its prompt, up to retry_failed more times before it counts as failed. A
--     run stopped on purpose (skip, pause, interrupt) is never retried.
--     Its successor, M.next_try, tells errors apart (lib/agent_outcome): a transient
--     error (HTTP 5xx, 529 overloaded, 429, a lost connection, a stalled agent)
--     runs again up to retry_transient times, after retry_backoff seconds doubled at
--     every try and capped at retry_backoff_max; any other failure runs again under
--     retry_failed at once; a permanent error (401, 403, a bad key, no credit) and a
--     usage limit never count as a retry (the session pauses; the limit parks).
-- 10. max_concurrent: how many agents run at once: the run's own (--max-concurrent),
--     else the day file's, else 1 for a markdown day file (it keeps its meaning: one
--     task after another), else orchestrator.max_concurrent (default 3).
-- 11. approval_timeout (seconds, 0 = wait forever) ends a wait for approval that
--     nobody answered; on_approval_timeout says what then: "pause" (the default:
--     nothing runs unapproved and nothing is lost; resume asks again, with a new
--     request id), "skip" (the task is skipped) or "approve" (it runs as if
--     approved: for a day whose approvals are a courtesy, not a gate).
--  Types compare case-insensitively; "*" in a list matches every type; a task with
--  no type matches only "*". An invalid cfg makes both questions answer true with
--  the reason (fail safe: never run unapproved because of a typo); call
--  M.validate(cfg) at start-up to report it properly.
--
-- M.needs_approval(task, cfg, opts)   -> bool, reason
-- M.checkpoint_after(task, cfg, opts) -> bool, reason
-- M.budget(cost, bcfg, warned [, own]) -> "pause" | "warn" | nil, max_cost_usd (own: the day file's)
-- M.estimate_cost(usage, model, prices) -> USD: a stopped run's tokens priced (budget.prices)
-- M.retry(r, tries, cfg)               -> bool: run again after `tries` retries of result r
-- M.next_try(outcome, tries, cfg)      -> seconds to wait before the next run | nil (outcome: agent_outcome's)
-- M.max_concurrent(args, doc, cfg, file) -> n >= 1 (args.max_concurrent, doc.max_concurrent, doc.format)
-- M.is_markdown(doc, file)             -> bool: doc.format, else the file's extension
-- M.on_approval_timeout(cfg)          -> "pause" | "skip" | "approve", reason
-- M.validate(cfg)                     -> true | nil, err {code="bad_config", field=, message=}
-- Pure: no io/os/debug, no globals.
local M = {}

M.MODES = { required = true, auto = true, manual = true }
M.DEFAULT_MODE = "required"
M.ON_APPROVAL_TIMEOUT = { pause = true, skip = true, approve = true }
M.DEFAULT_ON_APPROVAL_TIMEOUT = "pause"

local errors = require("orch.errors")

local function bad(field, fmt, ...)
  return nil, errors.new("bad_config", "approval config: " .. field .. ": " .. string.format(fmt, ...),
    { field = field })
end

local function check_list(cfg, field)
  local list = cfg[field]
  if list == nil then return true end
  if type(list) ~= "table" then
    return bad(field, "must be a list of task types, got %s %s", type(list), tostring(list))
  end
  local n = #list
  for k in pairs(list) do
    if type(k) ~= "number" or k < 1 or k > n or k % 1 ~= 0 then
      return bad(field, "must be a list of task types, not a map (key %s)", tostring(k))
    end
  end
  for i = 1, n do
    local v = list[i]
    if type(v) ~= "string" or not v:find("%S") then
      return bad(field .. "[" .. i .. "]", "must be a non-empty task type string, got %s", tostring(v))
    end
  end
  return true
end

function M.validate(cfg)
  if cfg == nil then return true end
  if type(cfg) ~= "table" then return bad("(config)", "must be a table, got %s", type(cfg)) end
  local mode = cfg.approval_mode
  if mode ~= nil and not M.MODES[mode] then
    return bad("approval_mode", "must be one of required, auto, manual (got %q)", tostring(mode))
  end
  local retry = cfg.retry_failed
  if retry ~= nil and (type(retry) ~= "number" or retry < 0 or retry % 1 ~= 0) then
    return bad("retry_failed", "must be a whole number of retries >= 0 (got %s)", tostring(retry))
  end
  local at = cfg.approval_timeout
  if at ~= nil and (type(at) ~= "number" or at ~= at or at < 0 or at == math.huge) then
    return bad("approval_timeout", "must be a number of seconds >= 0 (0 waits forever), got %s", tostring(at))
  end
  local on = cfg.on_approval_timeout
  if on ~= nil and not M.ON_APPROVAL_TIMEOUT[on] then
    return bad("on_approval_timeout", "must be one of pause, skip, approve (got %q)", tostring(on))
  end
  for _, k in ipairs({ "retry_transient", "retry_backoff", "retry_backoff_max", "limit_jitter", "limit_wait" }) do
    local v = cfg[k]
    if v ~= nil and (type(v) ~= "number" or v < 0 or v ~= v or v == math.huge) then
      return bad(k, "must be a number >= 0 (got %s)", tostring(v))
    end
  end
  if cfg.retry_transient ~= nil and cfg.retry_transient % 1 ~= 0 then
    return bad("retry_transient", "must be a whole number of retries >= 0 (got %s)", tostring(cfg.retry_transient))
  end
  if (cfg.retry_backoff_max or math.huge) < (cfg.retry_backoff or 0) then
    return bad("retry_backoff_max", "must be >= retry_backoff (%s), got %s", tostring(cfg.retry_backoff),
      tostring(cfg.retry_backoff_max))
  end
  local mc = cfg.max_concurrent
  if mc ~= nil and (type(mc) ~= "number" or mc < 1 or mc % 1 ~= 0) then
    return bad("max_concurrent", "must be a whole number of agents >= 1 (got %s)", tostring(mc))
  end
  local ok, err = check_list(cfg, "checkpoint_after")
  if not ok then return nil, err end
  return check_list(cfg, "auto_approve")
end

local function norm(s) return (string.lower(s):match("^%s*(.-)%s*$")) end

-- true when `task_type` is listed in cfg[field] (case-insensitive, "*" = any).
local function listed(cfg, field, task_type)
  local t = task_type and norm(tostring(task_type))
  for _, v in ipairs(cfg[field] or {}) do
    local n = norm(v)
    if n == "*" or n == t then return true end
  end
  return false
end

local function type_name(task) return task.type and ("'" .. tostring(task.type) .. "'") or "(none)" end

function M.needs_approval(task, cfg, opts)
  task, cfg, opts = task or {}, cfg or {}, opts or {}
  if opts.auto_approve then return false, "--auto-approve: no prompts" end
  local ok, err = M.validate(cfg)
  if not ok then return true, "invalid config, asking to be safe: " .. err.message end
  local mode = cfg.approval_mode or M.DEFAULT_MODE
  if mode == "manual" then return true, "manual mode: every task is approved by hand" end
  if task.requires_approval == true then return true, "the task says Requires Approval: true" end
  if mode == "auto" then return false, "auto mode" end
  if listed(cfg, "auto_approve", task.type) then
    return false, "required mode: type " .. type_name(task) .. " is in auto_approve"
  end
  return true, "required mode: type " .. type_name(task) .. " is not in auto_approve"
end

function M.checkpoint_after(task, cfg, opts)
  task, cfg, opts = task or {}, cfg or {}, opts or {}
  if opts.auto_approve then return false, "--auto-approve: no prompts" end
  local ok, err = M.validate(cfg)
  if not ok then return true, "invalid config, asking after it to be safe: " .. err.message end
  if listed(cfg, "checkpoint_after", task.type) then
    return true, "type " .. type_name(task) .. " is in checkpoint_after"
  end
  return false, "type " .. type_name(task) .. " is not in checkpoint_after"
end

function M.budget(cost, bcfg, warned, own)
  bcfg = bcfg or {}
  local max = tonumber(own) or 0
  if max <= 0 then max = tonumber(bcfg.max_cost_usd) or 0 end
  if max <= 0 then return nil, max end
  cost = tonumber(cost) or 0
  if cost >= max then return "pause", max end
  if not warned and cost >= max * (tonumber(bcfg.warn_at) or 1) then return "warn", max end
  return nil, max
end

-- A run stopped before claude's result line has no cost of its own (the CLI
-- reports it only there): its tokens at budget.prices, USD per million tokens
-- (the first row whose match is found in the model's name, else the row
-- without a match; none: 0). usage: the four counts of claude's usage.
local PRICE_OF = { input_tokens = "input", output_tokens = "output", cache_creation_input_tokens = "cache_write",
                   cache_read_input_tokens = "cache_read" }
function M.estimate_cost(usage, model, prices)
  if type(usage) ~= "table" then return 0 end
  local row, any
  for _, p in ipairs(prices or {}) do
    if p.match == nil then any = any or p
    elseif type(model) == "string" and model:find(p.match) then row = p break end
  end
  row = row or any
  if not row then return 0 end
  local usd = 0
  for field, col in pairs(PRICE_OF) do usd = usd + (tonumber(usage[field]) or 0) * (tonumber(row[col]) or 0) end
  return usd / 1e6
end

local function whole(v)
  v = tonumber(v)
  return v and v >= 1 and math.floor(v) or nil
end

-- is_markdown(doc, file): a markdown day file: doc.format says so, else the
-- file's extension is not .yaml, .yml or .json
function M.is_markdown(doc, file)
  local format = (doc or {}).format
  if format then return format == "markdown" or format == "md" end
  local ext = type(file) == "string" and file:lower():match("%.(%w+)$")
  return ext ~= "yaml" and ext ~= "yml" and ext ~= "json"
end

function M.max_concurrent(args, doc, cfg, file)
  local own = whole((args or {}).max_concurrent) or whole((doc or {}).max_concurrent)
  if own then return own end
  if M.is_markdown(doc, file) then return 1 end
  return whole((cfg or {}).max_concurrent) or 3
end

function M.on_approval_timeout(cfg)
  cfg = cfg or {}
  local on = M.ON_APPROVAL_TIMEOUT[cfg.on_approval_timeout] and cfg.on_approval_timeout or
    M.DEFAULT_ON_APPROVAL_TIMEOUT
  return on, string.format("no decision within approval_timeout (%s s): on_approval_timeout is %s",
    tostring(cfg.approval_timeout), on)
end

function M.next_try(outcome, tries, cfg)
  cfg, tries = cfg or {}, tries or 0
  local kind = (outcome or {}).kind
  if kind == "transient" then
    if tries >= (tonumber(cfg.retry_transient) or 3) then return nil end
    local base, cap = tonumber(cfg.retry_backoff) or 30, tonumber(cfg.retry_backoff_max) or 600
    return math.min(cap, base * 2 ^ tries)
  elseif kind == "failed" then
    if tries >= (tonumber(cfg.retry_failed) or 0) then return nil end
    return 0
  end
  return nil
end

function M.retry(r, tries, cfg)
  if r.ok or r.cancelled then return false end
  return (tries or 0) < (tonumber((cfg or {}).retry_failed) or 0)
end

return M
