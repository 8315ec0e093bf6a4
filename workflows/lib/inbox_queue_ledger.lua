-- inbox_queue_ledger: the ledger of the inbox's processed task files, and
-- a taken task's end (lib/inbox_queue's, installed into its table and its
-- Q: callers use lib.inbox_queue). Policy: edit freely.
--
-- The ledger: one state row per task id (key "inbox_task:<id>") = {sha=,
-- status=, at=, file=, to=, version=, done={sha, ...}}, so it survives a
-- restart and a lookup is one primary-key read. A file is a duplicate only
-- when its id's row holds the same content hash with status completed or
-- needs_review, or lists it in `done` (the contents of that id processed
-- before, the last M.DONE_KEPT of them): an id edited A, then B, then back to
-- A does not run A twice. An edited file (same id, new content) runs again as
-- the next version: the user who edits a task means it to run, and the row
-- then holds the new hash. A failed one dropped again runs again too: that is
-- how a user retries it.
--
-- M.ledger(id [, load]) -> the row | nil; M.version_of(old, sha) -> n
-- M.processed(t [, load]) -> whether t's id and content were processed
-- M.reason_line(path, status, reason) -> the line of a failed file's .reason
-- q:unchanged(t, name) -> true | nil, why; q:finished(t, status, reason [, as])
-- install(M, Q, H): H.basename(path), H.content_key(t), lib/inbox_queue's
local files = require("lib.inbox_files")

return { install = function(M, Q, H)
local basename, content_key = H.basename, H.content_key

-- the ledger row of a task id, or nil (load: orch.load_state by default)
function M.ledger(id, load)
  local row = (load or orch.load_state)(M.KEY .. tostring(id))
  return type(row) == "table" and row or nil
end

-- the version number of content sha of a task id whose ledger row is old
-- (nil: none yet): the row's own when it holds sha (a run of it again), else the next
function M.version_of(old, sha)
  if not old then return 1 end
  local v = tonumber(old.version) or 1
  return old.sha == sha and v or v + 1
end

-- true when t's id and content are in the ledger as processed
function M.processed(t, load)
  local row = M.ledger(t.id, load)
  if row == nil then return false end
  if row.sha == t.inbox.sha and M.DONE[row.status] == true then return true end
  for _, sha in ipairs(type(row.done) == "table" and row.done or {}) do
    if sha == t.inbox.sha then return true end
  end
  return false
end

-- the row's `done` after a run of sha ended (done: completed or needs_review):
-- the earlier processed contents (a row from before `done` existed counts its
-- own sha when it was processed), sha added last when done, M.DONE_KEPT at most
local function done_list(old, sha, done)
  local list = {}
  if old then
    if type(old.done) == "table" then
      for _, s in ipairs(old.done) do if type(s) == "string" and s ~= sha then list[#list + 1] = s end end
    elseif M.DONE[old.status] and type(old.sha) == "string" and old.sha ~= sha then
      list[1] = old.sha
    end
  end
  if done then list[#list + 1] = sha end
  while #list > M.DONE_KEPT do table.remove(list, 1) end
  return list
end

-- the file still holds what ran? -> true | nil, why it stays
function Q:unchanged(t, name)
  if self.by_name[name] then return nil, "a newer version is queued" end
  local text, err = orch.read_file(self:path(name))
  if text and self.hash(text) == t.inbox.sha then return true end   -- the quick way: no parse
  if text then
    local now_t = self.parse(self:path(name), { root = self.dir })  -- the parser's hash is the word
    if now_t and now_t.inbox.sha == t.inbox.sha then return true end
    return nil, "it was rewritten while it ran"
  end
  if not orch.file_info(self:path(name)) then return true end   -- gone (or a dangling link): move says
  return nil, "it cannot be read now (" .. tostring(err) .. ")"
end

-- reason_line(path, status, reason) -> "<path>: <status>: <reason>", the
-- status said once: a reason that starts with it ("skipped by X before it
-- ran", "skipped: budget") follows the path alone
function M.reason_line(path, status, reason)
  local why = tostring(reason or status)
  if why:sub(1, #status) == status and why:sub(#status + 1, #status + 1):match("^[ :]?$") then
    return string.format("%s: %s", path, why)
  end
  return string.format("%s: %s: %s", path, status, why)
end

function Q:finished(t, status, reason, as)
  local name = basename(t.inbox.file)
  local run = self.running[name]
  if run and (run == t or run.id == t.id) then self.running[name] = nil end  -- t may be the session's copy
  self.running_ids[t.id] = nil
  local k = content_key(t)
  if self.content[k] == name then self.content[k] = nil end
  local now = self.now()
  local old = M.ledger(t.id, self.load)
  local row = { sha = t.inbox.sha, status = status, at = now, file = name, version = M.version_of(old, t.inbox.sha) }
  local done = M.DONE[status] == true
  row.done = done_list(old, t.inbox.sha, done)
  local ok, why = self:unchanged(t, name)
  local dest
  if ok then
    local why_failed = not done and files.reason(M.reason_line(self:path(name), status, reason), status, now) or nil
    dest = files.archive(self.dir, name, done and "processed" or "failed", why_failed, self.made, self.log)
  else
    self.log("info", "inbox: " .. self:path(name) .. " stays: " .. why)
  end
  -- after the move: a crash before it leaves the file to run again, one after
  -- it leaves the file in processed/ (the row only stops a copy dropped later)
  row.to = dest
  self.atomically(function()  -- the row and its event, one commit
    self.save(M.KEY .. tostring(t.id), row)
    -- named by the session's task (as: "x-2" for a file's second version), as its other events are
    self.emit("task_archived", { session = self.session, task = as or t.id, status = status, file = name, to = dest })
  end)
  return dest
end

end }
