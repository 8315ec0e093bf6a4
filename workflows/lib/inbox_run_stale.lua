-- inbox_run_stale: an inbox session's end, and what a dead host left
-- (lib/inbox_run's, installed into its table: callers use lib.inbox_run).
-- Policy: edit freely.
--
--   M.close(s, why [, at [, paused [, moved_to]]])  a stopped inbox's session
--   M.settle_dead(s)            a dead host's ended tasks whose files it did not move
--   M.settle_stale(except), M.close_stale(list, moved_to)  a dead host's, once the new one is made
--   M.DIED_AFTER_AGENT
local S = require("lib.session")
local questions = require("lib.questions")
local inbox_queue = require("lib.inbox_queue")

return { install = function(M)

-- close(s, why [, at [, paused [, moved_to]]]): the session of an inbox that
-- stopped, completed (paused: it stays paused, for a resume to find): its
-- unfinished tasks cancelled (their files stay in the folder: the next start
-- runs them; moved_to: the id of that next start's session, already made,
-- which the task and the session's stop reason name)
function M.close(s, why, at, paused, moved_to)
  s._closed = true
  local left = moved_to and ("moved to session " .. moved_to .. ", which runs its file again")
    or "its file stays in the folder and runs at the next start"
  local moved = false
  for _, t in ipairs(s.tasks or {}) do
    if not S.FINISHED[t.status] then
      -- its question is not asked again in this session: the next start asks under its own
      questions.closed(orch.config.paths.questions_dir, s, t)
      -- its time ends where its host stopped (at), not when a later host closes it
      local stop = tonumber(t.stopped_at) or at
      local a = tonumber(t.started_at)
      S.set_task(s, t, { status = "cancelled", completed_at = stop and math.max(stop, a or stop) or orch.now(),
                         error = why .. "; " .. left, moved_to = moved_to })
      moved = moved_to ~= nil
    end
  end
  if moved then why = why .. "; its tasks left moved to session " .. moved_to end
  if paused then
    S.set_status(s, "paused", { finished_at = orch.now(), stop_reason = why, queued = 0 }, "inbox_stopped")
    return
  end
  S.set_status(s, "completed", { finished_at = orch.now(), stop_reason = why, queued = 0 }, "session_completed")
end

-- whether the ledger holds task t's end (its file's content, at its end or after)
local function archived(t)
  local row = inbox_queue.ledger(t.inbox.id or t.id)
  return row ~= nil and row.sha == t.inbox.sha and (tonumber(row.at) or 0) >= (tonumber(t.completed_at) or 0)
end

-- settle_dead(s): the tasks of a dead host's inbox session that ran and
-- ended, but whose end the ledger does not hold: the host died between the
-- task's end and its file's move. Their artifacts (when not written) and the
-- move now, so the next start does not run the agent again. One whose agent
-- had finished, its checks not yet done, ends needs_review (DIED_AFTER_AGENT)
-- the same way. A task that never started (dropped while queued), or whose
-- agent was cut off, is left: its file runs again.
M.DIED_AFTER_AGENT = "its host stopped after its agent finished, before the task's checks and artifacts: "
  .. "review the agent's result (the agent is not run again)"

function M.settle_dead(s)
  local run
  for _, t in ipairs(s.tasks or {}) do
    local ran = tonumber(t.started_at) or tonumber(t.first_started_at)
    local done = type(t.agent_done) == "table" and t.agent_done
    if done and not S.FINISHED[t.status] and type(t.inbox) == "table" and t.inbox.sha and not archived(t) then
      -- its agent had finished (lib/run_agent): a person looks at what it did,
      -- rather than a second paid run of the same file
      S.set_task(s, t, { status = "needs_review", error = M.DIED_AFTER_AGENT, result = done.result,
                         claude_session = done.claude_session, num_turns = done.num_turns, output_log = done.output_log,
                         completed_at = tonumber(done.at) or orch.now() }, "task_finished",
                 { reason = M.DIED_AFTER_AGENT })
    end
    if ran and S.FINISHED[t.status] and type(t.inbox) == "table" and t.inbox.sha and not archived(t) then
      run = run or M.new(s, inbox_queue.new(orch.config, { session = s.id }))
      if t.status ~= "cancelled" then run:leave_artifacts(t) end
      local dest = run.q:finished({ id = t.inbox.id or t.id, inbox = t.inbox }, t.status, t.error, t.id)
      orch.log("info", string.format("inbox: task %s had ended when its host stopped; its file %s",
        tostring(t.id), dest and ("moved to " .. dest .. " now") or "was not moved (see above)"))
    end
  end
end

-- settle_stale(except) -> the inbox sessions a host that died left running
-- or paused, their ended tasks settled (settle_dead: before the folder is
-- watched, so a file it archives is not offered again); close_stale(list,
-- moved_to) closes them once the new session (id moved_to) is made: their
-- unfinished tasks run in it
function M.settle_stale(except)
  local list = {}
  for _, row in ipairs(orch.list_sessions(50)) do
    if row.kind == "inbox" and (S.SESSION_ACTIVE[row.status] or row.status == "paused") and row.id ~= except then
      local old = S.load(row.id)
      if old then
        M.settle_dead(old)
        list[#list + 1] = old
      end
    end
  end
  return list
end

function M.close_stale(list, moved_to)
  for _, old in ipairs(list) do M.close(old, "its host stopped", tonumber(old.updated_at), nil, moved_to) end
end

end }
