-- inbox_task_cli: `orch-host create-sample [--dir DIR] [--force]`
-- (host/cli/create_sample.cpp calls create_sample(req) and prints what it
-- returns). Writes lib/inbox_task's sample task as DIR/sample.task.md (DIR:
-- req.dir, else paths.tasks_dir, the inbox's folder: a running inbox picks
-- it up at once). Policy: edit freely.
local inbox_task = require("lib.inbox_task")

local M = {}

local EXIT = { ok = 0, bad_input = 2 }
M.NAME = "sample" .. inbox_task.SUFFIX

-- create_sample{dir=, force=} -> {exit=, path= | message=}
function M.create_sample(req)
  local dir = req.dir or orch.config.paths.tasks_dir
  local d = orch.file_info(dir)
  if d and d.type ~= "dir" then
    return { exit = EXIT.bad_input, message = "cannot write the sample: " .. d.path .. " is not a folder" }
  end
  local path = dir .. "/" .. M.NAME
  local info = orch.file_info(path)
  if info and info.type ~= "file" then
    return { exit = EXIT.bad_input, message = info.path .. " exists and is not a file" }
  end
  if info and not req.force then
    return { exit = EXIT.bad_input, message = info.path .. " exists (--force writes over it)" }
  end
  local ok, err = orch.make_dir(dir)
  if ok then ok, err = orch.write_file(path, inbox_task.sample()) end
  if not ok then return { exit = EXIT.bad_input, message = "cannot write the sample: " .. tostring(err) } end
  return { exit = EXIT.ok, path = assert(orch.file_info(path)).path }
end

return M
