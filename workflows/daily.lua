-- daily.lua: a developer's day, from the day's task file: its tasks as a
-- dependency graph (lib/graph), every ready one started up to
-- max_concurrent agents at once, each agent a task of its own on the loop
-- (the markdown day file, docs/task-file-markdown.md, runs one task at a time
-- unless --max-concurrent says otherwise).
-- Reads the task file, asks for approval where the policy says so, runs each
-- task through the real `claude -p`, reports progress, and writes the
-- end-of-day report. Every rule here is policy: edit it freely.
--
-- args (from `orch-host run daily.lua ...`, or lib/control.lua in serve):
-- tasks=, auto_approve=, resume=, session= (to resume), session_id= (for a
-- new one), interactive=, started_by=, max_concurrent=; workflow= (set by
-- the host: this file, as it runs; the session stores it, so a resume runs
-- the same one)
local args = ...
local tasks = require("lib.tasks")
local graph = require("lib.graph")
local policy = require("lib.policy")
local fmt = require("lib.format")
local S = require("lib.session")
local report = require("lib.report")
local workspaces = require("lib.workspaces")
local feedback = require("lib.feedback")
local limits = require("lib.limits")
local runner = require("lib.runner")
local run_task = require("lib.run_task")

local cfg = orch.config
local ocfg = cfg.orchestrator
local EXIT = { ok = 0, failures = 1, bad_input = 2, paused = 3 }

assert(policy.validate(ocfg))

-- The session: continue a stored one, or start from today's task file.
local function open_session()
  if args.resume then
    local s = assert(S.load(args.session))
    -- the flags the session was started with, unless this resume gives one
    if args.auto_approve == nil then args.auto_approve = s.auto_approve == true end
    S.stop_unrecorded(s, tonumber(s.updated_at) or orch.now())  -- a task's time counts to its stop
    local f = S.resumed_fields(s, orch.now())
    f.pid, f.auto_approve, f.no_input = orch.pid, args.auto_approve == true, args.no_input == true
    if tonumber(args.max_concurrent) then f.max_concurrent = math.floor(args.max_concurrent) end  -- resume's flag
    S.set_status(s, "running", f, "session_resumed")
    orch.notify(fmt.resumed(s), { type = "info", session = s.id, event = "session_resumed" })
    -- a resume runs the tasks as stored: an edit of the file since is said, not silently dropped
    local doc, derr
    if s.task_file then doc, derr = tasks.load(s.task_file) end
    if doc and not S.same_tasks(s, doc) then
      orch.log("warn", string.format("%s changed since session %s started: the resume runs its tasks as they "
        .. "were then; to run the edited ones, start the file again (orch-host run --tasks %s)",
        s.task_file, s.id, s.task_file))
    elseif s.task_file and not doc then  -- deleted, or edited into a file that does not read
      orch.log("warn", string.format("%s cannot be read now (%s): the resume runs session %s's tasks as they were "
        .. "when it started", s.task_file, tostring(derr and (derr.message or derr)), s.id))
    end
    return s
  end
  local file = args.tasks or S.today_file(cfg.paths.tasks_dir)
  local doc, perr = tasks.load(file)
  if not doc and perr.stage == "read" then
    return nil, fmt.unreadable_tasks(perr, not args.tasks and cfg.paths.tasks_dir or nil)
  end
  if not doc then return nil, tostring(perr) end
  -- a worktree per task (workspace.mode), all from this commit
  local base, berr = workspaces.day_base(doc, file)
  if berr then return nil, berr end
  local s = S.new(doc, { id = args.session_id, task_file = file, pid = orch.pid,
                         max_concurrent = policy.max_concurrent(args, doc, ocfg, file), workspace_base = base,
                         budget_usd = doc.max_cost_usd,
                         workflow = args.workflow or "workflows/daily.lua",
                         started_by = args.started_by, auto_approve = args.auto_approve == true,
                         no_input = args.no_input == true })
  orch.notify(fmt.session_started(s), { type = "info", session = s.id, event = "session_started" })
  return s
end

local s, err = open_session()
if not s then
  orch.log("error", err)  -- the daily log, and stderr as "error: ..." (once: not orch.print too)
  return EXIT.bad_input
end

local MAX = math.max(1, math.floor(tonumber(args.max_concurrent) or tonumber(s.max_concurrent) or 1))

