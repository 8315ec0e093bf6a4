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
local safety = require("lib.safety")
local S = require("lib.session")
local report = require("lib.report")
local prompt_for = require("lib.prompt").for_task
local workspaces = require("lib.workspaces")
local acceptance = require("lib.acceptance")
local feedback = require("lib.feedback")
local agent_env = require("lib.agent_env")
local safety_after = require("lib.safety_after")
local questions = require("lib.questions")
local slots = require("lib.agent_slots")
local approval = require("lib.approval")
local agent_outcome = require("lib.agent_outcome")
local limits = require("lib.limits")

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
  -- a worktree per task (workspace.mode), all from this commit
  local wcfg = cfg.workspace or {}
  local base, berr = workspaces.session_base(wcfg.mode or "off", policy.is_markdown(doc, file),
    wcfg.repo ~= "" and wcfg.repo or nil)
  if berr then return nil, tostring(berr) end
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
  local day = feedback.valid_date(s.date) and s.date or report.day(s)
  local ok, instr, ferr = pcall(feedback.for_day, cfg, day)
  if ok and instr then
    instructions = instr
  else
    orch.log("warn", "feedback: " .. tostring(ok and ferr or instr) .. " (no standing instructions today)")
  end
end
local main_task = orch.task_id()

-- The run: the graph, and a worker (an orch.spawn task) per task in hand,
-- sharing MAX agent slots (lib/agent_slots: a task runs while it holds one; a
-- task waiting for a person holds none, at most MAX of them wait at once; a
-- parked one counts for nothing). want.pause: why no task starts now.
local g                                  -- lib/graph, built by day()
local want = {}                          -- pause = reason, fatal = workflow error, budget = true
local checkpoint, hold                   -- a checkpoint reason for the next task; the worker whose checkpoint waits

-- the main task sleeps until a worker ends or a command changes something (wake cancels the sleep)
local sleeping = false
local function wake()
  if sleeping then orch.cancel(main_task, "wake") end
end

-- the workers and their agent slots (lib/agent_slots); a worker w =
-- {task=, co=, phase=, in_run= (its agent runs), ws= (its worktree)}
local pool = slots.new(MAX, wake)
local workers = pool.workers
local pending_cancel = slots.pending_cancel
local function set_phase(w, phase) pool:set_phase(w, phase) end
local function release(w, phase) pool:release(w, phase) end
local function cancel_worker(w, reason) pool:cancel(w, reason) end

-- Stop starting tasks; the ones waiting for a person stop waiting (they ask
-- again on resume), and the running agents stop when the policy says so.
local function request_pause(reason, stop_agents)
  want.pause = want.pause or reason
  for _, w in pairs(workers) do
    if w.phase == "waiting" or w.phase == "parked" or w.phase == "queued" or w.phase == "starting"
       or (stop_agents and w.phase == "agent") then
      cancel_worker(w, "pause")
    end
  end
  wake()
end

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
  -- (claude cannot run: that one notice said the session pauses)
  if not want.cannot_run then note(nil, fmt.paused(s), "warning", "session_paused") end
  return EXIT.paused
end

-- A task that ends (finished, or back to pending/paused) settles in the graph:
-- a bad end blocks its dependents, each recorded with the reason.
local function settle(t)
  if not S.FINISHED[t.status] then g:put_back(t) return end
  for _, b in ipairs(g:finish(t, t.status)) do
    local why = g:blocked_reason(b)
    S.set_task(s, b, { status = "blocked", error = "blocked: " .. why, completed_at = orch.now() },
      "task_finished", { reason = "blocked", error = why })
    note(b, fmt.task_blocked(s, b, why), "warning", "task_blocked")
  end
end

-- a task that never started, skipped: `by` (cancel) or why (the budget)
local function skip_unstarted(t, fields, event_fields)
  fields.status, fields.completed_at = "skipped", orch.now()
  S.set_task(s, t, fields, "task_finished", event_fields)
  settle(t)
end

