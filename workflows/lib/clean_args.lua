-- clean_args: the targets of `orch-host clean` and the flags each one takes,
-- the one table (host/cli/clean.cpp asks check() before it takes the run
-- lock, so a wrong command is exit 2 whether or not a host runs).
-- M.check(req) -> nil | {exit=2, out=}   req = {what=, force=, all=, dry_run=, days= (false or text)}
local M = {}

-- in the order the usage lists them; `days` = "--days N" is required
M.TARGETS = {
  { name = "worktrees", flags = { force = true, dry_run = true }, does = "removes the merged task worktrees" },
  { name = "tasks", flags = { all = true, dry_run = true }, does = "archives processed task files" },
  { name = "artifacts", flags = { days = true, dry_run = true }, days = true,
    does = "removes the inbox's results and summaries older than N days" },
  { name = "agents", flags = { days = true, dry_run = true }, days = true,
    does = "removes the agents' folders not used for N days" },
  { name = "logs", flags = { days = true, dry_run = true }, days = true,
    does = "removes the agents' output logs and the daily logs older than N days" },
}

local FLAG_NAMES = { force = "--force", all = "--all", dry_run = "--dry-run", days = "--days" }
local FLAG_ORDER = { "force", "all", "days", "dry_run" }

local function usage(t)
  local flags = {}
  for _, f in ipairs(FLAG_ORDER) do
    if t.flags[f] and not (f == "days" and t.days) then flags[#flags + 1] = "[" .. FLAG_NAMES[f] .. "]" end
  end
  return "clean " .. t.name .. (t.days and " --days N" or "") .. (#flags > 0 and " " .. table.concat(flags, " ") or "")
end

function M.check(req)
  local target
  for _, t in ipairs(M.TARGETS) do
    if t.name == req.what then target = t end
  end
  if not target then
    local known = {}
    for _, t in ipairs(M.TARGETS) do known[#known + 1] = usage(t) .. " " .. t.does end
    return { exit = 2, out = string.format("orch-host clean: %s (%s)",
      (req.what or "") == "" and "which target?" or "unknown target '" .. tostring(req.what) .. "'",
      table.concat(known, "; ")) }
  end
  for _, f in ipairs(FLAG_ORDER) do
    local given = req[f]
    if f == "days" then given = given ~= nil and given ~= false end
    if given and not target.flags[f] then
      return { exit = 2, out = string.format("orch-host clean %s: %s is not one of its flags (%s)", target.name,
        FLAG_NAMES[f], usage(target)) }
    end
  end
  return nil
end

return M
