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

-- in_use([key_of]) -> key -> "task T of session S is STATUS", for every task
-- not finished of the sessions not completed; key_of(s, t) names what is
-- kept (default: the task's folder, agent_env.dir_for). Also lib/logs_clean's.
function M.in_use(key_of)
  key_of = key_of or agent_env.dir_for
  local keep = {}
  for _, row in ipairs(orch.list_sessions(M.SESSIONS_MAX) or {}) do
    if row.status ~= "completed" then
      local s = S.load(row.id)
      for _, t in ipairs(s and s.tasks or {}) do
        if not S.FINISHED[t.status or "pending"] then
          keep[key_of(s, t)] = format("task %s of session %s is %s", tostring(t.id), s.id,
            tostring(t.status or "pending"))
        end
      end
    end
  end
  return keep
end

-- the clean commands' lines (also lib/logs_clean's):
-- removed_line -> "removed SHOWN (1.2 MB, last changed 2026-01-02)"
function M.removed_line(verb, shown, bytes, mtime)
  return format("%s %s (%s, last changed %s)", verb, shown, mb(bytes), os.date("%Y-%m-%d", math.floor(mtime)))
end

-- summary{verb=, count=, noun=, bytes=, days=, dir=, kept=, newer=, dry_run=} ->
-- "removed 2 agent folders (3.0 MB) not changed for 3 days in DIR; 1 kept (task not finished), 4 newer"
function M.summary(o)
  return format("%s %s (%s) not changed for %s in %s; %d kept (task not finished), %d newer%s",
    o.verb, plural(o.count, o.noun), mb(o.bytes), plural(o.days, "day"), o.dir, o.kept, o.newer,
    o.dry_run and "; --dry-run: nothing removed" or "")
end

-- tally(args, noun, dir, days) -> what a clean by age does and says (also
-- lib/logs_clean's): t.keep(shown, why) a kept one; t.newer() one changed
-- within the days; t.remove(shown, path, bytes, mtime, remove) one removed
-- with remove(path) -> ok, err (with args.dry_run only said); t.result() ->
-- {exit=, out=, err=}: the lines and the summary on stdout, what could not be
-- removed on stderr (exit 1)
function M.tally(args, noun, dir, days)
  local verb = args.dry_run and "would remove" or "removed"
  local lines, errs, n = {}, {}, { removed = 0, bytes = 0, kept = 0, newer = 0 }
  local t = {}
  function t.keep(shown, why)
    n.kept = n.kept + 1
    lines[#lines + 1] = format("kept %s: %s", shown, why)
  end
  function t.newer() n.newer = n.newer + 1 end
  function t.remove(shown, path, bytes, mtime, remove)
    local ok, err = true, nil
    if not args.dry_run then ok, err = remove(path) end
    if ok then
      n.removed, n.bytes = n.removed + 1, n.bytes + bytes
      lines[#lines + 1] = M.removed_line(verb, shown, bytes, mtime)
    else
      errs[#errs + 1] = "cannot remove " .. tostring(err)
    end
  end
  function t.result()
    lines[#lines + 1] = M.summary({ verb = verb, count = n.removed, noun = noun, bytes = n.bytes, days = days,
      dir = dir, kept = n.kept, newer = n.newer, dry_run = args.dry_run })
    return { exit = #errs > 0 and 1 or 0, out = table.concat(lines, "\n"),
      err = #errs > 0 and table.concat(errs, "\n") or nil }
  end
  return t
end

function M.run(_, args)
  local n, derr = days_of(args.days, "agent folders")
  if not n then return { exit = 2, out = "orch-host clean agents: " .. derr } end
  local root = agent_env.state_dir() .. "/agents"
  local cutoff = orch.now() - n * M.DAY
  local keep = M.in_use()
  local tally = M.tally(args, "agent folder", root, n)
  local names = orch.list_dir(root) or {}
  table.sort(names)
  for _, name in ipairs(names) do
    local path = root .. "/" .. name
    local info = orch.tree_info(path)
    if info and info.type == "dir" then
      if keep[path] then
        tally.keep("agents/" .. name, keep[path])
      elseif info.newest_mtime >= cutoff then
        tally.newer()
      else
        tally.remove("agents/" .. name, path, info.bytes, info.newest_mtime, orch.remove_tree)
      end
    end
  end
  return tally.result()
end

return M
