-- clean_cli: `orch-host clean worktrees [--force] [--dry-run]` (and `clean
-- tasks [--all] [--dry-run]`, lib/inbox_clean; `clean agents --days N
-- [--dry-run]`, lib/agents_clean; `clean logs --days N [--dry-run]`,
-- lib/logs_clean), run by
-- host/cli/clean.cpp as a task (git runs through orch.exec; the targets and their
-- flags are lib/clean_args). Returns
-- {exit=, out=[, err=]}: the host prints out (stdout on exit 0 or when err
-- says what failed, else stderr) and err's lines on stderr.
-- The rules are lib/worktree's clean. Policy: edit freely.
local worktree = require("lib.worktree")

local args = ...

local function rel(path, top)
  if path:sub(1, #top + 1) == top .. "/" then return path:sub(#top + 2) end
  return path
end

local function run()
  if args.what == "tasks" then return require("lib.inbox_clean").run(orch.config, args) end
  if args.what == "agents" then return require("lib.agents_clean").run(orch.config, args) end
  if args.what == "logs" then return require("lib.logs_clean").run(orch.config, args) end
  local bad = require("lib.clean_args").check(args)  -- the host asked it already; a workflow run by hand may not
  if bad then return bad end
  local top, err = worktree.toplevel()
  local removed, kept
  if top then removed, kept = worktree.clean({ repo = top, force = args.force, dry_run = args.dry_run }) end
  if not removed then
    return { exit = 2, out = "orch-host clean worktrees: " .. tostring(err or kept)
      .. " (the repository is workspace.repo, else claude.base_cwd)" }
  end
  local lines = {}
  local verb = args.dry_run and "would remove" or "removed"
  -- a worktree: "agent_workspaces/a (its branch)"; a branch no worktree holds: "branch X (no worktree)"
  local function what(e)
    if not e.path then return "branch " .. e.branch .. " (no worktree)" end
    return string.format("%s (%s)", rel(e.path, top), e.branch or "detached")
  end
  local forcible = 0  -- kept worktrees (--force removes them; never an unmerged branch)
  for _, e in ipairs(removed) do lines[#lines + 1] = string.format("%s %s: %s", verb, what(e), e.reason) end
  for _, e in ipairs(kept) do
    lines[#lines + 1] = string.format("kept %s: %s", what(e), e.reason)
    if e.path then forcible = forcible + 1 end
  end
  if #removed + #kept == 0 then
    lines[#lines + 1] = "no task worktrees under " .. rel(worktree.root_of(top), top) .. " and no task branches"
  else
    lines[#lines + 1] = string.format("%d %s, %d kept%s", #removed, verb, #kept,
      forcible > 0 and not args.force and " (--force removes the kept worktrees too, losing their uncommitted changes)"
      or "")
  end
  return { exit = 0, out = table.concat(lines, "\n") }
end

return run()
