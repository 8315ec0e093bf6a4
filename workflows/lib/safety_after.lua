-- safety_after: the check after an agent's runs, the last of the three
-- safety layers (lib/hook_cli before a tool runs, lib/agent_env's git that
-- refuses commits, this). before() is taken once per task, before its first
-- run; check() after its last:
--   * no new or moved git ref (commit, branch, tag, stash) and no moved HEAD
--     in the task's folder that the orchestrator did not make: the other
--     tasks' branches of the session (made meanwhile by their worktrees), and
--     those of the other sessions over the same repository live meanwhile
--     (`orch-host serve` runs several), are the orchestrator's;
--   * with a worktree: no new change in the main checkout (its git status
--     before and after) outside the orchestrator's own folders (paths.*,
--     workspace.root) and claude.allowed_root. While other tasks' checks
--     were open too (a parallel day), a change is this task's only when its
--     own tool calls name the file (files_touched); the others are a warning
--     (safety_warning on the task and its event), not blamed on every task
--     that ran meanwhile: a person may be working in their checkout;
-- A violation fails the task with the reason (the failure is notified).
--   * changes under a migration folder (M.migration_dirs) make a completed
--     task needs_review, the paths named;
--   * the tool calls the PreToolUse hook blocked meanwhile (tool_blocked
--     events, and the calls claude's own rules refused: by = "claude") are put on the
--     task: tool_blocks = { {tool=, reason=, ts= | by=} }.
-- Policy: edit freely.
local git = require("lib.git")
local acceptance = require("lib.acceptance")
local worktree = require("lib.worktree")
local fmt = require("lib.format")
local S = require("lib.session")

local M = {}

M.migration_dirs = { "migrations", "supabase/migrations", "prisma/migrations", "db/migrate" }
M.EVENTS_MAX = 1000  -- a task's tool_blocked events read (the newest)

local function refs(repo)
  local out = git.out(repo, { "for-each-ref", "--format=%(refname) %(objectname)" })
  if not out then return nil end
  local map = {}
  for _, l in ipairs(git.lines(out)) do
    local name, oid = l:match("^(%S+) (%S+)$")
    if name then map[name] = oid end
  end
  return map
end

local function head(dir)
  local r = git.run(dir, { "rev-parse", "-q", "--verify", "HEAD" }, { any_code = true })
  return r and r.code == 0 and r.stdout:gsub("%s+$", "") or nil
end

local function status(repo)
  local out = git.out(repo, { "status", "--porcelain", "-z", "--untracked-files=all" })
  local set = {}
  for entry in (out or ""):gmatch("([^%z]+)") do
    local path = entry:match("^.. (.*)$")
    if path then set[path] = entry:sub(1, 2) end
  end
  return set
end

-- before(s, dir, ws) -> snapshot: the refs, HEAD of dir, the main checkout's
-- status. Only for a task in a worktree (ws): a task in claude.base_cwd
-- shares its checkout with the orchestrator and the day runs no git there.
-- The snapshots taken and not done yet (weak: a task that ended in an error
-- lets go of its own): alone = no other task's window overlapped this one's.
local open = setmetatable({}, { __mode = "k" })

function M.before(s, dir, ws)
  local snap = { since = orch.now(), dir = dir }
  if not ws or not s.workspace_base then return snap end
  snap.repo = s.workspace_base.repo
  snap.refs = refs(snap.repo)
  snap.head = head(dir)
  snap.main = status(snap.repo)
  snap.alone = true
  for o in pairs(open) do o.alone, snap.alone = false, false end
  open[snap] = true
  return snap
end

-- kept(snap) -> what the task stores of snap (its refs, HEAD, status):
-- a run cut short (Ctrl-C, kill -9) is checked at its resume against the
-- state before it began, not against one that holds what the agent did
-- meanwhile (a commit behind the hook would pass). again(kept) -> snap: that
-- one back, its window open again.
function M.kept(snap)
  return { since = snap.since, dir = snap.dir, repo = snap.repo, refs = snap.refs, head = snap.head, main = snap.main }
end

function M.again(kept)
  local snap = {}
  for k, v in pairs(kept) do snap[k] = v end
  snap.alone = true
  for o in pairs(open) do o.alone, snap.alone = false, false end
  open[snap] = true
  return snap
end

-- done(snap): its task's window closed (check does it)
function M.done(snap) if snap then open[snap] = nil end end

local function under(path, dir)
  return dir ~= nil and dir ~= "" and (path == dir or path:sub(1, #dir + 1) == dir .. "/")
end

-- the absolute folders the orchestrator itself writes (and the allowed root)
local function own_dirs(repo)
  local cfg = orch.config
  local dirs = {}
  for _, k in ipairs({ "tasks_dir", "logs_dir", "results_dir", "questions_dir", "feedback_dir" }) do
    if cfg.paths[k] then dirs[#dirs + 1] = acceptance.resolve(cfg.paths[k], orch.root) end
  end
  local db = acceptance.resolve(cfg.paths.state_db, orch.root)
  dirs[#dirs + 1] = db:match("^(.*)/[^/]*$")
  dirs[#dirs + 1] = worktree.root_of(repo)
  local root = cfg.claude.allowed_root
  if root and root ~= "" then dirs[#dirs + 1] = acceptance.resolve(root, orch.root) end
  return dirs
end

-- the task branches of the other sessions over repo that were live during the
-- run (a host working on them, or updated since `since`): refs/heads/<branch> -> true
M.SESSIONS_MAX = 1000  -- sessions looked at, newest first
local function others_branches(s, repo, since)
  local out = {}
  for _, row in ipairs(orch.list_sessions(M.SESSIONS_MAX) or {}) do
    local base = row.workspace_base
    if row.id ~= s.id and type(base) == "table" and base.repo == repo
       and (S.SESSION_ACTIVE[row.status] or (tonumber(row.updated_at) or 0) >= since) then
      local o = S.load(row.id)
      for _, t in ipairs(o and o.tasks or {}) do
        out["refs/heads/" .. (t.branch or worktree.branch_name(t.id, o.id))] = true
      end
    end
  end
  return out
end

-- the refs the orchestrator makes while this task runs: the session's other
-- task branches, and those of the other sessions over the same repository
local function orchestrators(s, t, name, others)
  local own = t.branch or worktree.branch_name(t.id, s.id)
  if name == "refs/heads/" .. own then return false end
  local prefix = "refs/heads/" .. worktree.branch_name("", s.id)
  if name:sub(1, #prefix) == prefix then return true end
  for _, o in ipairs(s.tasks or {}) do
    if o.id ~= t.id and o.branch and name == "refs/heads/" .. o.branch then return true end
  end
  return others()[name] == true
end

-- violations(s, t, snap [, touched]) -> list of texts, warnings (a list of
-- texts); touched: the files its tool calls wrote (files_touched)
function M.violations(s, t, snap, touched)
  local out, warnings = {}, {}
  if not snap.repo or not snap.refs then return out, warnings end
  local now = refs(snap.repo) or {}
  local names, others = {}, nil
  local function other_branches()
    others = others or others_branches(s, snap.repo, snap.since)
    return others
  end
  for name, oid in pairs(now) do
    if snap.refs[name] ~= oid and not orchestrators(s, t, name, other_branches) then names[#names + 1] = name end
  end
  table.sort(names)
  for _, name in ipairs(names) do
    out[#out + 1] = (snap.refs[name] and "ref moved: " or "new ref: ") .. name
  end
  local h = head(snap.dir)
  if snap.head and h ~= snap.head then
    out[#out + 1] = string.format("HEAD moved in %s: %s -> %s", snap.dir, snap.head:sub(1, 12), tostring(h):sub(1, 12))
  end
  if snap.main then
    local dirs, changed = own_dirs(snap.repo), {}
    for path, xy in pairs(status(snap.repo)) do
      local abs = snap.repo .. "/" .. path:gsub("/$", "")
      local ours = false
      for _, d in ipairs(dirs) do ours = ours or under(abs, d) end
      if snap.main[path] ~= xy and not ours then changed[#changed + 1] = path end
    end
    table.sort(changed)
    local named = {}
    for _, p in ipairs(touched or {}) do named[acceptance.resolve(p, snap.dir)] = true end
    local mine, unknown = {}, {}
    for _, path in ipairs(changed) do
      local own = snap.alone ~= false or named[snap.repo .. "/" .. path:gsub("/$", "")]
      if own then mine[#mine + 1] = path else unknown[#unknown + 1] = path end
    end
    if #mine > 0 then
      out[#out + 1] = "changes outside the task's worktree, in " .. snap.repo .. ": " .. table.concat(mine, ", ")
    end
    if #unknown > 0 then
      warnings[#warnings + 1] = "changes in " .. snap.repo .. " while other tasks ran, not by this task's file "
        .. "tools: " .. table.concat(unknown, ", ")
    end
  end
  return out, warnings
end

-- migrations(files) -> the paths under a migration folder
function M.migrations(files)
  local out = {}
  for _, p in ipairs(files or {}) do
    for _, d in ipairs(M.migration_dirs) do
      if p:sub(1, #d + 1) == d .. "/" or p:find("/" .. d .. "/", 1, true) then out[#out + 1] = p break end
    end
  end
  return out
end

-- the tool calls blocked for task t since ts
function M.blocks(s, t, ts, refused)
  local out, seen = {}, {}
  local evs = orch.recent_events({ session = s.id, task = t.id, event = "tool_blocked", limit = M.EVENTS_MAX })
  for _, e in ipairs(evs) do
    if e.event == "tool_blocked" and (tonumber(e.ts) or 0) >= ts then
      out[#out + 1] = { tool = e.tool, reason = e.reason, ts = e.ts }
      if e.tool_use_id then seen[e.tool_use_id] = true end
    end
  end
  -- the calls claude's own rules refused before the hook was asked (lib/safety.refused_only)
  for _, b in ipairs(refused or {}) do
    if not (b.tool_use_id and seen[b.tool_use_id]) then
      out[#out + 1] = { tool = b.tool, reason = b.reason, by = "claude" }
    end
  end
  return out
end

-- check(s, t, snap, r, fields [, opts]) -> r: the run's result, a failure when the
-- task broke a rule (r.safety_violation); r.review: migrations changed.
-- fields (the task's, to be written) get tool_blocks and safety_violation.
-- A run stopped by a person or the host (r.cancelled) is not judged.
function M.check(s, t, snap, r, fields, opts)
  opts = opts or {}
  if snap or opts.refused or opts.forbidden then  -- (no worktree, nothing forbidden seen: no blocks to look for)
    local blocks = M.blocks(s, t, snap and snap.since or tonumber(t.started_at) or 0, opts.refused)
    if #blocks > 0 then fields.tool_blocks = blocks end
  end
  M.done(snap)
  if not snap or r.cancelled then return r end
  local v, warnings = M.violations(s, t, snap, fields.files_touched)
  if #warnings > 0 then
    local what = table.concat(warnings, "; ")
    fields.safety_warning = what
    orch.log("warn", "task " .. tostring(t.id) .. ": " .. what)
    orch.emit("safety_warning", { session = s.id, task = t.id, warning = what })
  end
  if #v > 0 then
    local what = table.concat(v, "; ")
    fields.safety_violation = what
    orch.emit("safety_violation", { session = s.id, task = t.id, violation = what })
    local out = {}
    for k, x in pairs(r) do out[k] = x end
    out.ok, out.error, out.safety_violation = false, fmt.safety_violation(what), what
    return out
  end
  local m = M.migrations(fields.files_changed)
  if #m > 0 and r.ok then
    local out = {}
    for k, x in pairs(r) do out[k] = x end
    out.review = fmt.migrations_changed(m)
    return out
  end
  return r
end

return M
