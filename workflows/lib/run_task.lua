-- run_task: one task run by the runner (lib/runner) to an outcome, from the
-- moment it holds an agent slot: its worktree, its context files, its agent
-- runs and retries (lib/run_agent, lib/run_retries), the checks of what it did, its end.
-- Policy: edit freely.
--
--   M.execute(R, t, w) -> "completed" | "needs_review" | "failed" | "skipped" | "cancelled" | "paused"
--   M.context_ready(R, t) -> true | nil (t failed: a context file is missing or outside), before approval
--   M.BUDGET_SKIP: the fields of a task the spent budget skips; M.skip_for_budget(s, t) sets them
local S = require("lib.session")
local fmt = require("lib.format")
local workspaces = require("lib.workspaces")
local acceptance = require("lib.acceptance")
local safety_after = require("lib.safety_after")
local git = require("lib.git")
local slots = require("lib.agent_slots")
local stopped = require("lib.run_agent").stopped
local runs = require("lib.run_retries").runs  -- its agent's runs and retries

local M = {}

M.BUDGET_SKIP = { status = "skipped", error = "skipped: budget", skipped_by = "budget" }

-- skip_for_budget(s, t): t ends skipped for the spent budget (M.BUDGET_SKIP), with its event
function M.skip_for_budget(s, t)
  local f = { completed_at = orch.now() }
  for k, v in pairs(M.BUDGET_SKIP) do f[k] = v end
  S.set_task(s, t, f, "task_finished", { reason = "budget" })
end

-- where an agent without a worktree works (claude.base_cwd), absolute
local function worktree_dir()
  local d = orch.config.claude.base_cwd or "."
  return d:sub(1, 1) == "/" and d or (orch.root .. "/" .. d)
end

M.base_dir = worktree_dir  -- (`orch-host check` says where an agent without a worktree works)

-- where a task's context files are looked for and may be: its folder, the
-- repository; inside claude.allowed_root when that is set
local function context_where(s, dir)
  local repo = s.workspace_base and s.workspace_base.repo or worktree_dir()
  local root = orch.config.claude.allowed_root
  local roots = (root and root ~= "") and { acceptance.resolve(root, orch.root) } or { dir, repo }
  return { dirs = { dir, repo }, roots = roots }
end

-- t fails without running: a context file is not where it may be (cerr names the task and file)
local function context_failed(R, t, cerr)
  S.set_task(R.s, t, { status = "failed", error = cerr, completed_at = orch.now() }, "task_finished", { error = cerr })
  R:note(t, fmt.task_failed(R.s, t, { error = cerr }), "error", "task_failed")
  return "failed"
end

-- context_check(s, t) -> true | nil, message | false: task t's context
-- files checked before it starts (s: its session, or what `orch-host check`
-- knows: {workspace_base=}). Where they are looked for is known beforehand
-- for a task without a worktree (the same check as at its start) and for one
-- whose worktree is the repository's base alone (no dependency: looked for
-- in the repository); a task after others is checked at its start only (its
-- worktree holds their work): false.
function M.context_check(s, t)
  if s.workspace_base and #(t.depends_on or {}) > 0 then return false end
  local dir = s.workspace_base and (s.workspace_base.repo or worktree_dir()) or t.cwd or worktree_dir()
  return acceptance.check_context(t, context_where(s, dir))
end

-- M.task_dir(s, t) -> the folder t's agent works in: its worktree's, else
-- the one it names, else claude.base_cwd
function M.task_dir(s, t)
  return s.workspace_base and workspaces.path_of(s, t) or t.cwd or worktree_dir()
end

-- context_ready(R, t) -> true | nil when t failed (above): its context files
-- (context_check) and its deliverables' paths checked before anyone is
-- asked to approve it, so no one approves a task that fails at once.
function M.context_ready(R, t)
  local cok, cerr = M.context_check(R.s, t)
  if cok ~= nil then cerr = acceptance.deliverables_outside(t, M.task_dir(R.s, t)) end
  if not cerr then return true end
  context_failed(R, t, cerr)
  return nil
