-- inbox_run_files: the folder's file events on the task inbox's session
-- (lib/inbox_run's, installed into its table and its I: callers use
-- lib.inbox_run): a file offered, parsed, gone or listed again becomes,
-- changes or drops a queued (pending) task; a rewrite or a delete withdraws
-- a wait for approval or an answer. Policy: edit freely.
--
--   I:offer(name, path, R), I:gone(name, R), I:rescan()  the folder's events
--   I:track(name, t, parsed), I:drop(name, status, why [, fields])  a queued task made, ended
--   I:parsed(name, file, t, why, err), I:received(path, name, t, via, dup, perr)  the queue's answers
--   I:task_id(name, t), I:waiting_for(name, R), I:withdraw(name, R, why)
--   M.waited(t), M.GONE_QUEUED, M.GONE_WAITING, M.REWRITTEN_WAITING
--   install(M, I, file_name): file_name(t), lib/inbox_run's, names a task's file
local S = require("lib.session")
local questions = require("lib.questions")

return { install = function(M, I, file_name)

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
    s.refused = (tonumber(s.refused) or 0) + 1  -- the session's refusals, `status`'s count
    S.save(s)
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

end }
