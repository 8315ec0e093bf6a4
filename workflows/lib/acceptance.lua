-- acceptance: what a task brings in and what it must leave behind, judged by
-- the orchestrator itself, never by the agent's own claim of success.
--  1. Context in: every context_files path must exist, relative to the task's
--     worktree (else the repository the agents work in), and lie inside
--     claude.allowed_root when that is set, else inside the worktree or the
--     repository. A task that breaks this does not start: it fails with a
--     message naming the task and the file.
--  2. Deliverables out: after the agent stops, each deliverables path is
--     looked for in the task's folder (its worktree), and must have been
--     changed by the task: in a worktree, one of the files git shows changed
--     against the task's base (a folder: one in it); elsewhere, written since
--     the task's agent first started (its mtime; a folder: the newest mtime
--     in it). One missing, or there but untouched (a file the folder already
--     held, that the agent left as it was): the task is
--     needs_review (the agent may have put the work elsewhere, or found
--     nothing to change; a person looks), not completed.
--  3. Acceptance commands (verify: / **Acceptance Command:**): run by the
--     orchestrator in the task's folder after the agent stops, one after the
--     other, each as `/bin/sh -c CMD` (with ORCH_HOST, this orch-host) with a timeout
--     (orchestrator.verify_timeout); the output (stdout then stderr) is kept,
--     truncated to OUTPUT_CHARS. One failing (non-zero, a signal, a timeout):
--     the task is failed. All run even when one fails, so the report shows each.
--  A task the agent did not finish keeps the agent's outcome (nothing is checked).
-- Policy: edit freely.
--
-- M.resolve(path, base) -> absolute path, "." and ".." resolved (lexically)
-- M.within(path, root)  -> whether absolute path lies in root (or is root)
-- M.check_context(t, where [, exists]) -> true | nil, message
--     where = {dirs={folder...} (looked in, in order), roots={folder...} (allowed)}
-- M.missing_deliverables(t, dir [, info [, since [, changed [, ignored]]]]) -> missing {path...}, unchanged {path...}
--     missing: the ones not delivered (not there, or unchanged); unchanged: those
--     of them that are there but not changed: not among `changed` (the paths
--     git shows changed, relative to dir) when given, else not written since
--     `since` (epoch seconds; nil: not asked); one git ignores (ignored(path),
--     git shows no change of it) by the mtime too. info(path) -> {mtime=} | nil
--     (default: orch.file_info, a folder's tree_info); true says "there"
-- M.run_verify(t, dir, opts) -> results | nil, cancel_reason
--     opts = {timeout=, exec= (default orch.exec), clock= (default orch.monotonic)}
--     results = { {cmd=, ok=, exit_code=, signal=, timed_out=, output=, duration_s=} }
-- M.verdict(missing, results [, unchanged]) -> "completed" | "needs_review" | "failed", error
-- M.judge(t, dir, opts) -> fields for the task, status | nil, cancel_reason
--     opts.changed: the task's files_changed in its worktree (lib/workspaces after);
--     opts.ignored(path) -> whether git ignores it there (then its mtime says)
local M = {}

M.OUTPUT_CHARS = 4000       -- an acceptance command's output kept on the task
M.DEFAULT_TIMEOUT = 300     -- seconds per acceptance command
M.SHELL = "/bin/sh"

local concat, format = table.concat, string.format

M.MTIME_SLACK = 0.05  -- seconds: file times come from the kernel's coarse clock (a tick behind orch.now)

-- a deliverable's last write: a file's mtime, a folder's newest one in it
local function written_at(p)
  local info = orch.file_info(p)
  if not info then return nil end
  if info.type == "dir" then
    local tree = orch.tree_info(p)
    return { mtime = tree and tree.newest_mtime or info.mtime }
  end
  return info
end
-- the path with its symlinks resolved, or nil when nothing is there
local function real_of(p)
  local info = orch.file_info(p)
  return info and (info.real or p) or nil
end

function M.resolve(path, base)
  path = tostring(path)
  if path:sub(1, 1) ~= "/" then path = (base or "") .. "/" .. path end
  local parts = {}
  for part in path:gmatch("[^/]+") do
    if part == ".." then
      if #parts > 0 then parts[#parts] = nil end
    elseif part ~= "." then
      parts[#parts + 1] = part
    end
  end
  return "/" .. concat(parts, "/")
end

function M.within(path, root)
  root = M.resolve(root)
  if root == "/" then return true end
  return path == root or path:sub(1, #root + 1) == root .. "/"
end

-- outside(info, root) -> "a symlink to REAL, outside the folder ROOT" (or
-- "resolves to ...": a folder on the way is a link) when the entry
-- orch.file_info gave as info resolves out of the folder root (root's
-- file_info), else nil: what is out there is not read
function M.outside(info, root)
  local top = root.real or root.path
  if M.within(info.real or info.path, top) then return nil end
  return format("%s to %s, outside the folder %s", info.link and "a symlink" or "resolves", tostring(info.real),
    tostring(top))
end

local function inside_any(path, roots)
  for _, r in ipairs(roots) do if M.within(path, r) then return true end end
  return false
end

local function list(v) return type(v) == "table" and v or {} end

-- the folders of a list, each once, in order (a task working in the
-- repository itself has it as its folder too)
local function once(xs)
  local out, seen = {}, {}
  for _, x in ipairs(xs) do
    if not seen[x] then seen[x], out[#out + 1] = true, x end
  end
  return out
end

function M.check_context(t, where, exists)
  exists = exists or real_of  -- (a test's exists may answer true: the path is its own real one)
  local dirs, roots = once(list(where.dirs)), once(list(where.roots))
  local real_roots = {}
  for i, r in ipairs(roots) do real_roots[i] = real_of(r) or r end
  for _, f in ipairs(list(t.context_files)) do
    -- found: inside and there (a symlink: its target inside too); outside:
    -- there but outside, or every place it could be is
    local found, outside, inside, link = false, false, false, nil
    for _, d in ipairs(dirs) do
      local p = M.resolve(f, d)
      local ok_here = inside_any(p, roots)
      inside = inside or ok_here
      local there = exists(p)
      if there then
        local real = type(there) == "string" and there or p
        if ok_here and (real == p or inside_any(real, real_roots)) then found = true break end
        if ok_here then link = real end
        outside = true
      end
    end
    if not found and (outside or not inside) then
      return nil, string.format("task %s: context file %s is outside the allowed folders (%s)%s",
        tostring(t.id), f, #roots > 0 and concat(roots, ", ") or "none",
        link and " (a symlink to " .. link .. ")" or "")
    elseif not found then
      return nil, string.format("task %s: context file %s not found (looked in %s)", tostring(t.id), f,
        concat(dirs, ", "))
    end
  end
  return true
end

-- deliverables_outside(t, dir) -> message | nil: a deliverables path that
-- lies outside the task's folder dir (../x, an absolute path elsewhere),
-- which the check after the agent could never find there. Said before the
-- agent starts (the run fails the task; `orch-host check` refuses the day).
function M.deliverables_outside(t, dir)
  for _, p in ipairs(list(t.deliverables)) do
    if not M.within(M.resolve(p, dir), dir) then
      return string.format("task %s: deliverable %s is outside the task's folder %s: the check after its agent "
        .. "looks for each deliverable there", tostring(t.id), p, dir)
    end
  end
end

-- whether full (a file, or a folder) is among the changed paths (absolute)
local function among(full, changed)
  for _, c in ipairs(changed) do
    if c == full or c:sub(1, #full + 1) == full .. "/" then return true end
  end
  return false
end

function M.missing_deliverables(t, dir, info, since, changed, ignored)
  info = info or written_at
  local abs
  if type(changed) == "table" then
    abs = {}
    for i, c in ipairs(changed) do abs[i] = M.resolve(c, dir) end
  end
  -- an inbox criterion "`path` exists" asks for the file only (lib/inbox_task_body)
  local only_there = {}
  for _, c in ipairs(type(t.inbox) == "table" and list(t.inbox.success_criteria) or {}) do
    if type(c) == "table" and c.exists == true and c.path then only_there[c.path] = true end
  end
  local missing, unchanged, now = {}, {}, orch and orch.now() or os.time()
  for _, p in ipairs(list(t.deliverables)) do
    local full = M.resolve(p, dir)
    local got = M.within(full, dir) and info(full)
    local same
    if not got or only_there[p] then
      same = false
    elseif abs and (among(full, abs) or not (ignored and ignored(p))) then
      same = not among(full, abs)
    else
      -- written between the agent's start and now: a time in the future was set by hand, not by a write
      local at = type(got) == "table" and tonumber(got.mtime)
      same = since ~= nil and at and (at < since - M.MTIME_SLACK or at > now + 1) or false
    end
    if not got or same then missing[#missing + 1] = p end
    if same then unchanged[#unchanged + 1] = p end
  end
  return missing, unchanged
end

local function truncate(text, max)
  if #text <= max then return text end
  local kept = require("lib.format").cut_bytes(text, max)  -- on a UTF-8 boundary, so it stays valid
  return kept .. string.format("\n... (%d more bytes)", #text - #kept)
end

-- what an acceptance command finds in its environment besides the host's:
-- ORCH_HOST, this orch-host binary (a worktree has no build/ of its own)
function M.verify_env()
  return { ORCH_HOST = orch and orch.executable or nil }
end

function M.run_verify(t, dir, opts)
  opts = opts or {}
  local exec, clock = opts.exec or orch.exec, opts.clock or orch.monotonic
  local timeout = tonumber(opts.timeout) or M.DEFAULT_TIMEOUT
  local results = {}
  for _, cmd in ipairs(list(t.verify)) do
    local started = clock()
    local r, err = exec({ cmd = { M.SHELL, "-c", cmd }, cwd = dir, timeout = timeout,
                          max_output = 4 * M.OUTPUT_CHARS, env = M.verify_env() })
    if not r and err and err.code == "cancelled" then return nil, err.reason or "cancelled" end
    local out
    if r then
      out = (r.stdout or "") .. (((r.stderr or "") ~= "" and (r.stdout or "") ~= "") and "\n" or "") ..
        (r.stderr or "")
      if r.timed_out then out = out .. (out ~= "" and "\n" or "") .. "timed out after " .. timeout .. " s" end
    else
      out = "could not run: " .. tostring(err)
    end
    results[#results + 1] = { cmd = cmd, ok = r ~= nil and r.ok == true and not r.timed_out,
      exit_code = r and r.code or nil, signal = r and r.signal or nil, timed_out = r and r.timed_out or nil,
      output = truncate(out, M.OUTPUT_CHARS), duration_s = clock() - started }
  end
  return results
end

-- "deliverables missing: a, b; not changed by the task: c" (missing holds c too)
function M.deliverables_error(missing, unchanged)
  local same, gone = {}, {}
  for _, p in ipairs(unchanged or {}) do same[p] = true end
  for _, p in ipairs(missing or {}) do if not same[p] then gone[#gone + 1] = p end end
  local parts = {}
  if #gone > 0 then parts[1] = "deliverables missing: " .. concat(gone, ", ") end
  if #(unchanged or {}) > 0 then
    parts[#parts + 1] = (#gone > 0 and "" or "deliverables ") .. "not changed by the task: " .. concat(unchanged, ", ")
  end
  return concat(parts, "; ")
end

function M.verdict(missing, results, unchanged)
  local bad = {}
  for _, v in ipairs(results or {}) do if not v.ok then bad[#bad + 1] = v.cmd end end
  if #bad > 0 then return "failed", "acceptance failed: " .. concat(bad, ", ") end
  if #(missing or {}) > 0 then return "needs_review", M.deliverables_error(missing, unchanged) end
  return "completed"
end

function M.judge(t, dir, opts)
  local array = (orch and orch.json and orch.json.array) or function(x) return x end  -- JSON arrays when stored
  local fields = {}
  local since = tonumber(t.first_started_at) or tonumber(t.started_at)
  opts = opts or {}
  local missing, unchanged = M.missing_deliverables(t, dir, opts.exists, since, opts.changed, opts.ignored)
  if t.deliverables then
    fields.deliverables_missing, fields.deliverables_unchanged = array(missing), array(unchanged)
  end
  if #list(t.verify) > 0 then
    local results, why = M.run_verify(t, dir, opts)
    if not results then return nil, why end
    fields.verify_results = array(results)
  end
  local status, err = M.verdict(missing, fields.verify_results, unchanged)
  fields.error = err
  return fields, status
end

return M
