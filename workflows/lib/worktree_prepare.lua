-- worktree_prepare: the body of lib/worktree's prepare (which runs it once
-- per path at a time): reuse the task's worktree, or create it on its branch
-- from the base and bring in its dependencies' work, uncommitted (after
-- removing an earlier task's worktree of the same id that loses nothing);
-- and look, what prepare would do, for `orch-host check`. Which of these it
-- does at the task's folder: lib/worktree_place's placement.
-- Policy: edit freely.
local git = require("lib.git")
local place = require("lib.worktree_place")  -- placement: reuse, replace, new or beside

local M  -- lib/worktree, passed in by the caller (it requires this file)

local function fail(code, message, fields) return nil, orch.err(code, message, fields) end

-- git's exclude file: the instructions file (an agent's `git status` lists
-- only its own work) and the workspace root, when it is inside the
-- repository (the main checkout would list every worktree as untracked).
-- That file is shared by every worktree and the main checkout, so the notes
-- the agent is asked for (summary.md, notes.md: common names in a project of
-- one's own) are not listed: snapshots and policy commits leave them out by
-- name (M.private) instead.
local function exclude_ours(top, root)
  local common = M.common_dir(top)
  if not common then return end
  local lines = { "/" .. M.instructions_file }
  local ctop = M.canonical(top)
  if root:sub(1, #ctop + 1) == ctop .. "/" then lines[#lines + 1] = root:sub(#ctop + 1) .. "/" end
  M.ensure_lines(common .. "/info/exclude", lines)
end

-- The tree the dependencies' work adds up to: the one dependency's tree, or
-- their merge (git merge-tree over commit objects no branch points at).
-- nil, err "conflict" (err.files) when two of them change the same lines.
local function combine(top, task_id, from)
  local trees, heads = {}, {}
  for i, d in ipairs(from) do
    local tree, err = git.snapshot(d.path, M.private)
    if not tree then return nil, err end
    trees[i], heads[i] = tree, git.out(d.path, { "rev-parse", "HEAD" })
    if not heads[i] then return fail("git", "dependency " .. tostring(d.task) .. ": no HEAD in " .. d.path) end
  end
  if #from == 1 then return trees[1] end
  local cur, cur_name
  for i, d in ipairs(from) do
    local c, err = git.out(top, { "commit-tree", trees[i], "-p", heads[i], "-m", "changes of " .. tostring(d.task) },
                           { env = git.ident })
    if not c then return nil, err end
    if not cur then
      cur, cur_name = c, tostring(d.task)
    else
      local r, merr = git.run(top, { "merge-tree", "--write-tree", "--name-only", "--no-messages", cur, c },
                              { any_code = true })
      if not r then return nil, merr end
      local out = git.lines(r.stdout)
      if r.code == 1 then
        table.remove(out, 1)
        return fail("conflict", string.format("task %s: the changes of its dependencies %s and %s conflict in %s",
          task_id, cur_name, tostring(d.task), M.names(out)), { files = out })
      elseif r.code ~= 0 then
        return fail("git", "git merge-tree: " .. (r.stderr:match("[^\n]+") or ("exit " .. r.code)))
      end
      cur, err = git.out(top, { "commit-tree", out[1], "-p", cur, "-p", c, "-m", "combined" }, { env = git.ident })
      if not cur then return nil, err end
      cur_name = cur_name .. " + " .. tostring(d.task)
    end
  end
  return git.out(top, { "rev-parse", cur .. "^{tree}" })
end

-- the files a failed `git apply` names
local function apply_failures(stderr)
  local files, seen = {}, {}
  for line in stderr:gmatch("[^\n]+") do
    local f = line:match("^error: patch failed: (.-):%d+$") or line:match("^error: (.-): ")
    if f and not seen[f] then seen[f] = true; files[#files + 1] = f end
  end
  return files
end


local function workspace(fields)
  local ws = {}
  for k, v in pairs(fields) do ws[k] = v end
  return ws
end

-- A worktree reused by the session that made it (a resume) counts the task's
-- changes from where that session started it; one another session reuses
-- (a later day with the task's id and branch) counts from what it holds now,
-- the earlier session's uncommitted work included: that was not this task's
-- doing (its files changed, its deliverables). The meta then names this session.
local function reuse(c, w)
  local gitdir = git.out(w.path, { "rev-parse", "--absolute-git-dir" })
  local meta = place.read_meta(M, gitdir)
  local start = meta.start or meta.base or c.base
  if c.session and meta.session and meta.session ~= c.session then
    local now, err = git.snapshot(w.path, M.private)
    if not now then return nil, err end
    start, meta.start, meta.session = now, now, c.session
    if gitdir then orch.write_file(gitdir .. "/" .. M.meta_file, orch.json.encode(meta)) end
  end
  return workspace({ repo = c.top, root = c.root, path = w.path, task = c.id, branch = c.branch,
                     base = meta.base or c.base, start = start,
                     from = meta.from or {}, gitdir = gitdir, created = false, reused = true })
end

-- Removes a worktree this prepare just made (and the branch, when it made it).
local function undo(c, made_branch)
  git.run(c.top, { "worktree", "remove", "--force", c.path })
  if made_branch then git.run(c.top, { "branch", "-D", c.branch }) end
end

-- Applies base..tree (the dependencies' work) to the new worktree, uncommitted.
local function bring_in(c, tree, made_branch)
  local patch, err = git.run(c.top, { "diff", "--binary", "--full-index", c.base, tree },
                             { max_output = git.max_patch })
  if not patch then undo(c, made_branch); return nil, err end
  if patch.stdout == "" then return true end
  local r
  r, err = git.run(c.path, { "apply", "--binary", "--whitespace=nowarn", "-" },
                   { stdin = patch.stdout, any_code = true })
  if r and r.code == 0 then return true end
  undo(c, made_branch)
  if not r then return nil, err end
  local files = apply_failures(r.stderr)
  return fail("conflict", string.format("task %s: its dependencies' changes do not apply to branch %s: %s",
    c.id, c.branch, #files > 0 and M.names(files) or (r.stderr:match("[^\n]+") or "git apply failed")),
    { files = files })
end

-- the branch, checked: explicit (opts.branch, task.branch, task.branch_name) or derived
local function branch_of(opts, task, id, top)
  local branch = opts.branch or task.branch or task.branch_name
  if branch == nil then branch = M.branch_name(id, opts.session) end
  local ok, why = git.valid_branch(top, branch)
  if not ok then
    return fail("bad_branch", string.format("task %s: branch %s is %s", id,
      type(branch) == "string" and ("'" .. branch .. "'") or tostring(branch), why))
  end
  return branch
end

-- the base commit: opts.base (a commit, or session_base's table), else HEAD
local function base_of(opts, top)
  local base = opts.base
  if type(base) == "table" then base = base.commit end
  if base == nil then
    local b, err = M.session_base(top, { allow_dirty = true })
    if not b then return nil, err end
    base = b.commit
  end
  local commit = type(base) == "string" and base:sub(1, 1) ~= "-"
                 and git.out(top, { "rev-parse", "--verify", "-q", base .. "^{commit}" })
  if not commit then return fail("bad_base", string.format("base %s is not a commit of %s", tostring(base), top)) end
  return commit
end

-- existing_branch_base(c, base) -> the commit the task's work is counted
-- from, when its branch exists already (an earlier day's, a name given
-- twice over days) | nil, err. A branch the base contains (merged, or it
-- never moved) is moved up to the base: the task starts from the session's
-- code, as a new branch would. One with commits the base lacks keeps them
-- (nothing is ever thrown away): the task continues it, and its files
-- changed are counted from the branch's tip, not from a base it does not
-- start from.
local function existing_branch_base(c, base)
  local ref = "refs/heads/" .. c.branch
  local r, err = git.run(c.top, { "merge-base", "--is-ancestor", ref, base }, { any_code = true })
  if not r then return nil, err end
  if r.code == 0 then
    local ok, ferr = git.run(c.top, { "branch", "-f", c.branch, base })
    if not ok then return nil, ferr end
    return base
  end
  local tip = git.out(c.top, { "rev-parse", "--verify", "-q", ref .. "^{commit}" })
  if not tip then return fail("git", string.format("task %s: branch %s has no commit", c.id, c.branch)) end
  local ahead = git.out(c.top, { "rev-list", "--count", base .. ".." .. ref }) or "?"
  orch.log("info", string.format("worktree: task %s: branch %s exists with %s commit(s) the session's base lacks; "
    .. "the task continues it, its changes counted from %s", c.id, c.branch, ahead, tip:sub(1, 12)))
  return tip
end

-- the task's place: c = {top=, root=, id=, path=, branch=} | nil, err
local function place_of(opts, task, id, top, root)
  local branch, err = branch_of(opts, task, id, top)
  if not branch then return nil, err end
  return { top = top, root = root, id = id, path = root .. "/" .. id, branch = branch }
end

-- look(wt, opts, task, id, top, root) -> "reuse" | "replace" | "new", w | nil, err:
-- what prepare would do, nothing written (the worktrees whose folder is gone
-- are skipped, as prepare's `git worktree prune` forgets them)
local function look(wt, opts, task, id, top, root)
  M = wt
  local c, err = place_of(opts, task, id, top, root)
  if not c then return nil, err end
  local list
  list, err = git.worktrees(top)
  if not list then return nil, err end
  local action, w = place.placement(M, c, list, opts.in_use)
  return action, w, c.path  -- (c.path: <id>.2 when beside an earlier day's)
end

-- prepare(wt, opts, task, id, top, root) -> ws | nil, err (lib/worktree's prepare)
local function prepare(wt, opts, task, id, top, root)
  M = wt
  local c, err = place_of(opts, task, id, top, root)
  if not c then return nil, err end
  local branch = c.branch
  c.base, err = base_of(opts, top)
  if not c.base then return nil, err end
  local base = c.base
  git.run(top, { "worktree", "prune" })  -- forget worktrees whose folder is gone
  local list
  list, err = git.worktrees(top)
  if not list then return nil, err end
  local action, w = place.placement(M, c, list, opts.in_use)
  if not action then return nil, w end
  c.session = opts.session
  if action == "reuse" then return reuse(c, w) end
  local from = opts.from or {}
  local tree
  if #from > 0 then
    tree, err = combine(top, id, from)
    if not tree then return nil, err end
  end
  if action == "replace" then
    local ok, rerr = git.run(top, { "worktree", "remove", "--force", c.path })
    if not ok then return nil, rerr end
    orch.log("info", string.format("worktree: task %s: replaced the earlier worktree of branch %s at %s "
      .. "(no uncommitted changes; the branch is kept)", id, w.branch, c.path))
    M.record_branch(top, w.branch)  -- the orchestrator's (its meta says so): clean finds it without a worktree
  end
  local ok
  ok, err = orch.make_dir(root)
  if not ok then return nil, err end
  exclude_ours(top, root)
  local had = git.run(top, { "rev-parse", "--verify", "-q", "refs/heads/" .. branch }, { any_code = true })
  local made_branch = not (had and had.code == 0)
  if not made_branch then
    base, err = existing_branch_base(c, base)
    if not base then return nil, err end
    c.base = base
  end
  local add = made_branch and { "worktree", "add", "-q", "-b", branch, c.path, base }
              or { "worktree", "add", "-q", c.path, branch }
  ok, err = git.run(top, add)
  if not ok then return nil, err end
  if made_branch then M.record_branch(top, branch) end
  if tree then
    ok, err = bring_in(c, tree, made_branch)
    if not ok then return nil, err end
  end
  local start
  start, err = git.snapshot(c.path, M.private)
  if not start then return nil, err end
  local gitdir = git.out(c.path, { "rev-parse", "--absolute-git-dir" })
  local dep_ids = {}
  for i, d in ipairs(from) do dep_ids[i] = d.task end
  local meta = { task = id, branch = branch, base = base, start = start, from = dep_ids, created_at = orch.now(),
                  session = opts.session }
  if gitdir then orch.write_file(gitdir .. "/" .. M.meta_file, orch.json.encode(meta)) end
  return workspace({ repo = top, root = root, path = c.path, task = id, branch = branch, base = base,
                     start = start, from = dep_ids, gitdir = gitdir, created = true, reused = false })
end

return { prepare = prepare, look = look }
