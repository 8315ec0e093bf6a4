-- report_cli: `orch-host report [SESSION|DATE] [--stdout]` (host/cli/report.cpp
-- calls run(req) and prints what it returns). It finds the session (an id; a
-- date YYYY-MM-DD: that day's latest session, the day being the report's,
-- lib/report day(); nothing: the latest session), reads it from the state
-- database and writes its report again with lib/report, as the end of the
-- day does: the file of the session's day, with every session of that day
-- (--stdout: its text; of a session named, that session's part only).
-- Policy: edit freely.
local report = require("lib.report")
local S = require("lib.session")
local fmt = require("lib.format")

local M = {}

local EXIT = { ok = 0, bad_input = 2 }

-- date(text) -> true: a real date YYYY-MM-DD; false: shaped like a date but
-- not one (2026-13-01, 2026-2-30, 2026/12/01); nil: not a date at all
function M.date(text)
  local y, m, d = text:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if not y then
    if text:match("^%d%d%d%d[-/.]%d%d?[-/.]%d%d?$") then return false end
    return nil
  end
  local t = os.time({ year = tonumber(y), month = tonumber(m), day = tonumber(d), hour = 12 })
  return os.date("%Y-%m-%d", t) == text
end

-- find(target) -> session | nil, message
function M.find(target)
  if target == nil or target == "" then
    local id = orch.latest_session()
    if not id then return nil, fmt.reply("no_session_yet") end
    return S.load(id)
  end
  local s = S.load(target)
  if s then return s end
  local is_date = M.date(target)
  if is_date == false then return nil, fmt.reply("bad_date", target) end
  if not is_date then return nil, fmt.reply("no_session", target) end
  for _, row in ipairs(orch.list_sessions(-1)) do  -- newest first
    if report.day(row) == target then return S.load(row.id) end
  end
  return nil, fmt.reply("no_session_on", target)
end

M.fill_waits = report.fill_waits  -- (lib/report's, for every session of the day)

-- run{target=, stdout=, state=} -> {exit=, path= | text= | message=}
-- state: whether a state database exists (none: nothing has run yet);
-- stdout: the report's text is returned, and no file written
function M.run(req)
  if req.state == false then
    return { exit = EXIT.bad_input, message = req.target and fmt.reply("no_session", req.target)
      or fmt.reply("no_session_yet") }
  end
  local s, err = M.find(req.target)
  if not s then return { exit = EXIT.bad_input, message = err } end
  M.fill_waits(s)
  if req.stdout then
    -- a session named: its own part of the day's report; a date or none: the whole day
    local one = req.target and req.target ~= "" and M.date(req.target) == nil
    return { exit = EXIT.ok, text = one and report.render(s, orch.now()) or report.day_text(s, orch.now()) }
  end
  local path, werr = report.write(s, orch.config.paths.results_dir)
  if not path then return { exit = EXIT.bad_input, message = fmt.reply("cannot_write_report", werr) } end
  local info = orch.file_info(path)  -- its path under the project root, as written
  return { exit = EXIT.ok, path = info and info.path or path }
end

return M
