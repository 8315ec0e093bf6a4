-- workspaces: whether a session gives each task its own git worktree and
-- branch (lib/worktree), and a task's worktree: from the session's base
-- commit plus the work of the tasks it depends on. workspace.mode: "auto"
-- (YAML and JSON days, when the agents' folder is a git repository; a
-- markdown day keeps working in claude.base_cwd), "on" (every day; no git
-- repository is an error), "off". Policy: edit freely.
local worktree = require("lib.worktree")
local S = require("lib.session")

local M = {}

-- session_base(mode, markdown [, repo]) -> base {repo=, commit=, branch=} | nil
-- (worktrees off) | nil, err (on, and the repository cannot give one: not a
-- repository, no commits, uncommitted changes)
function M.session_base(mode, markdown, repo)
  if mode == "off" or (mode == "auto" and markdown) then return nil end
  local base, err = worktree.session_base(repo)
  if not base and mode == "auto" and err.code == "not_repo" then return nil end
  return base, err
end

-- shared_branch(tasks, base, file [, json]) -> message | nil: a task whose
-- branch another task names too, or that is the branch checked out in the
-- repository (base.branch): a branch is checked out in one worktree only, so
-- that task would fail after the first had run. Checked before a day starts.
-- Named by the task's line, or (json: a JSON task list, whose tasks have no
-- line) the JSON pointer of its branch_name.
-- Two branches where one is a folder of the other (feat/x and feat/x/y) cannot
-- both exist in git either (refs/heads/feat/x is a file or a folder): refused the same way.
function M.shared_branch(tasks, base, file, json)
  local first, under = {}, {}  -- branch -> its task; each folder of a branch ("feat" of "feat/x") -> a task under it
  for i, t in ipairs(tasks) do
    local b = t.branch
    if type(b) == "string" and b ~= "" then
      local where = t.line and (":" .. t.line) or json and string.format(": /tasks/%d/branch_name", i - 1) or ""
      local at = string.format("%s%s: task %s '%s': branch_name: %q", file, where, tostring(t.id), tostring(t.title), b)
      if first[b] then
        return at .. string.format(" is task %s's branch too: a branch is checked out in one worktree only; "
          .. "give each task its own", tostring(first[b].id))
      elseif base and b == base.branch then
        return at .. string.format(" is the branch checked out in %s: a task works on a branch of its own",
          tostring(base.repo))
      end
      local clash = under[b]
      for dir in b:gmatch("()/") do
        local p = b:sub(1, dir - 1)
        if first[p] then clash = first[p] break end
      end
      if clash then
        return at .. string.format(" and task %s's %q cannot both be git branches (one would be a folder of the "
          .. "other); rename one", tostring(clash.id), tostring(clash.branch))
      end
      first[b] = t
      for dir in b:gmatch("()/") do under[b:sub(1, dir - 1)] = under[b:sub(1, dir - 1)] or t end
    end
  end
end

-- day_base(doc, file) -> base | nil (no worktrees) | nil, message: the base
-- commit a day over doc (read from file) gets by config workspace (mode,
-- repo), or why that day is refused before it starts (no repository, no
-- commits, uncommitted changes, a shared branch). The one rule for
-- `run`, `check` and the server's start.
function M.day_base(doc, file)
  local wcfg = orch.config.workspace or {}
  local base, berr = M.session_base(wcfg.mode or "off", require("lib.policy").is_markdown(doc, file),
    wcfg.repo ~= "" and wcfg.repo or nil)
  if berr then return nil, tostring(berr) end
  local shared = base and M.shared_branch(doc.tasks, base, file, doc.format == "json")
  if shared then return nil, shared end
  return base
end

