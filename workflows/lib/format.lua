-- format: every user-facing message in the bot's Telegram style (docs/telegram.md):
-- plain text (no parse_mode), emoji first line, blocks split by blank lines, a
-- commands line last. s = {id=, status=, task_file=, started_at=,
-- completed_at=, tasks={ {id=, title=, type=, priority=, description=, status=,
-- started_at=, completed_at=, cost_usd=, tokens=} }} (statuses: pending running
-- waiting_approval completed failed skipped paused; s.status picks the commands
-- line). r = {summary=|result=, error=, exit_code=, timed_out=, timeout=,
-- duration_ms=, cost_usd=, tokens=|usage=}. A message about task t counts t as
-- finished. Times are epoch seconds; `now` is a parameter (no os.time), so output
-- is deterministic. Pure: no io/os/debug, no globals.
local M = {}

local format, concat, floor = string.format, table.concat, math.floor

M.RESULT_CHARS = 300     -- result excerpts
M.QUESTION_CHARS = 1500  -- an agent's question is worth more room
M.LIST_MAX = 20          -- tasks listed in session_started
M.LOG_LINE_CHARS = 200
M.LOG_BYTES = 3500       -- Telegram refuses messages over 4096 characters
M.RULE = "──────────────────"

local STATUS = { pending = "⏳ Pending", running = "⚙️ Running",
  waiting_approval = "⏸️ Waiting for approval", paused = "⏸️ Paused",
  completed = "✅ Completed", failed = "❌ Failed", skipped = "⏭️ Skipped",
  cancelled = "🛑 Cancelled" }
local COMMANDS = { -- by session status: long form, short form
  waiting_approval = { "/approve to continue, /skip to skip, /pause to pause", "/approve /skip /pause" },
  paused = { "/resume to continue, /status for details", "/resume /status /logs" },
  running = { "/status for details, /pause to pause, /logs for logs", "/pause /logs /help" },
  done = { "/logs for details, /start for a new session", "/logs /start /help" },
}
local FINISHED = { completed = true, failed = true, skipped = true, cancelled = true }

local function commands(s, short)
  return (COMMANDS[s.status] or (FINISHED[s.status] and COMMANDS.done) or COMMANDS.running)[short and 2 or 1]
end

local function char_len(c) return c < 0xC0 and 1 or c < 0xE0 and 2 or c < 0xF0 and 3 or 4 end -- UTF-8 lead byte

local function trim(s)
  local i, j = s:find("%S"), #s
  if not i then return "" end
  while s:find("^%s", j) do j = j - 1 end
  return s:sub(i, j)
end

-- At most `max` characters; cut on a UTF-8 boundary and marked with "…".
function M.truncate(s, max)
  s, max = tostring(s or ""), max or M.RESULT_CHARS
  if #s <= max then return s end -- bytes bound characters
  local i, chars, cut = 1, 0, 1 -- cut: first byte after max-1 characters
  while i <= #s and chars < max do
    i, chars = i + char_len(s:byte(i)), chars + 1
    if chars == max - 1 then cut = i end
  end
  if i > #s then return s end
  return trim(s:sub(1, cut - 1)) .. "…"
end

local function excerpt(text, max) return M.truncate(trim(tostring(text or "")), max) end

function M.duration(sec)
  if type(sec) ~= "number" or sec ~= sec then return "?" end
  sec = floor(math.max(sec, 0))
  if sec < 60 then return sec .. "s" end
  if sec < 3600 then return format("%dm %02ds", floor(sec / 60), sec % 60) end
  if sec < 86400 then return format("%dh %02dm", floor(sec / 3600), floor(sec % 3600 / 60)) end
  return format("%dd %dh", floor(sec / 86400), floor(sec % 86400 / 3600))
end

function M.percent(done, total) -- whole percent, rounded down (100 = all done); 0 of 0 is 0
  if type(total) ~= "number" or total <= 0 then return 0 end
  return math.min(100, math.max(0, floor(100 * (done or 0) / total)))
end

function M.bar(done, total, width) -- "▓▓▓░░░░░░░"
  local w = width or 10
  local full = floor(w * M.percent(done, total) / 100)
  return string.rep("▓", full) .. string.rep("░", w - full)
end

function M.money(x) return type(x) == "number" and format(x >= 1 and "$%.2f" or "$%.4f", x) or nil end

