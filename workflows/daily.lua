-- daily.lua: a developer's day, one task at a time, from the markdown day
-- file (docs/task-file-markdown.md).
-- Reads the task file, asks for approval where the policy says so, runs each
-- task through the real `claude -p`, reports progress, and writes the
-- end-of-day report. Every rule here is policy: edit it freely.
--
-- args (from `orch-host run daily.lua ...`, or lib/control.lua in serve):
-- tasks=, auto_approve=, resume=, session= (to resume), session_id= (for a
-- new one), interactive=, started_by=; workflow= (set by the host: this
-- file, as it runs; the session stores it, so a resume runs the same one)
local args = ...
local tasks = require("lib.tasks")
local policy = require("lib.policy")
local fmt = require("lib.format")
local safety = require("lib.safety")
local S = require("lib.session")
local report = require("lib.report")
local prompt_for = require("lib.prompt").for_task

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
    S.set_status(s, "running", { pid = orch.pid, resumed_at = orch.now(), auto_approve = args.auto_approve == true,
                                 no_input = args.no_input == true }, "session_resumed")
    orch.notify(fmt.resumed(s), { type = "info", session = s.id, event = "session_resumed" })
    return s
  end
  local file = args.tasks or S.today_file(cfg.paths.tasks_dir)
  local doc, perr = tasks.load(file)
  if not doc and perr.stage == "read" then
    return nil, fmt.unreadable_tasks(perr, not args.tasks and cfg.paths.tasks_dir or nil)
  end
  if not doc then return nil, tostring(perr) end
  local s = S.new(doc, { id = args.session_id, task_file = file, pid = orch.pid,
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

-- Commands from other processes (orch-host pause|skip, webhooks, Telegram).
local main_task = orch.task_id()
local want = { cancel = {} }  -- pause = reason; cancel[task id] = by
local current    -- the task an agent is working on
local function on_command(cmd)
  if cmd.session_id ~= s.id then return end  -- another session's (serve runs several)
  orch.log("info", "command " .. cmd.command .. " from " .. tostring(cmd.by))
  local cargs = type(cmd.args) == "string" and orch.json.decode(cmd.args) or cmd.args or {}
  if cmd.command == "pause" then
    want.pause = fmt.paused_by(cmd.by)
    if ocfg.pause_stops_agent and current then orch.cancel(main_task, "pause") end
  elseif cmd.command == "skip" and current and (cargs.task == nil or cargs.task == current.id) then
    orch.cancel(main_task, "skip")
  elseif cmd.command == "cancel" and cargs.task then
    want.cancel[tostring(cargs.task)] = tostring(cmd.by)
  elseif cmd.command == "resume" then
    want.pause = nil
  end
end
orch.watch_session(s.id)
orch.on("command", on_command)

local function progress_of()
  local c = S.counts(s)
  return { done = c.done, total = c.total }
end

local function note(t, text, kind, event, extra)
  local fields = { type = kind, session = s.id, task = t and t.id, event = event, progress = progress_of() }
  for k, v in pairs(extra or {}) do fields[k] = v end
  orch.notify(text, fields)
end

local function pause_session(reason)
  S.set_status(s, "paused", { paused_at = orch.now(), pause_reason = reason }, "session_paused")
  note(nil, fmt.paused(s), "warning", "session_paused")
  return EXIT.paused
end


-- What the agent is doing, on one live line.
local function watcher(t)
  local pos, total = S.position(s, t)
  local started = orch.monotonic()
  local doing = "starting"
  local function draw() orch.status_line(fmt.status_line(pos, total, orch.monotonic() - started, doing)) end
  local stop = orch.every(1, draw)
  local function on_event(ev)
    if ev.type == "assistant" and type(ev.message) == "table" then
      for _, b in ipairs(ev.message.content or {}) do
        doing = fmt.agent_doing(b) or doing
        if b.type == "tool_use" then
          orch.print(fmt.tool_line(doing))
          orch.emit("agent_tool", { session = s.id, task = t.id, tool = b.name })
        end
      end
      draw()
    end
    return safety.check(ev, { allowed_root = cfg.claude.allowed_root })
  end
  draw()
  return on_event, function() stop(); orch.status_line(nil) end
end

local function run_agent(t, prompt, resume_id, try)
  current = t
  local log = string.format("%s/task-%s-%s%s-output.log", cfg.paths.logs_dir, s.id, t.id,
    (try or 1) > 1 and ("-try" .. try) or "")
  local on_event, done = watcher(t)
  orch.emit("claude_started", { session = s.id, task = t.id, resume = resume_id })
  local r, rerr = orch.run_claude({ prompt = prompt, resume = resume_id, log_path = log, on_event = on_event,
                                    event_types = { "assistant" },
                                    env = { ORCH_SESSION_ID = s.id, ORCH_TASK_ID = t.id } })
  done()
  if not r then  -- cancelled (skip, pause, interrupted): the stopped run's result is rerr.result
    r = rerr.result or { ok = false, error = tostring(rerr) }
    r.cancelled, r.cancel_reason = true, rerr.reason
  end
  current = nil
  orch.emit("claude_finished", { session = s.id, task = t.id, ok = r.ok, exit_code = r.exit_code,
    error = r.error, cost_usd = r.cost_usd, tokens = r.tokens, duration_ms = r.duration_ms })
  if r.log_error then orch.log("warn", "task " .. t.id .. ": output log not written: " .. r.log_error) end
  return r, log
end

local function question_in(r)
  return r.ok and type(r.result) == "string" and r.result:match("QUESTION:%s*(.-)%s*$")
end

-- One run of a task's agent, its questions answered: -> result, log, cost, tokens
local function attempt(t, try)
  local r, log = run_agent(t, prompt_for(t), nil, try)
  local cost, tokens = r.cost_usd or 0, r.tokens or 0
  local asked = 0
  while question_in(r) and asked < 5 do
    asked = asked + 1
    local q = question_in(r)
    S.set_task(s, t, { status = "waiting_approval", question = q }, "question_asked", { question = q })
    S.set_status(s, "waiting_approval")
    -- an agent's question: the question in agent_questions/<task>.md, the answer in <task>-answer.md
    local qfile = string.format("%s/%s.md", cfg.paths.questions_dir, t.id)
    local afile = string.format("%s/%s-answer.md", cfg.paths.questions_dir, t.id)
    if orch.file_info(afile) then orch.rename(afile, afile .. ".stale-" .. math.floor(orch.now())) end
    orch.write_file(qfile, fmt.question_file(s, t, q, afile))
    note(t, fmt.question(s, t, q), "question", "question_asked")
    local d, derr = orch.await_approval({ session = s.id, task = t.id, kind = "question", prompt = q,
      answer_file = afile })
    S.set_status(s, "running")
    if not d or d.action ~= "answer" then  -- skipped, paused or cancelled (interrupted) instead
      r = { ok = false, cancelled = true, cancel_reason = d and d.action or derr.reason,
            error = d and d.text or derr.message }
      break
    end
    S.set_task(s, t, { status = "running" }, "question_answered", { by = d.by })
    r, log = run_agent(t, d.text, r.session_id, try)
    cost, tokens = cost + (r.cost_usd or 0), tokens + (r.tokens or 0)
  end
  return r, log, cost, tokens
end

-- Run one task to an outcome: "completed" | "failed" | "skipped" | "paused".
-- A failed run goes again while the policy says so (orchestrator.retry_failed).
local function execute(t)
  S.set_task(s, t, { status = "running", started_at = orch.now(), error = orch.json.null,
                     approval_reason = orch.json.null }, "task_started")
  note(t, fmt.task_started(s, t), "progress", "task_started")
  local r, log, cost, tokens = attempt(t, 1)
  local tries = 0
  while policy.retry(r, tries, ocfg) and not want.pause and not orch.interrupted() do
    tries = tries + 1
    S.set_task(s, t, { attempts = tries + 1 }, "task_retried",
      { attempt = tries + 1, of = ocfg.retry_failed + 1, error = r.error })
    note(t, fmt.task_retrying(s, t, { error = r.error, attempt = tries + 1, of = ocfg.retry_failed + 1 }),
      "warning", "task_retried")
    local c, k
    r, log, c, k = attempt(t, tries + 1)
    cost, tokens = cost + c, tokens + k
  end
  local fields = { completed_at = orch.now(), cost_usd = cost, tokens = tokens, output_log = log,
                   claude_session = r.session_id, num_turns = r.num_turns, result = r.result }
  if r.ok then
    fields.status = "completed"
    S.set_task(s, t, fields, "task_finished")
    note(t, fmt.task_completed(s, t, { summary = r.result, cost_usd = cost, tokens = tokens,
      duration_ms = (t.completed_at - t.started_at) * 1000 }), "success", "task_completed")
    return "completed"
  end
  local reason = r.cancelled and r.cancel_reason
  if reason == "skip" or reason == "skipped" then
    fields.status, fields.error = "skipped", "skipped while running"
  elseif reason == "interrupted" or reason == "pause" then
    fields.status, fields.error, fields.completed_at = "paused", "stopped by " .. reason, orch.json.null
  else
    fields.status, fields.error = "failed", r.error or "failed"
  end
  S.set_task(s, t, fields, "task_finished", { error = fields.error })
  if fields.status == "failed" then
    note(t, fmt.task_failed(s, t, { error = r.error, exit_code = r.exit_code, timed_out = r.timed_out,
      timeout = cfg.claude.timeout, cost_usd = cost }), "error", "task_failed")
  end
  return fields.status
end

-- Ask before a task when the policy (or a checkpoint) says so.
-- approval_reason stays on the task while it waits, so a session resumed
-- after its host died asks the same again (see step).
local function approve(t, why)
  local req = { session = s.id, task = t.id, kind = "approval", timeout = ocfg.approval_timeout,
    prompt = fmt.approval_prompt(t) }
  S.set_task(s, t, { status = "waiting_approval", approval_reason = why }, "approval_requested", { reason = why })
  S.set_status(s, "waiting_approval")
  -- decided while the host was down: await_approval returns it at once, nobody is asked
  if not orch.recorded_decision(req) then
    note(t, fmt.approval_needed(s, t, why), "question", "approval_requested",
      { buttons = fmt.approval_buttons(s, t) })
  end
  local asked = orch.now()
  local d, aerr = orch.await_approval(req)
  -- cancelled (the host is stopping): the task waits again when the session resumes
  if not d then d = { action = "cancelled", text = aerr.reason, by = "host" } end
  orch.emit("approval_resolved", { session = s.id, task = t.id, action = d.action, by = d.by,
    waited_s = orch.now() - asked })
  t.approval_wait_s = (t.approval_wait_s or 0) + (orch.now() - asked)
  S.set_status(s, "running")
  return d.action, d
end

-- One task: approval, the agent, the checkpoint and the budget. Returns an
-- exit code to stop the day, or nil to go on.
local checkpoint
local function step(t)
  if want.pause or orch.interrupted() then return pause_session(want.pause or "interrupted") end
  if want.cancel[t.id] then
    S.set_task(s, t, { status = "skipped", completed_at = orch.now(), skipped_by = want.cancel[t.id] },
      "task_finished", { reason = "cancelled" })
    return
  end
  local ask, why = policy.needs_approval(t, ocfg, { auto_approve = args.auto_approve })
  if checkpoint then ask, why = true, checkpoint end
  checkpoint = nil
  -- the host stopped while this task waited for approval (a checkpoint too):
  -- ask the same again, so a decision given meanwhile applies
  if t.status == "waiting_approval" and t.approval_reason and not args.auto_approve then
    ask, why = true, t.approval_reason
  end
  local outcome
  if ask then
    local action, d = approve(t, why)
    if action == "skip" then
      S.set_task(s, t, { status = "skipped", completed_at = orch.now(), skipped_by = d.by }, "task_finished")
      outcome = "skipped"
    elseif action ~= "approve" and action ~= "answer" then
      S.set_task(s, t, { status = "pending" })
      return pause_session(action == "pause" and fmt.paused_by(d.by) or tostring(d.text or action))
    end
  end
  outcome = outcome or execute(t)
  if outcome == "paused" then return pause_session(want.pause or "interrupted") end
  if outcome == "completed" and policy.checkpoint_after(t, ocfg, { auto_approve = args.auto_approve }) then
    checkpoint = fmt.checkpoint_reason(t)
  end
  local cost = S.totals(s)
  local over, budget = policy.budget(cost, cfg.budget, s.budget_warned)
  if over == "pause" then
    note(nil, fmt.budget_reached(cost, budget), "warning", "budget")
    return pause_session("budget")
  elseif over == "warn" then
    s.budget_warned = true
    note(nil, fmt.budget_warning(cost, budget), "warning", "budget_warning")
  end
end

-- The day. A Lua error in this policy (an edit gone wrong) pauses the session
-- with the error, so nothing is lost: fix the workflow, then resume.
local function day()
  for _, t in ipairs(s.tasks) do
    if not S.FINISHED[t.status] then
      local ok, stop = pcall(step, t)
      if not ok then
        local msg = tostring(stop)
        orch.log("error", "workflow error in task " .. t.id .. ": " .. msg)
        if not S.FINISHED[t.status] then  -- unfinished: it runs again on resume; finished work stays finished
          pcall(S.set_task, s, t, { status = "pending", error = "workflow error: " .. msg }, "workflow_error",
            { error = msg })
        end
        pause_session("workflow error: " .. msg)
        return EXIT.bad_input
      end
      if stop then return stop end
    end
  end

  local c = S.counts(s)
  S.set_status(s, "completed", { finished_at = orch.now() }, "session_completed")
  note(nil, fmt.session_completed(s, orch.now()), c.failed > 0 and "warning" or "success", "session_completed")
  local path = report.write(s, cfg.paths.results_dir)
  if path then orch.log("info", "report written to " .. path) end
  return c.failed > 0 and EXIT.failures or EXIT.ok
end

local code = day()
orch.off("command", on_command)  -- in serve, the process outlives the session
orch.unwatch_session(s.id)
return code
