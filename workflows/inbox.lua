-- inbox.lua: the task inbox. The inbox task files (*.task.md,
-- docs/task-file-inbox.md) dropped into the watched folder (paths.tasks_dir)
-- run as they come, by priority then age, up to inbox.max_concurrent agents
-- at once, through the day's runner (lib/runner: approvals, retries, usage
-- limits, questions, safety, acceptance checks, budget). `orch-host watch`
-- runs it in the foreground, `orch-host serve` beside its server
-- (inbox.enabled). The host only reports the folder's file events
-- (orch.watch_dir, no polling); the queue, its ledger and the moves to
-- processed/ and failed/ are lib/inbox_queue's, the rest around each task
-- lib/inbox_run's. It runs until the host stops (SIGTERM, Ctrl-C); a task
-- that was running then stays in the folder and runs at the next start.
-- Every rule here is policy: edit it freely.
--
-- args (from `orch-host watch`, or lib/control in serve): session_id=,
-- auto_approve=, no_input=, max_concurrent=, started_by=; workflow= (set by the host)
local args = ...
local S = require("lib.session")
local fmt = require("lib.format")
local policy = require("lib.policy")
local runner = require("lib.runner")
local limits = require("lib.limits")
local inbox_queue = require("lib.inbox_queue")
local inbox_run = require("lib.inbox_run")
local report = require("lib.report")

local cfg = orch.config
local EXIT = { ok = 0, bad_input = 2 }

assert(policy.validate(cfg.orchestrator))

local dir = cfg.paths.tasks_dir
local icfg = cfg.inbox or {}
local MAX = math.max(1, math.floor(tonumber(args.max_concurrent) or tonumber(icfg.max_concurrent) or 3))
local PERIOD = tonumber(icfg.session_seconds) or 0  -- a session's span (below, "A session a day")

-- midnight(t, days) -> the local midnight that begins the day of epoch t, or `days` days later
local function midnight(t, days)
  local d = os.date("*t", math.floor(t))
  return os.time({ year = d.year, month = d.month, day = d.day + days, hour = 0 })
end

-- what the inbox sessions of this folder started earlier in the same day
-- (PERIOD 0: since local midnight; N: in the last N seconds) spent, but
-- session id's: a restarted inbox's day keeps one budget (lib/runner's
-- check_budget counts it), whatever the number of sessions
local function spent_before(id)
  local now = orch.now()
  local since = PERIOD > 0 and now - PERIOD or midnight(now, 0)
  local spent = 0
  for _, row in ipairs(orch.list_sessions(500)) do
    local at = tonumber(row.started_at) or 0
    if at <= since then break end  -- newest first: the rest are older
    if row.kind == "inbox" and row.task_file == dir and row.id ~= id then
      local old = S.load_summary(row.id)
      if old then spent = spent + S.totals(old) end
    end
  end
  return spent
end

-- inbox sessions a host that died left running: closed once this one is made (their tasks move to it)
local stale = inbox_run.settle_stale(args.session_id)
orch.make_dir(dir)  -- (one that cannot be made is said by the watch: "not a folder")
local s, I, R  -- made once the folder is watched, before its first event (queued on the loop)
local roll_over  -- (below) a new day's session, once its day has begun and nothing is in hand

-- the folder's events, each as it comes (the main task is woken to start what
-- it can; a file gone that was not queued, one the inbox moved, changes nothing)
local function on_file(ev)
  if ev.kind == "ready" then
    roll_over(true)  -- the first file of a new day opens its session (an idle inbox makes no empty ones)
    I:offer(ev.name, ev.path, R)
  elseif ev.kind == "gone" then
    if not I:gone(ev.name, R) then return end
  elseif ev.kind == "rescan" then
    I:rescan()
  elseif ev.kind == "dir_removed" then
    orch.log("warn", "inbox: " .. dir .. " was removed; its tasks start again when it is back")
    orch.emit("inbox_dir_removed", { session = s.id, dir = dir })
  end
  R:wake()
end

-- a folder that cannot be watched (not a folder, unreadable, the inotify
-- limits) ends the inbox before it has a session: nothing ran, nothing to show
local watch, werr = orch.watch_dir(dir, on_file, { suffix = ".task.md" })
if not watch then
  orch.log("error", "inbox: cannot watch " .. dir .. ": " .. tostring(werr))
  return EXIT.bad_input
end
-- open(id): the inbox's session (id: the one asked for, else a new one), the
-- folder's queue on it (one queue for the inbox's life: its ledger is the
-- state's), its tasks' tracker (I) and runner (R)
local q
local function open(id)
  s = S.new({ tasks = {} }, { id = id, kind = "inbox", task_file = dir, pid = orch.pid,
                              max_concurrent = MAX, workflow = args.workflow or "workflows/inbox.lua",
                              started_by = args.started_by, auto_approve = args.auto_approve == true,
                              no_input = args.no_input == true })
  if q then q.session = s.id else q = inbox_queue.new(cfg, { session = s.id }) end
  I = inbox_run.new(s, q)
  R = runner.new(s, { max = MAX, args = args, settle = I.hooks.settle, skip_queued = I.hooks.skip_queued,
                      prompt = I.hooks.prompt, finishing = I.hooks.finishing,
                      free_beside_waiting = true })  -- independent files: one that asks nobody need not wait
  local before = spent_before(s.id)
  if before > 0 then
    s.spent_before_usd = before
    S.save(s)
    R:check_budget()  -- spent already: said now, and no file starts
  end
  orch.emit("inbox_started", { session = s.id, dir = dir, max_concurrent = MAX })
