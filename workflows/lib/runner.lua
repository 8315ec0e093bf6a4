-- runner: the per-task pipeline a driver hands its tasks to (workflows/daily.lua
-- the day's dependency graph; another driver another source of tasks): a
-- worker (an orch.spawn task) per task in hand, sharing max agent slots
-- (lib/agent_slots: a task runs while it holds one; a task waiting for a
-- person holds none, at most max of them wait at once; a parked one counts for
-- nothing), each task from its approval through its agent runs, retries,
-- questions, checks and budget to its end. Every rule here is policy: edit it
-- freely.
--
--   R = runner.new(s, { max =, instructions =, args =, settle =, skip_queued =, prompt =, finishing =,
--                       free_beside_waiting = })
--     s: the session (lib/session); max: agent slots; instructions: the
--     standing instructions (lib/feedback) | nil; args: the workflow's args
--     (auto_approve); settle(t): a task's worker ended (t finished, or back to
--     pending/paused); skip_queued(t, by, stop) -> true when the driver skipped t
--     (stop: {how = "skip" | "cancel", note=, channel=}, lib/session skipped_before_start),
--     a task it holds that has not started; prompt(t, w) -> the agent's prompt
--     (default lib/prompt's for_task with the instructions); finishing(t, fields, r)
--     -> { summary =, error = } | nil: the driver's last word on a run's end
--     (fields: what the task is about to be set to, changed in place) before it
--     is recorded and its notice sent. free_beside_waiting: a task that asks
--     nobody starts while max others wait for approval (the inbox; see can_start).
--   R:start(t), R:can_start(t), R:may_start(), R:check_budget(), R:request_pause(reason, stop_agents),
--   R:note(t, text, kind, event, extra), R:sleep(seconds) (a wake ends it), R:wake(), R:close()
--   R.want: pause = reason, fatal = workflow error, budget = true, cannot_run = reason
--   R.pool (lib/agent_slots), R.workers (task id -> w), R.s, R.max; a worker w =
--   {task=, co=, phase=, in_run= (its agent runs), ws= (its worktree), dir= (where its agent works)}
local S = require("lib.session")
local fmt = require("lib.format")
local policy = require("lib.policy")
local slots = require("lib.agent_slots")
local limits = require("lib.limits")
local questions = require("lib.questions")
local run_task = require("lib.run_task")
local approve = require("lib.run_approve").approve

local M = {}
local R = {}
R.__index = R

M.BUDGET_SKIP = run_task.BUDGET_SKIP

function M.new(s, opts)
  local r = setmetatable({ s = s, max = opts.max, instructions = opts.instructions, args = opts.args or {},
    free_beside_waiting = opts.free_beside_waiting,
    want = {}, sleeping = false, main_task = orch.task_id(),
    hooks = { settle = opts.settle or function() end, skip_queued = opts.skip_queued or function() end,
              prompt = opts.prompt, finishing = opts.finishing } }, R)
  -- checkpoint: a checkpoint reason for the next task; hold: the worker whose checkpoint waits
  -- a task in hand waiting for a free slot (after its answer or approval) says so in status
  r.pool = slots.new(r.max, function() r:wake() end, function(w, queued)
    local f = { slot_wait = queued and orch.now() or orch.json.null }
    -- approved, its agent not started yet: nobody is asked any more
    if queued and w.task.status == "waiting_approval" then f.status = "running" end
    S.set_task(s, w.task, f)
  end)
  r.workers = r.pool.workers
  -- the session's heartbeat: a host killed later leaves its runtime at about then (S.touch);
  -- none under a host whose config has no orchestrator.heartbeat (its scripts older than these workflows)
  local beat = tonumber(orch.config.orchestrator.heartbeat)
  if beat then r.heartbeat = orch.every(beat, function() S.touch(s) end) end
  r.on_command = function(cmd) r:command(cmd) end
  orch.watch_session(s.id)
  orch.on("command", r.on_command)
  return r
end

-- the main task sleeps until a worker ends or a command changes something (wake cancels the sleep)
function R:wake()
  if self.sleeping then orch.cancel(self.main_task, "wake") end
end

function R:sleep(seconds)
  self.sleeping = true
  orch.sleep(seconds)
  self.sleeping = false
end

-- in serve, the process outlives the session
function R:close()
  if self.heartbeat then self.heartbeat() self.heartbeat = nil end
  orch.off("command", self.on_command)
  orch.unwatch_session(self.s.id)
end

-- whether the day keeps file order through a task's waits that are not a
-- person's (a retry's backoff, a usage limit): one agent at a time, not the inbox
function R:serial() return self.max == 1 and not self.free_beside_waiting end

