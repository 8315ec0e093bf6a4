-- format_agent: the texts of an agent's run (lib/format's, installed into
-- its table: callers use lib.format): the live line and what the agent is
-- doing, the terminal prompt, the question file and how to answer, the
-- budget, the safety refusals told to the agent, the usage limit's status
-- row and resumed prompt. Pure, like lib/format. Policy: edit freely.
local format, concat, floor = string.format, table.concat, math.floor

return { install = function(M)

-- Texts of daily.lua: the live line, the terminal prompt, the question file, the budget.

-- "▶ Task 2/3 · 1m 05s · Edit src/x.ts"
function M.status_line(pos, total, secs, doing)
  return format("▶ Task %s/%d · %s · %s", tostring(pos), total, M.duration(secs), doing)
end

-- what an agent's content block says it is doing, or nil: a tool and its
-- target, or its words (80 characters each)
-- squeeze(s, n) -> s:gsub("%s+", " "):sub(1, n), reading only as much of s as
-- that needs (a prefix collapses to a prefix of the whole): an agent's
-- message can be megabytes, and this runs for every one of its lines
local function squeeze(s, n)
  local take = n * 4
  while true do
    local out = s:sub(1, take):gsub("%s+", " ")
    if #out >= n or take >= #s then return out:sub(1, n) end
    take = take * 4
  end
end
M.squeeze = squeeze

function M.agent_doing(b)
  if b.type == "tool_use" then
    local input = type(b.input) == "table" and b.input or {}
    return tostring(b.name) .. " " .. tostring(input.file_path or input.command or input.pattern or ""):sub(1, 80)
  elseif b.type == "text" and b.text then
    return "💬 " .. squeeze(b.text, 80)
  end
end

-- task_id when several agents run at once: whose tool it is
function M.tool_line(doing, task_id)
  return "   ↳ " .. (task_id and ("[" .. tostring(task_id) .. "] ") or "") .. doing
end

-- why a session paused or a task waits (shown as "Why: ..." and in status)
function M.paused_by(by) return "paused by " .. tostring(by) end
function M.checkpoint_reason(t) return "checkpoint after " .. tostring(t.type) .. " task " .. tostring(t.id) end
-- what `orch-host check` says a checkpoint after a task does (lib/runner: the next start asks first)
-- (last: no task starts after it, so nothing is asked)
function M.checkpoint_plan(why, last)
  if last then return "none in effect: no task starts after it, so nothing is asked (" .. tostring(why) .. ")" end
  return "once it completes, the next task asks for approval before it starts (a review of this one; "
    .. "no task starts until it is decided): " .. tostring(why)
end

function M.approval_prompt(t)
  return format("Task %s (%s): [a]pprove, [s]kip or [p]ause? ", tostring(t.id), tostring(t.title))
end

-- agent_questions/<session>-<task>.md: the question and how to answer it
-- (lib/questions); the command names its task, so it holds while other
-- questions wait too
function M.question_file(s, t, q, answer_file)
  return format("# Question from task %s (%s)\n\nSession %s\n\n%s\n\n" ..
    "Answer with `orch-host answer --task %s TEXT` or by writing %s\n", tostring(t.id), tostring(t.title),
    tostring(s.id), q, tostring(t.id), answer_file)
end

-- before: of cost, what earlier sessions of the same budget spent (the
-- inbox's earlier sessions of the day), said when there is some
local function spent_before(before)
  before = tonumber(before) or 0
  return before > 0 and format(", $%.2f of it by the day's earlier sessions", before) or ""
end

function M.budget_reached(cost, budget, before)
  return format("💸 Budget reached: $%.2f of $%.2f%s. No new task starts; the tasks left are skipped.", cost, budget,
    spent_before(before))
end

function M.budget_warning(cost, budget, before)
  return format("⚠️ %d%% of the day's budget used ($%.2f of $%.2f%s)", M.percent(cost, budget), cost, budget,
    spent_before(before))
end

-- the task file could not be read; `dir` when none was named (today's was
-- looked for, under each of lib/session's day_names; day: that day, today's)
function M.unreadable_tasks(err, dir, day)
  local names = dir and require("lib.session").day_names(day or os.date("%Y-%m-%d"))
  return "cannot read the task file: " .. tostring(err) ..
    (dir and ("\n(no --tasks given: looked for today's file under " .. dir .. "/: " .. concat(names, ", ", 1,
      #names - 1) .. " or " .. names[#names] .. ")") or "")
end

-- a schedule's start that failed (lib/schedule)
function M.schedule_failed(label, why) return format("⏰ Scheduled start '%s' failed: %s", label, why) end

-- Safety outside the model (lib/hook_cli, lib/safety_after): what the agent
-- is told when its tool call is blocked, and why a task's run was refused
-- after it ended.
function M.tool_blocked(reason)
  return "orch-host blocked this tool call before it ran: " .. tostring(reason)
    .. ". Do not try another way to do it; say in your answer what you needed."
end

function M.hook_error(err)
  return "orch-host hook: " .. tostring(err) .. " (the tool call is blocked)"
end

function M.safety_violation(what)
  return "safety check after the run: " .. tostring(what)
end

function M.migrations_changed(paths)
  return "changes database migrations (review them before they run): " .. concat(paths, ", ")
end

-- Agents' questions (lib/questions): a task whose agent asked is
-- waiting_answer until someone answers, from any channel.

-- how to answer task t's question: the Telegram command, naming the task
function M.answer_hint(t)
  return format("Reply with /answer %s <your answer> (or /answer <your answer> while only this one waits)",
    tostring(t.id))
end

-- the line under a waiting task in the agents list: its question
function M.agent_question(a)
  return "   ❓ " .. M.truncate((tostring(a.question):gsub("%s+", " ")), 200)
end

-- Usage limits (lib/limits): the status row, the resumed run's prompt, a warning's log line.

-- why a task is waiting_limit (its status row's second line)
function M.limit_waiting(untl)
  return "usage limit: work resumes at " .. (untl and M.when(untl) or "its reset")
end

-- a task waiting_retry (its agent failed, it runs again): "waiting to retry:
-- attempt N at <when>" (clock: how the time is said; default M.when)
function M.retry_waiting(at, attempt, clock)
  at = tonumber(at)
  local when = at and (clock and clock(at) or M.when(at)) or "?"
  attempt = tonumber(attempt)
  return attempt and format("waiting to retry: attempt %d at %s", attempt, when) or ("waiting to retry at " .. when)
end

-- the prompt of a run that continues a session a usage limit stopped
function M.limit_resume_prompt()
  return "The usage limit that stopped you has reset. Continue the task where you left off."
end

-- a rate_limit_event that is not a rejection (a warning): one log line
function M.rate_limit_note(t, info)
  info = type(info) == "table" and info or {}
  local used = tonumber(info.utilization)
  return format("task %s: rate limit %s (%s%s%s)", tostring(t.id), tostring(info.status or "?"),
    tostring(info.rateLimitType or "limit"), used and format(", %d%% used", floor(used * 100 + 0.5)) or "",
    tonumber(info.resetsAt) and (", resets at " .. M.clock(tonumber(info.resetsAt)) .. " UTC") or "")
end

end }