-- Commands from other processes (orch-host pause|skip, webhooks, Telegram).
-- skip and cancel name a task (args.task); a skip without one means the one
-- running task (lib/control refuses it while several run).
local function on_command(cmd)
  if cmd.session_id ~= s.id then return end  -- another session's (serve runs several)
  orch.log("info", "command " .. cmd.command .. " from " .. tostring(cmd.by))
  local cargs = type(cmd.args) == "string" and orch.json.decode(cmd.args) or cmd.args or {}
  if cmd.command == "pause" then
    request_pause(fmt.paused_by(cmd.by), ocfg.pause_stops_agent)
  elseif cmd.command == "skip" or cmd.command == "cancel" then
    local id = cargs.task ~= nil and tostring(cargs.task) or nil
    if not id and cmd.command == "skip" then
      local ids = pool:running_ids()
      if #ids == 1 then id = ids[1] end
    end
    local w = id and workers[id]
    local t = id and S.task(s, id)
    if w then
      cancel_worker(w, "skip")
    elseif t and g and not S.FINISHED[t.status] then
      skip_unstarted(t, { skipped_by = tostring(cmd.by) }, { reason = "cancelled" })
      wake()
    end
  elseif cmd.command == "resume" then
    want.pause = nil
    wake()
  end
end
orch.watch_session(s.id)
orch.on("command", on_command)

-- What each agent is doing, one live line per agent; hooked: the agent runs
-- with the PreToolUse hook (lib/agent_env), which blocks forbidden calls
-- before they run, so the stream check (lib/safety) need not stop it.
local function watcher(t, hooked)
  local pos, total = S.position(s, t)
  local started = orch.monotonic()
  local doing = "starting"
  local key = "task:" .. t.id
  local function draw() orch.status_line(key, fmt.status_line(pos, total, orch.monotonic() - started, doing)) end
  local stop = orch.every(1, draw)
  local seen = {}  -- from the stream for lib/agent_outcome: rate_limit = a rejected rate_limit_event's info
  local unsafe, forbidden_seen = safety.stream_check({ allowed_root = cfg.claude.allowed_root }, hooked)
  seen.forbidden = forbidden_seen
  local function on_event(ev)
    if ev.type == "rate_limit_event" then  -- rejected: the usage limit; anything else is a warning
      local info = type(ev.rate_limit_info) == "table" and ev.rate_limit_info or {}
      if info.status == "rejected" then seen.rate_limit = info else orch.log("warn", fmt.rate_limit_note(t, info)) end
      return nil
    end
    if ev.type == "assistant" and type(ev.message) == "table" then
      for _, b in ipairs(ev.message.content or {}) do
        doing = fmt.agent_doing(b) or doing
        if b.type == "tool_use" then
          orch.print(fmt.tool_line(doing, MAX > 1 and t.id or nil))
          orch.emit("agent_tool", { session = s.id, task = t.id, tool = b.name })
        end
      end
      draw()
    end
    -- an AskUserQuestion call stops the run, which parks the task (lib/questions)
    return questions.live(ev) or unsafe(ev)
  end
  draw()
  return on_event, function() stop(); orch.status_line(key, nil) end, seen
end

-- The budget (lib/policy rule 8), after every agent run: the warning once
-- per session (stored: a resume does not send it again), and once it is
-- spent no new agent starts (and, with budget.stop_agents, the running stop).
local BUDGET_SKIP = { status = "skipped", error = "skipped: budget", skipped_by = "budget" }
local function check_budget()
  local cost = S.totals(s)
  local over, budget = policy.budget(cost, cfg.budget, s.budget_warned, s.budget_usd)
  if over == "pause" and not want.budget then
    want.budget = true
    if not s.budget_reached then
      s.budget_reached = true
      S.save(s)
      note(nil, fmt.budget_reached(cost, budget), "warning", "budget")
    end
    if cfg.budget.stop_agents then
      for _, w in pairs(workers) do if w.in_run then cancel_worker(w, "budget") end end
    end
    wake()
  elseif over == "warn" then
    s.budget_warned = true
    S.save(s)
    note(nil, fmt.budget_warning(cost, budget), "warning", "budget_warning")
  end
end

