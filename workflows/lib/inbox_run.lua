-- inbox_run: what the task inbox (workflows/inbox.lua) does around the
-- runner (lib/runner): the folder's file events into the queue
-- (lib/inbox_queue) and onto the session (each queued file a pending task,
-- so status shows it and a cancel finds it by id), a task's start (the
-- configuration read again, the working directory it names), its prompt
-- (lib/prompt's for_inbox), and its end: the summary (lib/summarize), the
-- artifacts (lib/artifacts) and the file's move to processed/ or failed/.
-- Policy: edit freely.
--
--   I = M.new(s, q)   s: the inbox's session (lib/session, kind "inbox"); q: its queue
--   I:offer(name, path, R), I:gone(name, R), I:rescan()  the folder's events
--   I:start(R, qt)                                    a task q:take gave, to the runner R
--   I:restart_held(R)                                 the tasks a pause put back, again
--   I:skip_all(why)                                   every queued one skipped (the budget)
--   I.hooks: the runner's settle, skip_queued, prompt and finishing
--   M.close(s, why [, at])                            a stopped inbox's session
--   M.settle_stale(except), M.close_stale(list, id)   a dead host's, once the new one (id) is made
--   M.settle_dead(s)                                  a dead host's ended tasks whose files it did not move
--   M.workdir(t) -> path | nil, why                   the folder task t's cwd: names
local S = require("lib.session")
local fmt = require("lib.format")
local for_inbox = require("lib.prompt").for_inbox
local summarize = require("lib.summarize")
local artifacts = require("lib.artifacts")
local inbox_where = require("lib.inbox_where")
local inbox_queue = require("lib.inbox_queue")
local questions = require("lib.questions")

local M = {}
local I = {}
I.__index = I

local function file_name(t) return t.inbox.name .. ".task.md" end

function M.new(s, q)
  -- queued: file name -> its queued (pending) task on the session; origin:
  -- session task id -> the queue's task; held: the tasks a pause put back
  -- file_gone: session task id -> why, for a task whose file went or was
  -- rewritten while it waited for approval (its wait cancelled: I:withdraw)
  -- started: file name -> its task that started last (may have ended since: origin says)
  -- refused_as: file name -> the id a refused file's task_received named, for its event parsed
  local self = setmetatable({ s = s, q = q, queued = {}, origin = {}, held = {}, file_gone = {}, started = {},
                              refused_as = {} }, I)
  self.hooks = {
    settle = function(t) self:settle(t) end,
    skip_queued = function(t, by, stop) return self:skip_queued(t, by, stop) end,
    prompt = function(t) return for_inbox(self.origin[t.id] or t) end,
    finishing = function(t, fields) return self:finishing(t, fields) end,
  }
  return self
end

-- the tasks waiting to start: the queue's and those a pause put back (held)
function I:waiting_count() return self.q:size() + #self.held end

-- that count on the session row (`status`'s "queued"), saved when
-- the row as last saved (S.save's s._row) has another, or is stale (a new
-- task's: S.add_task with row = "later")
function I:save_queue()
  local n = self:waiting_count()
  self.s.queued = n
  local saved = self.s._row
  if not (saved and saved.queued == n) then S.save(self.s) end
end

-- the same once the tasks started in this turn of the main loop ran to their
-- first wait: their start saves the row (running, or why not) and carries the
-- length, so most turns need no save of their own; a task that did not save
-- leaves it to this one (a task of its own, run after theirs on the loop).
-- A file offered leaves its save here too: the files of one burst, delivered
-- before this task runs, share it.
function I:save_queue_soon()
  local saved = self.s._row
  self.s.queued = self:waiting_count()
  if self.soon or (saved and saved.queued == self.s.queued) then return end
  self.soon = orch.spawn(function()
    self.soon = nil
    if not self.s._closed then self:save_queue() end  -- a closed one says queued 0 (M.close)
  end)
end

-- what a rewritten file changes on its queued task
local FIELDS = { "title", "type", "priority", "requires_approval", "description", "acceptance_criteria",
                 "instruction", "context_files", "deliverables", "verify", "line", "inbox" }

-- whether session task row is of file version t's id (the file's, not the row's "x-2")
local function same_id(row, t) return tostring(row.inbox and row.inbox.id or row.id) == tostring(t.id) end

-- queued task t (the queue's) on the session: a new pending task, or the
-- queued one of the same file, rewritten -> the session's task. parsed: the
-- event parsed's fields, said with the new task in its commit (in place of
-- task_added), or after task_updated; the session row is left to save_queue
-- (a burst of files, one save)
function I:track(name, t, parsed)
  local row = self.queued[name]
  if row and not same_id(row, t) then
    -- rewritten under another id: another task (its row, its id in every
    -- command and message); the old one ends before it ran
    self:drop(name, "cancelled", "its file was rewritten as task " .. tostring(t.id))
    row = nil
  end
  if not row then
    self.s.queued = self:waiting_count()
    row = S.add_task(self.s, t, { event = "parsed", fields = parsed, row = "later" })
    self.queued[name] = row
  else
    local f = {}
    for _, k in ipairs(FIELDS) do
      local v = t[k]
      if type(v) == "table" and v[1] ~= nil then v = orch.json.array(v) end
      f[k] = v == nil and orch.json.null or v
    end
    S.set_task(self.s, row, f, "task_updated", { file = t.inbox.file })
    local e = { session = self.s.id, task = row.id }
    for k, v in pairs(parsed) do e[k] = v end
    orch.emit("parsed", e)
  end
  self.origin[row.id] = t
  return row
end

-- the queued task of file name ends before it started (deleted, rewritten
-- into what does not run, cancelled)
function I:drop(name, status, why, fields)
  local row = self.queued[name]
  if not row then return end
  local f = { status = status, error = why, completed_at = orch.now() }
  for k, v in pairs(fields or {}) do f[k] = v end
  S.set_task(self.s, row, f, "task_finished", { reason = why })
  self.queued[name], self.origin[row.id] = nil, nil
end

-- the queue's answer on one file: queued (the event parsed), or why not
-- (err: an invalid one's reason, in its event and its warning)
function I:parsed(name, file, t, why, err)
  local s = self.s
  if t then
    self:track(name, t, { file = file, type = t.type, priority = t.priority, parsed_by = t.inbox.parsed_by or "file" })
    return
  end
  if why == "queued" or why == "running" then return end  -- the same content again: nothing changes
  -- named as its task_received named it, so tail-events --task ID shows why it was refused
  local as = self.refused_as[name]
  self.refused_as[name] = nil
  orch.emit("parsed", { session = s.id, file = file, task = as, ok = false, reason = why, error = err })
  if why == "invalid" then
    orch.log("warn", "inbox: " .. name .. " moved to failed/: " .. (tostring(err or "?"):match("^[^\n]*")))
  end
  self:drop(name, "cancelled", "its file was rewritten: " .. tostring(why))
end

-- the session's id of the task of file name's version t: its queued task's
-- (a rewrite keeps it), the started one's when t is what it ran (the same
-- content again), else a new task's (lib/session's add_task)
function I:task_id(name, t)
  local row = self.queued[name]
  if row and same_id(row, t) then return row.id end
  row = self.started[name]
  if row and row.inbox and row.inbox.sha == t.inbox.sha and same_id(row, t) then return row.id end
  return S.new_task_id(self.s, t.id)
end

-- the event task_received of the file at path (name), once the queue read
-- it (t: its version, nil when it could not be read or was refused), with the
-- id of the task its other events name (tail-events --task follows it from
-- here) -> that id. A duplicate (dup) is no task of the session: none. A
-- refused file names the id its front matter gave (perr.id), when the parser
-- read one: no task of the session has it either, and none is returned.
function I:received(path, name, t, via, dup, perr)
  local id = t and not dup and self:task_id(name, t) or nil
  local said = id or (not t and type(perr) == "table" and perr.id) or nil
  self.refused_as[name] = not t and said or nil
  orch.emit("task_received", { session = self.s.id, file = path, task = said, via = via })
  return id
end

-- a file was written, or moved into the folder: a new task, or a new version
-- of a queued one; a new version of one waiting for approval or for an
-- answer to its agent's question withdraws that wait (what was asked about
-- is not what the file says now: the new version runs in its place), as R
-- (the runner) knows it
function I:offer(name, path, R)
  path = path or self.q:path(name)
  local t, why, err = self.q:offer(name, function(v, _, dup, perr)
    return self:received(path, name, v, nil, dup, perr)
  end)
  if t then self:withdraw(name, R, M.REWRITTEN_WAITING) end
  self:parsed(name, path, t, why, err)
  self:save_queue_soon()  -- after the other files of the same burst: one save for them all
end

-- (the %s: what the task waited for, M.waited)
M.GONE_QUEUED = "its file was deleted while queued"
M.GONE_WAITING = "its file was deleted while it waited for %s"
M.REWRITTEN_WAITING = "its file was rewritten while it waited for %s: the new version runs in its place"

-- what task t, waiting, waits for: "an answer" (its agent's question, also
-- one a pause put back) or "approval"
function M.waited(t)
  return (t.status == "waiting_answer" or questions.pending(t)) and "an answer" or "approval"
end

-- the task of file name that started and waits for approval or for an
-- answer to its agent's question, with its worker (R's), or one a pause put
-- back (no worker) -> t, w | nil
function I:waiting_for(name, R)
  local t = self.started[name]  -- (one lookup: every file offered asks, a burst of 1000 walked 1000 each)
  if not t or not self.origin[t.id] or S.FINISHED[t.status] then return nil end
  local w = R and R.workers[t.id]
  if w and ((w.phase == "waiting" and t.status == "waiting_approval")
            or (w.phase == "parked" and t.status == "waiting_answer")) then return t, w end
  for _, h in ipairs(self.held) do if h == t then return t end end
