-- run_retries: the runs of a task's agent (lib/run_agent's attempts) for
-- lib/run_task, again while lib/policy says so, with the backoff between
-- them; a run its agent finished before its host stopped is judged again,
-- not paid for again.
-- Policy: edit freely.
--
--   M.runs(R, t, w) -> result, log | nil, "pending" (a permanent error paused the session)
local S = require("lib.session")
local fmt = require("lib.format")
local policy = require("lib.policy")
local safety_after = require("lib.safety_after")
local agent_outcome = require("lib.agent_outcome")
local run_agent = require("lib.run_agent")
local attempt, stopped = run_agent.attempt, run_agent.stopped

local M = {}

-- the runs of t's agent, again while the policy says so -> result, log.
-- lib/agent_outcome tells the errors apart, lib/policy next_try says whether
-- and when to go again; a permanent one (a bad key, no credit) pauses the
-- whole session with one notice and puts the task back to pending (-> nil, "pending")
-- the run its agent had finished when its host stopped (during the task's
-- checks: lib/run_agent agent_done), to be judged again rather than paid for
-- again; in a worktree only with the state kept from before it (safety_before)
local function finished_run(t, w)
  local done = type(t.agent_done) == "table" and t.agent_done
  if not done or (w.ws and type(t.safety_before) ~= "table") then return nil end
  if w.ws then w.safety_before = w.safety_before or safety_after.again(t.safety_before) end
  orch.log("info", string.format("task %s: its agent had finished before its host stopped: its checks run again, "
    .. "not the agent", tostring(t.id)))
  return { ok = true, result = done.result, session_id = done.claude_session, num_turns = done.num_turns },
    done.output_log
end

-- the backoff before t's next attempt (its status already says waiting_retry)
-- -> nil | the stopped result when a pause, a stop or a skip ended it
local function backoff(R, t, w, seconds)
  local waited, e = R.pool:wait_unslotted(w, seconds, R:serial())
  -- running again with the next agent's start (its commit): no write of its own
  S.stage(R.s, t, waited and { status = "running", retry_at = orch.json.null } or { retry_at = orch.json.null })
  if not waited then return stopped(e.reason) end
end

local function runs(R, t, w)
  local s, want, ocfg = R.s, R.want, orch.config.orchestrator
  local fr, flog = finished_run(t, w)
  if fr then return fr, flog end
  -- a host that stopped during a retry's backoff (t.retry_at kept): the count goes on, the
  -- backoff's rest is waited out, so a crash loop cannot retry without end
  local tries, again = 0, tonumber(t.retry_at)
  if again then
    tries = math.max(0, (tonumber(t.attempts) or 1) - 1)
    local left = again - orch.now()
    if left > 0 then
      S.set_task(s, t, { status = "waiting_retry" })
      local stop = backoff(R, t, w, left)
      if stop then return stop end
    else
      S.stage(s, t, { retry_at = orch.json.null })
    end
  end
  local r, log = attempt(R, t, w, tries + 1)
  while true do
    local o = agent_outcome.classify(r)
    if o.kind == "permanent" then
      S.set_task(s, t, { status = "pending", error = "claude cannot run: " .. o.reason, output_log = log,
                         stopped_at = orch.now() },
        "agent_cannot_run", { reason = o.reason })
      if not want.cannot_run then
        want.cannot_run = o.reason
        R:note(t, fmt.agent_cannot_run(s, t, o.reason, o.fix), "error", "agent_cannot_run")
      end
      R:request_pause("claude cannot run: " .. o.reason, true)
      return nil, "pending"
    end
    if want.budget then break end
    local delay = policy.next_try(o, tries, ocfg)
    if not delay then break end
    if want.pause or orch.interrupted() then  -- its retry was due: it runs after the resume, not lost as failed
      r = stopped(orch.interrupted() and "interrupted" or "pause")
      break
    end
    tries = tries + 1
    local of = (o.kind == "transient" and ocfg.retry_transient or ocfg.retry_failed) + 1
    -- a wait first: waiting_retry until retry_at, its agent gone and no slot held (status says so)
    local f = { attempts = tries + 1 }
    if delay > 0 then f.status, f.retry_at = "waiting_retry", orch.now() + delay end
    S.set_task(s, t, f, "task_retried", { attempt = tries + 1, of = of, error = r.error, reason = o.reason })
    orch.emit("retry", { session = s.id, task = t.id, attempt = tries + 1, of = of, kind = o.kind,
      reason = o.reason, delay = delay })
    R:note(t, o.kind == "transient"
      and fmt.task_retrying_after(s, t, { reason = o.reason, attempt = tries + 1, of = of, delay = delay })
      or fmt.task_retrying(s, t, { error = r.error, attempt = tries + 1, of = of }), "warning", "task_retried")
    if delay > 0 then
      local stop = backoff(R, t, w, delay)
      if stop then r = stop break end
    end
    r, log = attempt(R, t, w, tries + 1)
  end
  return r, log
end

M.runs = runs

return M
