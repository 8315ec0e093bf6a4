-- worktree: a git worktree and a branch per task, driven through real git
-- (lib/git, orch.exec). A task works in <root>/<task id> (workspace.root,
-- default agent_workspaces under the repository) on its own branch, created
-- from the session's base commit; a re-run continues in the same worktree.
-- Nothing is committed or pushed unless a policy calls commit/push (push
-- also needs workspace.push = true). clean (lib/worktree_clean) removes only
-- worktrees whose branch is merged and that hold no uncommitted work.
-- Policy: edit freely.
local git = require("lib.git")

local M = {}

M.instructions_file = "agent_instructions.md"
M.notes_files = { "summary.md", "notes.md" }  -- the agent's notes for the reviewer (lib/prompt's NOTES)
-- never part of a task's changes (kept out of snapshots, status and commits)
M.private = { M.instructions_file, M.notes_files[1], M.notes_files[2] }
M.meta_file = "orch-workspace.json"  -- in the worktree's own git dir: task, branch, base, start
-- in the repository's common git dir: the branches the orchestrator made (and
-- those of the earlier worktrees it replaced), a line each, which clean
-- deletes once merged and held by no worktree; so are the branches under
-- BRANCH_PREFIX, the names it gives (branch_name)
M.branches_file = "orch-branches"
M.BRANCH_PREFIX = "orch/"
M.BESIDE_MAX = 50  -- folders <id>.2 ... tried beside an earlier day's worktree of the task id that holds work

local function cfg() return (orch.config or {}).workspace or {} end
local function fail(code, message, fields) return nil, orch.err(code, message, fields) end

local function absolute(p)
  if p:sub(1, 1) == "/" then return p end
  return orch.root .. "/" .. p
end

-- the path with symlinks and ".." resolved (it need not exist yet), as git
-- writes worktree paths
local function canonical(p)
  local r = orch.exec({ cmd = { "realpath", "-m", "--", p }, timeout = git.timeout })
  return r and r.ok and (r.stdout:gsub("\n$", "")) or p
end
M.canonical = canonical

-- the repository clean and prepare use when none is given: workspace.repo,
-- else claude.base_cwd (where agents work), relative to the project
function M.default_repo()
  local r = cfg().repo
  if r == nil or r == "" then r = ((orch.config or {}).claude or {}).base_cwd or "." end
  return absolute(r)
end

-- toplevel(repo) -> the repository's top folder | nil, err ("not_repo")
function M.toplevel(repo)
  repo = absolute(repo or M.default_repo())
  local info = orch.file_info(repo)
  if not info or info.type ~= "dir" then return fail("not_repo", repo .. ": no such folder") end
  local top = git.out(repo, { "rev-parse", "--show-toplevel" })
  if not top or top == "" then
    return fail("not_repo", repo .. " is not a git repository (or is a bare one): task worktrees need one")
  end
  return top
end

-- <root>/<task id>: workspace.root, relative to the repository's top
function M.root_of(top, root)
  root = root or cfg().root
  if root == nil or root == "" then root = "agent_workspaces" end
  if root:sub(1, 1) ~= "/" then root = top .. "/" .. root end
  return canonical(root)
end