end
open(args.session_id)
inbox_run.close_stale(stale, s.id)
orch.log("info", string.format("inbox: watching %s for .task.md files (%d at once)", dir, MAX))
I:rescan()  -- the files already there

-- Start what may start, sleep until a file, a worker's end or a command
-- changes something, again; until the host stops and every worker ended.
-- a pause (a command, or a workflow error in a task) shows on the session
-- and is said once; a resume the same
-- A person's pause outlives the host (kept in the state, PAUSE_KEY): the
-- next start, a restart or one after kill -9, stays paused until a resume;
-- a workflow error's does not (a restart is how its fix is taken)
local PAUSE_KEY = "inbox_paused"
local function show_pause()
  local why = R.want.pause
  if why and s.status ~= "paused" and not orch.interrupted() then
    S.set_status(s, "paused", { paused_at = orch.now(), pause_reason = why }, "session_paused")
    if why:find("^workflow error") then
      orch.log("error", "inbox: paused: " .. why)
    else
      orch.save_state(PAUSE_KEY, { reason = why, at = orch.now(), session = s.id })
    end
    R:note(nil, fmt.inbox_paused(s, why), "warning", "session_paused")
  elseif not why and s.status == "paused" then
    orch.save_state(PAUSE_KEY, false)
    S.set_status(s, "running", S.resumed_fields(s, orch.now()), "session_resumed")  -- paused time left out
    R:note(nil, fmt.resumed(s), "info", "session_resumed")
  end
end
local kept = orch.load_state(PAUSE_KEY)
if args.resume and type(kept) == "table" then  -- `orch-host resume` of a paused inbox: that ends the pause
  orch.save_state(PAUSE_KEY, false)
  orch.log("info", "inbox: resumed: the pause (" .. tostring(kept.reason) .. ") ends")
elseif type(kept) == "table" and type(kept.reason) == "string" then
  R.want.pause = kept.reason
  orch.log("warn", "inbox: still paused (" .. kept.reason .. ", before the host's restart): no task starts until "
    .. "a resume")
end

-- A session a day: inbox.session_seconds 0, a new session once local
-- midnight passed; N > 0, once the session is N seconds old. Taken only
-- while nothing is in hand (no task running or waiting, none queued or held
-- back by a pause, no pause): so a day's tasks, cost and budget (the day's
-- budget.max_cost_usd) are its own session's, `report DATE` finds them, and
-- an inbox that runs for months keeps one day's tasks in memory. The old
-- session ends completed, saying which session goes on. One with no task
-- waits for the next file (any: a file's arrival), so an idle inbox leaves
-- no empty sessions behind.
local function roll_at()
  local started = tonumber(s.started_at) or orch.now()
  return PERIOD > 0 and started + PERIOD or midnight(started, 1)
end
-- day_done(old, by): a session that ran tasks, ended: its day's report
-- (results/YYYY-MM-DD-report.md, every session of that day) and, when a new
-- day's session follows (by: the old one's runner), the notice a day's end sends
local function day_done(old, by)
  if #old.tasks == 0 then return end
  if by then
    local bad = S.failures(S.counts(old))
    by:note(nil, fmt.session_completed(old, orch.now()), bad and "warning" or "success", "session_completed")
  end
  local path = report.write(old, cfg.paths.results_dir)
  if path then orch.log("info", "report written to " .. path) end
end

function roll_over(any)
  if orch.now() < roll_at() or orch.interrupted() or R.want.pause or s.status == "paused" then return end
  if #s.tasks == 0 and not any then return end
  if next(R.workers) or next(s._active or {}) or I:waiting_count() > 0 then return end
  local old, old_runner = s, R
  open(nil)
  inbox_run.close(old, fmt.inbox_new_session(s.id), nil, nil, s.id)
  day_done(old, old_runner)
  old_runner:wake()  -- from a file's event: the main loop sleeps in the old runner's wait
  old_runner:close()
  local control = package.loaded["lib.control"]  -- under serve: the server's commands find the new session
  if control and control.moved then control.moved(old.id, s.id) end
  orch.log("info", string.format("inbox: session %s ends (%d tasks); %s goes on", old.id, #old.tasks, s.id))
end

while true do
  roll_over()
  show_pause()
  if not R.want.pause then I:restart_held(R) end
  if R.want.budget then  -- spent, unless a changed .env or config raised or removed it since
    require("lib.config_reload").fresh("inbox")
    R:check_budget()
  end
  if R.want.budget then I:skip_all("skipped: budget") end  -- as the day's: what is left is skipped
  -- (a usage limit holds every new task back: no file is looked at until it opens)
  while q:size() > 0 and R:may_start() and not limits.closed() do
    local qt = q:take(function(t) return R:can_start(t) end)  -- one that would wait behind others' approvals stays
    if not qt then break end
    I:start(R, qt)
  end
  I:save_queue_soon()  -- the started tasks' own saves carry the queue's length
  if orch.interrupted() and R.pool.n == 0 then break end
  local gate = not orch.interrupted() and limits.closed()
  -- the day's end (passed: taken when the last task in hand ends, which wakes this); none with no task yet
  local roll = #s.tasks > 0 and roll_at() - orch.now() or 0
  R:sleep(gate and math.max(0.05, gate - orch.now()) or (roll > 0 and math.min(86400, roll + 0.01)) or 86400)
end

watch:close()
-- a person's pause stays on the stopped session (status paused): `orch-host resume` finds it and ends it
inbox_run.close(s, "the inbox stopped", nil, type(orch.load_state(PAUSE_KEY)) == "table" and s.status == "paused")
day_done(s)  -- the day so far
R:close()  -- in serve, the process outlives the inbox
return EXIT.ok