function M.thousands(n) -- 123456 -> "123,456"
  return (format("%.0f", floor(n)):reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^(%-?),", "%1"))
end

function M.tokens(v) -- a number, or a usage table {input_tokens=, output_tokens=, ...}
  if type(v) ~= "table" then return type(v) == "number" and v or nil end
  local sum = 0
  for _, x in pairs(v) do if type(x) == "number" then sum = sum + x end end
  return sum
end

function M.clock(epoch, utc_offset) -- "9:30 AM", epoch shifted by utc_offset seconds
  local secs = floor(epoch + (utc_offset or 0)) % 86400
  local h, m = floor(secs / 3600), floor(secs % 3600 / 60)
  return format("%d:%02d %s", (h + 11) % 12 + 1, m, h < 12 and "AM" or "PM")
end

local function same(a, b) return a == b or (a.id ~= nil and a.id == b.id) end

local function position(s, t) -- index of t in s.tasks (or its id), total
  local tasks = s.tasks or {}
  local k = tonumber(t.seq)  -- lib/session numbers tasks: no scan needed
  if k and tasks[k] and same(tasks[k], t) then return k, #tasks end
  for i, x in ipairs(tasks) do if same(x, t) then return i, #tasks end end
  return t.id or "?", #tasks
end

-- counts by status; `done_task` counts as `done_as` whatever its status says.
local function counts(s, done_task, done_as)
  if s._counts then -- kept up to date by lib/session: no scan needed
    local c = {}
    for k, v in pairs(s._counts) do c[k] = v end
    for st in pairs(STATUS) do c[st] = c[st] or 0 end
    if done_task and done_as then
      local was = done_task.status or "pending"
      c[was] = (c[was] or 0) - 1
      c[done_as] = (c[done_as] or 0) + 1
      if FINISHED[was] then c.done = c.done - 1 end
      if FINISHED[done_as] then c.done = c.done + 1 end
    end
    return c
  end
  local c = { total = 0, done = 0 }
  for st in pairs(STATUS) do c[st] = 0 end
  for _, x in ipairs(s.tasks or {}) do
    local st = (done_task and same(x, done_task)) and done_as or x.status or "pending"
    c[st] = (c[st] or 0) + 1
    c.total = c.total + 1
    if FINISHED[st] then c.done = c.done + 1 end
  end
  return c
end

local function current(s) -- the running task, else the one waiting, paused, pending
  for _, want in ipairs({ "running", "waiting_approval", "paused", "pending" }) do
    for _, x in ipairs(s.tasks or {}) do if (x.status or "pending") == want then return x end end
  end
end

local function next_after(s, t)
  local tasks = s.tasks or {}
  local i = tonumber((position(s, t))) or #tasks
  for k = i + 1, #tasks do
    local x = tasks[k]
    if not FINISHED[x.status or "pending"] then return x end
  end
end

local function title_of(t) return M.truncate(t.title or ("Task " .. tostring(t.id)), 120) end

local function task_block(s, t, head, tail)
  local i, n = position(s, t)
  local out = { format("%s Task %s/%d%s", head, tostring(i), n, tail or ""), "📝 " .. title_of(t) }
  if t.type then out[#out + 1] = "Type: " .. t.type end
  return concat(out, "\n")
end

local function progress(c) return format("📊 Progress: %d/%d (%d%%)", c.done, c.total, M.percent(c.done, c.total)) end

local function stats(t, r)
  local parts = {}
  local secs = r.duration_ms and r.duration_ms / 1000
    or (t.started_at and t.completed_at and t.completed_at - t.started_at)
  if secs then parts[#parts + 1] = "⏱ " .. M.duration(secs) end
  local cost = M.money(r.cost_usd or t.cost_usd)
  if cost then parts[#parts + 1] = "💰 " .. cost end
  local tok = M.tokens(r.tokens or r.usage or t.tokens)
  if tok then parts[#parts + 1] = "🔢 " .. M.thousands(tok) .. " tokens" end
  return #parts > 0 and concat(parts, " · ") or nil
end

-- Control bytes shown as escapes: NUL, ESC, BEL, CR, DEL... as \xNN, the C1
-- controls (U+0080..U+009F) as \uNNNN. Newlines and tabs stay. An agent's text
-- reaches terminals, chats and Markdown files; raw, it could clear a screen or
-- cut a message short. Every message goes through here (blocks), and the report.
function M.printable(s)
  s = tostring(s or "")
  if not s:find("[%z\1-\8\11-\31\127\194]") then return s end
  s = s:gsub("[%z\1-\8\11-\31\127]", function(c) return format("\\x%02x", c:byte()) end)
  return (s:gsub("\194([\128-\159])", function(c) return format("\\u%04x", c:byte()) end))
end

local function blocks(...) -- joins the non-empty blocks with blank lines: every message
  local out, b = {}
  for i = 1, select("#", ...) do b = select(i, ...) if b and b ~= "" then out[#out + 1] = b end end
  return M.printable(concat(out, "\n\n"))
end

function M.session_started(s)
  local tasks, lines = s.tasks or {}, {}
  lines[1] = format("Found %d task%s:", #tasks, #tasks == 1 and "" or "s")
  for i, t in ipairs(tasks) do
    if i > M.LIST_MAX then lines[#lines + 1] = format("… and %d more", #tasks - M.LIST_MAX) break end
    lines[#lines + 1] = format("%s. %s%s", tostring(t.id or i), title_of(t), t.type and (" (" .. t.type .. ")") or "")
  end
  return blocks("🤖 Orchestrator Starting...",
    s.task_file and ("📋 Loading tasks from: " .. s.task_file),
    concat(lines, "\n"), "▶️ Ready to begin!",
    "Commands: " .. (s.status == "waiting_approval" and "/approve " or "") .. "/status /pause /help")
end

function M.task_started(s, t) return blocks(task_block(s, t, "⚙️ Executing"), "Please wait...") end

function M.task_completed(s, t, r)
  r = r or {}
  local i, n = position(s, t)
  local c, nxt = counts(s, t, "completed"), next_after(s, t)
  return blocks(format("✅ Task %s/%d Complete!", tostring(i), n),
    excerpt(r.summary or r.result), stats(t, r),
    progress(c) .. "\n" .. M.bar(c.done, c.total), M.RULE,
    nxt and task_block(s, nxt, "Next:") or "🏁 That was the last task.",
    nxt and commands(s))
end

function M.task_failed(s, t, r)
  r = r or {}
  local head, tail = "❌", " Failed"
  if r.timed_out then head, tail = "⚠️", " Timed Out" .. (r.timeout and (" after " .. M.duration(r.timeout)) or "") end
  local err = r.error or r.result or (not r.timed_out and "no details") or nil
  local detail = err and ("Error: " .. excerpt(err)) or ""
  if r.exit_code then detail = detail .. (err and "\n" or "") .. "Exit code: " .. tostring(r.exit_code) end
  return blocks(task_block(s, t, head, tail), detail, stats(t, r), progress(counts(s, t, "failed")),
    "/logs for details, /skip to skip it, /pause to pause")
end

function M.approval_needed(s, t, reason)
  local head = task_block(s, t, "⏸️ Approval needed:")
  if t.priority then head = head .. (t.type and " · " or "\n") .. "Priority: " .. t.priority end
  return blocks(head, t.description and excerpt(t.description), reason and ("Why: " .. reason),
    "/approve to run it, /skip to skip, /pause to pause")
end

-- opts.utc_offset (seconds) for "Started:"; without it the time is shown in UTC.
function M.status(s, now, opts)
  opts = opts or {}
  local c = counts(s)
  local lines = { format("Progress: %d/%d tasks (%d%%)", c.done, c.total, M.percent(c.done, c.total)),
    "✅ Completed: " .. c.completed }
  for _, st in ipairs({ "running", "waiting_approval", "paused", "failed", "skipped", "cancelled" }) do
    if c[st] > 0 then lines[#lines + 1] = STATUS[st] .. ": " .. c[st] end
  end
  lines[#lines + 1] = "⏳ Pending: " .. c.pending
  local cur, times = current(s), {}
  if s.started_at then
    times[1] = "Started: " .. M.clock(s.started_at, opts.utc_offset) .. (opts.utc_offset and "" or " UTC")
    times[2] = now and ("Runtime: " .. M.duration(now - s.started_at))
  end
  return blocks("📊 Orchestrator Status",
    format("Session: %s\nStatus: %s", tostring(s.id or "?"), STATUS[s.status] or tostring(s.status or "?")),
    concat(lines, "\n"),
    cur and format("Current: Task %s - %s", tostring(cur.id or "?"), title_of(cur)),
    concat(times, "\n"), commands(s, true))
end

function M.paused(s)
  local c, cur = counts(s), current(s)
  local where = cur and format("Current: Task %s/%d\n", tostring((position(s, cur))), c.total) or ""
  return blocks("⏸️ Orchestrator Paused", format("%sCompleted: %d/%d", where, c.completed, c.total),
    "State saved. Use /resume to continue.")
end

function M.resumed(s)
  local cur = current(s)
  return blocks("▶️ Orchestrator Resumed", cur and task_block(s, cur, "Continuing from:"),
    s.status == "waiting_approval" and "/approve to execute, /status for details"
      or "/status for details, /pause to pause")
end

function M.question(s, t, q) -- q: the question text or {text=}
  local text = type(q) == "table" and q.text or q
  return blocks(task_block(s, t, "❓ Question from"), excerpt(text, M.QUESTION_CHARS),
    "Reply with /answer <your answer>")
end

function M.session_completed(s, now) -- totals over s.tasks; duration up to completed_at or now
  local c = counts(s)
  local cost, tok, failed = 0, 0, {}
  for _, t in ipairs(s.tasks or {}) do
    cost = cost + (tonumber(t.cost_usd) or 0)
    tok = tok + (M.tokens(t.tokens) or 0)
    if t.status == "failed" and #failed < 10 then
      failed[#failed + 1] = format("• Task %s - %s", tostring(t.id or "?"), title_of(t))
    end
  end
  local head = c.completed == c.total and c.total > 0 and format("🎉 Session Complete: all %d tasks done!", c.total)
  local ended = s.completed_at or now
  local totals = { "💰 Total cost: " .. M.money(cost), "🔢 Tokens: " .. M.thousands(tok) }
  if ended and s.started_at then totals[3] = "⏱ Duration: " .. M.duration(ended - s.started_at) end
  return blocks(head or "🏁 Session Complete", "Session: " .. tostring(s.id or "?"),
    format("✅ Done: %d\n❌ Failed: %d\n⏭️ Skipped: %d", c.completed, c.failed, c.skipped),
    #failed > 0 and ("Failed:\n" .. concat(failed, "\n")), concat(totals, "\n"))
end

function M.logs(lines, opts) -- lines newest last; oldest dropped past M.LOG_BYTES; opts.path
  lines, opts = lines or {}, opts or {}
  local rev, size, kept = {}, 0, {}
  for i = #lines, 1, -1 do
    rev[#rev + 1] = M.truncate(tostring(lines[i]), M.LOG_LINE_CHARS)
    size = size + #rev[#rev] + 1
    if size > M.LOG_BYTES then rev[#rev] = nil break end
  end
  for i = #rev, 1, -1 do kept[#kept + 1] = rev[i] end
  local n = #kept
  return blocks(n > 0 and format("📜 Recent Logs (last %d line%s)", n, n == 1 and "" or "s") or "📜 Recent Logs",
    n > 0 and concat(kept, "\n") or "(no log lines yet)", opts.path and ("Full logs: " .. opts.path))
end

M.HELP = [[
/start - Start orchestrator with daily tasks
/status - Get current status and progress
/approve - Approve and continue to next task
/pause - Pause orchestrator
/resume - Resume orchestrator
/skip - Skip current task
/answer <text> - Answer a pending question
/logs - View recent logs
/task <description> - Create a new task
/progress <task_id> - Show recent events for a task
/cancel <task_id> - Request task cancellation
/help - Show available commands]]

function M.help() return blocks("🤖 Orchestrator Commands", M.HELP) end

-- The buttons under an approval request: rows of {text=, data=}, data being
-- "<action>:<session>:<task>" (Telegram allows 64 bytes of callback data).
function M.approval_buttons(s, t)
  local function b(text, action)
    return { text = text, data = (action .. ":" .. tostring(s.id) .. ":" .. tostring(t.id)):sub(1, 64) }
  end
  return { { b("✅ Approve", "approve"), b("⏭️ Skip", "skip") }, { b("⏸️ Pause", "pause") } }
end

-- the line added under an approval request once someone decided
function M.decided(action, from)
  local who = from and (from.username and ("@" .. from.username) or from.first_name) or nil
  local what = ({ approve = "✅ Approved", skip = "⏭️ Skipped", pause = "⏸️ Paused" })[action] or action
  return what .. (who and (" by " .. tostring(who)) or "")
end

return M
