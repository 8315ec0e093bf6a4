-- session_time: when a session and its tasks ran: a session's runtime and
-- when it was last seen, a task's time (its runs, less the time it waited for
-- an answer), and the fields a start, a resume or a host's end sets. Part of
-- lib/session, which re-exports all of it (callers use S.task_time, ...):
--   SESSION_ACTIVE
--   last_seen(s, now, live) -> time;  runtime(s, now, live) -> seconds | nil
--   touch(s);  resumed_fields(s, now) -> fields
--   task_time(t [, now]) -> seconds | nil
--   started_fields(t, now), agent_started_fields(t, now) -> fields
--   stop_unrecorded(s, at)  (its set_task: lib/session, required when it runs)
local model = require("lib.session_model")

local M = {}

-- Session statuses a host works on (a paused or completed session has none).
M.SESSION_ACTIVE = { running = true, waiting_approval = true }

-- stopped_since(s) -> when session s stopped working: its pause (paused_at,
-- while it is paused since its last resume: an inbox paused still records the
-- files dropped meanwhile), else its last update (a pause, its host's last
-- heartbeat: M.touch) | nil
local function stopped_since(s)
  local p = tonumber(s.paused_at)
  if s.status == "paused" and p and p >= (tonumber(s.resumed_at) or tonumber(s.started_at) or 0) then return p end
  return tonumber(s.updated_at)
end

-- last_seen(s, now, live) -> when session s last ran: now while a live host
-- runs it; else when it stopped (stopped_since)
function M.last_seen(s, now, live)
  if M.SESSION_ACTIVE[s.status] and live then return now end
  return stopped_since(s) or now
end

-- touch(s): the row of active session s saved again as it was (s._row): its
-- updated_at says its host was alive now (lib/runner's heartbeat), so a host
-- killed later leaves its runtime and the elapsed time of its agents
-- (last_seen) at about its death, not at the session's last change. Only
-- while it has tasks in hand: an idle inbox writes nothing (its last task's
-- end is when it last worked)
function M.touch(s)
  if s._row and M.SESSION_ACTIVE[s.status] and next(s._active or {}) then orch.save_session(s._row) end
end

-- runtime(s, now, live) -> seconds from the start to the finish; a session a
-- live host runs grows until now, one whose host is gone (or that is paused)
-- stopped when it was last seen (last_seen). nil before it started. The time it stood
-- paused or stopped before a resume (s.stopped_s, M.resumed_fields) is left out.
function M.runtime(s, now, live)
  local started = tonumber(s.started_at)
  if not started or started <= 0 then return nil end
  local ended = tonumber(s.finished_at)
  if not ended or ended <= 0 then ended = M.last_seen(s, now, live) end
  return math.max(0, ended - started - (tonumber(s.stopped_s) or 0))
end

-- resumed_fields(s, now) -> the fields of session s resuming now: resumed_at,
-- and stopped_s grown by the time since it stopped (paused, or its host gone)
function M.resumed_fields(s, now)
  local since = stopped_since(s) or now
  return { resumed_at = now, stopped_s = (tonumber(s.stopped_s) or 0) + math.max(0, now - since) }
end

-- A task's time is the sum of its runs: started_at to completed_at, plus
-- spent_s, the runs before the last, each stopped short (a pause, Ctrl-C, a
-- permanent error, its host gone) and counted to its stopped_at. The time it
-- stood stopped is not counted, as for the session's runtime.
-- task_time(t [, now]) -> seconds | nil (it never ran); the run in hand, not
-- stopped, counts to now when given, else not at all.
-- The time it waited for a person's answer (lib/questions: it holds no slot
-- then) is not counted either: its own time, not the person's (the report's
-- time saved by parallelism would count a long wait as work).
local function waited(t, a, b)
  local w, open = 0, tonumber(t.asked_at)
  for _, q in ipairs(type(t.questions) == "table" and t.questions or {}) do
    local x, y = tonumber(q.asked_at), tonumber(q.answered_at)
    if x and y then w = w + math.max(0, math.min(y, b) - math.max(x, a)) end
    if x and open and x == open then open = nil end  -- the last question asked is answered
  end
  if open and t.question ~= nil then w = w + math.max(0, b - math.max(open, a)) end  -- still waiting
  return w
end

function M.task_time(t, now)
  local spent, a = tonumber(t.spent_s) or 0, tonumber(t.started_at)
  if not a or a <= 0 then return spent > 0 and spent or nil end
  local b = tonumber(t.completed_at)
  if not b or b <= 0 then
    local stop = tonumber(t.stopped_at)
    b = (stop and stop >= a) and stop or now
  end
  return spent + (b and math.max(0, b - a - waited(t, a, b)) or 0)
end

-- started_fields(t, now) -> the fields of task t as a run of it starts now:
-- running, started_at, and spent_s its time so far (task_time); agent_runs
-- (its agent's starts, counted by lib/run_agent: with first_started_at, the
-- first) 0 until its agent starts
function M.started_fields(t, now)
  return { status = "running", started_at = now, spent_s = M.task_time(t) or orch.json.null,
           stopped_at = orch.json.null, agent_runs = tonumber(t.agent_runs) or 0 }
end

-- agent_started_fields(t, now) -> the fields of task t as its agent starts
-- now (a first run, a retry, a run continued after a usage limit, a question's
-- answer or a resume): agent_runs one more, first_started_at the first
function M.agent_started_fields(t, now)
  return { agent_runs = (tonumber(t.agent_runs) or 0) + 1, first_started_at = tonumber(t.first_started_at) or now }
end

-- stop_unrecorded(s, at): the tasks of s whose run stopped with no stopped_at
-- (the host killed, a workflow error) stopped `at` (the session's last update
-- before it resumes: where resumed_fields counts its stop from)
function M.stop_unrecorded(s, at)
  for _, t in ipairs(s.tasks or {}) do
    local a, stop = tonumber(t.started_at), tonumber(t.stopped_at)
    if a and a > 0 and not model.FINISHED[t.status] and not (stop and stop >= a) then
      -- one still running then: its host's end cut its run (what a skip of it says: skipped_in)
      require("lib.session").set_task(s, t, { stopped_at = math.max(a, at),
        interrupted_at = t.status == "running" and at or nil })
    end
  end
end

return M
