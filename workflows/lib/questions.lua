-- questions: an agent's question to a person, parked until the answer comes.
-- An agent asks in one of three ways:
--   * its final text has a line starting "QUESTION:" (the question is the
--     rest of the text from there);
--   * it calls the AskUserQuestion tool: seen live in the stream (M.live, the
--     run's on_event), the run is stopped at once, as a safety stop is;
--   * the CLI denied that tool call: the result's permission_denials has
--     {tool_name = "AskUserQuestion", tool_input = {questions = {...}}}.
-- The run then ends and the task waits for an answer with status
-- waiting_answer, holding no agent slot. The question and the claude session
-- to continue are stored on the task (question, question_session), so a host
-- that stops, or dies, asks the same again when the session resumes. The
-- answer comes through orch.await_approval (kind "question"): `orch-host
-- answer`, the webhook, Telegram, the answer file, the terminal; one given
-- while no host runs is kept (lib/session waits_while_down) and taken when
-- the question is asked again. The answer is the prompt of a run that
-- continues the same claude session (--resume) from the same directory.
-- The question is also a file, <questions_dir>/<session>-<task>.md (M.files:
-- two sessions' task 1 never share one), saying how to answer, and the answer
-- may be the file <session>-<task>-answer.md; once answered (or the task
-- skipped) the question file goes, and a blank answer file with it (M.close):
-- the folder holds the open questions only.
-- Policy: edit freely.
local fmt = require("lib.format")
local S = require("lib.session")
local agent_env = require("lib.agent_env")

local M = {}

M.TOOL = "AskUserQuestion"
M.STOP = "the agent asked a question"  -- the reason a live stop gives (on_event), then ": <question>"

-- tool_text(input) -> the text of an AskUserQuestion input
-- {questions = {{question=, header=, options = {{label=, description=}}, multiSelect=}}}:
-- each question with its options ("A / B"), one a line | nil
function M.tool_text(input)
  if type(input) ~= "table" then return nil end
  local list = type(input.questions) == "table" and input.questions or { input }
  local lines = {}
  for _, q in ipairs(list) do
    if type(q) == "table" and type(q.question) == "string" and q.question:find("%S") then
      local opts = {}
      for _, o in ipairs(type(q.options) == "table" and q.options or {}) do
        local label = type(o) == "table" and o.label or o
        if type(label) == "string" and label ~= "" then opts[#opts + 1] = label end
      end
      lines[#lines + 1] = q.question .. (#opts > 0 and (" (" .. table.concat(opts, " / ") .. ")") or "")
    end
  end
  if #lines == 0 then return nil end
  return table.concat(lines, "\n")
end

-- final_question(text) -> the question of a final text: from its last line
-- that starts with "QUESTION:" to the end, trimmed | nil
function M.final_question(text)
  if type(text) ~= "string" then return nil end
  local at
  local i = 1
  while true do
    local s = text:find("QUESTION:", i, true)
    if not s then break end
    if s == 1 or text:sub(s - 1, s - 1) == "\n" then at = s end
    i = s + 1
  end
  if not at then return nil end
  local q = text:sub(at + #"QUESTION:"):match("^%s*(.-)%s*$")
  return q ~= "" and q or nil
end

-- live(ev) -> reason | nil: a stream event with an AskUserQuestion tool_use
-- stops the run (the watcher's on_event returns this reason)
function M.live(ev)
  if ev.type ~= "assistant" or type(ev.message) ~= "table" then return nil end
  for _, b in ipairs(type(ev.message.content) == "table" and ev.message.content or {}) do
    if type(b) == "table" and b.type == "tool_use" and b.name == M.TOOL then
      return M.STOP .. ": " .. (M.tool_text(b.input) or "(no question text)")
    end
  end
end

-- of(r) -> the question a run result r asks | nil
function M.of(r)
  local v = r.violation
  if type(v) == "string" and v:sub(1, #M.STOP + 2) == M.STOP .. ": " then return v:sub(#M.STOP + 3) end
  for _, d in ipairs(type(r.permission_denials) == "table" and r.permission_denials or {}) do
    if type(d) == "table" and d.tool_name == M.TOOL then return M.tool_text(d.tool_input) or "(no question text)" end
  end
  if r.ok then return M.final_question(r.result) end
end

-- pending(t) -> question, claude session id | nil: the question task t
-- waits on (stored by ask, cleared by the answer)
function M.pending(t)
  if type(t.question) == "string" and type(t.question_session) == "string" and t.question_session ~= "" then
    return t.question, t.question_session
  end
end

-- recorded(s, t) -> the answer {text=, by=, ...} given to task t's question
-- (of session s) while no host ran it, kept for the resume (lib/session
-- waits_while_down) | nil: the decision ask's request takes at once
function M.recorded(s, t)
  local q = M.pending(t) or (t.status == "waiting_answer" and t.question)
  if type(q) ~= "string" then return nil end
  local d = orch.recorded_decision({ session = s.id, task = tostring(t.id), kind = "question", prompt = q })
  return d and d.action == "answer" and d or nil
end

-- files(dir, s, t) -> the question file of task t of session s in dir, its answer file
function M.files(dir, s, t)
  local key = agent_env.key(s, t)
  return string.format("%s/%s.md", dir, key), string.format("%s/%s-answer.md", dir, key)
end

-- close(qfile, afile): the question is answered (by any channel), or will
-- not be asked again: its question file goes, and so does its answer file
-- when it holds no answer (empty or blank: one a person began, or made to
-- write in, before another channel answered); one with words in it stays
-- (the next question of the task sets it aside, as it sets aside any)
function M.close(qfile, afile)
  orch.remove_file(qfile)
  local info = orch.file_info(afile)
  if not (info and info.type == "file") then return end
  local text = info.size <= 4096 and orch.read_file(afile, 4096)
  if text and not text:find("%S") then orch.remove_file(afile) end
end

-- closed(dir, s, t): task t of session s will not ask again (its session
-- closed it): its question goes (M.close), so the folder lists open questions only
function M.closed(dir, s, t)
  if t.status == "waiting_answer" or M.pending(t) then M.close(M.files(dir, s, t)) end
end

-- ask(ctx, t, q, sid) -> the answer {text=, by=} | nil, {reason=, message=, by=, decision=}
-- (skipped, paused, the host stopping). ctx = {session=, questions_dir=,
-- note = fn(t, text, kind, event), park = fn(on) (the worker holds no slot
-- while on), cancelled = fn() -> reason | nil (a stop that came before the wait)}.
-- The question is stored on t (status waiting_answer) and announced once;
-- asked again after a restart it is not announced again.
function M.ask(ctx, t, q, sid)
  local s = ctx.session
  local again = M.pending(t) == q
  S.set_task(s, t, { status = "waiting_answer", question = q, question_session = sid,
                     asked_at = again and t.asked_at or orch.now() },
    "question_asked", { question = q, again = again or nil })
  local qfile, afile = M.files(ctx.questions_dir, s, t)
  if not again and orch.file_info(afile) then orch.rename(afile, afile .. ".stale-" .. math.floor(orch.now())) end
  local req = { session = s.id, task = t.id, kind = "question", prompt = q, answer_file = afile }
  if not again or not orch.recorded_decision(req) then
    orch.write_file(qfile, fmt.question_file(s, t, q, afile))
    if not again then ctx.note(t, fmt.question(s, t, q), "question", "question_asked") end
  end
  ctx.park(true)
  local d, derr
  local why = ctx.cancelled()
  if why then derr = { reason = why, message = "cancelled: " .. why } else d, derr = orch.await_approval(req) end
  ctx.park(false)
  -- answered or skipped (also a skip, or the spent budget, that cancelled the wait: the task
  -- ends), the question is closed; paused or interrupted, it is asked again at the resume
  if (d and d.action ~= "pause") or (not d and (derr.reason == "skip" or derr.reason == "budget")) then
    M.close(qfile, afile)
  end
  if not d or d.action ~= "answer" then  -- skipped, paused or cancelled (interrupted) instead
    -- (a person's skip or cancel: the decision, d, with its note, kept on the task by lib/session)
    return nil, { reason = d and d.action or derr.reason, message = d and d.text or derr.message, by = d and d.by,
                  decision = d }
  end
  local qs = {}
  for i, x in ipairs(type(t.questions) == "table" and t.questions or {}) do qs[i] = x end
  qs[#qs + 1] = { question = q, answer = d.text, by = d.by, asked_at = t.asked_at, answered_at = orch.now() }
  S.set_task(s, t, { status = "running", questions = orch.json.array(qs), question_session = orch.json.null },
    "question_answered", { by = d.by })
  return d
end

return M
