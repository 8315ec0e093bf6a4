-- format_session: the messages about a whole session (lib/format's,
-- installed into its table: callers use lib.format): status(s, now [, opts])
-- (the /status reply), agents(agents), paused(s), inbox_paused(s, why),
-- inbox_new_session(next_id), resumed(s), session_completed(s [, now]),
-- logs(lines [, opts]). H: lib/format's shared helpers (blocks, counts, ...).
-- Pure, like lib/format. Policy: edit freely.
local S = require("lib.session")

local format, concat = string.format, table.concat

return { install = function(M, H)
local STATUS, FINISHED, commands, counts, current = H.STATUS, S.FINISHED, H.commands, H.counts, H.current
local position, session_label, title_of, task_block, blocks = H.position, H.session_label, H.title_of,
  H.task_block, H.blocks

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

end }