end

-- a task stopped (skip, pause, the host stopping) before its agent started;
-- started: after its run started (its worktree was being made), whose time counts
-- (by: the skip's sender; stop: how, and its note: lib/runner)
local function not_started(R, t, why, started, by, stop)
  if why == "skip" then
    local f = S.skipped_before_start(t, by, stop)
    S.set_task(R.s, t, f, "task_finished")
    return f.status
  end
  S.set_task(R.s, t, { status = "pending", stopped_at = started and orch.now() or nil })
  return "paused"
end

-- the verdict on a run r: its deliverables and acceptance commands checked
-- when the agent says done (the event validated) -> verdict | nil, r
local function judge(R, t, w, r, fields)
  local verdict
  if r.ok then  -- the agent says done: its deliverables and acceptance commands say whether it is
    local stop = slots.pending_cancel(w)
    local checked, cwhy
    if stop then cwhy = stop else
      checked, cwhy = acceptance.judge(t, w.dir, { timeout = orch.config.orchestrator.verify_timeout,
        changed = w.ws and fields.files_changed or nil,
        ignored = w.ws and function(p) return git.ignored(w.dir, p) end or nil })
    end
    if checked then
      for k, v in pairs(checked) do fields[k] = v end
      verdict = cwhy
      orch.emit("validated", { session = R.s.id, task = t.id, check = "acceptance", verdict = verdict,
                               missing = checked.deliverables_missing, verify = checked.verify_results })
    else
      r = stopped(cwhy)
    end
  end
  if r.review and verdict ~= "failed" then verdict, fields.error = "needs_review", r.review end
  return verdict, r
end

-- the end of a run r whose fields are gathered: the verdict on the task, the
-- driver's last word (R.hooks.finishing: the inbox's summary and artifacts,
-- which may fail the task), its notice -> the outcome
local function finish(R, t, w, r, fields)
  local s, cfg = R.s, orch.config
  local cost, tokens = w.cost, w.tokens
  local verdict
  verdict, r = judge(R, t, w, r, fields)
  -- the task ends after its checks: their time is its time (a slot was held for them)
  if type(fields.completed_at) == "number" then fields.completed_at = orch.now() end
  if verdict == "needs_review" or verdict == "failed" then
    fields.status = verdict
  elseif r.ok then
    fields.status = "completed"
    fields.error = orch.json.null
  else
    local reason = r.cancelled and r.cancel_reason
    if reason == "skip" or reason == "skipped" or reason == "cancel" then
      -- what it was doing says its error: waiting (a retry, an answer, a limit), running, not started yet
      for k, v in pairs(S.skipped_in(t, w.stopped_by, w.stop)) do fields[k] = v end
    elseif reason == "budget" then
      for k, v in pairs(M.BUDGET_SKIP) do fields[k] = v end
    elseif reason == "interrupted" or reason == "pause" then
      -- stopped, its cost kept: a resumed run adds its own
      fields.status, fields.error, fields.completed_at = "paused",
        reason == "interrupted" and "stopped: its host was stopped (Ctrl-C or SIGTERM)" or "stopped by " .. reason,
        orch.json.null
      fields.stopped_at = orch.now()  -- its time so far counts (S.task_time)
    else
      fields.status, fields.error = "failed", r.error or "failed"
    end
  end
  local last = {}
  if R.hooks.finishing then
    -- its agent and checks are done: its slot goes to the next task while its end (the inbox's
    -- artifacts, made durable on the writer thread) is written; the limit counts agents
    R.pool:release(w, "finishing")
    last = R.hooks.finishing(t, fields, r) or {}
  end
  local status = fields.status
  S.set_task(s, t, fields, "task_finished", status ~= "completed" and { error = fields.error } or nil)
  if status == "completed" then
    R:note(t, fmt.task_completed(s, t, { summary = last.summary or r.result, cost_usd = cost, tokens = tokens,
      duration_ms = (S.task_time(t) or 0) * 1000 }), "success", "task_completed")
  elseif status == "needs_review" then
    R:note(t, fmt.task_needs_review(s, t, fields.error, last.summary), "warning", "task_needs_review")
  elseif status == "failed" and (r.ok or verdict == "failed") then
    R:note(t, fmt.task_failed(s, t, { error = fields.error, cost_usd = cost, summary = last.summary }), "error",
      "task_failed")
  elseif status == "failed" then
    R:note(t, fmt.task_failed(s, t, { error = last.error or r.error, exit_code = r.exit_code, timed_out = r.timed_out,
      timeout = cfg.claude.timeout, cost_usd = cost, summary = last.summary }), "error", "task_failed")
  end
  return status
