-- inbox_run: what the task inbox (workflows/inbox.lua) does around the
-- runner (lib/runner): the folder's file events into the queue
-- (lib/inbox_queue) and onto the session (each queued file a pending task,
-- so status shows it and a cancel finds it by id), a task's start (the
-- configuration read again, the working directory it names), its prompt
-- (lib/prompt's for_inbox), and its end: the summary (lib/summarize), the
-- artifacts (lib/artifacts) and the file's move to processed/ or failed/.
-- Policy: edit freely. Its parts, installed into this table (callers use
-- lib.inbox_run alone): lib/inbox_run_files (the folder's events on the
-- session) and lib/inbox_run_stale (close, a dead host's sessions).
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

-- the folder's events (offer, gone, rescan, ...): their own file, the same table and I
require("lib.inbox_run_files").install(M, I, file_name)

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

-- the session's end, and a dead host's sessions: their own file, the same table
require("lib.inbox_run_stale").install(M)

return M
