-- run_agent: a task's agent runs for the runner (lib/runner): one run of
-- `claude -p` in its own environment, watched live, parked on a usage limit,
-- its questions answered. Policy: edit freely.
--
--   M.attempt(R, t, w, try) -> result, log
local S = require("lib.session")
local fmt = require("lib.format")
local safety = require("lib.safety")
local prompt_for = require("lib.prompt").for_task
local workspaces = require("lib.workspaces")
local acceptance = require("lib.acceptance")
local agent_env = require("lib.agent_env")
local safety_after = require("lib.safety_after")
local questions = require("lib.questions")
local agent_outcome = require("lib.agent_outcome")
local limits = require("lib.limits")
local slots = require("lib.agent_slots")
local policy = require("lib.policy")

local M = {}

-- stopped(why) -> the result of a run a pause, a stop or a skip ended before (or instead of) its agent
function M.stopped(why)
  return { ok = false, cancelled = true, cancel_reason = why, error = "stopped by " .. tostring(why) }
end

-- the tools whose calls write or edit a file (input.file_path; NotebookEdit's notebook_path)
local WRITES = { Write = true, Edit = true, MultiEdit = true, NotebookEdit = true }

-- a file the agent's tool call b writes or edits, recorded once in w.files_touched
local function touched(w, b)
  if not WRITES[b.name] or type(b.input) ~= "table" then return end
  local path = b.input.file_path or b.input.notebook_path
  if type(path) ~= "string" or path == "" then return end
  w.touched = w.touched or {}
  if w.touched[path] then return end
  w.touched[path] = true
  w.files_touched = w.files_touched or {}
  w.files_touched[#w.files_touched + 1] = path
end

-- What each agent is doing, one live line per agent; hooked: the agent runs
-- with the PreToolUse hook (lib/agent_env), which blocks forbidden calls
-- before they run, so the stream check (lib/safety) need not stop it. The
-- files its Write/Edit/MultiEdit/NotebookEdit calls name go to w.files_touched.
local function watcher(R, t, w, hooked, dir)
  local s = R.s
  local pos, total = S.position(s, t)
  local started = orch.monotonic()
  local doing = "starting"
  local key = "task:" .. t.id
  local function draw() orch.status_line(key, fmt.status_line(pos, total, orch.monotonic() - started, doing)) end
  local stop = orch.every(1, draw)
  local seen = {}  -- from the stream for lib/agent_outcome: rate_limit = a rejected rate_limit_event's info
  local unsafe, forbidden_seen = safety.stream_check({ allowed_root = orch.config.claude.allowed_root, cwd = dir },
    hooked)
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
          touched(w, b)
          orch.print(fmt.tool_line(doing, R.max > 1 and t.id or nil))
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

local function run_once(R, t, w, prompt, resume_id, try)
  local s, pool, cfg = R.s, R.pool, orch.config
  local ok, why = pool:acquire(w)
  if not ok then return M.stopped(why) end
  -- the budget is spent: no new agent run, not even one that continues its
  -- claude session (an answer that came as the budget was spent, a usage limit's reset)
  if R.want.budget then
    pool:release(w, "none")
    return { ok = false, cancelled = true, cancel_reason = "budget", error = "skipped: budget" }
  end
  local log = agent_env.output_log(s, t, try)
  -- its own config dir, PreToolUse hook and refusing git (lib/agent_env); the refs before its first run.
  -- It works in its worktree, else in the folder the task names (t.cwd), else in claude.base_cwd
  local dir = w.ws and w.ws.path or t.cwd or acceptance.resolve(cfg.claude.base_cwd or ".", orch.root)
  local agent = agent_env.for_run(s, t, dir, { ORCH_SESSION_ID = s.id, ORCH_TASK_ID = t.id }, w)
  if t.agent_done then S.set_task(s, t, { agent_done = orch.json.null }) end  -- an earlier run's, now gone for good
  if not w.safety_before then
    local kept = type(t.safety_before) == "table" and t.safety_before
    if kept and kept.dir == dir and kept.refs then  -- a resumed run: the state before it first began
      w.safety_before = safety_after.again(kept)
    else
      w.safety_before = agent_env.shielded(w, safety_after.before, s, dir, w.ws)
      -- stored before the agent runs (its own commit: a kill during the run must not lose it)
      if w.safety_before.refs then S.set_task(s, t, { safety_before = safety_after.kept(w.safety_before) }) end
    end
  end
  local stop = slots.pending_cancel(w)  -- cancelled while they were made
  if stop then
    pool:release(w, "none")
    return M.stopped(stop)
  end
  local on_event, done, seen = watcher(R, t, w, agent.hooked, dir)
  -- the result's attempts and started_at (lib/artifacts), saved with the run's
  -- next commit (no commit of its own: a host killed before it loses one count)
  S.stage(s, t, S.agent_started_fields(t, orch.now()))
  orch.emit("claude_started", { session = s.id, task = t.id, resume = resume_id })
  w.in_run = true  -- its agent runs: budget.stop_agents stops it
  local r, rerr = orch.run_claude({ prompt = prompt, resume = resume_id, log_path = log, on_event = on_event,
                                    cwd = w.ws and w.ws.path or t.cwd,
                                    event_types = { "assistant", "rate_limit_event", agent.hooked and "user" or nil },
                                    env = agent.env, extra_args = agent.extra_args })
  done()
  w.in_run = nil
  -- forbidden calls refused before they ran (the hook, the CLI's disallowed
  -- tools) do not fail a run that went on; they are on the task (tool_blocks)
  local refused = r and not r.ok and r.exit_code == 0 and tostring(r.error):match("^permission denied: ")
    and safety.refused_only(r.permission_denials, { allowed_root = cfg.claude.allowed_root, cwd = dir })
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
  if r.have_result == false then  -- stopped before claude's result line, which alone has the cost:
    -- the tokens its stream showed (r.usage, the host's count), priced for the model it named
    r.cost_usd = policy.estimate_cost(r.usage, r.model, cfg.budget.prices)
    r.cost_estimated = r.cost_usd > 0 or nil
  end
  -- this run's cost, on the task at once: a host killed later neither loses it
  -- nor counts it again (the restarted task adds its own runs). A run that
  -- ends its task with nothing that can wait before the task's last commit
  -- (w.stage_cost, lib/run_task: no worktree to diff, no acceptance command,
  -- no artifacts; and the agent done, no question asked) has it in that
  -- commit: the same moment for a kill to lose it, one commit less a task.
  w.cost, w.tokens = w.cost + (tonumber(r.cost_usd) or 0), w.tokens + S.tokens(r.tokens)
  w.usage = S.add_usage(w.usage, r.usage)
  -- the part of the cost that is an estimate, shown as such (lib/format cost)
  if r.cost_estimated then w.cost_estimated = (w.cost_estimated or 0) + r.cost_usd end
  local cost = { cost_usd = w.cost, tokens = w.tokens, usage = w.usage, cost_estimated_usd = w.cost_estimated }
  local finished = r.ok and not r.cancelled and not questions.of(r)
  if w.stage_cost and finished then
    S.stage(s, t, cost)
  else
    -- its agent is done, its checks (a worktree's, acceptance commands) or an
    -- inbox's artifacts to come: a host killed before its end leaves this, and
    -- the resume judges that run (lib/run_retries runs) or the inbox's next start
    -- settles it (lib/inbox_run settle_dead), instead of running the agent again
    if finished then
      cost.agent_done = { result = r.result, claude_session = r.session_id, num_turns = r.num_turns, output_log = log,
                          at = orch.now() }
    end
    -- the session row's totals wait for the task's end when only short steps
    -- come first (a worktree's diff, the artifacts): no acceptance command
    if finished and #(t.verify or {}) == 0 then S.set_task_row(s, t, cost) else S.set_task(s, t, cost) end
  end
  R:check_budget()
  r.rate_limit = seen.rate_limit
  if r.stalled then
    orch.emit("agent_stalled", { session = s.id, task = t.id, last_event = r.last_event, error = r.error })
  end
  orch.emit("claude_finished", { session = s.id, task = t.id, ok = r.ok, exit_code = r.exit_code,
    error = r.error, cost_usd = r.cost_usd, cost_estimated = r.cost_estimated, tokens = r.tokens,
    duration_ms = r.duration_ms })
  if r.log_error then orch.log("warn", "task " .. t.id .. ": output log not written: " .. r.log_error) end
  return r, log
end

-- One agent run -> result, log. A usage limit (lib/agent_outcome) parks
-- it: the gate (lib/limits) closes for every session until the reset, the
-- task is waiting_limit holding no slot, one notice says when work resumes,
-- and then the run continues its own claude session. No agent starts while
-- the gate is closed; a task parked when its host stopped continues the
-- session it stored (limit_session) once the gate opens.
local function run_agent(R, t, w, prompt, resume_id, try)
  local s = R.s
  if not resume_id and t.limit_session then prompt, resume_id = fmt.limit_resume_prompt(), t.limit_session end
  while true do
    local open, gerr = limits.wait(function(secs)
      if t.status ~= "waiting_limit" then
        S.set_task(s, t, { status = "waiting_limit", error = fmt.limit_waiting(limits.closed()) })
      end
      return R.pool:wait_unslotted(w, secs, R:serial())
    end)
    if not open then
      return M.stopped(gerr.reason)
    end
    if t.status == "waiting_limit" then
      S.set_task(s, t, { status = "running", error = orch.json.null }, "limit_resumed")
    end
    local r, log = run_once(R, t, w, prompt, resume_id, try)
    local o = agent_outcome.classify(r)
    if o.kind ~= "usage_limit" then
      if t.limit_session then S.set_task(s, t, { limit_session = orch.json.null, limit_until = orch.json.null }) end
      return r, log
    end
    if type(r.session_id) == "string" and r.session_id ~= "" then resume_id = r.session_id end
    if resume_id then prompt = fmt.limit_resume_prompt() end
    local untl, fresh = limits.park(o.resets_at, o.reason, orch.config.orchestrator)
    S.set_task(s, t, { status = "waiting_limit", limit_session = resume_id or orch.json.null, limit_until = untl,
                       error = fmt.limit_waiting(untl) },
      "task_waiting_limit", { reason = o.reason, resets_at = o.resets_at, ["until"] = untl })
    if fresh then R:note(t, fmt.usage_limit_parked(s, t, untl, o.reason), "warning", "usage_limit") end
  end
end

-- the agent's prompt: the driver's (R.hooks.prompt), else the task's with the
-- standing instructions (lib/prompt)
local function prompt_of(R, t, w)
  if R.hooks.prompt then return R.hooks.prompt(t, w) end
  local prompt = prompt_for(t, { instructions = R.instructions, workspace = w.ws ~= nil })
  if R.instructions then
    -- stored with the run's cost (a rerun applies them again)
    S.stage(R.s, t, { instructions_applied = orch.json.array(t.instructions_applied or {}) })
  end
  return prompt
end

-- One run of a task's agent, its questions answered: -> result, log.
-- A question parks the task (lib/questions): no agent slot, no count
-- against starting others, until the answer continues the agent's session.
-- A task that was parked when its host stopped asks the same again.
function M.attempt(R, t, w, try)
  local pool = R.pool
  local ctx = { session = R.s, questions_dir = orch.config.paths.questions_dir,
                note = function(...) return R:note(...) end,
                park = function(on) if on then pool:release(w, "parked") else pool:set_phase(w, "none") end end,
                cancelled = function() return slots.pending_cancel(w) end }
  local r, log
  local q, sid = questions.pending(t)
  if q then
    r, log = { ok = false, session_id = sid }, t.output_log
  else
    local prompt = prompt_of(R, t, w)
    if w.ws then workspaces.write_instructions(w.ws, prompt) end
    r, log = run_agent(R, t, w, prompt, nil, try)
    q = questions.of(r)
  end
  while q do
    -- a question asked once the budget is spent is not put to anyone: no agent run would take its answer
    local d, why
    if R.want.budget then why = { reason = "budget", message = "skipped: budget" } else
      d, why = questions.ask(ctx, t, q, r.session_id)
    end
    if not d then
      local dec = why.decision  -- a person's skip or cancel at the question: who, how, the note (lib/run_task)
      if dec and not w.stopped_by then
        w.stop = { how = dec.action, note = dec.text, channel = dec.channel, request_id = dec.id }
      end
      w.stopped_by = w.stopped_by or why.by
      -- a pause decided at its question pauses the session, by that person (as one at an approval)
      if why.reason == "pause" and why.by then R:request_pause(fmt.paused_by(why.by), false) end
      r = { ok = false, cancelled = true, cancel_reason = why.reason, error = why.message, session_id = r.session_id }
      break
    end
    r, log = run_agent(R, t, w, d.text, r.session_id, try)
    q = questions.of(r)
  end
  return r, log
end

return M
