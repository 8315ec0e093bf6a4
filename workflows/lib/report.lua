-- report: the end-of-day report, results/YYYY-MM-DD-report.md (Markdown):
-- one part per session started that day, oldest first, so a second session
-- the same day adds its own and the first's stays. Each: the day at a glance
-- (success rate, wall time and the time saved by running tasks in parallel,
-- cost against the budget, tokens, time waiting for approval, standing
-- instructions applied), a table of the tasks, what is left for you to
-- review and commit, then each task in detail
-- (lib/report_task). A field a day does not have (a markdown day run one task
-- at a time has no branches or changes) is left out. write(s, dir) is the
-- entry point: daily.lua calls it at the end of the day, `orch-host report`
-- through lib/report_cli (day_text too, for --stdout). Policy: edit freely.
local fmt = require("lib.format")
local S = require("lib.session")
local control = require("lib.control")
local policy = require("lib.policy")
local RT = require("lib.report_task")
local valid_date = require("lib.instructions_md").valid_date
local M = {}

local format, concat = string.format, table.concat
local line, cell, code, list = RT.line, RT.cell, RT.code, RT.list
local secs_of, money, changes_text, where = RT.secs_of, RT.money, RT.changes_text, RT.where
local touched_text = RT.touched_text
local plural = fmt.plural

-- the report's day (the file name's), the one feedback and the standing
-- instructions use too: the day file's own date (a YAML day's `date:`, the
-- markdown day's heading) when it gives a valid one, else YYYY-MM-DD of the
-- session's start
function M.day(s, now)
  if valid_date(s.date) then return s.date end
  return os.date("%Y-%m-%d", math.floor(tonumber(s.started_at) or now or orch.now()))
end

function M.path(s, dir, now) return format("%s/%s-report.md", dir, M.day(s, now)) end