-- One prepare at a time: git reads every worktree's admin files (`git
-- worktree list`) while `git worktree add` of another task is still writing
-- its own ("failed to read .git/worktrees/<id>/commondir"), so parallel
-- tasks make their worktrees one after the other.
local busy, waiters = false, {}
local function one_at_a_time(fn)
  while busy do
    local me = orch.task_id()
    waiters[#waiters + 1] = me
    local _, e = orch.sleep(86400)
    for i, x in ipairs(waiters) do if x == me then table.remove(waiters, i) break end end
    if e and e.reason ~= "turn" then return nil, e end
  end
  busy = true
  local r = { pcall(fn) }
  busy = false
  if waiters[1] then orch.cancel(table.remove(waiters, 1), "turn") end
  if not r[1] then error(r[2], 0) end
  return r[2], r[3]
end

-- in_use(s) -> fn(branch [, path]) -> why, live | nil: whether an unfinished
-- task of another session over s's repository, not completed, works on that
-- branch, or (path) in that folder, once it started (its worktree is in hand:
-- an earlier day's paused or running session; one still being made);
-- live: that session runs now, in this process or in the host that holds
-- the run lock (its agent may be writing there), not one a dead host left
M.SESSIONS_MAX = 1000  -- sessions looked at, newest first
function M.in_use(s)
  local repo = s.workspace_base and s.workspace_base.repo
  local by_branch, by_path
  return function(branch, path)
    if not by_branch then
      by_branch, by_path = {}, {}
      local _, host_pid = orch.host_running()
      for _, row in ipairs(orch.list_sessions(M.SESSIONS_MAX) or {}) do
        local b = row.workspace_base
        if row.id ~= s.id and row.status ~= "completed" and type(b) == "table" and b.repo == repo then
          local o = S.load(row.id)
          local live = o and o.status == "running" and o.pid ~= nil and (o.pid == orch.pid or o.pid == host_pid)
          for _, t in ipairs(o and o.tasks or {}) do
            if not S.FINISHED[t.status or "pending"] then
              local u = { live = live == true, why = string.format("task %s of session %s works in it (%s)",
                tostring(t.id), o.id, tostring(t.status or "pending")) }
              by_branch[t.branch or worktree.branch_name(t.id, o.id)] = u
              if t.workspace or (t.status or "pending") ~= "pending" then by_path[M.path_of(o, t)] = u end
            end
          end
        end
      end
    end
    local u = (branch and by_branch[branch]) or (path and by_path[path])
    if u then return u.why, u.live end
  end
end

-- (s.no_state: `orch-host check` before any state database exists: no other
-- session's tasks to tell)
local function where(s, t)
  return { repo = s.workspace_base.repo, task = { id = t.id, branch = t.branch }, session = s.id,
           base = s.workspace_base, in_use = not s.no_state and M.in_use(s) or nil }
end

-- path_of(s, t) -> the folder t's worktree is made in (what `check` shows
-- and checks the deliverables against)
function M.path_of(s, t)
  local ws = type(t.workspace) == "table" and t.workspace
  if ws and type(ws.path) == "string" then return ws.path end  -- made: <id>, or <id>.2 beside an earlier day's
  return worktree.root_of(s.workspace_base.repo) .. "/" .. tostring(t.id)
end

-- failure(err) -> the error of a task whose worktree cannot be made (at its start, and in `orch-host check`)
function M.failure(err) return "worktree: " .. tostring(err) end

-- look(s, t) -> "reuse" | "replace" | "new" | nil, err: what prepare would do
-- with t's folder (lib/worktree's look: the same refusals), nothing written
function M.look(s, t) return worktree.look(where(s, t)) end

-- prepare(s, t, task_of) -> ws | nil, err: t's worktree (made, or the one it
-- had: a re-run continues there); task_of(id) -> a task of the session
function M.prepare(s, t, task_of)
  local from = {}
  for _, d in ipairs(t.depends_on or {}) do
    local dt = task_of(d)
    if dt and type(dt.workspace) == "table" then from[#from + 1] = dt.workspace end
  end
  return one_at_a_time(function()
    local opts = where(s, t)
    opts.from = from
    return worktree.prepare(opts)
  end)
end

-- after(ws) -> fields for the task: files_changed (paths), diff_stat, and
-- changes = {files={ {path=, added=, removed=, binary=} }, stat=} (what the
-- report shows) | {changes_error=} when git cannot tell
function M.after(ws)
  local ch, err = worktree.changes(ws)
  if not ch then return { changes_error = tostring(err) } end
  local paths = {}
  for i, f in ipairs(ch.files) do paths[i] = f.path end
  -- arrays, also when empty (status --json: [] not {})
  return { files_changed = orch.json.array(paths), diff_stat = ch.stat,
           changes = { files = orch.json.array(ch.files), stat = ch.stat } }
end

M.write_instructions = worktree.write_instructions

return M