end

-- a file was deleted or moved out of the folder: its queued task is dropped,
-- and so is one waiting for approval (the wait cancelled, so its request is
-- withdrawn; I:settle records it) or put back by a pause; one whose agent
-- runs goes on -> true when one was (a file the inbox moved itself changes nothing)
function I:gone(name, R)
  local t = self:waiting_for(name, R)
  self.q:gone(name, t and M.GONE_WAITING:format(M.waited(t)))
  local queued = self.queued[name] ~= nil
  self:drop(name, "cancelled", M.GONE_QUEUED)
  self:withdraw(name, R, M.GONE_WAITING)
  self:save_queue()
  return queued or t ~= nil
end

-- the task of file name that waits for approval or for an answer, or that
-- a pause put back, ends cancelled (why, its %s what it waited for) before
-- its agent ran on: a wait is cancelled (its request withdrawn, a question's
-- file removed: lib/questions; I:settle records it), a held one ends here -> that task | nil
function I:withdraw(name, R, why)
  local t, w = self:waiting_for(name, R)
  if t then why = why:format(M.waited(t)) end
  if w then
    self.file_gone[t.id] = why
    R.pool:cancel(w, "skip")
  elseif t then
    for i, h in ipairs(self.held) do if h == t then table.remove(self.held, i) break end end
    questions.closed(orch.config.paths.questions_dir, self.s, t)
    S.set_task(self.s, t, { status = "cancelled", error = why, completed_at = orch.now() }, "task_finished",
      { reason = why })
    self.q:finished(self.origin[t.id], "cancelled", why, t.id)
    self.origin[t.id] = nil
  end
  return t
