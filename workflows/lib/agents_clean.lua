-- agents_clean: `orch-host clean agents --days N [--dry-run]` (lib/clean_cli).
-- Each task's agent has a folder of its own, <state dir>/agents/<session>-<task>/
-- (lib/agent_env: claude's config dir, with its transcripts), kept after
-- the run so a retry or a --resume finds the
-- conversation. A day leaves a few; an inbox that runs for months, thousands.
-- This removes the folders nothing in them changed for more than N days,
-- except a task's that is not finished (its session may still resume it: a
-- question, a usage limit, a pause), so it is safe beside a running host.
-- A folder no session knows (its session deleted) is removed by age alone.
-- Returns {exit=, out=, err=}. Policy: edit freely.
local S = require("lib.session")
local agent_env = require("lib.agent_env")
local days_of = require("lib.artifacts_cli").days

local M = {}

M.DAY = 86400
M.SESSIONS_MAX = 100000  -- sessions looked at for unfinished tasks

local format = string.format

local function mb(bytes) return format("%.1f MB", (bytes or 0) / 1048576) end
local plural = require("lib.format").plural

-- the folders of every task not finished, of the sessions not completed ->
-- path -> "task T of session S (status)"
function M.in_use()
  local keep = {}
  for _, row in ipairs(orch.list_sessions(M.SESSIONS_MAX) or {}) do
    if row.status ~= "completed" then
      local s = S.load(row.id)
      for _, t in ipairs(s and s.tasks or {}) do
        if not S.FINISHED[t.status or "pending"] then
          keep[agent_env.dir_for(s, t)] = format("task %s of session %s is %s", tostring(t.id), s.id,
            tostring(t.status or "pending"))
        end
      end
    end
  end
  return keep
end

function M.run(_, args)
  local n, derr = days_of(args.days, "agent folders")
  if not n then return { exit = 2, out = "orch-host clean agents: " .. derr } end
  local root = agent_env.state_dir() .. "/agents"
  local cutoff = orch.now() - n * M.DAY
  local keep = M.in_use()
  local verb = args.dry_run and "would remove" or "removed"
  local lines, errs = {}, {}
  local removed, bytes, kept, newer = 0, 0, 0, 0
  local names = orch.list_dir(root) or {}
  table.sort(names)
  for _, name in ipairs(names) do
    local path = root .. "/" .. name
    local info = orch.tree_info(path)
    if info and info.type == "dir" then
      if keep[path] then
        kept = kept + 1
        lines[#lines + 1] = format("kept agents/%s: %s", name, keep[path])
      elseif info.newest_mtime >= cutoff then
        newer = newer + 1
      else
        local ok, err = true, nil
        if not args.dry_run then ok, err = orch.remove_tree(path) end
        if ok then
          removed, bytes = removed + 1, bytes + info.bytes
          lines[#lines + 1] = format("%s agents/%s (%s, last changed %s)", verb, name, mb(info.bytes),
            os.date("%Y-%m-%d", math.floor(info.newest_mtime)))
        else
          errs[#errs + 1] = "cannot remove " .. tostring(err)
        end
      end
    end
  end
  lines[#lines + 1] = format("%s %s (%s) not changed for %s in %s; %d kept (task not finished), %d newer%s",
    verb, plural(removed, "agent folder"), mb(bytes), plural(n, "day"), root, kept, newer,
    args.dry_run and "; --dry-run: nothing removed" or "")
  -- what was done on stdout, what could not be on stderr (exit 1)
  return { exit = #errs > 0 and 1 or 0, out = table.concat(lines, "\n"),
    err = #errs > 0 and table.concat(errs, "\n") or nil }
end

return M
