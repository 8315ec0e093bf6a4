-- format: every user-facing message in the bot's Telegram style (docs/telegram.md):
-- plain text (no parse_mode), emoji first line, blocks split by blank lines, a
-- commands line last. s = {id=, status=, task_file=, started_at=,
-- completed_at=, tasks={ {id=, title=, type=, priority=, description=, status=,
-- started_at=, completed_at=, cost_usd=, tokens=} }} (statuses: pending running
-- waiting_approval completed needs_review failed skipped paused; s.status picks the commands
-- line). r = {summary=|result=, error=, exit_code=, timed_out=, timeout=,
-- duration_ms=, cost_usd=, tokens=|usage=}. A message about task t counts t as
-- finished. Times are epoch seconds; `now` is a parameter (no os.time), so output
-- is deterministic. Pure: no io/os/debug, no globals; the session model's
-- functions (position, counts, current) are lib/session's, pure as well.
local S = require("lib.session")
local M = {}

local format, concat, floor = string.format, table.concat, math.floor

M.RESULT_CHARS = 300     -- result excerpts
M.QUESTION_CHARS = 1500  -- an agent's question is worth more room
M.LIST_MAX = 20          -- tasks listed in session_started
M.LOG_LINE_CHARS = 200
M.LOG_BYTES = 3500       -- Telegram refuses messages over 4096 characters
M.RULE = "──────────────────"

local STATUS = { pending = "⏳ Pending", running = "⚙️ Running",
  waiting_approval = "⏸️ Waiting for approval", waiting_limit = "⏳ Waiting for the usage limit",
  waiting_retry = "🔁 Waiting to retry", paused = "⏸️ Paused",
  completed = "✅ Completed", needs_review = "🔎 Needs review", failed = "❌ Failed", skipped = "⏭️ Skipped",
  cancelled = "🛑 Cancelled", blocked = "🚫 Blocked" }
local COMMANDS = { -- by session status: long form, short form
  waiting_approval = { "/approve to continue, /skip to skip, /pause to pause", "/approve /skip /pause" },
  paused = { "/resume to continue, /status for details", "/resume /status /logs" },
  running = { "/status for details, /pause to pause, /logs for logs", "/pause /logs /help" },
  done = { "/logs for details, /start for a new session", "/logs /start /help" },
}
local FINISHED = S.FINISHED

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

-- cut_bytes(s, max) -> the first at most max bytes of s, cut back to a UTF-8
-- boundary (no half character left: the kept text stays valid)
function M.cut_bytes(s, max)
  s = tostring(s or "")
  if #s <= max then return s end
  local cut = math.max(max, 0)
  while cut > 0 and s:byte(cut + 1) >= 0x80 and s:byte(cut + 1) < 0xC0 do cut = cut - 1 end
  return s:sub(1, cut)
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