local function run_once(t, w, prompt, resume_id, try)
  local ok, why = pool:acquire(w)
  if not ok then return { ok = false, cancelled = true, cancel_reason = why, error = "stopped by " .. why } end
  -- the budget is spent: no new agent (an answered question continues its run)
  if want.budget and not resume_id then
    release(w, "none")
    return { ok = false, cancelled = true, cancel_reason = "budget", error = "skipped: budget" }
  end
  local log = string.format("%s/task-%s-%s%s-output.log", cfg.paths.logs_dir, s.id, t.id,
    (try or 1) > 1 and ("-try" .. try) or "")
  -- its own config dir, PreToolUse hook and refusing git (lib/agent_env); the refs before its first run
  local dir = w.ws and w.ws.path or acceptance.resolve(cfg.claude.base_cwd or ".", orch.root)
  local agent = agent_env.for_run(s, t, dir, { ORCH_SESSION_ID = s.id, ORCH_TASK_ID = t.id }, w)
  w.safety_before = w.safety_before or agent_env.shielded(w, safety_after.before, s, dir, w.ws)
  local stop = pending_cancel(w)  -- cancelled while they were made
  if stop then
    release(w, "none")
    return { ok = false, cancelled = true, cancel_reason = stop, error = "stopped by " .. stop }
  end
  local on_event, done, seen = watcher(t, agent.hooked)
  orch.emit("claude_started", { session = s.id, task = t.id, resume = resume_id })
  w.in_run = true  -- its agent runs: budget.stop_agents stops it
  local r, rerr = orch.run_claude({ prompt = prompt, resume = resume_id, log_path = log, on_event = on_event,
                                    cwd = w.ws and w.ws.path or nil,
                                    event_types = { "assistant", "rate_limit_event", agent.hooked and "user" or nil },
                                    env = agent.env, extra_args = agent.extra_args })
  done()
  w.in_run = nil
  -- forbidden calls refused before they ran (the hook, the CLI's disallowed
  -- tools) do not fail a run that went on; they are on the task (tool_blocks)
  local refused = r and not r.ok and r.exit_code == 0 and tostring(r.error):match("^permission denied: ")
    and safety.refused_only(r.permission_denials, { allowed_root = cfg.claude.allowed_root })
  if refused then
    r.ok, r.error = true, nil
    w.refused = w.refused or {}
    for _, b in ipairs(refused) do w.refused[#w.refused + 1] = b end
  end
  if seen.forbidden() then w.forbidden = true end
  if not r then  -- cancelled (skip, pause, interrupted): the stopped run's result is rerr.result
    r = rerr.result or { ok = false, error = tostring(rerr) }
    r.cancelled, r.cancel_reason = true, rerr.reason
  end
  -- this run's cost, on the task at once: a host killed later neither loses it
  -- nor counts it again (the restarted task adds its own runs)
  w.cost, w.tokens = w.cost + (tonumber(r.cost_usd) or 0), w.tokens + S.tokens(r.tokens)
  S.set_task(s, t, { cost_usd = w.cost, tokens = w.tokens })
  check_budget()
  r.rate_limit = seen.rate_limit
  if r.stalled then
    orch.emit("agent_stalled", { session = s.id, task = t.id, last_event = r.last_event, error = r.error })
  end
  orch.emit("claude_finished", { session = s.id, task = t.id, ok = r.ok, exit_code = r.exit_code,
    error = r.error, cost_usd = r.cost_usd, tokens = r.tokens, duration_ms = r.duration_ms })
  if r.log_error then orch.log("warn", "task " .. t.id .. ": output log not written: " .. r.log_error) end
  return r, log
end

-- One agent run -> result, log. A usage limit (lib/agent_outcome) parks
-- it: the gate (lib/limits) closes for every session until the reset, the
-- task is waiting_limit holding no slot, one notice says when work resumes,
-- and then the run continues its own claude session. No agent starts while
-- the gate is closed; a task parked when its host stopped continues the
-- session it stored (limit_session) once the gate opens.
local function run_agent(t, w, prompt, resume_id, try)
  if not resume_id and t.limit_session then prompt, resume_id = fmt.limit_resume_prompt(), t.limit_session end
  while true do
    local open, gerr = limits.wait(function(secs)
      if t.status ~= "waiting_limit" then
        S.set_task(s, t, { status = "waiting_limit", error = fmt.limit_waiting(limits.closed()) })
      end
      return pool:wait_unslotted(w, secs)
    end)
    if not open then
      return { ok = false, cancelled = true, cancel_reason = gerr.reason,
               error = "stopped by " .. tostring(gerr.reason) }
    end
    if t.status == "waiting_limit" then
      S.set_task(s, t, { status = "running", error = orch.json.null }, "limit_resumed")
    end
    local r, log = run_once(t, w, prompt, resume_id, try)
    local o = agent_outcome.classify(r)
    if o.kind ~= "usage_limit" then
      if t.limit_session then S.set_task(s, t, { limit_session = orch.json.null, limit_until = orch.json.null }) end
      return r, log
    end
    if type(r.session_id) == "string" and r.session_id ~= "" then resume_id = r.session_id end
    if resume_id then prompt = fmt.limit_resume_prompt() end
    local untl, fresh = limits.park(o.resets_at, o.reason, ocfg)
    S.set_task(s, t, { status = "waiting_limit", limit_session = resume_id or orch.json.null, limit_until = untl,
                       error = fmt.limit_waiting(untl) },
      "task_waiting_limit", { reason = o.reason, resets_at = o.resets_at, ["until"] = untl })
    if fresh then note(t, fmt.usage_limit_parked(s, t, untl, o.reason), "warning", "usage_limit") end
  end
end

-- One run of a task's agent, its questions answered: -> result, log.
-- A question parks the task (lib/questions): no agent slot, no count
-- against starting others, until the answer continues the agent's session.
-- A task that was parked when its host stopped asks the same again.
local function attempt(t, w, try)
  local ctx = { session = s, questions_dir = cfg.paths.questions_dir, note = note,
                park = function(on) if on then release(w, "parked") else set_phase(w, "none") end end,
                cancelled = function() return pending_cancel(w) end }
  local r, log
  local q, sid = questions.pending(t)
  if q then
    r, log = { ok = false, session_id = sid }, t.output_log
  else
    local prompt = prompt_for(t, { instructions = instructions, workspace = w.ws ~= nil })
    if instructions then S.set_task(s, t, { instructions_applied = orch.json.array(t.instructions_applied or {}) }) end
    if w.ws then workspaces.write_instructions(w.ws, prompt) end
    r, log = run_agent(t, w, prompt, nil, try)
    q = questions.of(r)
  end
  while q do
    local d, why = questions.ask(ctx, t, q, r.session_id)
    if not d then
      r = { ok = false, cancelled = true, cancel_reason = why.reason, error = why.message, session_id = r.session_id }
      break
    end
    r, log = run_agent(t, w, d.text, r.session_id, try)
    q = questions.of(r)
  end
  return r, log
end

-- where an agent without a worktree works (claude.base_cwd), absolute
local function worktree_dir()
  local d = cfg.claude.base_cwd or "."
  return d:sub(1, 1) == "/" and d or (orch.root .. "/" .. d)
end

-- where a task's context files are looked for and may be: its folder, the
-- repository; inside claude.allowed_root when that is set
local function context_where(dir)
  local repo = s.workspace_base and s.workspace_base.repo or worktree_dir()
  local root = cfg.claude.allowed_root
  local roots = (root and root ~= "") and { acceptance.resolve(root, orch.root) } or { dir, repo }
  return { dirs = { dir, repo }, roots = roots }
end

-- a task stopped (skip, pause, the host stopping) before its agent started
local function not_started(t, why)
  if why == "skip" then
    S.set_task(s, t, { status = "skipped", error = "skipped before its agent started", completed_at = orch.now() },
      "task_finished")
    return "skipped"
  end
  S.set_task(s, t, { status = "pending" })
  return "paused"
end

-- Run one task to an outcome: "completed" | "needs_review" | "failed" | "skipped" | "paused".
-- The agent's success is checked (lib/acceptance): deliverables, acceptance commands.
-- A failed run goes again while the policy says so (orchestrator.retry_failed).
local function execute(t, w)
  local got, why = pool:acquire(w)  -- the task runs (and makes its worktree) once it has an agent slot
  if not got then return not_started(t, why) end
  S.set_task(s, t, { status = "running", started_at = orch.now(), error = orch.json.null,
                     approval_reason = orch.json.null }, "task_started")
  note(t, fmt.task_started(s, t), "progress", "task_started")
  if s.workspace_base then  -- its own worktree and branch: the agent works there
    local ws, werr = workspaces.prepare(s, t, function(id) return S.task(s, id) end)
    if not ws and werr.code == "cancelled" then  -- skipped or paused while it waited for its turn
      return not_started(t, werr.reason)
    elseif not ws then
      S.set_task(s, t, { status = "failed", error = "worktree: " .. tostring(werr), completed_at = orch.now() },
        "task_finished", { error = tostring(werr) })
      note(t, fmt.task_failed(s, t, { error = "worktree: " .. tostring(werr) }), "error", "task_failed")
      return "failed"
    end
    w.ws = ws
    S.set_task(s, t, { workspace = ws, branch = ws.branch })
  end
  local dir = w.ws and w.ws.path or worktree_dir()
  local cok, cerr = acceptance.check_context(t, context_where(dir))
  if not cok then
    S.set_task(s, t, { status = "failed", error = cerr, completed_at = orch.now() }, "task_finished", { error = cerr })
    note(t, fmt.task_failed(s, t, { error = cerr }), "error", "task_failed")
    return "failed"
  end
  -- runs stopped earlier (a pause, a host that died) already count
  w.cost, w.tokens = tonumber(t.cost_usd) or 0, S.tokens(t.tokens)
  local r, log = attempt(t, w, 1)
  local tries = 0
  -- lib/agent_outcome tells the errors apart, lib/policy next_try says whether
  -- and when to go again; a permanent one (a bad key, no credit) pauses the
  -- whole session with one notice and puts the task back to pending
  while true do
    local o = agent_outcome.classify(r)
    if o.kind == "permanent" then
      S.set_task(s, t, { status = "pending", error = "claude cannot run: " .. o.reason, output_log = log },
        "agent_cannot_run", { reason = o.reason })
      if not want.cannot_run then
        want.cannot_run = o.reason
        note(t, fmt.agent_cannot_run(s, t, o.reason), "error", "agent_cannot_run")
      end
      request_pause("claude cannot run: " .. o.reason, true)
      return "pending"
    end
    if want.pause or want.budget or orch.interrupted() then break end
    local delay = policy.next_try(o, tries, ocfg)
    if not delay then break end
    tries = tries + 1
    local of = (o.kind == "transient" and ocfg.retry_transient or ocfg.retry_failed) + 1
    S.set_task(s, t, { attempts = tries + 1 }, "task_retried",
      { attempt = tries + 1, of = of, error = r.error, reason = o.reason })
    orch.emit("retry", { session = s.id, task = t.id, attempt = tries + 1, of = of, kind = o.kind,
      reason = o.reason, delay = delay })
    note(t, o.kind == "transient"
      and fmt.task_retrying_after(s, t, { reason = o.reason, attempt = tries + 1, of = of, delay = delay })
      or fmt.task_retrying(s, t, { error = r.error, attempt = tries + 1, of = of }), "warning", "task_retried")
    if delay > 0 then
      local waited, e = pool:wait_unslotted(w, delay)
      if not waited then
        r = { ok = false, cancelled = true, cancel_reason = e.reason, error = "stopped by " .. tostring(e.reason) }
        break
      end
    end
    r, log = attempt(t, w, tries + 1)
  end
  local cost, tokens = w.cost, w.tokens
  local fields = { completed_at = orch.now(), cost_usd = cost, tokens = tokens, output_log = log,
                   claude_session = r.session_id, num_turns = r.num_turns, result = r.result }
  if w.ws then  -- the files it changed, against where it started
    for k, v in pairs(workspaces.after(w.ws)) do fields[k] = v end
  end
  -- refs, outside changes, migrations; the forbidden calls refused
  r = safety_after.check(s, t, w.safety_before, r, fields, { refused = w.refused, forbidden = w.forbidden })
  local verdict
  if r.ok then  -- the agent says done: its deliverables and acceptance commands say whether it is
    local stop = pending_cancel(w)
    local checked, cwhy
    if stop then cwhy = stop else
      checked, cwhy = acceptance.judge(t, dir, { timeout = ocfg.verify_timeout })
    end
    if checked then
      for k, v in pairs(checked) do fields[k] = v end
      verdict = cwhy
    else
      r = { ok = false, cancelled = true, cancel_reason = cwhy, error = "stopped by " .. tostring(cwhy) }
    end
  end
  if r.review and verdict ~= "failed" then verdict, fields.error = "needs_review", r.review end
  if verdict == "needs_review" or verdict == "failed" then
    fields.status = verdict
    S.set_task(s, t, fields, "task_finished", { error = fields.error })
    note(t, verdict == "failed" and fmt.task_failed(s, t, { error = fields.error, cost_usd = cost })
      or fmt.task_needs_review(s, t, fields.error), verdict == "failed" and "error" or "warning",
      verdict == "failed" and "task_failed" or "task_needs_review")
    return verdict
  end
  if r.ok then
    fields.status = "completed"
    fields.error = orch.json.null
    S.set_task(s, t, fields, "task_finished")
    note(t, fmt.task_completed(s, t, { summary = r.result, cost_usd = cost, tokens = tokens,
      duration_ms = (t.completed_at - t.started_at) * 1000 }), "success", "task_completed")
    return "completed"
  end
  local reason = r.cancelled and r.cancel_reason
  if reason == "skip" or reason == "skipped" then
    fields.status, fields.error = "skipped", "skipped while running"
  elseif reason == "budget" then
    for k, v in pairs(BUDGET_SKIP) do fields[k] = v end
  elseif reason == "interrupted" or reason == "pause" then
    -- stopped, its cost kept: a resumed run adds its own
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

-- Ask before a task when the policy (or a checkpoint) says so; the task holds
-- no agent slot while it waits. approval_reason stays on the task while it
-- waits, so a session resumed after its host died asks the same again (the
-- same request id, unless it was decided: lib/approval). A wait that
-- approval_timeout ends is decided by policy.on_approval_timeout. Every
-- decision is kept on the task (t.approvals: who, when, which channel).
local function approve(t, w, why)
  local req = { session = s.id, task = t.id, kind = "approval", timeout = ocfg.approval_timeout,
    prompt = fmt.approval_prompt(t) }
  S.set_task(s, t, { status = "waiting_approval", approval_reason = why }, "approval_requested", { reason = why })
  S.set_status(s, "waiting_approval")
  -- decided while the host was down: await_approval returns it at once, nobody is asked
  if not orch.recorded_decision(req) then
    local rq = approval.request(s, t, orch.open_approval(req), why)
    S.set_task(s, t, { approval_request = rq.request_id })
    note(t, fmt.approval_request(s, t, why, rq), "question", "approval_requested",
      { buttons = fmt.approval_buttons(rq.request_id), request_id = rq.request_id, request = rq })
  end
  local asked = orch.now()
  release(w, "waiting")
  local d, aerr
  local stop = pending_cancel(w)
  if stop then aerr = { reason = stop } else d, aerr = orch.await_approval(req) end
  set_phase(w, "none")
  -- cancelled: the host is stopping, a pause, a skip of this task
  if not d then d = { action = aerr.reason == "skip" and "skip" or "cancelled", text = aerr.reason, by = "host" } end
  if d.action == "timeout" then
    local on, reason = policy.on_approval_timeout(ocfg)
    d = { action = on, text = reason, by = "approval_timeout", channel = "timer", at = d.at, id = d.id, expired = true }
    orch.log("info", "task " .. tostring(t.id) .. ": " .. reason)
  end
  orch.emit("approval_resolved", { session = s.id, task = t.id, action = d.action, by = d.by, request_id = d.id,
    channel = d.id and approval.channel(d.by, d.channel) or nil, waited_s = orch.now() - asked })
  local f = { approval_wait_s = (tonumber(t.approval_wait_s) or 0) + (orch.now() - asked),
              approval_request = orch.json.null }
  if d.id then f.approvals = approval.recorded(t, d) end
  S.set_task(s, t, f)
  if pool.waiting == 0 then S.set_status(s, "running") end
  return d.action, d
end

-- One task: approval, the agent, the checkpoint and the budget, in worker w.
local function step(t, w, why_checkpoint)
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
  if ask then
    local action, d = approve(t, w, why)
    if hold == w then hold = nil end
    if action == "skip" then
      S.set_task(s, t, { status = "skipped", completed_at = orch.now(), skipped_by = d.by }, "task_finished")
      return
    elseif action ~= "approve" and action ~= "answer" then
      S.set_task(s, t, { status = "pending" })
      request_pause(action == "pause" and fmt.paused_by(d.by) or tostring(d.text or action), false)
      return
    end
  end
  if want.pause or orch.interrupted() then  -- paused while it waited: it starts after resume
    S.set_task(s, t, { status = "pending" })
    return
  end
  if want.budget then
    local f = { completed_at = orch.now() }
    for k, v in pairs(BUDGET_SKIP) do f[k] = v end
    S.set_task(s, t, f, "task_finished", { reason = "budget" })
    return
  end
  local outcome = execute(t, w)
  if outcome == "paused" then request_pause(want.pause or "interrupted", false) return end
  if outcome == "completed" and policy.checkpoint_after(t, ocfg, { auto_approve = args.auto_approve }) then
    checkpoint = fmt.checkpoint_reason(t)
  end
end

-- A worker: the task t from approval to its end, as a task of its own. A Lua
-- error in this policy (an edit gone wrong) pauses the session with the
-- error, so nothing is lost: fix the workflow, then resume.
local function work(t, w, why_checkpoint)
  local ok, e = pcall(step, t, w, why_checkpoint)
  if hold == w then hold = nil end
  if w.phase ~= "none" then release(w, "none") end
  if not ok then
    local msg = tostring(e)
    orch.log("error", "workflow error in task " .. t.id .. ": " .. msg)
    if not S.FINISHED[t.status] then  -- unfinished: it runs again on resume; finished work stays finished
      pcall(S.set_task, s, t, { status = "pending", error = "workflow error: " .. msg }, "workflow_error",
        { error = msg })
    end
    want.fatal = want.fatal or msg
    request_pause("workflow error: " .. msg, false)
  end
  pool:remove(w)
  settle(t)
  release(w, "none")
  wake()
end

local function start(t)
  local w = pool:add(t)
  local why = checkpoint
  if why then checkpoint, hold = nil, w end
  w.co = orch.spawn(function()
    work(t, w, why)
  end)
end

-- t may start now: while a usage limit holds every agent back (lib/limits)
-- only a task already underway does (parked, or waiting for a person, when
-- the host stopped): it waits for its own event, its agent for the gate
local function can_start(t)
  return not want.pause and not want.budget and not hold and not orch.interrupted()
    and pool.agents < MAX and pool.waiting < MAX and ((t.status or "pending") ~= "pending" or not limits.closed())
end

-- The remaining tasks once the budget is spent: skipped, with the reason.
-- (every open task is one of them: none is blocked by another's skip)
local function skip_for_budget()
  local left = g:remaining()
  for _, t in ipairs(left) do
    local f = { completed_at = orch.now() }
    for k, v in pairs(BUDGET_SKIP) do f[k] = v end
    S.set_task(s, t, f, "task_finished", { reason = "budget" })
  end
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
  check_budget()  -- a resumed session may have spent it already
  while true do
    while g:has_ready() and can_start(g:peek()) do start(g:take()) end
    -- a usage limit holds the ready tasks back: the day sleeps until it opens
    local gate = limits.closed()
    local held = gate and g:has_ready() and not (want.pause or want.budget or want.fatal or orch.interrupted())
    if pool.n == 0 and not held then
      if want.budget then skip_for_budget() end
      if want.fatal then pause_session("workflow error: " .. want.fatal) return EXIT.bad_input end
      if g:done() then break end
      if want.pause or orch.interrupted() then return pause_session(want.pause or "interrupted") end
      if not g:has_ready() then error("the graph has open tasks and none is ready") end
    else
      sleeping = true
      orch.sleep(gate and math.max(0.05, gate - orch.now()) or 86400)
      sleeping = false
    end
  end

  local c = S.counts(s)
  S.set_status(s, "completed", { finished_at = orch.now() }, "session_completed")
  local bad = c.failed + c.blocked + c.needs_review > 0  -- needs_review counts like failed
  note(nil, fmt.session_completed(s, orch.now()), bad and "warning" or "success", "session_completed")
  local path = report.write(s, cfg.paths.results_dir)
  if path then orch.log("info", "report written to " .. path) end
  return bad and EXIT.failures or EXIT.ok
end

local code = day()
orch.off("command", on_command)  -- in serve, the process outlives the session
orch.unwatch_session(s.id)
return code