-- the day's budget in dollars, or nil: the session's own (the day file's), else the config's
function M.budget(s, cfg)
  local _, max = policy.budget(0, (cfg or {}).budget, true, s.budget_usd)
  return max > 0 and max or nil
end

-- "3 completed, 1 failed, 0 skipped, 1 blocked, 5 total (success rate 60%)"
local function counts_line(c)
  local parts, seen = {}, { total = true, done = true }
  for _, st in ipairs({ "completed", "failed", "skipped" }) do
    parts[#parts + 1] = format("%d %s", c[st] or 0, st)
    seen[st] = true
  end
  local others = {}
  for _, st in ipairs(S.STATUSES) do if not seen[st] then others[#others + 1] = st; seen[st] = true end end
  local extra = {}
  for st in pairs(c) do if not seen[st] then extra[#extra + 1] = st end end
  table.sort(extra)
  for _, st in ipairs(extra) do others[#others + 1] = st end
  for _, st in ipairs(others) do
    if (c[st] or 0) > 0 then parts[#parts + 1] = format("%d %s", c[st], (st:gsub("_", " "))) end
  end
  return format("%s, %d total (success rate %d%%)", concat(parts, ", "), c.total,
    fmt.percent(c.completed or 0, c.total))
end

-- (live: a host works on s, control.hosted; upto: when the session last ran,
-- S.last_seen, as its Duration counts: the tasks in hand count to it)
local function summary(s, now, cfg, add, live, upto)
  local c = S.counts(s)
  local cost, tokens, est = S.totals(s)
  local work, wait, waited, applied, seen = 0, 0, 0, 0, {}
  for _, t in ipairs(s.tasks) do
    work = work + (secs_of(t, upto) or 0)
    local w = tonumber(t.approval_wait_s)
    if w then wait, waited = wait + w, waited + 1 end
    for _, text in ipairs(list(t.instructions_applied)) do
      if not seen[text] then seen[text], applied = true, applied + 1 end
    end
  end
  local wall = S.runtime(s, now, live) or 0
  -- whole seconds, as fmt.duration shows them, so that the saving shown is
  -- the difference of the two times shown beside it
  work, wall = math.floor(work), math.floor(wall)
  add("- Task file: " .. code(s.task_file))
  if s.status and s.status ~= "completed" then
    add("- Session: " .. line(s.status) .. (s.pause_reason and (" (" .. line(s.pause_reason) .. ")") or ""))
  end
  add("- Tasks: " .. counts_line(c))
  add("- Duration: " .. fmt.duration(wall))
  if work > wall then
    add(format("- Time saved by parallelism: %s (the tasks took %s together, the day %s)",
      fmt.duration(work - wall), fmt.duration(work), fmt.duration(wall)))
  else
    add("- Task time: " .. fmt.duration(work) .. " (no time saved by parallelism)")
  end
  local budget = M.budget(s, cfg)
  local before = tonumber(s.spent_before_usd) or 0  -- the day's earlier sessions' share of the budget (lib/runner)
  if budget and before > 0 then
    add(format("- Cost: %s, and %s by the day's earlier sessions, of the %s budget (%d%%%s)", money(cost, est),
      money(before), money(budget), fmt.percent(cost + before, budget),
      cost + before >= budget and ", budget reached" or ""))
  elseif budget then
    add(format("- Cost: %s of the %s budget (%d%%%s)", money(cost, est), money(budget), fmt.percent(cost, budget),
      cost >= budget and ", budget reached" or ""))
  else
    add("- Cost: " .. money(cost, est) .. " (no budget set)")
  end
  if est > 0 then add("  (" .. fmt.ESTIMATED .. ")") end
  add("- Tokens: " .. fmt.thousands(tokens))
  if waited > 0 then
    -- each task's wait added up: waits at the same time (a parallel day)
    -- make a sum that can pass the Duration, so the line says it is one
    add(format("- Time waiting for approval, summed over tasks: %s over %s (average %s)", fmt.duration(wait),
      plural(waited, "task"), fmt.duration(wait / waited)))
  end
  if applied > 0 then add("- Standing instructions applied: " .. applied .. " (listed under each task)") end
  for _, e in ipairs(list(s.feedback_unread)) do  -- lib/feedback's unread files (daily.lua keeps them)
    add("- Feedback left out (fix the file; the rest applied): " .. tostring(e))
  end
end

local function task_table(s, add, upto)
  local branches, changes = false, false
  for _, t in ipairs(s.tasks) do
    branches, changes = branches or t.branch ~= nil, changes or type(t.changes) == "table"
  end
  local head = { "#", "Task", "Type", "Status" }
  if branches then head[#head + 1] = "Branch" end
  if changes then head[#head + 1] = "Files" end
  for _, h in ipairs({ "Duration", "Cost", "Tokens" }) do head[#head + 1] = h end
  local rule = {}
  for i, h in ipairs(head) do rule[i] = string.rep("-", math.max(3, #h)) end
  add("| " .. concat(head, " | ") .. " |")
  add("|" .. concat(rule, "|") .. "|")
  for _, t in ipairs(s.tasks) do
    local row = { cell(t.id), cell(t.title), cell(t.type), cell(t.status) }
    if branches then row[#row + 1] = t.branch and (code(t.branch):gsub("|", "\\|")) or "" end
    if changes then row[#row + 1] = cell(changes_text(t)) end
    local d, tok = secs_of(t, upto), fmt.tokens(t.tokens)
    row[#row + 1] = d and fmt.duration(d) or ""
    row[#row + 1] = t.cost_usd and money(t.cost_usd, t.cost_estimated_usd) or ""
    row[#row + 1] = tok and fmt.thousands(tok) or ""
    add("| " .. concat(row, " | ") .. " |")
  end
end

local function review(s, add)
  local done, attention = {}, {}
  for _, t in ipairs(s.tasks) do
    local name = format("Task %s: %s", line(t.id), line(t.title))
    if t.status == "completed" then
      local at = where(t)
      local what = changes_text(t) or touched_text(t) or "files changed not recorded"
      done[#done + 1] = format("- %s: %s%s", name, what, at and (", " .. at) or "")
    else
      local why = RT.reason(t) or (S.FINISHED[t.status] and "" or "not finished")
      local work = {}  -- where its unfinished work is, when the day records it
      work[#work + 1] = changes_text(t)
      work[#work + 1] = where(t)
      attention[#attention + 1] = format("- %s: %s%s%s", name, line(t.status), why ~= "" and (": " .. why) or "",
        #work > 0 and (" (" .. concat(work, ", ") .. ")") or "")
    end
  end
  add("## For you to review and commit")
  if #done > 0 then
    add("")
    add("Completed (review the changes, then commit them):")
    add("")
    for _, l in ipairs(done) do add(l) end
  end
  if #attention > 0 then
    add("")
    add("Not completed:")
    add("")
    for _, l in ipairs(attention) do add(l) end
  end
  if #done + #attention == 0 then add("") add("Nothing to review.") end
end

-- render(s, now [, cfg]) -> the report's text; cfg: the config (default orch.config)
function M.render(s, now, cfg)
  cfg = cfg or (orch and orch.config) or {}
  local out = {}
  local function add(l) out[#out + 1] = l end
  add(format("# Report %s (session %s)", M.day(s, now), line(s.id)))
  add("")
  -- a session whose host was killed: to when it was last seen, not to now
  local live = control.hosted(s)
  local upto = S.last_seen(s, now, live)
  summary(s, now, cfg, add, live, upto)
  add("")
  task_table(s, add, upto)
  add("")
  review(s, add)
  for _, t in ipairs(s.tasks) do RT.details(t, add, upto) end
  return fmt.printable(concat(out, "\n") .. "\n")
end

-- A task's time waiting for approval, when its row does not hold it, from
-- the session's approval_resolved events (each says how long it waited).
M.EVENTS_MAX = 1000000  -- a session's events read for the approval waits
function M.fill_waits(s)
  local missing = false
  for _, t in ipairs(s.tasks) do missing = missing or t.approval_wait_s == nil end
  if not missing then return end
  local waits = {}
  for _, e in ipairs(orch.recent_events({ session = s.id, limit = M.EVENTS_MAX })) do
    local task, w = e.task_id or e.task, tonumber(e.waited_s)
    if e.event == "approval_resolved" and task and w then waits[tostring(task)] = (waits[tostring(task)] or 0) + w end
  end
  for _, t in ipairs(s.tasks) do
    if t.approval_wait_s == nil then t.approval_wait_s = waits[tostring(t.id)] end
  end
end

-- day_sessions(s, now) -> the sessions of s's day (M.day), oldest first: s
-- itself (as given) and the others as stored, approval waits filled in
function M.day_sessions(s, now)
  local day, newest_first, seen = M.day(s, now), {}, false
  for _, row in ipairs(orch.list_sessions(-1)) do  -- (a day file's date need not be its start's: all of them)
    local d = M.day(row, now)
    if row.id == s.id then
      seen, newest_first[#newest_first + 1] = true, s
    elseif d == day then
      local other = S.load(row.id)
      if other then
        M.fill_waits(other)
        newest_first[#newest_first + 1] = other
      end
    end
  end
  if not seen then table.insert(newest_first, 1, s) end
  local oldest_first = {}
  for i = #newest_first, 1, -1 do oldest_first[#oldest_first + 1] = newest_first[i] end
  return oldest_first
end

-- day_text(s, now) -> the text of s's day's file: each session's report, oldest first
function M.day_text(s, now)
  local parts = {}
  for _, x in ipairs(M.day_sessions(s, now)) do parts[#parts + 1] = M.render(x, now) end
  return concat(parts, "\n---\n\n")
end

-- write(s, dir) -> path | nil, err (a failure is also logged as a warning):
-- the file of s's day, with every session of that day
function M.write(s, dir)
  local now = orch.now()
  local path = M.path(s, dir, now)
  local ok, err = orch.write_file(path, M.day_text(s, now))
  if not ok then
    orch.log("warn", "report not written: " .. tostring(err))
    return nil, err
  end
  return path
end

return M