-- Stop starting tasks; the ones waiting for a person stop waiting (they ask
-- again on resume), and the running agents stop when the policy says so.
function R:request_pause(reason, stop_agents)
  self.want.pause = self.want.pause or reason
  for _, w in pairs(self.workers) do
    if w.phase == "waiting" or w.phase == "parked" or w.phase == "queued" or w.phase == "starting"
       or w.backoff or (stop_agents and w.phase == "agent") then
      self.pool:cancel(w, "pause")
    end
  end
  self:wake()
end

function R:progress()
  local c = S.counts(self.s)
  return { done = c.done, total = c.total }
end

function R:note(t, text, kind, event, extra)
  local fields = { type = kind, session = self.s.id, task = t and t.id, event = event, progress = self:progress() }
  for k, v in pairs(extra or {}) do fields[k] = v end
  orch.notify(text, fields)
end

-- Commands from other processes (orch-host pause|skip, webhooks, Telegram).
-- skip and cancel name a task (args.task); a skip without one means the one
-- running task (lib/control refuses it while several run).
function R:command(cmd)
  local s = self.s
  if cmd.session_id ~= s.id then return end  -- another session's (serve runs several)
  orch.log("info", "command " .. cmd.command .. " from " .. tostring(cmd.by))
  local cargs = type(cmd.args) == "string" and orch.json.decode(cmd.args) or cmd.args or {}
  if cmd.command == "pause" then
    self:request_pause(fmt.paused_by(cmd.by), orch.config.orchestrator.pause_stops_agent)
  elseif cmd.command == "skip" or cmd.command == "cancel" then
    local id = cargs.task ~= nil and tostring(cargs.task) or nil
    if not id and cmd.command == "skip" then
      local ids = self.pool:running_ids()
      if #ids == 1 then id = ids[1] end
    end
    local w = id and self.workers[id]
    local t = id and S.task(s, id)
    -- how it ends (skipped or cancelled: lib/session STOPPED_AS) and the person's note
    local stop = { how = cmd.command, note = cargs.note, channel = cargs.channel }
    if w then
      -- (a running one says who and how: lib/run_task)
      if not w.stopped_by then w.stopped_by, w.stop = tostring(cmd.by), stop end
      self.pool:cancel(w, "skip")
    elseif t and self.hooks.skip_queued(t, tostring(cmd.by), stop) then
      self:wake()
    end
  elseif cmd.command == "resume" then
    self.want.pause = nil
    self:wake()
  end
end