end

-- the folder listed again (start-up, an overflow, the folder back): what
-- it holds is offered, a queued task whose file is gone is dropped
function I:rescan()
  local got, refused = self.q:rescan(function(v, name, dup, perr)
    return self:received(self.q:path(name), name, v, "rescan", dup, perr)
  end)
  for _, t in ipairs(got or {}) do self:parsed(file_name(t), t.inbox.file, t) end
  for _, r in ipairs(refused or {}) do  -- said as a dropped file's are
    self:parsed(r.name, self.q:path(r.name), nil, r.why, r.error)
  end
  local live = {}
  for _, e in ipairs(self.q:queued()) do live[e.name] = true end
  for name in pairs(self.queued) do
    if not live[name] then self:drop(name, "cancelled", "its file was gone when the folder was listed") end
  end
  self:save_queue()
end

-- the working directory task t names (front matter cwd:), read as a phone
-- request's "in <folder>" is (lib/inbox_where) -> path | nil, why
local function workdir(t)
  local dir, err = inbox_where.resolve(orch.config, "in " .. t.inbox.cwd)
  if dir then return dir end
  return nil, "cwd: " .. (err and (tostring(err.message or err):gsub("^in ", ""))  -- the field as written
    or (t.inbox.cwd .. ": give /project-name (a folder under CLAUDE_BASE_CWD) or an absolute path"))
