-- inbox_queue: the inbox's queue of task files (`*.task.md` in
-- cfg.paths.tasks_dir) and the ledger of the ones processed.
--
-- local q = inbox_queue.new(cfg, opts)
--   opts.parse(path, {root=, info=}) -> task | nil, err   (default lib/inbox_task.load,
--   which leaves the file's orch.file_info in info.of)
--   opts.hash(text) -> the parser's inbox.sha of that text (default lib/sha256.hex;
--   only a quick check: when it differs, the file is parsed again)
--   opts.now() -> epoch seconds, opts.emit(event, fields), opts.log(level, msg),
--   opts.state = {load = fn(key), save = fn(key, value), atomically = fn(f)}  (default the host's state)
--   opts.session: the session named in the events
-- q:offer(name [, received]) -> task | nil, why   name: the file's name in the
--   folder (ev.name); received(task | nil, name, "duplicate" | nil, err): called
--   once the file was read (nil: it could not be, or was refused: err, the
--   parser's), before the queue does or says anything of it, -> the task id its
--   events carry (a duplicate's task_archived, which names none when received
--   gives none: a duplicate is no task; without received, its id). why:
--   "queued" (already queued with this content), "running"
--   (running with this content), "duplicate" (processed already, or the same
--   id and content queued under another name: moved to processed/),
--   "invalid" (moved to failed/ with its reason, the third value), "gone" (vanished: logged),
--   "ignored" (not a task file name). A file rewritten while queued replaces
--   its queued task; one rewritten while it runs is queued again as a new
--   version and runs after it.
-- q:gone(name [, dropped]) its file was deleted: a queued task is dropped (logged; a
--                         running one too when dropped says why the inbox drops it)
-- q:rescan([received]) -> tasks, refused   offers every task file present (start-up,
--   overflow, a folder that came back) and drops queued ones whose file is
--   gone; refused: { {name=, why="invalid", error=} } the ones moved to failed/ (error: their reason)
-- q:take() -> task|nil   the next: priority (high first), then age (front
--   matter `created`, else the file's mtime, else arrival), then name. A task
--   whose id is running waits until it ends (one id never runs twice at once).
-- q:finished(t, status, reason [, as]): records it in the ledger (as: the
--   session's id of the task, which its event names), moves its file to
--   processed/ (completed, needs_review) or failed/ (anything else, with
--   `<file>.reason` beside it: M.reason_line) and emits task_archived. A file that changed
--   while it ran stays for its new version.
-- q:size(), q:queued() -> { {id=, name=, priority=, age=}, ... } in take order
--
-- Moves never replace a file already there: the name gets a number before
-- .task.md (x.1.task.md, x.2.task.md, ...); but a file refused (invalid) and
-- written again (an append after its first close, a fixed copy) replaces its
-- refused version in failed/: one file, one outcome. A symlink is moved itself, never
-- followed. A file that vanished before its move is logged, not an error.
--
-- The ledger of the files processed: lib/inbox_queue_ledger (its parts, installed
-- into this table and Q: callers use lib.inbox_queue alone).
local heap = require("lib.heap")
local files = require("lib.inbox_files")

local M = {}

M.KEY = "inbox_task:"
M.DONE_KEPT = 64  -- processed contents remembered per id (the row stays one small read)
M.DONE = { completed = true, needs_review = true }  -- processed/; the rest go to failed/
local RANK = { high = 1, medium = 2, low = 3 }

local Q = {}
Q.__index = Q

local function basename(p) return (tostring(p):match("([^/]+)$")) end

local function less(a, b)
  if a.rank ~= b.rank then return a.rank < b.rank end
  if a.age ~= b.age then return a.age < b.age end
  if a.name ~= b.name then return a.name < b.name end
  return a.seq < b.seq
end

local function content_key(t) return tostring(t.id) .. "\0" .. tostring(t.inbox.sha) end

function M.new(cfg, opts)
  opts = opts or {}
  local state = opts.state or {}
  local q = setmetatable({
    dir = (cfg.paths and cfg.paths.tasks_dir or "tasks"):gsub("/+$", ""),
    parse = opts.parse or function(path, o) return require("lib.inbox_task").load(path, o) end,
    hash = opts.hash or function(text)
      local ok, sha256 = pcall(require, "lib.sha256")
      return ok and sha256.hex(text) or nil
    end,
    now = opts.now or orch.now,
    emit = opts.emit or orch.emit,
    log = opts.log or orch.log,
    load = state.load or orch.load_state,
    save = state.save or orch.save_state,
    atomically = state.atomically or orch.atomically,
    session = opts.session,
    heap = {},        -- entries {t=, name=, rank=, age=, seq=, dead=}, stale ones dropped lazily
    by_name = {},     -- name -> its live entry
    running = {},     -- name -> task taken and not finished
    running_ids = {}, -- id -> true
    content = {},     -- id\0sha -> name of the queued or running file with it
    made = {},        -- subfolders made
    refused = {},     -- name -> where its last version refused (invalid) went in failed/
    n = 0, seq = 0,
  }, Q)
  return q
end

function Q:path(name) return self.dir .. "/" .. name end

-- moves name to failed/ with the reason (refused: it did not run, a new version replaces it)
function Q:fail_file(name, message, status)
  local dest, err = files.archive(self.dir, name, "failed", files.reason(message, status, self.now()), self.made,
    self.log)
  self.refused[name] = dest
  return dest, err
end

-- file name, refused before, is there again (a second write after the first
-- close, a fixed copy): its refused version and reason in failed/ go, as a
-- rewrite replaces a queued file's, so one file leaves one outcome
function Q:supersede(name)
  local dest = self.refused[name]
  self.refused[name] = nil
  orch.remove_file(dest .. ".reason")
  orch.remove_file(dest)
  self.log("info", "inbox: " .. self:path(name) .. " was written again: its version refused before (" .. dest
    .. ") is replaced")
end

-- drops a live queued entry
function Q:drop(e)
  e.dead = true
  if self.by_name[e.name] == e then self.by_name[e.name] = nil end
  local k, run = content_key(e.t), self.running[e.name]
  if self.content[k] == e.name and not (run and content_key(run) == k) then self.content[k] = nil end
  self.n = self.n - 1
end

-- why file name's version t is a duplicate (its content processed already,
-- or queued or running under another name) | nil: two lookups, no walk
function Q:duplicate_of(name, t)
  if M.processed(t, self.load) then return "was processed already" end
  local other = self.content[content_key(t)]
  if other and other ~= name then return "is already queued as " .. other end
end

function Q:duplicate(name, t, of, as)
  local dest = files.archive(self.dir, name, "processed", nil, self.made, self.log)
  if dest then
    -- said on the terminal: whoever dropped it again expected a run
    self.log("warn", string.format("inbox: %s: task %s with this content %s: moved to %s, not run (edit it to "
      .. "run it again)", self:path(name), tostring(t.id), of, dest))
    self.emit("task_archived", { session = self.session, task = as, status = "duplicate", file = name,
      to = dest })
  end
  return nil, "duplicate"
end

-- the age of a task: front matter created, else the file's mtime (as the
-- parse found it, else asked), else arrival
function Q:age(t, name, info)
  local created = tonumber(t.inbox.created)
  if created then return created end
  info = info or orch.file_info(self:path(name))
  return info and tonumber(info.mtime) or self.now()
end

function Q:offer(name, received)
  name = basename(name)
  if not files.is_task_file(name) then return nil, "ignored" end
  local old = self.by_name[name]
  local seen = {}
  local t, perr = self.parse(self:path(name), { root = self.dir, info = seen })
  if self.refused[name] and (t or orch.tree_info(self:path(name))) then self:supersede(name) end
  if not t then
    if received then received(nil, name, nil, perr) end
    if old then self:drop(old) end
    local _, err = self:fail_file(name, tostring(perr), "invalid")
    if err == "gone" then return nil, "gone" end
    return nil, "invalid", tostring(perr)
  end
  local sha = t.inbox.sha
  local run = self.running[name]
  local again = (old and old.t.inbox.sha == sha and old.t.id == t.id and "queued")
    or (run and run.inbox.sha == sha and run.id == t.id and "running")
  local dup = not again and self:duplicate_of(name, t)
  -- a duplicate is no task of the session's: its events name none (the file, they do)
  local as = t.id
  if received then as = received(t, name, dup and "duplicate") end
  if again == "queued" then return nil, "queued" end
  if old then self:drop(old) end
  if again then return nil, again end
  if dup then return self:duplicate(name, t, dup, as) end
  self.seq = self.seq + 1
  local rank = tonumber(t.inbox.priority_rank) or RANK[t.priority] or RANK.medium
  -- a file rewritten while queued keeps its place (its new mtime is not a new arrival), unless it says its age
  local age = (old and not tonumber(t.inbox.created)) and old.age or self:age(t, name, seen.of)
  local e = { t = t, name = name, rank = rank, age = age, seq = self.seq }
  heap.push(self.heap, e, less)
  self.by_name[name], self.content[content_key(t)] = e, name
  self.n = self.n + 1
  if old then
    self.log("info", "inbox: " .. self:path(name) .. " rewritten while queued: its new content replaces it")
  end
  return t
end

function Q:gone(name, dropped)
  name = basename(name)
  local e = self.by_name[name]
  if not e and self.running[name] then
    self.log("info", "inbox: " .. self:path(name) .. " was deleted while its task runs: "
      .. (dropped and ("task " .. tostring(self.running[name].id) .. " dropped (" .. dropped .. ")")
          or "the run goes on"))
  end
  if e then
    self:drop(e)
    self.log("info", string.format("inbox: %s was deleted while queued: task %s dropped",
      self:path(name), tostring(e.t.id)))
  end
end

function Q:rescan(received)
  local names, err = orch.list_dir(self.dir)
  if not names then
    self.log("warn", "inbox: " .. self.dir .. ": " .. tostring(err))
    names = {}
  end
  local present, got, refused = {}, {}, {}
  for _, name in ipairs(names) do
    if files.is_task_file(name) then
      present[name] = true
      -- still being written (there before the watch, or in an overflow): its
      -- close comes as an event, and the file is offered then
      local t, why, reason
      if orch.being_written(self:path(name)) then
        self.log("info", "inbox: " .. self:path(name) .. " is still being written: it runs once it is closed")
      else
        t, why, reason = self:offer(name, received)
      end
      if t then got[#got + 1] = t
      elseif why == "invalid" then refused[#refused + 1] = { name = name, why = why, error = reason } end
    end
  end
  for name in pairs(self.by_name) do
    if not present[name] then self:gone(name) end
  end
  return got, refused
end

-- take([may]) -> the next task may(t) accepts (all, without may): a file the
-- runner cannot start now (a task that asks for approval while as many wait
-- already) keeps its place, and the ones behind it that can start do
function Q:take(may)
  local skipped, e = {}
  while true do
    e = heap.pop(self.heap, less)
    if not e then break end
    if not e.dead then
      if not self.running_ids[e.t.id] and (not may or may(e.t)) then break end
      skipped[#skipped + 1] = e                 -- its id runs now (it waits for it), or it may not start yet
    end
  end
  for _, s in ipairs(skipped) do heap.push(self.heap, s, less) end
  if not e then return nil end
  self.by_name[e.name] = nil
  self.n = self.n - 1
  self.running[e.name], self.running_ids[e.t.id] = e.t, true
  return e.t
end

-- the ledger and a task's end (M.ledger, q:finished, ...): their own file, the same table and Q
require("lib.inbox_queue_ledger").install(M, Q, { basename = basename, content_key = content_key })

function Q:size() return self.n end

function Q:queued()
  local live = {}
  for _, e in pairs(self.by_name) do live[#live + 1] = e end
  table.sort(live, less)
  for i, e in ipairs(live) do
    live[i] = { id = e.t.id, name = e.name, priority = e.t.priority, age = e.age }
  end
  return live
end

return M
