-- worktree_clean: lib/worktree's clean. Removes the task worktrees (the
-- folders directly under the workspace root) whose branch is merged into
-- the base branch and that hold no uncommitted work, and deletes their
-- merged branches; keeps every other one, with the reason. force removes a
-- kept worktree too (its uncommitted changes are lost) but never deletes a
-- branch with unmerged commits. unsaved (what removing a worktree would
-- lose) is also lib/worktree_prepare's rule for replacing an earlier task's
-- worktree. Policy: edit freely.
local git = require("lib.git")

-- unsaved(w, M) -> the reasons removing worktree w would lose something
-- (empty: it holds nothing its branch does not): locked, a detached HEAD,
-- uncommitted changes (M.private left out)
local function unsaved(w, M)
  local reasons = {}
  if w.locked then reasons[#reasons + 1] = "locked (git worktree unlock)" end
  if not w.branch then
    reasons[#reasons + 1] = "a detached HEAD (its commits may be on no branch)"
    return reasons
  end
  local now, err = git.snapshot(w.path, M.private)
  local head = now and git.out(w.path, { "rev-parse", "HEAD^{tree}" })
  if not head then
    reasons[#reasons + 1] = "cannot read it: " .. tostring(err or "no HEAD")
  elseif now ~= head then
    local files = git.diff_stat(w.path, head, now) or {}
    local paths = {}
    for i, f in ipairs(files) do paths[i] = f.path end
    reasons[#reasons + 1] = "uncommitted changes: " .. M.names(paths)
  end
  return reasons
end

-- why(w, into, M) -> the reasons to keep w (empty: it may go), merged
local function why_keep(w, into, M)
  local reasons = unsaved(w, M)
  if not w.branch then return reasons, false end
  local r = git.run(w.path, { "merge-base", "--is-ancestor", "refs/heads/" .. w.branch, "refs/heads/" .. into },
                    { any_code = true })
  local merged = r and r.code == 0
  if not merged then reasons[#reasons + 1] = "branch " .. w.branch .. " has commits not merged into " .. into end
  return reasons, merged
end

-- removes w (and its branch when merged); the text saying what went
local function remove(top, w, merged, into)
  local ok, err = git.run(top, { "worktree", "remove", "--force", w.path })
  if not ok then return nil, err end
  if merged and w.branch ~= into then
    ok, err = git.run(top, { "branch", "-D", w.branch })
    if not ok then return nil, err end
    return "branch " .. w.branch .. " deleted"
  end
  return w.branch and ("branch " .. w.branch .. " kept") or "no branch"
end

-- clean(M, opts) -> removed, kept | nil, err
-- removed, kept: lists of {path=, task=, branch=, reason=}; with
-- opts.dry_run nothing is removed and `removed` says what would be.
local function clean(M, opts)
  opts = opts or {}
  local top, err = M.toplevel(opts.repo)
  if not top then return nil, err end
  if not opts.dry_run then git.run(top, { "worktree", "prune" }) end
  local list
  list, err = git.worktrees(top)
  if not list then return nil, err end
  local into = opts.into or list[1].branch
  if not into then
    return nil, orch.err("no_base_branch", top .. " is on a detached HEAD: check out the branch "
      .. "task branches are merged into, or pass into=")
  end
  local root = M.root_of(top, opts.root)
  local removed, kept = {}, {}
  for i = 2, #list do
    local w = list[i]
    local path = w.path  -- resolved by git, as root_of resolves the root
    local parent, task = path:match("^(.*)/([^/]+)$")
    if parent == root and not w.prunable then
      local entry = { path = path, task = task, branch = w.branch }
      local reasons, merged = why_keep(w, into, M)
      if #reasons > 0 and not opts.force then
        entry.reason = table.concat(reasons, "; ")
        kept[#kept + 1] = entry
      else
        entry.reason = #reasons == 0 and ("merged into " .. into .. ", no uncommitted changes")
                       or ("forced: " .. table.concat(reasons, "; "))
        if not opts.dry_run then
          local what, rerr = remove(top, w, merged, into)
          if what then
            entry.reason = entry.reason .. "; " .. what
          else
            entry.reason = "could not remove it: " .. tostring(rerr)
          end
          if not what then kept[#kept + 1] = entry end
          if what then removed[#removed + 1] = entry end
        else
          removed[#removed + 1] = entry
        end
      end
    end
  end
  return removed, kept
end

return { clean = clean, unsaved = unsaved }