end

-- Run one task to an outcome: "completed" | "needs_review" | "failed" | "skipped" | "cancelled" | "paused".
-- The agent's success is checked (lib/acceptance): deliverables, acceptance commands.
-- A failed run goes again while the policy says so (orchestrator.retry_failed).
function M.execute(R, t, w)
  local s = R.s
  local got, why = R.pool:acquire(w)  -- the task runs (and makes its worktree) once it has an agent slot
  if not got then return not_started(R, t, why, nil, w.stopped_by, w.stop) end
  local f = S.started_fields(t, orch.now())  -- its time so far kept: a task's time sums its runs
  f.error, f.approval_reason = orch.json.null, orch.json.null
  if t.slot_wait then f.slot_wait = orch.json.null end  -- a queue its host died in
  S.set_task(s, t, f, "task_started")
  R:note(t, fmt.task_started(s, t), "progress", "task_started")
  if s.workspace_base then  -- its own worktree and branch: the agent works there
    local ws, werr = workspaces.prepare(s, t, function(id) return S.task(s, id) end)
    if not ws and werr.code == "cancelled" then  -- skipped or paused while it waited for its turn
      return not_started(R, t, werr.reason, true, w.stopped_by, w.stop)
    elseif not ws then
      S.set_task(s, t, { status = "failed", error = workspaces.failure(werr), completed_at = orch.now() },
        "task_finished", { error = tostring(werr) })
      R:note(t, fmt.task_failed(s, t, { error = workspaces.failure(werr) }), "error", "task_failed")
      return "failed"
    end
    w.ws = ws
    S.set_task(s, t, { workspace = ws, branch = ws.branch })
  end
  w.dir = w.ws and w.ws.path or t.cwd or worktree_dir()
  local cok, cerr = acceptance.check_context(t, context_where(s, w.dir))
  if cok then cerr = acceptance.deliverables_outside(t, w.dir) end
  if cerr then return context_failed(R, t, cerr) end
  -- runs stopped earlier (a pause, a host that died) already count
  w.cost, w.tokens = tonumber(t.cost_usd) or 0, S.tokens(t.tokens)
  w.usage = type(t.usage) == "table" and t.usage or nil
  w.cost_estimated = tonumber(t.cost_estimated_usd)
  -- the run's cost may wait for the task's last commit when nothing between
  -- them can wait (lib/run_agent)
  w.stage_cost = not w.ws and #(t.verify or {}) == 0 and not R.hooks.finishing
  local r, log = runs(R, t, w)
  if not r then return log end
  local fields = { completed_at = orch.now(), cost_usd = w.cost, tokens = w.tokens, output_log = log,
                   claude_session = r.session_id, num_turns = r.num_turns, result = r.result }
  if w.ws then  -- the files it changed, against where it started
    for k, v in pairs(workspaces.after(w.ws)) do fields[k] = v end
  end
  if w.files_touched then fields.files_touched = orch.json.array(w.files_touched) end  -- its tool calls' files
  -- refs, outside changes, migrations; the forbidden calls refused
  r = safety_after.check(s, t, w.safety_before, r, fields, { refused = w.refused, forbidden = w.forbidden })
  if t.safety_before and not r.cancelled then fields.safety_before = orch.json.null end  -- checked: done with it
  if t.agent_done then fields.agent_done = orch.json.null end  -- judged now (a retried task runs its agent)
  return finish(R, t, w, r, fields)
end

return M
