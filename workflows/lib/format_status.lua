-- format_status: the texts of `orch-host status` (a session and its tasks as
-- a table for the terminal, what it waits for, the dead notifications) and
-- `orch-host sessions` (one line a session). lib/status_cli builds the views.
-- The words and numbers are lib/format's (printable, duration, money,
-- thousands, truncate); the session rules lib/session's. Pure: times are
-- epoch seconds, worded by opts.clock(epoch) (default: UTC).
local fmt = require("lib.format")
local S = require("lib.session")

local M = {}

local format, concat, floor = string.format, table.concat, math.floor

M.NO_SESSIONS = "No sessions yet. Start one with: orch-host run daily.lua"
M.ERROR_CHARS = 160  -- a pause's reason, a dead notification's
M.REASON_CHARS = 600  -- why a task failed or stopped (its end says what to do)
M.QUESTION_CHARS = 300  -- a waiting task's question
M.DECISIONS_MAX = 10 -- the last approval decisions listed (t.approvals: who, when, which channel)

local MARK = { completed = "✓", needs_review = "?", failed = "✗", blocked = "⊘", cancelled = "✗",
  running = "▶", skipped = "↷", waiting_approval = "⏸", waiting_answer = "¿", waiting_limit = "⏳", waiting_retry = "↻",
  paused = "⏸" }