-- the paths `git status --porcelain -z` lists (a rename's old path skipped)
local function status_paths(z)
  local out, skip = {}, false
  for entry in z:gmatch("([^%z]+)") do
    if skip then
      skip = false
    else
      local xy, path = entry:match("^(..) (.*)$")
      if path then
        out[#out + 1] = path
        skip = xy:find("[RC]") ~= nil
      end
    end
  end
  return out
end

local function names(list, max)
  max = max or 10
  local shown = {}
  for i = 1, math.min(#list, max) do shown[i] = list[i] end
  local s = table.concat(shown, ", ")
  if #list > max then s = s .. string.format(" and %d more", #list - max) end
  return s
end
M.names = names

-- session_base(repo [, opts]) -> {repo=, commit=, branch=} | nil, err
-- The commit every task worktree of the session starts from: HEAD. Refused:
-- a repository with no commits ("no_commits") and, unless opts.allow_dirty,
-- one with uncommitted changes to tracked files ("dirty", the files named):
-- the tasks would not see them.
function M.session_base(repo, opts)
  opts = opts or {}
  local top, err = M.toplevel(repo)
  if not top then return nil, err end
  local head = git.run(top, { "rev-parse", "--verify", "-q", "HEAD^{commit}" }, { any_code = true })
  if not head or head.code ~= 0 then
    return fail("no_commits", top .. " has no commits yet: commit something first (task worktrees start from HEAD)")
  end
  local commit = head.stdout:gsub("%s+$", "")
  if not opts.allow_dirty then
    local st, serr = git.out(top, { "status", "--porcelain", "-z", "--untracked-files=no" })
    if not st then return nil, serr end
    local files = status_paths(st)
    if #files > 0 then
      return fail("dirty", string.format("%s has uncommitted changes to tracked files: %s "
        .. "(commit or stash them first: the task worktrees start from the last commit)", top, names(files)),
        { files = files })
    end
  end
  local sym = git.run(top, { "symbolic-ref", "-q", "--short", "HEAD" }, { any_code = true })
  local branch = sym and sym.code == 0 and sym.stdout:gsub("%s+$", "") or nil
  return { repo = top, commit = commit, branch = branch }
end

-- A task id names one folder under the root: letters, digits, '.', '_', '-'.
function M.check_task_id(id)
  if type(id) == "number" then id = tostring(id) end
  if type(id) == "string" and id:match("^[%w_][%w._-]*$") and not id:find("..", 1, true) then return id end
  return nil, string.format("task id %s cannot name a worktree folder under the workspace root "
    .. "(letters, digits, '.', '_' and '-' only; no '/' or '..': it would leave the root)",
    type(id) == "string" and ("'" .. id .. "'") or tostring(id))
end

local function sanitize(s)
  s = tostring(s):gsub("[^%w._-]", "-"):gsub("%.%.+", "."):gsub("^[.-]+", ""):gsub("[.]lock$", ""):gsub("[.]+$", "")
  return s
end

-- the branch of a task that names none: orch/<session>/<task id>
function M.branch_name(task_id, session)
  if session and session ~= "" then return M.BRANCH_PREFIX .. sanitize(session) .. "/" .. sanitize(task_id) end
  return M.BRANCH_PREFIX .. sanitize(task_id)
end

-- common_dir(top) -> the repository's common git dir (absolute) | nil
function M.common_dir(top)
  return git.out(top, { "rev-parse", "--path-format=absolute", "--git-common-dir" })
end

-- ensure_lines(file, lines) -> true | nil, err: appends the lines file lacks
function M.ensure_lines(file, lines)
  local text = orch.read_file(file) or ""
  local add = {}
  for _, l in ipairs(lines) do
    if not ("\n" .. text .. "\n"):find("\n" .. l .. "\n", 1, true) then add[#add + 1] = l end
  end
  if #add == 0 then return true end
  local dir = file:match("^(.*)/[^/]*$")
  if dir then orch.make_dir(dir) end
  local prefix = (text ~= "" and text:sub(-1) ~= "\n") and "\n" or ""
  return orch.append_file(file, prefix .. table.concat(add, "\n") .. "\n")
end

-- record_branch(top, branch): branch is the orchestrator's (M.branches_file)
function M.record_branch(top, branch)
  local common = M.common_dir(top)
  if common and branch then M.ensure_lines(common .. "/" .. M.branches_file, { branch }) end
end

local P = require("lib.worktree_prepare")
local C = require("lib.worktree_clean")

-- unsaved(w) -> what removing worktree w (git.worktrees' entry) would lose:
-- reasons (locked, a detached HEAD, uncommitted changes), empty for nothing
function M.unsaved(w) return C.unsaved(w, M) end

-- prepare{repo=, root=, task= (id or {id=, branch=|branch_name=}), branch=,
--   session=, base= (commit or session_base's table), from= {ws...},
--   in_use= fn(branch) -> why, live | nil} -> ws | nil, err
-- ws = {repo=, root=, path=, task=, branch=, base=, start=, from=, created=, reused=, gitdir=}
-- The folder <root>/<task id> may hold the task's worktree (reused), or an
-- earlier task's of the same id on another branch: replaced (the branch
-- kept) when the orchestrator made it, it holds no uncommitted changes and
-- in_use(its branch) gives no reason (an unfinished task works there); else
-- refused ("not_ours"), the reasons named. Its own worktree is refused
-- too ("in_use") while in_use says a live session's unfinished task works
-- there.
-- Two prepares of one path at once run one after the other: the second reuses.
-- task_place(opts) -> task, id, top, root | nil, err: prepare's and look's
-- task, its checked id, the repository and the workspace root
local function task_place(opts)
  local task = type(opts.task) == "table" and opts.task or { id = opts.task }
  local id, why = M.check_task_id(task.id)
  if not id then return fail("bad_task_id", why) end
  local base = opts.base
  local top, err = M.toplevel(opts.repo or (type(base) == "table" and base.repo) or nil)
  if not top then return nil, err end
  return task, id, top, M.root_of(top, opts.root)
end

local inflight = {}
function M.prepare(opts)
  if type(opts) ~= "table" then error("worktree.prepare: expected a table of options", 2) end
  local task, id, top, root = task_place(opts)
  if not task then return nil, id end
  local key = root .. "/" .. id
  while inflight[key] do
    local okw, werr = orch.wait(inflight[key])
    if okw == nil then return nil, werr end
  end
  local tid
  tid = orch.spawn(function()
    local r = { pcall(P.prepare, M, opts, task, id, top, root) }
    if inflight[key] == tid then inflight[key] = nil end
    return r
  end)
  inflight[key] = tid
  local okw, r = orch.wait(tid)
  if not okw then return nil, r end
  if not r[1] then error(r[2], 0) end
  return r[2], r[3]
end

-- look{same options as prepare} -> "reuse" | "replace" | "new", w, path | nil, err:
-- what prepare would do with the task's folder (path: where it works, <id>.2
-- beside an earlier day's worktree that holds work), or its refusal; nothing is written
function M.look(opts)
  local task, id, top, root = task_place(opts)
  if not task then return nil, id end
  return P.look(M, opts, task, id, top, root)
end

-- write_instructions(ws, text) -> true | nil, err: <worktree>/agent_instructions.md
-- (kept out of the task's changes: M.private)
function M.write_instructions(ws, text)
  return orch.write_file(ws.path .. "/" .. M.instructions_file, text)
end

-- changes(ws [, {since="start"|"base"}]) -> {files={ {path=, added=, removed=, binary=} }, stat=, tree=, since=}
-- What the task changed, new untracked files included, against where it
-- started (its base plus its dependencies' work) or, with since="base",
-- against the session's base commit. Committed or not, the same.
function M.changes(ws, opts)
  local now, err = git.snapshot(ws.path, M.private)
  if not now then return nil, err end
  local from = (opts and opts.since == "base") and ws.base or ws.start or ws.base
  local files, stat = git.diff_stat(ws.path, from, now)
  if not files then return nil, stat end
  return { files = files, stat = stat, tree = now, since = from }
end

-- commit(ws, message) -> {committed=, commit=} | nil, err: everything the
-- task changed (M.private left out), on its branch. Only for a policy that
-- commits ("automatic commits"): nothing calls it by default.
function M.commit(ws, message)
  if type(message) ~= "string" or not message:match("%S") then
    error("worktree.commit: message must be a non-empty string", 2)
  end
  local ok, err = git.add_all(ws.path, M.private)
  if not ok then return nil, err end
  local d = git.run(ws.path, { "diff", "--cached", "--quiet" }, { any_code = true })
  if d and d.code == 0 then return { committed = false } end
  ok, err = git.run(ws.path, { "commit", "-q", "-m", message })
  if not ok then return nil, err end
  return { committed = true, commit = git.out(ws.path, { "rev-parse", "HEAD" }) }
end

-- push(ws [, {remote=}]) -> true | nil, err: the task branch to workspace.remote.
-- Refused ("refused") unless workspace.push = true.
function M.push(ws, opts)
  if cfg().push ~= true then
    return fail("refused", "pushing is off: set workspace.push = true in workflows/config.lua to push task branches")
  end
  local remote = (opts and opts.remote) or cfg().remote or "origin"
  local b = "refs/heads/" .. ws.branch
  local ok, err = git.run(ws.path, { "push", remote, b .. ":" .. b }, { timeout = git.push_timeout })
  if not ok then return nil, err end
  return true
end

-- clean{repo=, root=, force=false, dry_run=false, into=} -> removed, kept | nil, err
M.clean = function(opts) return C.clean(M, opts) end

return M