end

M.workdir = workdir  -- (`orch-host check` of an inbox task file says it too)

-- the reason task t cannot run, before its agent starts: its result could
-- not be written (no schema to check it against), its working directory
-- -> nil | why ; cwd
local function cannot_start(qt)
  local schema, serr = artifacts.schema()
  if not schema then return "artifacts not written: " .. tostring(serr) .. " (the agent was not started)" end
  if qt.inbox.cwd then
    local cwd, why = workdir(qt)
    if not cwd then return why end
    return nil, cwd
  end
end

-- A task q:take gave: the configuration read again (a changed .env applies
-- to it), its schema and working directory checked, to the runner.
function I:start(R, qt)
  local s = self.s
  require("lib.config_reload").fresh("inbox")
  local name = file_name(qt)
  local t = self.queued[name] and self.origin[self.queued[name].id] == qt and self.queued[name]
    or S.add_task(s, qt)
  self.queued[name] = nil
  self.origin[t.id], self.started[name] = qt, t
  local why, cwd = cannot_start(qt)
  if why then
    S.set_task(s, t, { status = "failed", error = why, completed_at = orch.now() }, "task_finished", { error = why })
    R:note(t, fmt.task_failed(s, t, { error = why }), "error", "task_failed")
    self:settle(t)
    return
  end
  if cwd then S.set_task(s, t, { cwd = cwd }) end  -- the runner's agent works there (no worktree)
  R:start(t)
end

-- t with fields applied (orch.json.null clears), as artifacts.write reads it
local function view(t, fields)
  local v = {}
  for k, x in pairs(t) do v[k] = x end
  for k, x in pairs(fields or {}) do
    if x == orch.json.null then v[k] = nil else v[k] = x end
  end
  return v
end

