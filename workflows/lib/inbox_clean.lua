-- inbox_clean: `orch-host clean tasks [--all] [--dry-run]` archives loose
-- inbox task files. Every `*.task.md` in cfg.paths.tasks_dir whose id and
-- content the ledger (lib/inbox_queue) has as processed moves to processed/;
-- with all, every one does (host/cli/clean.cpp refuses that while a host
-- runs: it holds the run lock for it). Moves as the inbox makes them
-- (lib/inbox_files: never over an earlier file). Policy: edit freely.
--
-- M.run(cfg, args [, opts]) -> {exit=, out=, err=}: what moved, what could not
--   args = {all=, dry_run=}; opts.parse(path, {root=}) -> task | nil, err
--   (default lib/inbox_task.load), opts.load(key) (default orch.load_state)
local files = require("lib.inbox_files")
local inbox_queue = require("lib.inbox_queue")

local M = {}

local function when(at)
  return tonumber(at) and os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(at)) or "?"
end

-- why path moves: the ledger's row for a processed one, "not processed" else
local function check(dir, name, parse, load)
  local t, err = parse(dir .. "/" .. name, { root = dir })
  if not t then return nil, "invalid: " .. tostring(err) end
  local row = inbox_queue.ledger(t.id, load)
  if inbox_queue.processed(t, load) then
    return string.format("task %s, %s at %s", tostring(t.id), row.status, when(row.at))
  end
  if row and row.sha ~= t.inbox.sha then return nil, "task " .. tostring(t.id) .. " changed since its last run" end
  return nil, "task " .. tostring(t.id) .. " not processed"
end

function M.run(cfg, args, opts)
  opts = opts or {}
  local parse = opts.parse or function(path, o) return require("lib.inbox_task").load(path, o) end
  local dir = (cfg.paths and cfg.paths.tasks_dir or "tasks"):gsub("/+$", "")
  local names, err = orch.list_dir(dir)
  if not names then
    if type(err) == "table" and err.code == "not_found" then
      return { exit = 0, out = "no task folder " .. dir .. " (paths.tasks_dir): nothing to clean" }
    end
    return { exit = 2, out = "orch-host clean tasks: " .. tostring(err) }
  end
  local lines, errs, moved, left, failed, made = {}, {}, 0, 0, 0, {}
  local log = function(level, msg)
    if level == "error" then errs[#errs + 1] = msg else lines[#lines + 1] = msg end
  end
  for _, name in ipairs(names) do
    if files.is_task_file(name) then
      local why, not_why = check(dir, name, parse, opts.load)
      if args.all and not why then why = "--all: " .. not_why end
      if not why then
        left = left + 1
      elseif args.dry_run then
        moved = moved + 1
        lines[#lines + 1] = string.format("would move %s/%s to %s/processed/ (%s)", dir, name, dir, why)
      else
        local dest, merr = files.archive(dir, name, "processed", nil, made, log)
        if dest then
          moved = moved + 1
          lines[#lines + 1] = string.format("moved %s/%s -> %s (%s)", dir, name, dest, why)
        elseif merr ~= "gone" then
          failed = failed + 1
        end
      end
    end
  end
  local verb = args.dry_run and "would move" or "moved"
  local total = string.format("%d %s to %s/processed/", moved, verb, dir)
  if left > 0 then
    total = total .. string.format(", %d left (not processed; --all moves them too)", left)
  end
  if failed > 0 then total = total .. string.format(", %d could not move", failed) end
  lines[#lines + 1] = total
  return { exit = failed > 0 and 1 or 0, out = table.concat(lines, "\n"),
    err = #errs > 0 and table.concat(errs, "\n") or nil }
end

return M
