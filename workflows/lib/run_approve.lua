-- run_approve: the runner's (lib/runner) wait for a person before a task.
-- Policy: edit freely.
local S = require("lib.session")
local fmt = require("lib.format")
local policy = require("lib.policy")
local approval = require("lib.approval")
local slots = require("lib.agent_slots")

local M = {}

-- Ask before a task when the policy (or a checkpoint) says so; the task holds
-- no agent slot while it waits. approval_reason stays on the task while it
-- waits, so a session resumed after its host died asks the same again (the
-- same request id, unless it was decided: lib/approval). A wait that
-- approval_timeout ends is decided by policy.on_approval_timeout. Every
-- decision is kept on the task (t.approvals: who, when, which channel).
-- approve(R, t, w, why) -> action, decision
function M.approve(R, t, w, why)
  local s, pool, ocfg = R.s, R.pool, orch.config.orchestrator
  local req = { session = s.id, task = t.id, kind = "approval", timeout = ocfg.approval_timeout,
    prompt = fmt.approval_prompt(t) }
  S.set_task(s, t, { status = "waiting_approval", approval_reason = why }, "approval_requested", { reason = why })
  S.set_status(s, "waiting_approval")
  -- decided while the host was down: await_approval returns it at once, nobody is asked
  if not orch.recorded_decision(req) then
    local rq = approval.request(s, t, orch.open_approval(req), why)
    S.set_task(s, t, { approval_request = rq.request_id })
    R:note(t, fmt.approval_request(s, t, why, rq), "question", "approval_requested",
      { buttons = fmt.approval_buttons(rq.request_id), request_id = rq.request_id, request = rq })
  end
  local asked = orch.now()
  pool:release(w, "waiting")
  local d, aerr
  local stop = slots.pending_cancel(w)
  if stop then aerr = { reason = stop } else d, aerr = orch.await_approval(req) end
  pool:set_phase(w, "none")
  -- cancelled: the host is stopping, a pause, a skip of this task
  -- (a skip or cancel of this task says how, and who: lib/runner's w.stop, w.stopped_by)
  if not d then
    local how = aerr.reason == "skip" and (w.stop and w.stop.how or "skip") or "cancelled"
    d = { action = how, text = aerr.reason, by = aerr.reason == "skip" and w.stopped_by or "host" }
  end
  if d.action == "timeout" then
    local on, reason = policy.on_approval_timeout(ocfg)
    d = { action = on, text = reason, by = "approval_timeout", channel = "timer", at = d.at, id = d.id, expired = true }
    orch.log("info", "task " .. tostring(t.id) .. ": " .. reason)
    R:note(t, fmt.approval_timed_out(s, t, reason), "warning", "approval_timeout")
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

return M