-- percent(part, whole) -> part's share of whole in whole percent, the one rate
-- every text shows (progress, the report's success rate, the budget used):
-- rounded to the nearest (2 of 3 is 67), but 100 only for all of it and 0
-- only for none (199 of 200 is 99, 1 of 300 is 1); over the whole, over 100
-- (a budget overspent); 0 of 0 is 0
function M.percent(part, whole)
  if type(whole) ~= "number" or type(part) ~= "number" or whole <= 0 then return 0 end
  local share = part / whole
  if share ~= share or share <= 0 then return 0 end  -- NaN too
  local p = floor(100 * share + 0.5)
  return part < whole and math.min(99, math.max(1, p)) or math.max(100, p)
end

function M.bar(done, total, width) -- "▓▓▓░░░░░░░"
  local w = width or 10
  local full = math.min(w, floor(w * M.percent(done, total) / 100))
  return string.rep("▓", full) .. string.rep("░", w - full)
end

-- plural(n, one [, many]) -> "1 file", "3 files" (many: the plural when it
-- is not one .. "s")
function M.plural(n, one, many) return format("%d %s", n, n == 1 and one or (many or one .. "s")) end

-- money(usd [, estimated]) -> "$0.0342", "$12.50"; "~$0.0342" when estimated
-- (the part of usd that is an estimate, M.ESTIMATED) is above 0
function M.money(x, est)
  if type(x) ~= "number" then return nil end
  return ((tonumber(est) or 0) > 0 and "~" or "") .. format(x >= 1 and "$%.2f" or "$%.4f", x)
end
-- what "~" before a cost means
M.ESTIMATED = "~ includes an estimate: an agent stopped before claude reported its cost, priced from its tokens " ..
  "(budget.prices)"

function M.thousands(n) -- 123456 -> "123,456"
  return (format("%.0f", floor(n)):reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^(%-?),", "%1"))
end

function M.tokens(v) -- a number, or a usage table {input_tokens=, output_tokens=, ...}; nil for neither
  if type(v) ~= "table" and type(v) ~= "number" then return nil end
  return S.tokens(v)
end

function M.clock(epoch, utc_offset) -- "9:30 AM", epoch shifted by utc_offset seconds
  local secs = floor(epoch + (utc_offset or 0)) % 86400
  local h, m = floor(secs / 3600), floor(secs % 3600 / 60)
  return format("%d:%02d %s", (h + 11) % 12 + 1, m, h < 12 and "AM" or "PM")
end

-- "9:30 AM UTC" within the next 20 hours, else with its date: "2026-12-05 9:30 AM UTC"
function M.when(epoch, now)
  now = now or orch.now()
  local t = M.clock(epoch) .. " UTC"
  if epoch - now < 20 * 3600 and epoch >= now then return t end
  return os.date("!%Y-%m-%d ", floor(epoch)) .. t
end

-- position, counts, current and next task: the session model's (lib/session),
-- O(1) on a session it built, a walk over a plain table
local function position(s, t)
  local i, n = S.position(s, t)
  return i or t.id or "?", n
end

local function counts(s, done_task, done_as) return S.counts(s, done_task, done_as) end

local function current(s) return (S.current(s)) end

local function next_after(s, t) return S.next_unfinished(s, t) end

-- a day that runs several agents at once: no one task is "next", and the
-- session's status is not what a finished task's message should tell to do
-- several at once: a parallel day, and the inbox, whose files come and go
-- (its place in arrival order is no order it runs in, and no id a command takes)
local function parallel(s, c) return s.kind == "inbox" or ((tonumber(s.max_concurrent) or 1) > 1 and c.total > 1) end

-- "⚙️ Running: 2 · ⏸️ Waiting for approval: 1 · ⏳ Pending: 3" of a parallel day's counts
-- (the session's ACTIVE statuses in their order, then pending)
local IN_HAND = {}
for _, st in ipairs(S.ACTIVE_ORDER) do IN_HAND[#IN_HAND + 1] = st end
IN_HAND[#IN_HAND + 1] = "pending"
local function in_hand(c)
  local parts = {}
  for _, st in ipairs(IN_HAND) do
    if (c[st] or 0) > 0 then parts[#parts + 1] = STATUS[st] .. ": " .. c[st] end
  end
  return #parts > 0 and concat(parts, " · ") or nil
end

-- how the finished tasks of counts c ended: "1 completed, 2 failed, 1 blocked"
-- (but: a state left out) | nil when none did; the finished states
-- (lib/session's FINISHED) in lib/session's order, read at each call
local function how_ended(c, but)
  local parts = {}
  for _, st in ipairs(S.STATUSES) do
    local n = FINISHED[st] and tonumber(c[st]) or 0
    if st ~= but and n > 0 then parts[#parts + 1] = format("%d %s", n, (st:gsub("_", " "))) end
  end
  return #parts > 0 and concat(parts, ", ") or nil
end

-- progress(c [, short]) -> "4/6 finished (67%): 1 completed, 2 failed, 1
-- blocked" (short: "4/6 finished (67%)"), the one progress figure: every
-- message, /status, `orch-host status` and `sessions` show it, and a
-- notification's progress {done, total} (lib/runner) is its two numbers.
-- c = lib/session's counts: done of total, done being the tasks in a
-- finished state (never run again), whichever way they ended.
function M.progress(c, short)
  local done, total = tonumber(c.done) or 0, tonumber(c.total) or 0
  local head = format("%d/%d finished (%d%%)", done, total, M.percent(done, total))
  local ended = not short and how_ended(c)
  return ended and (head .. ": " .. ended) or head
end

-- the session's status line: a finished session whose tasks did not all
-- complete says how they ended ("🏁 Finished: 2 failed, 1 blocked"), not "✅ Completed"
local function session_label(s, c)
  if s.status == "completed" and c.total > 0 and c.completed < c.total then
    local ended = how_ended(c, "completed")
    return "🏁 Finished" .. (ended and (": " .. ended) or "")
  end
  return STATUS[s.status] or tostring(s.status or "?")
end
M.session_label = session_label

local function title_of(t) return M.truncate(t.title or ("Task " .. tostring(t.id)), 120) end

-- "Task 2/5" (its place in the file) in a day of one agent at a time; "Task
-- task-3", its id, where several run at once: there the place reads as an
-- order of finishing ("3/3 Complete!" while task 2 still runs)
local function task_ref(s, t)
  if parallel(s, counts(s)) then return "Task " .. tostring(t.id) end
  local i, n = position(s, t)
  return format("Task %s/%d", tostring(i), n)
end

local function task_block(s, t, head, tail)
  local out = { format("%s %s%s", head, task_ref(s, t), tail or ""), "📝 " .. title_of(t) }
  if t.type then out[#out + 1] = "Type: " .. t.type end
  return concat(out, "\n")
end

local function progress(c) return "📊 Progress: " .. M.progress(c) end

local function stats(t, r)
  local parts = {}
  local secs = r.duration_ms and r.duration_ms / 1000
    or (t.completed_at and S.task_time(t))
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
-- Each pass only when needed, and the checks cheap (every notice of a long
-- day comes here): the control bytes by one anchored scan (an unanchored find
-- of a class tries a match at every byte), the C1 ones from the first C2 byte
-- on ("·", C2 B7, is in most messages and is no control).
local CLEAN = "^[^%z\1-\8\11-\31\127]*$"
function M.printable(s)
  s = tostring(s or "")
  if not s:find(CLEAN) then
    s = s:gsub("[%z\1-\8\11-\31\127]", function(c) return format("\\x%02x", c:byte()) end)
  end
  local c2 = s:find("\194", 1, true)
  if c2 and s:find("\194[\128-\159]", c2) then
    s = s:gsub("\194([\128-\159])", function(c) return format("\\u%04x", c:byte()) end)
  end
  return s
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
  local c = counts(s, t, "completed")
  local par = parallel(s, c)
  local nxt = not par and next_after(s, t) or nil
  local left = c.done < c.total
  return blocks(format("✅ %s Complete!", task_ref(s, t)),
    excerpt(r.summary or r.result), stats(t, r),
    progress(c) .. "\n" .. M.bar(c.done, c.total), M.RULE,
    nxt and task_block(s, nxt, "Next:")
      or (left and concat({ format("⏳ %d more to finish.", c.total - c.done), par and in_hand(c) or nil }, "\n")
        or (s.kind == "inbox" and "📥 The inbox is empty: waiting for the next task file."
          or "🏁 That was the last task.")),
    nxt and commands(s) or (par and left and COMMANDS.running[1]) or nil)
end

-- r = {error=, result=, exit_code=, timed_out=, timeout=, cost_usd=, summary= (the task inbox's)}
function M.task_failed(s, t, r)
  r = r or {}
  local head, tail = "❌", " Failed"
  if r.timed_out then head, tail = "⚠️", " Timed Out" .. (r.timeout and (" after " .. M.duration(r.timeout)) or "") end
  local err = r.error or r.result or (not r.timed_out and "no details") or nil
  local detail = err and ("Error: " .. excerpt(err)) or ""
  if r.exit_code then detail = detail .. (err and "\n" or "") .. "Exit code: " .. tostring(r.exit_code) end
  -- what applies to a task that has ended (skip does not): its logs and
  -- events, and a pause of the tasks still to come
  local c = counts(s, t, "failed")
  return blocks(task_block(s, t, head, tail), detail, r.summary and ("📄 " .. excerpt(r.summary)),
    stats(t, r), progress(c), format("/logs for details, /progress %s for its events", tostring(t.id))
      .. (c.done < c.total and ", /pause to pause the rest" or ""))
end

-- a failed run that goes again (orchestrator.retry_failed); r = {error=, attempt=, of=}
-- a task that will not run: a task it depends on failed or was skipped (why: "task-1 failed")
function M.task_blocked(s, t, why)
  return blocks(task_block(s, t, "🚫 Blocked:"), "Because " .. tostring(why) .. ".")
end

-- the agent finished, but its work is not there (why: "deliverables missing: docs/x.md");
-- summary: what it did (the task inbox's summary), when there is one
function M.task_needs_review(s, t, why, summary)
  return blocks(task_block(s, t, STATUS.needs_review .. ":"), tostring(why) .. ".",
    summary and ("📄 " .. excerpt(summary)), progress(counts(s, t, "needs_review")),
    t.workspace and "Look at its worktree, then commit or re-run it"
      or "Look at its changes (git status where it worked), then keep them or re-run it")
end

function M.task_retrying(s, t, r)
  return blocks(task_block(s, t, "🔁 Retrying", format(" (attempt %d of %d)", r.attempt, r.of)),
    r.error and ("Last error: " .. excerpt(r.error)), "/skip to skip it, /pause to pause")
end

-- opts.utc_offset (seconds) for "Started:"; without it the time is shown in UTC.
-- opts.live = false: no host runs s (its runtime stopped at its last update).
function M.status(s, now, opts)
  opts = opts or {}
  local c = counts(s)
  local lines = { "Progress: " .. M.progress(c, true), "✅ Completed: " .. c.completed }
  for _, st in ipairs(S.STATUSES) do  -- the rest in the session's order (completed above, pending below)
    if st ~= "pending" and st ~= "completed" and c[st] > 0 then lines[#lines + 1] = STATUS[st] .. ": " .. c[st] end
  end
  lines[#lines + 1] = "⏳ Pending: " .. c.pending
  local cur, times = current(s), {}
  if s.started_at then
    times[1] = "Started: " .. M.clock(s.started_at, opts.utc_offset) .. (opts.utc_offset and "" or " UTC")
    times[2] = now and ("Runtime: " .. M.duration(S.runtime(s, now, opts.live ~= false)))
  end
  return blocks("📊 Orchestrator Status",
    format("Session: %s\nStatus: %s", tostring(s.id or "?"), session_label(s, c)),
    concat(lines, "\n"),
    cur and format("Current: Task %s - %s", tostring(cur.id or "?"), title_of(cur)),
    concat(times, "\n"), commands(s, true))
end

-- the tasks in hand, one line each: "⚙️ 1 Models · 2m 05s · $0.0342 · orch/x/1"
-- (agents: {task=, title=, status=, elapsed_s=, cost_usd=, branch=, retry_at=})
function M.agents(agents)
  local lines = { format("🤖 Agents: %d", #agents) }
  for _, a in ipairs(agents) do
    local parts = { ((a.status == "running" and not a.waiting_slot) and "⚙️ " or "⏸️ ") .. tostring(a.task) .. " " ..
      M.truncate(a.title or "", 60) }
    if a.waiting_slot then parts[#parts + 1] = "waiting for a free agent slot" end
    if a.retry_at then parts[#parts + 1] = M.retry_waiting(a.retry_at) end
    if a.elapsed_s then parts[#parts + 1] = M.duration(a.elapsed_s) end
    parts[#parts + 1] = M.money(a.cost_usd or 0)
    if a.branch then parts[#parts + 1] = a.branch end
    lines[#lines + 1] = concat(parts, " · ")
    if a.question then lines[#lines + 1] = M.agent_question(a) end
  end
  return M.printable(concat(lines, "\n"))
end

function M.paused(s)
  local c, cur = counts(s), current(s)
  local where = cur and format("Current: Task %s/%d\n", tostring((position(s, cur))), c.total) or ""
  return blocks("⏸️ Orchestrator Paused", where .. "Progress: " .. M.progress(c),
    "State saved. Use /resume to continue.")
end

-- the inbox paused (inbox.lua): by a command, or by a Lua error in the
-- workflow while a task ran, which a resume in the same process would meet
-- again (the workflow's modules stay loaded): a restart reads them anew
function M.inbox_paused(_, why)
  local workflow_error = tostring(why):find("^workflow error") ~= nil
  return blocks("⏸️ Inbox Paused", tostring(why),
    workflow_error and "Fix the workflow, then restart the inbox (orch-host watch, or the server): "
      .. "the task's file stays in the folder and runs again."
      or "Files dropped meanwhile are queued. Use /resume to continue.")
end

-- the stop reason of an inbox session that gave way to the next one (a new
-- day: workflows/inbox.lua), as `sessions` shows it
function M.inbox_new_session(next_id)
  return "a new day: the inbox goes on in session " .. tostring(next_id)
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
    M.answer_hint(t))
end

-- "✅ Completed: 1\n❌ Failed: 2\n⏭️ Skipped: 0\n🚫 Blocked: 3": a line per
-- finished state, in lib/session's order (completed, failed and skipped
-- always, the others when a task ended so)
local ALWAYS = { completed = true, failed = true, skipped = true }
local function ended_lines(c)
  local lines = {}
  for _, st in ipairs(S.STATUSES) do
    if FINISHED[st] and (ALWAYS[st] or (c[st] or 0) > 0) then lines[#lines + 1] = STATUS[st] .. ": " .. (c[st] or 0) end
  end
  return concat(lines, "\n")
end

function M.session_completed(s, now) -- totals over s.tasks; duration: S.runtime (finished_at or now, less paused time)
  local c = counts(s)
  local cost, tok, est = S.totals(s)
  local failed = {}
  for _, t in ipairs(s.tasks or {}) do -- the end of a session: one walk for the failed ones
    if t.status == "failed" and #failed < 10 then
      failed[#failed + 1] = format("• Task %s - %s", tostring(t.id or "?"), title_of(t))
    end
  end
  local head = c.completed == c.total and c.total > 0 and (c.total == 1 and "🎉 Session Complete: the task is done!"
    or format("🎉 Session Complete: all %d tasks done!", c.total))
  local totals = { "💰 Total cost: " .. M.money(cost, est), "🔢 Tokens: " .. M.thousands(tok) }
  local took = now and S.runtime(s, now, true)
  if took then totals[3] = "⏱ Duration: " .. M.duration(took) end
  return blocks(head or "🏁 Session Complete", "Session: " .. tostring(s.id or "?"),
    ended_lines(c),
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
/skip [task_id] - Skip the current task (or the one named)
/answer [task_id] <text> - Answer a waiting question
/logs [n] - View the last n lines of today's log (default 10, at most 200)
/task <description> - Create a new task
/progress <task_id> - Show recent events for a task
/cancel <task_id> - Request task cancellation
/help - Show available commands]]

function M.help() return blocks("🤖 Orchestrator Commands", M.HELP) end

-- a command's line of M.HELP ("/logs [n] - ..."), the usage a refused argument is answered with
function M.usage(cmd)
  for line in M.HELP:gmatch("[^\n]+") do
    if line:sub(1, #cmd + 2) == "/" .. cmd .. " " then return "Usage: " .. line end
  end
  return M.help()
end

-- The buttons under an approval request: rows of {text=, data=}, data being
-- "<action>:<request id>" (lib/telegram.parse_callback): a press decides
-- that request and no other.
function M.approval_buttons(request_id)
  local function b(text, action) return { text = text, data = action .. ":" .. tostring(request_id) } end
  return { { b("✅ Approve", "approve"), b("⏭️ Skip", "skip") }, { b("⏸️ Pause", "pause") } }
end

-- the line added under an approval request once someone decided
function M.decided(action, from)
  local who = from and (from.username and ("@" .. from.username) or from.first_name) or nil
  local what = ({ approve = "✅ Approved", skip = "⏭️ Skipped", pause = "⏸️ Paused" })[action] or action
  return what .. (who and (" by " .. tostring(who)) or "")
end

-- Agents' questions (lib/questions): a task whose agent asked is
-- waiting_answer until someone answers, from any channel.
STATUS.waiting_answer = "❓ Waiting for an answer"

-- Approval requests: one action, once (lib/approval). rq = {request_id=,
-- task=, title=, branch=, instruction=, commands=} (lib/approval.request); a decision
-- record = {request_id=, action=, by=, channel=, at=}.

-- the request: what will run (task, branch, the instruction's first lines), and its id
function M.approval_request(s, t, why, rq)
  local head = task_block(s, t, "⏸️ Approval needed:")
  if t.priority then head = head .. (t.type and " · " or "\n") .. "Priority: " .. t.priority end
  local what = { format("Request #%s · task %s", tostring(rq.request_id), tostring(t.id)) }
  if rq.branch then what[2] = "Branch: " .. rq.branch end
  local cmds
  if type(rq.commands) == "table" and #rq.commands > 0 then
    local lines = { "Then the orchestrator runs (its acceptance commands):" }
    for i, c in ipairs(rq.commands) do
      if i > 5 then lines[#lines + 1] = format("... and %d more", #rq.commands - 5) break end
      lines[#lines + 1] = "$ " .. M.truncate(tostring(c):gsub("%s+", " "), 200)
    end
    cmds = concat(lines, "\n")
  end
  return blocks(head, concat(what, "\n"),
    rq.instruction ~= "" and ("Will run:\n" .. rq.instruction) or (t.description and excerpt(t.description)),
    cmds, why and ("Why: " .. why), "/approve to run it, /skip to skip, /pause to pause")
end

-- "approve by cli:alice (cli) at 2026-12-01 09:30:05, request #4: "looks
-- fine"" (a note, cut to NOTE_CHARS, when the person gave one; no request
-- for a skip or cancel of a task none waited for); clock(epoch) words the
-- time (lib/format_status.utc)
M.NOTE_CHARS = 300
function M.decision_line(d, clock)
  local at = tonumber(d.at)
  return format("%s by %s (%s)%s%s%s", tostring(d.action), tostring(d.by or "?"), tostring(d.channel or "?"),
    at and clock and (" at " .. clock(at)) or "", d.request_id and (", request #" .. tostring(d.request_id)) or "",
    type(d.note) == "string" and (": \"" .. M.truncate(d.note, M.NOTE_CHARS) .. "\"") or "")
end

-- Usage limits, API errors, retries (lib/agent_outcome, lib/limits, lib/policy next_try).

-- the one notice when a usage limit parks the day: until = when agents start again
function M.usage_limit_parked(s, t, untl, reason, now)
  now = now or orch.now()
  return blocks(task_block(s, t, "⏳ Usage limit reached:"),
    format("Work resumes at %s (in %s): this task then continues its own claude session, and the other tasks " ..
      "start. No agent starts before that.", M.when(untl, now), M.duration(untl - now)),
    reason and ("Why: " .. excerpt(reason)), "/status for details, /pause to pause")
end

-- the one notice when claude cannot run at all (a bad key, no credit, a CLI
-- that cannot start: fix = "path"): the session pauses
function M.agent_cannot_run(s, t, reason, fix)
  return blocks("🔑 Claude cannot run: " .. excerpt(reason),
    format("Task %s went back to pending and the session is paused; no task was failed for it.",
      tostring((position(s, t)))),
    fix == "path" and "Fix the claude CLI's path (CLAUDE_CLI_PATH or claude.path), then /resume (orch-host resume)"
      or "Fix the credentials or the billing, then /resume (orch-host resume)")
end

-- the notice when approval_timeout decides a wait (reason: lib/policy's, which says what follows)
function M.approval_timed_out(s, t, reason)
  return blocks(task_block(s, t, "⏰ Approval timed out:"), excerpt(reason))
end

-- a transient error that runs again after a wait; r = {reason=, attempt=, of=, delay=}
function M.task_retrying_after(s, t, r)
  return blocks(task_block(s, t, "🔁 Retrying", format(" (attempt %d of %d, in %s)", r.attempt, r.of,
      M.duration(r.delay or 0))),
    r.reason and ("Because: " .. excerpt(r.reason)), "/skip to skip it, /pause to pause")
end

-- an agent's run and the replies to commands: their own files, the same table
require("lib.format_agent").install(M)
require("lib.format_reply").install(M)

-- in_hand(agents) -> "1 running, 2 waiting for approval": the agents status
-- lists, counted by what each does (running its agent, waiting for a free
-- agent slot, or S.WAITING_FOR's words), running first, then as they come
function M.in_hand(agents)
  local n, order = {}, {}
  for _, a in ipairs(agents or {}) do
    local what = a.waiting_slot and "waiting for a free agent slot" or a.status == "running" and "running"
      or S.WAITING_FOR[a.status] or tostring(a.status)
    if not n[what] then
      n[what] = 0
      table.insert(order, what == "running" and 1 or #order + 1, what)
    end
    n[what] = n[what] + 1
  end
  local parts = {}
  for i, what in ipairs(order) do parts[i] = n[what] .. " " .. what end
  return table.concat(parts, ", ")
end

return M
