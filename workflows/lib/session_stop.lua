-- session_stop: the words and fields of a task a person stopped (a skip or a
-- cancel: lib/control, lib/runner) or that its approval's wait skipped. Part
-- of lib/session, which re-exports all of it (callers use S.skipped_in, ...):
--   STOPPED_AS, WAITING_FOR
--   skipped_before_start(t, by [, stop]) -> fields
--   skipped_in(t, by [, stop]) -> fields
--   skipped_at_approval(by [, how]) -> error text
local M = {}

-- A person's stop of one task: how = "skip" (skip --task ID, Telegram
-- /skip ID) ends it skipped, "cancel" (cancel --task ID, the webhook's and
-- REST cancel, Telegram /cancel ID) cancelled, in a day and in the inbox
-- alike. cancelled is the host's own too: an inbox file deleted or rewritten
-- while queued, an inbox that stops.
M.STOPPED_AS = { skip = "skipped", cancel = "cancelled" }

-- What a task in hand without a running agent waits for, by its status: the
-- words of its skip's error (skipped_in) and of the skip's or cancel's reply
-- (lib/control), which say that no agent was stopped. A paused one (its
-- agent stopped by a pause or Ctrl-C) waits for the session's resume.
M.WAITING_FOR = { waiting_retry = "waiting for a retry", waiting_answer = "waiting for an answer",
  waiting_limit = "waiting for its usage limit to reset", waiting_approval = "waiting for approval",
  paused = "paused" }

-- stopped_fields(t, by, stop, words) -> the fields of task t stopped by
-- `by` (nil: not known) as stop = {how=, note=, channel=, request_id=}
-- says (nil: a skip); words(status_word, by_part) gives its error. A
-- person's stop is also a decision kept on the task (t.approvals, with
-- its note: lib/approval), shown by status and the report.
local function stopped_fields(t, by, stop, words)
  stop = stop or {}
  local status = M.STOPPED_AS[stop.how] or "skipped"
  local f = { status = status, completed_at = orch.now() }
  if by ~= nil then
    f.skipped_by = tostring(by)
    f.approvals = require("lib.approval").recorded(t, { action = stop.how or "skip", by = f.skipped_by,
      channel = stop.channel, id = stop.request_id, note = stop.note })
  end
  f.error = words(status, by ~= nil and (" by " .. f.skipped_by) or "")
  return f
end

local function interrupted(word, who) return "interrupted when its host stopped, then " .. word .. who end

-- skipped_before_start(t, by [, stop]) -> the fields of task t a person
-- stopped before it started (stopped_fields): "skipped by NAME before it
-- ran"; one whose earlier run its host's end cut (interrupted_at) says so
function M.skipped_before_start(t, by, stop)
  if tonumber(t.interrupted_at) and (tonumber(t.agent_runs) or 0) == 0 then
    return stopped_fields(t, by, stop, interrupted)
  end
  return stopped_fields(t, by, stop, function(word, who) return word .. who .. " before it ran" end)
end

-- skipped_in(t, by [, stop]) -> the fields of task t that a skip or a cancel
-- stopped (stopped_fields), its error saying what t was doing then (its
-- status): waiting (M.WAITING_FOR), running its agent, or not started yet
-- (no agent run: skipped_before_start). A run its host's end cut (stop.down:
-- no host runs the session and t still reads running; or, before its agent
-- starts again, one stop_unrecorded marked interrupted_at) says so:
-- "interrupted when its host stopped, then skipped by NAME" (an agent's
-- start is counted with the run's next commit, which a kill -9 loses)
function M.skipped_in(t, by, stop)
  local runs = tonumber(t.agent_runs) or 0
  if (stop and stop.down and t.status == "running") or (runs == 0 and tonumber(t.interrupted_at)) then
    return stopped_fields(t, by, stop, interrupted)
  end
  if runs == 0 then return M.skipped_before_start(t, by, stop) end
  local doing = M.WAITING_FOR[t.status] or "it ran"
  return stopped_fields(t, by, stop, function(word, who) return word .. who .. " while " .. doing end)
end

-- skipped_at_approval(by [, how]) -> the error of a task skipped (how:
-- "skip", or "cancel": cancelled) while it waited for approval: by whoever
-- decided (skipped_by), or by approval_timeout
-- (orchestrator.on_approval_timeout = "skip")
function M.skipped_at_approval(by, how)
  if by == "approval_timeout" then
    return "skipped: no decision within approval_timeout (on_approval_timeout is skip)"
  end
  return (M.STOPPED_AS[how] or "skipped") .. " by " .. tostring(by) .. " while it waited for approval"
end

return M
