-- format_reply: the replies to commands (lib/control, lib/report_cli):
-- reply(key, ...) fills M.REPLY[key]'s %s/%d; the /approve and /progress
-- replies. lib/format's, installed into its table: callers use lib.format.
-- Pure, like lib/format. Policy: edit freely.
local format, concat, floor = string.format, table.concat, math.floor

return { install = function(M)

-- Replies to commands (lib/control): reply(key, ...) fills M.REPLY[key]'s %s/%d.
M.REPLY = {
  no_session_yet = "no session yet: start one (orch-host run daily.lua or orch-host watch; /start, or the " ..
    "webhook's start)",
  no_session = "no session %s",
  no_session_on = "no session on %s",
  bad_date = "'%s' is not a date: expected YYYY-MM-DD (or a session id)",
  cannot_write_report = "cannot write the report: %s",
  already_running = "A session is already running for %s (session %s). Use /status, /pause or /resume.",
  start_problems = "not started: the run would fail these tasks at their start (orch-host check says the same): %s",
  prior_active = "Session %s for %s is %s: /resume continues it (or start with force to begin again).",
  prior_completed = "Session %s already ran every task of %s. Edit the file or start with force to run it again.",
  cannot_start = "cannot start the workflow: %s",
  started = "Started session %s with %d task(s) from %s",
  resuming = "Resuming session %s",
  already_completed = "Session %s is already completed; nothing to resume.",
  resume_sent = "Sent resume to the running host for session %s",
  resume_elsewhere = "Session %s's host is gone, and another host runs (pid %s): send the resume to it "
    .. "(its webhook or REST resume, or /resume in Telegram), which runs the session",
  resume_older = "Session %s is not resumed: session %s is the newer one over the same task file, and the " ..
    "decisions of an older session are refused. Resume %s, or start the file again.",
  not_running = "Session %s is not running (status: %s)",
  host_gone = "Session %s is not running: its host stopped without recording it (status still %s; orch-host " ..
    "resume continues it)",
  recorded = "Recorded %s for task %s of session %s; the session is not running: this applies when it resumes " ..
    "(orch-host resume)",
  inbox_down = "The inbox of session %s is not running: task %s runs again from its file at the next start " ..
    "(orch-host watch, or orch-host resume) and asks again; decide then",
  cannot_resume = "cannot resume: %s",
  resumed = "Resumed session %s",
  approve_question = "Task %s asked a question: answer it (/answer %s <text>, orch-host answer --task %s TEXT), " ..
    "or /skip or /pause",
  decided_first = "someone else decided first",
  nothing_to_approve = "Session %s: nothing is waiting for approval (status: %s)",
  skipped = "Skipped task %s",
  skipping = "Skipping task %s: stopping its agent",
  nothing_to_skip = "Nothing to skip in session %s (status: %s)",
  skip_which = "Session %s has several tasks in hand: %s. Say which to skip (%s).",
  skipping_task = "Skipping task %s",
  skipping_waiting = "Skipping task %s: it was %s; no agent was running, none is stopped",
  paused = "Paused session %s",
  session_is = "Session %s is %s",
  pausing = "Pausing session %s after the running task",
  pausing_many = "Pausing session %s once its %d running tasks end: no new task starts",
  pausing_idle = "Pausing session %s: no agent is running, and no new task starts",
  pausing_now = "Pausing session %s: stopping its running agents now",
  answer_missing = "answer: the text is missing",
  answer_sent = "Answer sent to task %s",
  answer_recorded = "Task %s already has an answer recorded, \"%s\" (by %s): it goes to its agent when the " ..
    "session resumes (orch-host resume)",
  no_question = "No question is waiting in session %s",
  no_question_task = "Task %s has no question waiting in session %s; %s",
  question_of = "task %s's does (%s)",
  questions_of = "tasks %s have one (%s)",
  progress_which = "progress: which task? (/progress <task_id>)",
  no_events = "No events for task %s",
  cancel_which = "cancel: which task? (%s)",
  which_of = "; the unfinished tasks of session %s: %s",  -- after progress_which or cancel_which
  which_more = " and %d more",
  task_already = "Task %s is already %s",
  cancel_requested = "Cancelling task %s: it ends cancelled",
  cancelling_running = "Cancelling task %s: stopping its agent; it ends cancelled",
  cancelling_waiting = "Cancelling task %s: it was %s; no agent was running, none is stopped; it ends cancelled",
  -- (the third %s: how it ends, skipped or cancelled)
  cancelled_stored = "Task %s of session %s %s (no host runs the session): it does not run when the session " ..
    "resumes",
  no_task = "No task %s in session %s",
  task_missing = "task: describe the task (/task <text>)",
  cannot_write_tasks = "cannot write the task file: %s",
  task_refused = "task refused: %s",
  task_queued = "📥 Queued task %s (%s; read by %s). It runs from the inbox: /progress %s shows how it goes",
  unknown_command = "unknown command '%s' (known: %s)",
  params_object = "\"params\" must be an object, not %s",
  command_missing = "missing \"command\" (%s)",
  command_string = "\"command\" must be a string, not %s",
}

-- How a command names its task, in the words of the channel it came from
-- (lib/approval's channels): a refusal's hint. task_syntax("cancel", "cli")
-- -> "orch-host cancel --task ID"; id: the task, when known; text: the
-- command takes words after it
local SYNTAX = {
  cli = function(cmd, id, text)
    return "orch-host " .. cmd .. " --task " .. (id or "ID") .. (text and " TEXT" or "")
  end,
  telegram = function(cmd, id, text) return "/" .. cmd .. " " .. (id or "<task_id>") .. (text and " <text>" or "") end,
}
function M.task_syntax(cmd, channel, id, text)
  local how = SYNTAX[channel]
  if how then return how(cmd, id and tostring(id), text) end
  return '"task": ' .. (id and format("%q", tostring(id)) or "ID")  -- the webhook's, the REST API's
end

-- How a command names its request, likewise: request_syntax("approve", "cli")
-- -> "orch-host approve --request ID"; Telegram's buttons name it, or its task
function M.request_syntax(cmd, channel)
  if channel == "cli" then return "orch-host " .. cmd .. " --request ID" end
  if channel == "telegram" then return "its buttons, or " .. M.task_syntax(cmd, channel) end
  return '"request_id": ID'
end

-- How a command names its session, likewise: session_syntax("approve", "cli")
-- -> "orch-host approve --session ID" (Telegram: /approve <session>)
function M.session_syntax(cmd, channel)
  if channel == "cli" then return "orch-host " .. cmd .. " --session ID" end
  if channel == "telegram" then return "/" .. cmd .. " <session>" end
  return '"session": ID'
end

function M.reply(key, ...)
  local text = M.REPLY[key] or error("format.reply: no reply '" .. tostring(key) .. "'", 2)
  local args = { ... }
  for i = 1, select("#", ...) do
    if type(args[i]) ~= "number" then args[i] = tostring(args[i]) end
  end
  return format(text, unpack(args, 1, select("#", ...)))
end

-- the reply to /approve: "Executing task 2: Title"
function M.executing(task_id, title)
  return "Executing task " .. tostring(task_id) .. (title and (": " .. title) or "")
end

-- the reply to /progress: a task's recent events, {event=, ts=} oldest first;
-- hms(epoch) -> "09:30:00" (default: UTC; lib/control passes the machine's clock)
function M.task_events(task, events, hms)
  hms = hms or function(ts)
    local x = floor(ts) % 86400
    return format("%02d:%02d:%02d", floor(x / 3600), floor(x % 3600 / 60), x % 60)
  end
  local lines = {}
  for _, e in ipairs(events) do lines[#lines + 1] = format("[%s] %s", hms(e.ts or 0), tostring(e.event)) end
  if #lines == 0 then return M.reply("no_events", task) end
  return "📈 Task " .. tostring(task) .. "\n" .. concat(lines, "\n")
end

M.REPLY.answer_which = "Session %s has several questions waiting: tasks %s. Name the task to %s (%s)."

-- why a decision was refused (lib/control: reply key request_<reason>)
M.REPLY.request_decided = "Request #%s (task %s) was already decided: %s by %s (%s). Nothing was changed."
M.REPLY.request_expired = "Request #%s (task %s) expired: no decision came within approval_timeout. " ..
  "Nothing was changed; a newer request for the task, if any, has its own id (/status)."
M.REPLY.request_withdrawn = "Request #%s (task %s) is no longer waiting (%s). Nothing was changed."
M.REPLY.request_older_session = "Request #%s is from session %s; session %s is the newer one over the same " ..
  "task file. Nothing was changed."
M.REPLY.request_not_found = "No approval request #%s"
M.REPLY.loose_decided = "Sent %s to request #%s (%s) of the workflow running outside any session"
M.REPLY.request_bad_id = "%s must be a whole number (got %s)"
M.REPLY.request_other_session = "Request #%s belongs to session %s, not %s"
M.REPLY.request_not_question = "Request #%s (task %s) is an approval, not a question: approve, skip or pause it"
M.REPLY.sessions_waiting = "Still waiting for approval: %s. Name the session to approve (%s)."
M.REPLY.request_which = "Session %s has several requests waiting: %s. Name the one to %s (%s)."
M.REPLY.button_unknown = "This button names no request (it is older than request ids, or not ours): " ..
  "/status shows what waits"

end }
