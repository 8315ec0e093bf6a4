-- format_commands: the command list and the approval texts (lib/format's,
-- installed into its table: callers use lib.format): HELP, help(),
-- usage(cmd), approval_buttons(request_id), decided(action, from),
-- approval_request(s, t, why, rq), NOTE_CHARS, decision_line(d, clock).
-- H: lib/format's shared helpers (blocks, task_block, excerpt). Pure, like
-- lib/format. Policy: edit freely.
local format, concat = string.format, table.concat

return { install = function(M, H)
local excerpt, task_block, blocks = H.excerpt, H.task_block, H.blocks

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

end }
