-- schedule: cron-started sessions inside `orch-host serve` (config `schedules`).
--
--   schedules = { { cron = "0 9 * * 1-5", tz = "UTC", name = "weekdays",
--                   args = { task_file = "tasks/standing.md", auto_approve = false } } }
--
-- Keys of an entry: cron (required; lib/cron syntax), tz (required: "UTC" or a fixed
-- offset like "+02:00"; the machine's zone is never used), name (for logs and "started
-- by"), workflow (default "daily.lua"), args (task_file=, auto_approve=: what a webhook
-- start takes), grace (seconds a fire may be late and still run; default 300).
--
-- M.validate(schedules) -> entries     raises "schedules[2].tz: ..." on the first problem
-- M.start(schedules, control, opts)    -> task ids: one loop for all entries (orch.spawn), none without
--   entries; fires due at once run in the order the entries are defined
-- opts: now=, sleep= (the clock; orch.now / orch.sleep), log= (orch.log): for tests.
--
-- The loop sleeps toward the next fire in steps of at most a minute and looks at the
-- wall clock again after each, so a clock that NTP or a suspend moved is noticed. A fire
-- calls control.start: a session already running for the same task file is reported, not
-- doubled; a fire found more than `grace` late (the host was asleep) is logged and
-- skipped, and only the next fire after now runs. The loop ends when the host is
-- interrupted or the sleep is cancelled (serve's shutdown).
local cron = require("lib.cron")
local fmt = require("lib.format")

local M = {}

M.DEFAULT_GRACE = 300
M.CHUNK = 60

local KEYS = { cron = true, tz = true, name = true, workflow = true, args = true, grace = true }
local ARG_TYPES = { task_file = "string", auto_approve = "boolean" }

local function sorted(set)
  local out = {}
  for k in pairs(set) do out[#out + 1] = k end
  table.sort(out)
  return table.concat(out, ", ")
end

-- a bad entry: an error value (code "config"), so the host reports its message, not a traceback
local function bad(where, message) error(require("orch.errors").new("config", where .. ": " .. message), 0) end

local function strip(e) return (tostring(e):gsub("^cron: ", "")) end

-- A workflow name as orch.start_workflow resolves it (workflows/<name>[.lua], or a path).
local function workflow_exists(name)
  if name:find("/", 1, true) then
    return orch.file_info(name:sub(1, 1) == "/" and name or (orch.root .. "/" .. name)) ~= nil
  end
  local base = orch.root .. "/workflows/" .. name
  return orch.file_info(base) ~= nil or orch.file_info(base .. ".lua") ~= nil
end

local function check_args(args, where)
  if type(args) ~= "table" or (next(args) ~= nil and args[1] ~= nil) then
    bad(where, "must be a table like { task_file = \"tasks/x.md\", auto_approve = false }, got " .. type(args))
  end
  for k, v in pairs(args) do
    local want = ARG_TYPES[k]
    if not want then bad(where .. "." .. tostring(k), "unknown key (known: " .. sorted(ARG_TYPES) .. ")") end
    if type(v) ~= want then bad(where .. "." .. k, "must be a " .. want .. ", got " .. type(v)) end
  end
end

-- One entry -> a normalised copy with its parsed spec and tz offset; raises on a problem.
local function check(entry, i)
  local where = "schedules[" .. i .. "]"
  if type(entry) ~= "table" then
    bad(where, "must be a table like { cron = \"0 9 * * 1-5\", tz = \"UTC\" }, got " .. type(entry))
  end
  for k in pairs(entry) do
    if not KEYS[k] then bad(where .. "." .. tostring(k), "unknown key (known: " .. sorted(KEYS) .. ")") end
  end
  if type(entry.cron) ~= "string" then bad(where .. ".cron", "must be a cron string, got " .. type(entry.cron)) end
  local spec, err = cron.parse(entry.cron)
  if not spec then bad(where .. ".cron", strip(err)) end
  local _, ferr = cron.next_fire(spec, 0, "UTC")
  if ferr then bad(where .. ".cron", strip(ferr)) end
  local off, terr = cron.parse_tz(entry.tz)
  if not off then bad(where .. ".tz", strip(terr)) end
  if entry.name ~= nil and (type(entry.name) ~= "string" or entry.name == "") then
    bad(where .. ".name", "must be a non-empty string, got " .. type(entry.name))
  end
  local wf = entry.workflow
  if wf ~= nil then
    if type(wf) ~= "string" or wf == "" then bad(where .. ".workflow", "must be a workflow name, got " .. type(wf)) end
    if not workflow_exists(wf) then bad(where .. ".workflow", "no such workflow '" .. wf .. "' under workflows/") end
  end
  if entry.args ~= nil then check_args(entry.args, where .. ".args") end
  local grace = entry.grace
  if grace ~= nil and (type(grace) ~= "number" or grace ~= grace or grace < 0) then
    bad(where .. ".grace", "must be a number of seconds >= 0, got " .. tostring(grace))
  end
  if wf == "daily.lua" or wf == "daily" then wf = nil end
  return { index = i, cron = entry.cron, tz = entry.tz, offset = off, spec = spec, args = entry.args or {},
           workflow = wf,
           label = entry.name or entry.cron, grace = grace or M.DEFAULT_GRACE,
           description = cron.describe(entry.cron) }
end

function M.validate(schedules)
  if type(schedules) ~= "table" or (next(schedules) ~= nil and schedules[1] == nil) then
    bad("schedules", "must be a list of tables like { cron = \"0 9 * * 1-5\", tz = \"UTC\" }")
  end
  local out, named = {}, {}
  for i = 1, #schedules do
    out[i] = check(schedules[i], i)
    local name = schedules[i].name
    if name ~= nil then
      if named[name] then
        bad("schedules[" .. i .. "].name", string.format("%q is schedules[%d]'s name too: a name tells the "
          .. "schedules apart in the log and in a session's started_by", name, named[name]))
      end
      named[name] = i
    end
  end
  for k in pairs(schedules) do
    if type(k) ~= "number" or k % 1 ~= 0 or k < 1 or k > #schedules then
      bad("schedules[" .. tostring(k) .. "]", "the schedules must be a plain list")
    end
  end
  return out
end

-- "2025-11-24 09:00 UTC" in the entry's own zone
local function show(e, t)
  return os.date("!%Y-%m-%d %H:%M", math.floor(t + e.offset)) .. " " .. tostring(e.tz)
end

local function late_text(s)
  if s < 120 then return string.format("%ds", math.floor(s)) end
  if s < 7200 then return string.format("%dm", math.floor(s / 60)) end
  return string.format("%.1fh", s / 3600)
end

-- Start one session for a due fire; never raises (a failed start must not end the loop).
local function fire(e, control, log, due)
  local by = "schedule:" .. e.label
  local params = {}
  for k, v in pairs(e.args) do params[k] = v end
  -- a schedule means to run its file again each time (a fixed task_file
  -- every night): its finished session does not stop the fire (again); one
  -- still running, paused, or left running by a killed host does (it is said)
  local ok, r = pcall(control.start, params, by, { workflow = e.workflow, again = true })
  local prefix = string.format("schedule %s: fire due %s: ", e.label, show(e, due))
  if not ok then
    log("error", prefix .. "control.start raised: " .. tostring(r))
  elseif type(r) ~= "table" then
    log("error", prefix .. "control.start returned " .. type(r))
  elseif r.status == "started" then
    log("info", prefix .. tostring(r.message or ("started session " .. tostring(r.session_id))))
  elseif r.status == "already_running" then
    log("info", prefix .. "not started, a session is already running (session " ..
      tostring(r.session_id) .. ")")
  else
    local msg = tostring(r.message or r.error or r.status)
    log("warn", prefix .. "could not start: " .. msg)
    pcall(orch.notify, fmt.schedule_failed(e.label, msg),
      { type = "warning", event = "schedule_failed" })
  end
end

-- The first fire strictly after `t` (errors were ruled out by validate).
local function next_after(e, t) return (assert(cron.next_fire(e.spec, t, e.tz))) end

-- M.plan(e, t) -> "every minute (* * * * *), next fire 2025-11-24 09:00 UTC":
-- an entry of validate's, as the log and `orch-host doctor` say it
function M.plan(e, t)
  return string.format("%s (%s), next fire %s", e.description, e.cron, show(e, next_after(e, t)))
end

-- The fire of entry st.e due at st.due, found at t (st.due <= t): run, or
-- skipped when later than the grace; then its next fire
local function handle(st, t, control, log)
  local e, due = st.e, st.due
  if t - due > e.grace then
    local more, n = "", 0
    local x = next_after(e, due)
    while x <= t and n < 1000 do n, x = n + 1, next_after(e, x) end
    if n > 0 then more = string.format(", and %s later fire%s", n < 1000 and n or "1000+", n == 1 and "" or "s") end
    log("warn", string.format("schedule %s: missed the fire due %s by %s%s (more than the %gs grace): " ..
      "skipped, not run late", e.label, show(e, due), late_text(t - due), more, e.grace))
  else
    fire(e, control, log, due)
  end
  st.last = due
  st.due = next_after(e, math.max(t, due))
  log("info", string.format("schedule %s: next fire %s", e.label, show(e, st.due)))
end

-- One loop for every entry, so fires due at once run one after the other in
-- the order the schedules are defined (by due time first).
local function loop(entries, control, clock)
  local now, sleep, log = clock.now, clock.sleep, clock.log
  local states, t0 = {}, now()
  for i, e in ipairs(entries) do
    states[i] = { e = e, due = next_after(e, t0) }  -- last: the due time of the last fire handled
    log("info", string.format("schedule %s: %s", e.label, M.plan(e, t0)))
  end
  while not orch.interrupted() do
    local t = now()
    local due_now = {}
    for _, st in ipairs(states) do
      if t >= st.due then due_now[#due_now + 1] = st end
    end
    table.sort(due_now, function(a, b) return a.due < b.due or (a.due == b.due and a.e.index < b.e.index) end)
    for _, st in ipairs(due_now) do handle(st, math.max(t, now()), control, log) end
    if #due_now == 0 then
      local soonest = math.huge
      for _, st in ipairs(states) do soonest = math.min(soonest, st.due) end
      if not sleep(math.min(M.CHUNK, soonest - t)) then break end
      -- a wall clock set back may bring an earlier fire, but never one already handled
      local t2 = now()
      for _, st in ipairs(states) do
        if t2 < st.due then st.due = next_after(st.e, st.last and math.max(t2, st.last) or t2) end
      end
    end
  end
  for _, st in ipairs(states) do log("info", "schedule " .. st.e.label .. ": stopped") end
end

function M.start(schedules, control, opts)
  opts = opts or {}
  if type(control) ~= "table" or type(control.start) ~= "function" then
    error("schedule.start: control must be lib/control (a table with start)", 2)
  end
  local entries = M.validate(schedules)
  local clock = { now = opts.now or orch.now, sleep = opts.sleep or orch.sleep, log = opts.log or orch.log }
  if #entries == 0 then return {} end
  return { orch.spawn(loop, entries, control, clock) }
end

return M
