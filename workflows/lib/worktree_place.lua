-- worktree_place: where lib/worktree_prepare's task works: its own worktree
-- (reused), an earlier task's of the same id that loses nothing (replaced), a
-- new one, or beside an earlier day's that holds work (<id>.2, <id>.3, ...).
-- M is lib/worktree, passed in (as lib/worktree_clean takes it).
-- placement(M, c, list, in_use) -> "reuse", w | "replace", w | "new" | nil, err
-- read_meta(M, gitdir) -> the worktree's meta (M.meta_file), {} when none
-- Policy: edit freely.
local git = require("lib.git")

local function fail(code, message, fields) return nil, orch.err(code, message, fields) end

local function read_meta(M, gitdir)
  local text = gitdir and orch.read_file(gitdir .. "/" .. M.meta_file)
  local meta = text and orch.json.decode(text)
  return type(meta) == "table" and meta or {}
end

-- why_not_replace(M, c, w, in_use) -> the reasons the worktree w at c.path, of
-- another branch, must stay (empty: it is an earlier task's, the
-- orchestrator's, holding nothing its branch does not, and no unfinished
-- task works in it: prepare replaces it, the branch kept)
-- -> reasons, kept: kept when it is the orchestrator's worktree of an earlier
-- task of this id, idle, that holds work (the task can work beside it)
local function why_not_replace(M, c, w, in_use)
  local reasons = {}
  local gitdir = w.branch and git.out(w.path, { "rev-parse", "--absolute-git-dir" })
  local ours = w.branch and tostring(read_meta(M, gitdir).task) == c.id
  if w.branch and not ours then
    reasons[1] = "not a task worktree the orchestrator made"
  end
  local busy = w.branch and in_use and in_use(w.branch)
  if busy then reasons[#reasons + 1] = busy end
  for _, r in ipairs(M.unsaved(w)) do reasons[#reasons + 1] = r end
  return reasons, ours and not busy and #reasons > 0
end

-- in_use_error(c, why): task c's folder is another live session's task's
local function in_use_error(c, why)
  return fail("in_use", string.format("task %s: its worktree %s is in use: %s; wait for it to "
    .. "finish, or pause that session or cancel that task", c.id, c.path, why))
end

-- placement(M, c, list, in_use) -> "reuse", w | "replace", w | "new" | nil, err:
-- what prepare does at c.path, given the repository's worktrees (list)
local function placement(M, c, list, in_use)
  local at
  for _, w in ipairs(list) do
    if w.path == c.path and not w.prunable then at = w end  -- git writes worktree paths resolved, as root_of does
  end
  -- another live session's task works in that folder (its worktree made, or
  -- being made): in use, whatever git shows of it yet
  if in_use and not (at and at.branch == c.branch) then
    local why, live = in_use(nil, c.path)
    if live then return in_use_error(c, why) end
  end
  if at and at.branch == c.branch then
    -- a re-run continues there; not while another session's agent may be at work in it
    local why, live
    if in_use then why, live = in_use(c.branch) end
    if live then return in_use_error(c, why) end
    return "reuse", at
  end
  for _, w in ipairs(list) do
    if w.branch == c.branch and not w.prunable and not c.beside and w.path:sub(1, #c.path + 1) == c.path .. "."
       and w.path:sub(#c.path + 2):match("^%d+$") then
      c.path = w.path  -- its worktree beside an earlier day's (below): a re-run continues there
      return placement(M, c, list, in_use)
    end
    if w.branch == c.branch and not w.prunable then
      return fail("branch_busy", string.format("task %s: branch %s is already checked out in %s "
        .. "(a branch can be checked out in one worktree only)", c.id, c.branch, w.path))
    end
  end
  if at then
    local reasons, kept = why_not_replace(M, c, at, in_use)
    if #reasons == 0 then return "replace", at end
    -- an earlier day's task of this id left its work there (nothing commits by
    -- default): it stays, and this task works beside it, in <id>.2, <id>.3, ...
    if kept and not c.beside then
      for n = 2, M.BESIDE_MAX do
        local alt = {}
        for k, v in pairs(c) do alt[k] = v end
        alt.path, alt.beside = c.path .. "." .. n, true
        local action, w = placement(M, alt, list, in_use)
        if action then
          orch.log("info", string.format("worktree: task %s: %s holds branch %s's work (%s), which stays: this task "
            .. "works in %s", c.id, c.path, tostring(at.branch), table.concat(reasons, "; "), alt.path))
          c.path = alt.path
          return action, w
        end
        if w and w.code == "in_use" then return nil, w end
      end
    end
    return fail("not_ours", string.format("task %s: %s is a worktree of %s, not of its branch %s, and it stays "
      .. "(%s): remove it (git worktree remove) or configure another workspace.root", c.id, c.path,
      at.branch and ("branch " .. at.branch) or "a detached HEAD", c.branch, table.concat(reasons, "; ")))
  end
  if orch.file_info(c.path) then
    return fail("path_exists", string.format("task %s: %s exists and is not a worktree of %s: "
      .. "move it away or configure another workspace.root", c.id, c.path, c.top))
  end
  return "new"
end

return { placement = placement, read_meta = read_meta }
