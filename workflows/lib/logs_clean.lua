-- logs_clean: `orch-host clean logs --days N [--dry-run]` (lib/clean_cli).
-- paths.logs_dir grows by a file per agent run and one per day: each run's
-- raw stream-json, task-<session>-<task>[-tryN]-output.log
-- (agent_env.output_log), often megabytes, and the daily log, YYYY-MM-DD.log.
-- This removes those last changed more than N days ago, except the output
-- logs of a task that is not finished (lib/agents_clean's in_use: a task
-- waiting for its answer or its retry still needs them) and today's daily
-- log, so it is safe beside a running host. Nothing else there is touched:
-- events.ndjson (the event record), orchestrator.log and its rotated
-- orchestrator.N.log (bounded by log.main_log_kb and log.main_log_files),
-- the webhook's access log, a user's own files; nor a symlink (never
-- followed) or a folder, whatever its name. An output log no session knows
-- (its session deleted) is removed by age alone.
-- Returns {exit=, out=, err=}. Policy: edit freely.
local agent_env = require("lib.agent_env")
local clean = require("lib.agents_clean")
local days_of = require("lib.artifacts_cli").days

local M = {}

M.DAY = 86400
M.DAILY = "^%d%d%d%d%-%d%d%-%d%d%.log$"  -- the daily log's name (host/services/journal.cpp)

-- kind(name, keep, today) -> "daily" | "output", why it stays (nil: it may go)
-- | nil (not one of these logs); keep: agents_clean.in_use's, by agent_env.key;
-- today: today's daily log's name
function M.kind(name, keep, today)
  if name:match(M.DAILY) then return "daily", name == today and "today's daily log" or nil end
  local key, task_key = agent_env.output_log_keys(name)
  if not key then return nil end
  return "output", keep[key] or keep[task_key]  -- a retry's log is its task's
end

function M.run(_, args)
  local n, derr = days_of(args.days, "log files")
  if not n then return { exit = 2, out = "orch-host clean logs: " .. derr } end
  local dir = orch.config.paths.logs_dir
  local cutoff = orch.now() - n * M.DAY
  local today = os.date("%Y-%m-%d", math.floor(orch.now())) .. ".log"
  local keep = clean.in_use(agent_env.key)
  local tally = clean.tally(args, "log file", dir, n)
  for _, name in ipairs(orch.list_dir(dir) or {}) do
    local path = dir .. "/" .. name
    local kind, why = M.kind(name, keep, today)
    local info = kind and orch.file_info(path)
    -- a symlink (never followed) or a folder is not a log this host wrote
    if info and not info.link and info.type == "file" then
      if (why and kind == "daily") or (not why and info.mtime >= cutoff) then
        tally.newer()  -- (today's daily log, being written)
      elseif why then
        tally.keep(path, why)
      else
        tally.remove(path, path, info.size, info.mtime, orch.remove_file)
      end
    end
  end
  return tally.result()
end

return M