-- the statuses whose row says why on a second line (the task's error)
local SAYS_WHY = { failed = true, paused = true, blocked = true, needs_review = true, skipped = true,
  cancelled = true, waiting_limit = true }

-- cell(v [, default]) -> v on one line of the table: lib/format's printable,
-- newlines and tabs as \xNN too, so a value can neither break a row nor
-- drive the terminal; default for a missing value (or a table)
local function cell(v, default)
  local t = type(v)
  if t ~= "string" and t ~= "number" and t ~= "boolean" then return default or "" end
  v = tostring(v)
  if not v:find("[%z\1-\31\127\194]") then return v end  -- the common case, cheap on a long day
  return (fmt.printable(v):gsub("[\t\n]", function(c) return format("\\x%02x", c:byte()) end))
end
M.cell = cell

-- the columns a text takes on a terminal, and a text cut or padded to them (lib/format_width)
local W = require("lib.format_width")
local width, pad = W.width, W.pad
M.width, M.pad = width, pad

-- utc(epoch) -> "2025-11-20 09:30:15" in UTC (civil date from days since 1970)
function M.utc(epoch)
  local secs = floor(epoch)
  local z, rem = floor(secs / 86400) + 719468, secs % 86400
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d, m = doy - floor((153 * mp + 2) / 5) + 1, mp < 10 and mp + 3 or mp - 9
  return format("%04d-%02d-%02d %02d:%02d:%02d", yoe + era * 400 + (m <= 2 and 1 or 0), m, d,
    floor(rem / 3600), floor(rem % 3600 / 60), rem % 60)
end

local function when(clock, epoch)
  epoch = tonumber(epoch)
  if not epoch or epoch <= 0 then return "-" end
  return clock(epoch)
end

-- a row of the table; the first column as wide as the longest task id (4 at least)
local function row_format(idw) return "  %-" .. idw .. "s %s %s %s %8s %9s %9s" end

local function task_row(t, ROW, now, clock)
  local secs = S.task_time(t, now)  -- its runs summed (a resumed one's too); a running one's so far
  local cost, tok = tonumber(t.cost_usd) or 0, S.tokens(t.tokens)
  local row = format(ROW, cell(t.id), pad((MARK[t.status] or "·") .. " " .. cell(t.status), 18),
    pad(cell(t.title), 36), pad(cell(t.type), 13), (secs and secs > 0) and fmt.duration(secs) or "",
    cost > 0 and fmt.money(cost, t.cost_estimated_usd) or "", tok > 0 and fmt.thousands(tok) or "")
  local err = cell(t.error)
  if err ~= "" and SAYS_WHY[t.status] then
    -- the end of a long reason is often what to do about it: said whole (status --json has it too)
    row = row .. "\n       ↳ " .. fmt.truncate(err, M.REASON_CHARS)
    -- a paused task whose agent's question is still open (Ctrl-C while it waited): that question
    if t.status == "paused" and require("lib.questions").pending(t) then
      row = row .. "\n       ↳ asks: " .. fmt.truncate(cell(t.question), M.QUESTION_CHARS)
    end
  elseif t.status == "waiting_answer" and t.question then  -- what its agent asks
    row = row .. "\n       ↳ asks: " .. fmt.truncate(cell(t.question), M.QUESTION_CHARS)
    if type(t.recorded) == "table" then  -- answered while no host ran it (lib/status_cli)
      row = row .. format("\n       ↳ answer recorded (by %s): \"%s\": it goes to its agent when the session resumes",
        cell(t.recorded.by, "?"), fmt.truncate(cell(t.recorded.text), M.QUESTION_CHARS))
    end
  elseif t.status == "waiting_retry" then  -- its agent failed and is gone: when the next one starts
    row = row .. "\n       ↳ " .. fmt.retry_waiting(t.retry_at, t.attempts, clock)
  elseif t.status == "running" and tonumber(t.slot_wait) then  -- answered or approved, no agent yet
    row = row .. "\n       ↳ waiting for a free agent slot"
  elseif type(t.recorded) == "table" then  -- decided while no host ran it (lib/status_cli)
    row = row .. format("\n       ↳ %s recorded (by %s): it applies when the session resumes",
      cell(t.recorded.action), cell(t.recorded.by, "?"))
  end
  return row
end

-- session(v [, opts]) -> the text of `orch-host status`. v: lib/status_cli's
-- view (the session's fields and .tasks, .host_alive, .runtime, its counts
-- as lib/format's progress reads them (.total, .done, one per finished
-- state), .cost_usd, .tokens, .pending_approval when one waits)
function M.session(v, opts)
  local clock = opts and opts.clock or M.utc
  local live = v.host_alive == true
  local status = cell(v.status)
  if S.SESSION_ACTIVE[v.status] and not live then status = status .. " (host not running: resume it)" end
  if v.status == "paused" and cell(v.pause_reason) ~= "" then  -- why: "paused by cli:root", "workflow error: ..."
    status = status .. ": " .. fmt.truncate((cell(v.pause_reason):gsub("^paused ", "")), M.ERROR_CHARS)
  elseif v.kind == "inbox" and v.status == "completed" and cell(v.stop_reason) ~= "" then
    -- how an inbox's session ended, as sessions says it: its tasks left are its folder's, not done
    status = status .. " (" .. fmt.truncate(cell(v.stop_reason), M.ERROR_CHARS) .. ")"
  end
  local tasks = v.tasks or {}
  local out = {
    format("Session   %s  %s", cell(v.id), status),
    v.kind == "inbox" and format("Inbox     %s (%s)   queued %d%s", cell(v.task_file, "-"),
      (live and v.status ~= "completed") and "watched" or "not watched", tonumber(v.queued) or 0,
      (tonumber(v.refused) or 0) > 0 and format("   refused %d (not run: the reasons in %s/failed/)", v.refused,
        cell(v.task_file)) or "")
      or "Task file " .. cell(v.task_file, "-"),
    format("Started   %s   runtime %s", when(clock, v.started_at), v.runtime and fmt.duration(v.runtime) or "-"),
    format("Progress  %s   cost %s   %s tokens", fmt.progress(v),
      fmt.money(tonumber(v.cost_usd) or 0, v.cost_estimated_usd), fmt.thousands(tonumber(v.tokens) or 0)),
  }
  local budget = tonumber(v.budget_max_usd)
  if budget and budget > 0 then  -- what the budget allows still (lib/runner's check_budget counts the same)
    local cost, before = tonumber(v.cost_usd) or 0, tonumber(v.spent_before_usd) or 0
    out[#out + 1] = format("Budget    %s%s of %s (%d%%)%s", fmt.money(cost),
      before > 0 and (", and " .. fmt.money(before) .. " by the day's earlier sessions,") or "", fmt.money(budget),
      fmt.percent(cost + before, budget), cost + before >= budget and ": reached, no new task starts" or "")
  end
  out[#out + 1] = ""
  local idw = 4
  for _, t in ipairs(tasks) do idw = math.max(idw, width(cell(t.id))) end
  local ROW = row_format(idw)
  out[#out + 1] = format(ROW, "#", pad("status", 18), pad("task", 36), pad("type", 13), "time", "cost", "tokens")
  local now = live and opts and opts.now or nil  -- a live session's running tasks count to now
  for _, t in ipairs(tasks) do out[#out + 1] = task_row(t, ROW, now, clock) end
  if (tonumber(v.cost_estimated_usd) or 0) > 0 then out[#out + 1] = "  " .. fmt.ESTIMATED end
  local agents = v.agents or {}
  if #agents > 0 then  -- every task in hand (several at once in a parallel day)
    -- a session whose host is gone: what it had in hand then (nothing runs now)
    out[#out + 1] = format("\nAgents    %d in hand%s: %s", #agents, live and "" or " when its host stopped",
      fmt.in_hand(agents))
    for _, a in ipairs(agents) do
      out[#out + 1] = format("  %-" .. idw .. "s %s %8s %9s  %s", cell(a.task),
        pad(a.waiting_slot and "waiting_slot" or cell(a.status), 16),
        a.elapsed_s and fmt.duration(a.elapsed_s) or "", fmt.money(tonumber(a.cost_usd) or 0),
        a.branch and cell(a.branch) or "-")
    end
  end
  local decided = {}
  for _, t in ipairs(tasks) do
    if type(t.approvals) == "table" then
      for _, d in ipairs(t.approvals) do
        decided[#decided + 1] = format("  %-" .. idw .. "s %s", cell(t.id), cell(fmt.decision_line(d, clock)))
      end
    end
  end
  if #decided > 0 then
    out[#out + 1] = "\nDecisions"
    for i = math.max(1, #decided - M.DECISIONS_MAX + 1), #decided do out[#out + 1] = decided[i] end
  end
  local p = v.pending_approval
  if p then
    local head = format("\nWaiting   %s #%s for task %s since %s: ", cell(p.kind, "approval"), cell(p.id, "?"),
      cell(p.task_id), when(clock, p.created_at))
    local others = {}  -- other tasks waiting for a person: a bare approve or skip is refused then
    for _, t in ipairs(tasks) do
      if (t.status == "waiting_approval" or t.status == "waiting_answer") and cell(t.id) ~= cell(p.task_id) then
        others[#others + 1] = cell(t.id)
      end
    end
    local task = #others > 0 and (" --task " .. cell(p.task_id)) or ""
    if not live and v.kind == "inbox" then  -- a stopped inbox keeps no decision (lib/control_decide refuses it)
      out[#out + 1] = head .. fmt.reply("inbox_down", cell(v.id), cell(p.task_id))
      others = {}
    elseif p.kind == "question" then
      out[#out + 1] = head .. format("orch-host answer --task %s TEXT | skip --task %s", cell(p.task_id),
        cell(p.task_id)) .. (live and " | pause" or " (applied when it resumes)")
    elseif live then
      out[#out + 1] = head .. format("orch-host approve%s | skip%s | pause", task, task)
    else
      out[#out + 1] = head .. format("orch-host approve%s | skip%s (applied when it resumes)", task, task)
    end
    if #others > 0 then
      out[#out + 1] = "          also waiting: " .. concat(others, ", ") .. " (name one with --task ID)"
    end
  end
  return concat(out, "\n")
end

-- dead_notifications(d [, opts]) -> the block about the notifications a sink
-- refused for good (orch.dead_notifications: {count=, newest=}) | nil when none
function M.dead_notifications(d, opts)
  if not d or (tonumber(d.count) or 0) == 0 then return nil end
  local clock = opts and opts.clock or M.utc
  local out = { format("Notifications  %d dead (a sink refused them; not retried):", d.count) }
  for _, r in ipairs(d.newest or {}) do
    out[#out + 1] = format("  #%s to %s  %s  %s  %s", cell(r.id), cell(r.sink), cell(r.type, "-"),
      when(clock, r.dead_at), fmt.truncate(cell(r.last_error), M.ERROR_CHARS))
  end
  return concat(out, "\n")
end

-- sessions(list [, opts]) -> the text of `orch-host sessions`: a line a
-- session (orch.list_sessions' rows), newest first; "" for none. An inbox
-- closed by its stop (lib/inbox_run close) says why, "(its host stopped)":
-- its tasks left are its folder's, not done. A row's .counts (lib/session's,
-- lib/status_cli adds them) give its progress.
function M.sessions(list, opts)
  local clock = opts and opts.clock or M.utc
  local out = {}
  for _, s in ipairs(list) do
    local why = s.kind == "inbox" and type(s.stop_reason) == "string" and ("  (" .. s.stop_reason .. ")") or ""
    out[#out + 1] = format("%-22s %-18s %s  %s  %s%s", cell(s.id), cell(s.status),
      s.counts and fmt.progress(s.counts) or "-", when(clock, s.started_at), cell(s.task_file), why)
  end
  return concat(out, "\n")
end

return M