-- the summary and the artifacts of finished task v (t's view) -> summary,
-- the write error | nil, the paths
function I:artifacts(t, v)
  local s, cfg = self.s, orch.config
  local sum = summarize.summary(cfg, v)
  orch.emit("summarized", { session = s.id, task = t.id, via = sum.via, model = sum.model, fallback = sum.fallback })
  -- a later version of its file (the ledger's count) has its own pair: the earlier run's stay
  local inbox = type(v.inbox) == "table" and v.inbox or {}
  local version = inbox_queue.version_of(inbox_queue.ledger(inbox.id or v.id), inbox.sha)
  local paths, werr = artifacts.write(cfg, v, { summary = sum, parsed_by = inbox.parsed_by or "file",
    session = s.id, version = version })
  if not paths then
    if type(werr) == "table" and werr.code == "schema" then
      orch.emit("validated", { session = s.id, task = t.id, check = "schema", ok = false, error = tostring(werr) })
    end
    werr = "artifacts not written: " .. tostring(werr)
    orch.emit("artifacts_written", { session = s.id, task = t.id, ok = false, error = werr })
    return sum, werr
  end
  -- the result was checked against the schema before it was written (lib/artifacts.write)
  orch.emit("validated", { session = s.id, task = t.id, check = "schema", ok = true, file = paths.result })
  orch.emit("artifacts_written", { session = s.id, task = t.id, result = paths.result, summary = paths.summary })
  return sum, nil, paths
end

-- a task's error once its artifacts could not be written (werr): a task that
-- failed keeps its own reason first
local function with_write_error(status, err, werr)
  return (status == "failed" and err) and (tostring(err) .. "; " .. werr) or werr
end

-- The runner's last word on a run's end (lib/run_task): the summary and the
-- artifacts before the task is reported; one not written fails it. A run
-- whose wait I:withdraw cancelled leaves none (I:settle records it cancelled).
-- -> { summary =, error = } for its notice
function I:finishing(t, fields)
  if not S.FINISHED[fields.status] or self.file_gone[t.id] then return nil end
  local sum, werr, paths = self:artifacts(t, view(t, fields))
  if werr then  -- failed; its summary is not said
    fields.error = with_write_error(fields.status, fields.error, werr)
    fields.status = "failed"
    return { error = fields.error }
  end
  fields.result_file, fields.summary_file = paths.result, paths.summary
  return { summary = sum.text }
end

-- finished task t's artifacts, when its run's end did not leave them; one
-- not written fails it. fields: changes not saved yet, saved with the
-- artifacts' paths in one write (t as it will be is what they say)
function I:leave_artifacts(t, fields)
  fields = fields or {}
  local err = fields.error or t.error
  if not (t.result_file or tostring(err or ""):find("artifacts not written", 1, true)) then
    local status = fields.status or t.status
    local _, werr, paths = self:artifacts(t, view(t, fields))
    if werr then
      fields.status, fields.error = "failed", with_write_error(status, err, werr)
    else
      fields.result_file, fields.summary_file = paths.result, paths.summary
    end
  end
  if next(fields) then S.set_task(self.s, t, fields) end
end

-- A task's worker ended (lib/runner), or it never started: a finished one
-- leaves its artifacts (when its run's end did not) and its file moves on;
-- one the host's stop ended stays in the folder (the next start runs it);
-- one a pause ended runs again after the resume. One whose file went while
-- it waited for approval is dropped as a queued one is (cancelled, no
-- artifacts); one skipped at its approval says who skipped it.
function I:settle(t)
  local s, qt = self.s, self.origin[t.id]
  if not qt then return end
  local gone = self.file_gone[t.id]
  if gone then
    self.file_gone[t.id] = nil
    if t.status == "skipped" then  -- the wait I:withdraw cancelled
      S.set_task(s, t, { status = "cancelled", error = gone, skipped_by = orch.json.null },
        "task_updated", { reason = gone })
    end
  end
  if S.FINISHED[t.status] then
    local fields = {}
    if t.status == "skipped" and t.error == nil then fields.error = S.skipped_at_approval(t.skipped_by) end
    -- (a person's cancel, skipped_by, leaves them as a skip does; the host's own, a file gone, none)
    if t.status ~= "cancelled" or t.skipped_by ~= nil then self:leave_artifacts(t, fields) end
    self.q:finished(qt, t.status, t.error, t.id)
    self.origin[t.id] = nil
  elseif not orch.interrupted() then
    self.held[#self.held + 1] = t
  end
  self:save_queue()
end

-- the tasks a pause put back, to the runner again
function I:restart_held(R)
  while self.held[1] and R:can_start(self.held[1]) do R:start(table.remove(self.held, 1)) end
end

-- a skip or cancel (lib/runner's commands) of a task that is not running:
-- a queued one is dropped, one a pause put back taken off; its file to failed/
function I:skip_queued(t, by, stop)
  local qt = t and self.origin[t.id]
  if not qt or S.FINISHED[t.status] then return false end
  local name, f = file_name(qt), S.skipped_before_start(t, by, stop)  -- skipped or cancelled, as a day's (lib/session)
  for i, h in ipairs(self.held) do
    if h == t then table.remove(self.held, i) break end
  end
  if self.queued[name] == t then
    self.q:gone(name)
    self:drop(name, f.status, f.error, { skipped_by = f.skipped_by, approvals = f.approvals })
  else
    S.set_task(self.s, t, f, "task_finished", { reason = f.error })
    self.origin[t.id] = nil
  end
  self:leave_artifacts(t)  -- as one skipped at its approval leaves
  self.q:finished(qt, t.status, t.error, t.id)
  self:save_queue()
  return true
end

-- skip_all(why): every queued task skipped (the spent budget), its file to failed/
function I:skip_all(why)
  while self.q:size() > 0 do
    local qt = self.q:take()
    if not qt then break end
    local t = self.queued[file_name(qt)]
    self:drop(file_name(qt), "skipped", why, { skipped_by = "budget" })
    if t then self:leave_artifacts(t) end
    self.q:finished(qt, t and t.status or "skipped", t and t.error or why, t and t.id)
  end
  self:save_queue()
end

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

return M