-- The standing instructions from earlier days' feedback (lib/feedback) for
-- this day's prompts; a bad feedback file is logged and the day runs without.
local instructions
do
  local day = report.day(s)  -- the day file's date, else today's
  local ok, instr, ferr = pcall(feedback.for_day, cfg, day)
  if ok and instr then
    instructions = instr
    -- that file is left out; the rest apply. Said again at a resume, kept once (as read now)
    local unread = {}
    for _, u in ipairs(instr.unread or {}) do
      orch.log("warn", "feedback: " .. u.error .. " (this file is left out until it is fixed; the rest apply)")
      unread[#unread + 1] = u.error
    end
    if #unread > 0 or s.feedback_unread then
      s.feedback_unread = orch.json.array(unread)
      S.save(s)
    end
  else
    orch.log("warn", "feedback: " .. tostring(ok and ferr or instr) .. " (no standing instructions today)")
  end
end

-- The run: the graph, and the runner (lib/runner: a worker per task in hand,
-- sharing MAX agent slots, each task from approval to its end). R.want.pause:
-- why no task starts now.
local g                                  -- lib/graph, built by day()
local BUDGET_SKIP = runner.BUDGET_SKIP

local R

local function pause_session(reason)
  S.set_status(s, "paused", { paused_at = orch.now(), pause_reason = reason }, "session_paused")
  -- (claude cannot run: that one notice said the session pauses)
  if not R.want.cannot_run then R:note(nil, fmt.paused(s), "warning", "session_paused") end
  return EXIT.paused
end

-- A task that ends (finished, or back to pending/paused) settles in the graph:
-- a bad end blocks its dependents, each recorded with the reason.
-- A task the spent budget stopped leaves its dependents skipped for the
-- budget too (they could not start either way): not blocked, which would
-- count as a failure where the rest of the budget's skips do not.
local function settle(t)
  if not S.FINISHED[t.status] then g:put_back(t) return end
  local budget = t.status == "skipped" and t.skipped_by == BUDGET_SKIP.skipped_by
  for _, b in ipairs(g:finish(t, t.status)) do
    if budget then
      run_task.skip_for_budget(s, b)
    else
      local why = g:blocked_reason(b)
      S.set_task(s, b, { status = "blocked", error = "blocked: " .. why, completed_at = orch.now() },
        "task_finished", { reason = "blocked", error = why })
      R:note(b, fmt.task_blocked(s, b, why), "warning", "task_blocked")
    end
  end
end

-- a skip or cancel of a task of the graph that has not started (lib/runner's
-- commands): skipped or cancelled (lib/session's one rule, the inbox's too)
local function skip_queued(t, by, stop)
  if not g or S.FINISHED[t.status] then return false end
  local f = S.skipped_before_start(t, by, stop)
  S.set_task(s, t, f, "task_finished", { reason = f.error })
  settle(t)
  return true
end

R = runner.new(s, { max = MAX, instructions = instructions, args = args, settle = settle,
                    skip_queued = skip_queued })

-- The remaining tasks once the budget is spent: skipped, with the reason.
-- (every open task is one of them: none is blocked by another's skip)
local function skip_for_budget()
  local left = g:remaining()
  for _, t in ipairs(left) do run_task.skip_for_budget(s, t) end
  for _, t in ipairs(left) do g:finish(t, "skipped") end
end

-- The day: start what is ready, wait for a worker to end or a command, again.
local function day()
  local gerr
  g, gerr = graph.new(s.tasks)
  if not g then
    orch.log("error", tostring(gerr))
    pause_session(tostring(gerr))
    return EXIT.bad_input
  end
  for _, b in ipairs(g.blocked) do  -- a resumed session whose failures block tasks still open
    S.set_task(s, b, { status = "blocked", error = "blocked: " .. g:blocked_reason(b) }, "task_finished",
      { reason = "blocked" })
  end
  R:check_budget()  -- a resumed session may have spent it already
  local want = R.want
  while true do
    while g:has_ready() and R:can_start(g:peek()) do R:start(g:take()) end
    -- a usage limit holds the ready tasks back: the day sleeps until it opens
    local gate = limits.closed()
    local held = gate and g:has_ready() and not (want.pause or want.budget or want.fatal or orch.interrupted())
    if R.pool.n == 0 and not held then
      if want.budget then skip_for_budget() end
      if want.fatal then pause_session("workflow error: " .. want.fatal) return EXIT.bad_input end
      if g:done() then break end
      if want.pause or orch.interrupted() then return pause_session(want.pause or "interrupted") end
      if not g:has_ready() then error("the graph has open tasks and none is ready") end
    else
      R:sleep(gate and math.max(0.05, gate - orch.now()) or 86400)
    end
  end

  local c = S.counts(s)
  S.set_status(s, "completed", { finished_at = orch.now() }, "session_completed")
  local bad = S.failures(c)
  R:note(nil, fmt.session_completed(s, orch.now()), bad and "warning" or "success", "session_completed")
  local path = report.write(s, cfg.paths.results_dir)
  if path then orch.log("info", "report written to " .. path) end
  return bad and EXIT.failures or EXIT.ok
end

local code = day()
R:close()  -- in serve, the process outlives the session
return code