-- The budget (lib/policy rule 8), after every agent run: the warning once
-- per session (stored: a resume does not send it again), and once it is
-- spent no new agent starts (and, with budget.stop_agents, the running stop).
-- s.spent_before_usd: what earlier sessions of the same budget spent (an
-- inbox restarted the same day: its day's budget is one, however many sessions)
function R:check_budget()
  local s, cfg, want = self.s, orch.config, self.want
  local before = tonumber(s.spent_before_usd) or 0
  local cost = S.totals(s) + before
  local over, budget = policy.budget(cost, cfg.budget, s.budget_warned, s.budget_usd)
  if over == "pause" and not want.budget then
    want.budget = true
    if not s.budget_reached then
      s.budget_reached = true
      S.save(s)
      self:note(nil, fmt.budget_reached(cost, budget, before), "warning", "budget")
    end
    -- a task still waiting for a person or an event before its next agent
    -- run would not run it: a request for its approval (step) or a question
    -- (lib/questions) is withdrawn, a parked one (an answer, a usage limit, a
    -- retry's backoff) stops waiting, and the task ends skipped: budget; with
    -- budget.stop_agents the running agents stop too
    for _, w in pairs(self.workers) do
      if w.phase == "waiting" or w.phase == "parked" or (w.in_run and cfg.budget.stop_agents) then
        self.pool:cancel(w, "budget")
      end
    end
    self:wake()
  elseif over ~= "pause" and want.budget then
    -- no longer spent: the budget was raised or removed (the inbox reads its
    -- config again): new agents start again, and a new overrun is said again
    want.budget, s.budget_reached = nil, nil
    S.save(s)
    self:wake()
  end
  if over == "warn" then
    s.budget_warned = true
    S.save(s)
    self:note(nil, fmt.budget_warning(cost, budget, before), "warning", "budget_warning")
  end
end

-- One task: approval, the agent, the checkpoint and the budget, in worker w.
local function step(self, t, w, why_checkpoint)
  local s, ocfg, args, want = self.s, orch.config.orchestrator, self.args, self.want
  local ask, why = policy.needs_approval(t, ocfg, { auto_approve = args.auto_approve })
  if why_checkpoint then ask, why = true, why_checkpoint end
  -- its agent ran and then parked (a question, a usage limit) when the host
  -- stopped: it was approved then; it continues without being asked again
  if questions.pending(t) or t.limit_session or t.status == "waiting_limit" then ask = false end
  -- the host stopped while this task waited for approval (a checkpoint too):
  -- ask the same again, so a decision given meanwhile applies
  if t.status == "waiting_approval" and t.approval_reason and not args.auto_approve then
    ask, why = true, t.approval_reason
  end
  if ask and not run_task.context_ready(self, t) then return end  -- it would fail at once: not asked
  if ask then
    local action, d = approve(self, t, w, why)
    if self.hold == w then self.hold = nil end
    if action == "skip" or action == "cancel" then  -- (the decision, its note too, is on t.approvals)
      S.set_task(s, t, { status = S.STOPPED_AS[action], completed_at = orch.now(), skipped_by = d.by,
                         error = S.skipped_at_approval(d.by, action) }, "task_finished")
      return
    elseif action == "cancelled" and d.text == "budget" and want.budget then  -- luacheck: ignore 542
      -- the budget was spent while it waited (R:check_budget): skipped below, as every task left is
    elseif action ~= "approve" and action ~= "answer" then
      S.set_task(s, t, { status = "pending" })
      self:request_pause(action == "pause" and fmt.paused_by(d.by) or tostring(d.text or action), false)
      return
    end
  end
  if want.pause or orch.interrupted() then  -- paused while it waited: it starts after resume
    S.set_task(s, t, { status = "pending" })
    return
  end
  if want.budget then
    run_task.skip_for_budget(s, t)
    return
  end
  local outcome = run_task.execute(self, t, w)
  if outcome == "paused" then self:request_pause(want.pause or "interrupted", false) return end
  if outcome == "completed" and policy.checkpoint_after(t, ocfg, { auto_approve = args.auto_approve }) then
    self.checkpoint = fmt.checkpoint_reason(t)
  end
end

-- A worker: the task t from approval to its end, as a task of its own. A Lua
-- error in this policy (an edit gone wrong) pauses the session with the
-- error, so nothing is lost: fix the workflow, then resume.
local function work(self, t, w, why_checkpoint)
  local s, pool = self.s, self.pool
  local ok, e = pcall(step, self, t, w, why_checkpoint)
  if self.hold == w then self.hold = nil end
  if w.phase ~= "none" then pool:release(w, "none") end
  if not ok then
    local msg = tostring(e)
    orch.log("error", "workflow error in task " .. t.id .. ": " .. msg)
    if not S.FINISHED[t.status] then  -- unfinished: it runs again on resume; finished work stays finished
      pcall(S.set_task, s, t, { status = "pending", error = "workflow error: " .. msg }, "workflow_error",
        { error = msg })
    end
    self.want.fatal = self.want.fatal or msg
    self:request_pause("workflow error: " .. msg, false)
  end
  pool:remove(w)
  self.hooks.settle(t)
  pool:release(w, "none")
  self:wake()
end

function R:start(t)
  local why = self.checkpoint
  local w = self.pool:add(t, why ~= nil or self:asks(t))
  if why then self.checkpoint, self.hold = nil, w end
  w.co = orch.spawn(function()
    work(self, t, w, why)
  end)
end

-- whether t will wait for a person before its agent (step's rule, without
-- a checkpoint, which holds every start anyway)
function R:asks(t)
  if questions.pending(t) or t.limit_session or t.status == "waiting_limit" then return false end
  if t.status == "waiting_approval" and t.approval_reason and not self.args.auto_approve then return true end
  return (policy.needs_approval(t, orch.config.orchestrator, { auto_approve = self.args.auto_approve }))
end

-- t may start now: while a usage limit holds every agent back (lib/limits)
-- only a task already underway does (parked, or waiting for a person, when
-- the host stopped): it waits for its own event, its agent for the gate.
-- At most max tasks wait for approval at once (those started to ask count:
-- two started together would both ask). In a day the next task waits
-- behind them (its order, and a checkpoint after a task, hold: a serial day
-- is one task after another); with opts.free_beside_waiting (the inbox, whose
-- files are independent) one that asks nobody starts beside them.
function R:can_start(t)
  return self:may_start()
    and (self.pool:waits() < self.max or (self.free_beside_waiting and not self:asks(t)))
    and ((t.status or "pending") ~= "pending" or not limits.closed())
end

-- whether any task may start now (can_start's part that is not about the task)
function R:may_start()
  local want = self.want
  return not want.pause and not want.budget and not self.hold and not orch.interrupted()
    and self.pool.agents < self.max
end

return M
