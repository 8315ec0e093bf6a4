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
-- Its parts, installed into this table (callers use lib.format alone):
-- lib/format_words, format_task, format_session, format_commands,
-- format_agent and format_reply.
local S = require("lib.session")
local M = {}

local format, concat = string.format, table.concat

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


-- the words and numbers (truncate, duration, money, ...): their own file, the same table
local excerpt = require("lib.format_words").install(M).excerpt
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

-- the messages, their own files, the same table; H: the helpers they share
local H = { STATUS = STATUS, COMMANDS = COMMANDS, commands = commands, excerpt = excerpt, position = position,
  counts = counts, current = current, next_after = next_after, parallel = parallel, in_hand = in_hand,
  session_label = session_label, title_of = title_of, task_ref = task_ref, task_block = task_block,
  progress = progress, stats = stats, blocks = blocks }
require("lib.format_task").install(M, H)
require("lib.format_session").install(M, H)
require("lib.format_commands").install(M, H)

-- Agents' questions (lib/questions): a task whose agent asked is
-- waiting_answer until someone answers, from any channel.
STATUS.waiting_answer = "❓ Waiting for an answer"

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
