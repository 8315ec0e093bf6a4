-- worktree_clean: lib/worktree's clean. Removes the task worktrees (the
-- folders directly under the workspace root) whose branch is merged into
-- the base branch and that hold no uncommitted work, and deletes their
-- merged branches; keeps every other one, with the reason. Then the
-- orchestrator's branches that no worktree holds (lib/worktree's
-- branches_file: a later day's task of the same id replaced their worktree,
-- or it was removed by hand): the merged ones are deleted, the others kept,
-- with the reason. force removes a kept worktree too (its uncommitted
-- changes are lost) but never deletes a branch with unmerged commits.
-- unsaved (what removing a worktree would lose) is also
-- lib/worktree_place's rule for replacing an earlier task's worktree.
-- Policy: edit freely.
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

-- is_merged(dir, branch, into) -> whether branch's commits are all in into; the
-- reason to keep it when not
local function is_merged(dir, branch, into)
  local r = git.run(dir, { "merge-base", "--is-ancestor", "refs/heads/" .. branch, "refs/heads/" .. into },
                    { any_code = true })
  if r and r.code == 0 then return true end
  return false, "branch " .. branch .. " has commits not merged into " .. into
end

-- why(w, into, M) -> the reasons to keep w (empty: it may go), merged
local function why_keep(w, into, M)
  local reasons = unsaved(w, M)
  if not w.branch then return reasons, false end
  local ok, why = is_merged(w.path, w.branch, into)
  if not ok then reasons[#reasons + 1] = why end
  return reasons, ok
end

-- The orchestrator's branches no worktree holds (those recorded, those
-- under M.BRANCH_PREFIX): each merged into `into` goes to removed (deleted,
-- unless dry_run), each other to kept, as {branch=, reason=}; the record
-- then lists only the branches that stay
local function loose_branches(top, list, into, M, opts, removed, kept)
  local file = (M.common_dir(top) or (top .. "/.git")) .. "/" .. M.branches_file
  local text = orch.read_file(file)
  local refs = git.out(top, { "for-each-ref", "--format=%(refname)", "refs/heads/" }) or ""
  local exists, held, seen, names, stay = {}, { [into] = true }, {}, {}, {}
  for _, ref in ipairs(git.lines(refs)) do
    local b = ref:gsub("^refs/heads/", "")
    exists[b] = true
    if b:sub(1, #M.BRANCH_PREFIX) == M.BRANCH_PREFIX then names[#names + 1] = b end
  end
  for _, b in ipairs(git.lines(text)) do names[#names + 1] = b end
  for _, w in ipairs(list) do if w.branch then held[w.branch] = true end end
  table.sort(names)
  for _, b in ipairs(names) do
    if exists[b] and not seen[b] then
      seen[b] = true
      local ok, why = true, nil
      if not held[b] then ok, why = is_merged(top, b, into) end
      local entry = { branch = b, reason = ok and ("merged into " .. into .. ", no worktree") or why }
      if held[b] then
        stay[#stay + 1] = b  -- a worktree holds (or held) it: said above, or one outside the root
      elseif not ok then
        stay[#stay + 1] = b
        kept[#kept + 1] = entry
      elseif opts.dry_run then
        removed[#removed + 1] = entry
      else
        local gone, err = git.run(top, { "branch", "-D", b })
        if gone then
          entry.reason = entry.reason .. "; branch deleted"
          removed[#removed + 1] = entry
        else
          entry.reason = "could not delete it: " .. tostring(err)
          stay[#stay + 1] = b
          kept[#kept + 1] = entry
        end
      end
    end
  end
  if text and not opts.dry_run then
    orch.write_file(file, #stay > 0 and (table.concat(stay, "\n") .. "\n") or "")
  end
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
  loose_branches(top, list, into, M, opts, removed, kept)
  return removed, kept
end

return { clean = clean, unsaved = unsaved }
