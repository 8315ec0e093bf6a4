-- report: the end-of-day report, results/YYYY-MM-DD-report.md:
-- what was done, what failed, durations, cost, tokens, time to approval.
local fmt = require("lib.format")
local S = require("lib.session")
local M = {}

local function cell(v) return (tostring(v or ""):gsub("|", "\\|"):gsub("\n", " ")) end

function M.render(s, now)
  local out = {}
  local function add(line) out[#out + 1] = line end
  local c = S.counts(s)
  local done, failed, skipped, total = c.completed, c.failed, c.skipped, c.total
  local cost, tokens = S.totals(s)
  local wait, waits = 0, 0
  for _, t in ipairs(s.tasks) do
    if t.approval_wait_s then wait, waits = wait + t.approval_wait_s, waits + 1 end
  end
  add("# Report " .. os.date("%Y-%m-%d", math.floor(s.started_at or now)) .. " (session " .. s.id .. ")")
  add("")
  add("- Task file: `" .. tostring(s.task_file) .. "`")
  add(string.format("- Tasks: %d completed, %d failed, %d skipped, %d total (success rate %d%%)",
    done, failed, skipped, total, total > 0 and math.floor(done * 100 / total) or 0))
  add("- Duration: " .. fmt.duration((s.finished_at or now) - (s.started_at or now)))
  add(string.format("- Cost: $%.4f, %s tokens", cost, fmt.thousands(tokens)))
  if waits > 0 then add("- Average time to approval: " .. fmt.duration(wait / waits)) end
  add("")
  add("| # | Task | Type | Status | Duration | Cost | Tokens |")
  add("|---|------|------|--------|----------|------|--------|")
  for _, t in ipairs(s.tasks) do
    local d = (t.started_at and t.completed_at) and fmt.duration(t.completed_at - t.started_at) or ""
    add(string.format("| %s | %s | %s | %s | %s | %s | %s |", cell(t.id), cell(t.title), cell(t.type),
      cell(t.status), d, t.cost_usd and string.format("$%.4f", t.cost_usd) or "", cell(t.tokens)))
  end
  for _, t in ipairs(s.tasks) do
    if t.status == "failed" or t.result then
      add("")
      add("## Task " .. t.id .. ": " .. tostring(t.title))
      if t.error then add("**Error:** " .. tostring(t.error)) end
      if t.result then add("") add(fmt.truncate(tostring(t.result), 1500)) end
      if t.output_log then add("") add("Output log: `" .. t.output_log .. "`") end
    end
  end
  return fmt.printable(table.concat(out, "\n") .. "\n")
end

-- write(s, dir) -> path | nil
function M.write(s, dir)
  local now = orch.now()
  local path = string.format("%s/%s-report.md", dir, os.date("%Y-%m-%d", math.floor(s.started_at or now)))
  local ok, err = orch.write_file(path, M.render(s, now))
  if not ok then orch.log("warn", "report not written: " .. tostring(err)) return nil end
  return path
end

return M
