-- control_decide: the decisions of lib/control (installed into its table:
-- callers use lib.control): approve, pause, answer, each on one request (by
-- its id, its task, or the only one waiting), applied once or refused saying
-- why; skip's decision too (lib/control_stop), through decide, which install
-- returns:
--   asking(task, params) -> waiting_answer, is_task
--   approve(params, by [, opts]), pause(...), answer(...) -> reply, http
--   install(M, shared) -> decide(action, params, by, text, describe, opts)
-- Policy: edit freely.
local fmt = require("lib.format")
local S = require("lib.session")
local approval = require("lib.approval")

local ACTIVE = S.SESSION_ACTIVE

return { install = function(M, shared)
local cfg, err, load, running, not_running = shared.cfg, shared.err, shared.load, shared.running, shared.not_running

-- the requests of s waiting for a person that `action` could decide, "#12
-- (task task-1), #13 (task task-3)", and their tasks' ids: an answer is for a
-- waiting_answer task (an agent's question), an approve for a
-- waiting_approval one, a skip for either
local WAITS_FOR = { answer = { waiting_answer = true }, approve = { waiting_approval = true } }
local function waiting_requests(s, action)
  local list, ids, want = {}, {}, WAITS_FOR[action] or { waiting_approval = true, waiting_answer = true }
  for _, t in ipairs(s.tasks or {}) do
    if want[t.status] then
      local p = orch.pending_approval(s.id, t.id)
      list[#list + 1] = p and string.format("#%s (task %s)", tostring(p.id), tostring(t.id)) or
        string.format("task %s", tostring(t.id))
      ids[#ids + 1] = tostring(t.id)
    end
  end
  return list, ids
end

-- asking(task, params) -> whether task (an id) of the session params name
-- waits for the answer to its agent's question, whether it is a task of it
function M.asking(task, params)
  local s = load(params)
  local t = s and S.task(s, task)
  return t ~= nil and t.status == "waiting_answer", t ~= nil
end

-- refused(p, why) -> the reply refusing a decision on request p, and its HTTP status
local function refused(p, why, newest)
  local msg
  if why == "decided" then
    msg = fmt.reply("request_decided", p.id, p.task_id, p.action, p.by, approval.channel(p.by, p.channel))
  elseif why == "expired" then
    msg = fmt.reply("request_expired", p.id, p.task_id)
  elseif why == "older_session" then
    msg = fmt.reply("request_older_session", p.id, p.session_id, newest)
  else
    msg = fmt.reply("request_withdrawn", p.id, p.task_id, p.text or "withdrawn")
  end
  return err(approval.HTTP[why], msg, { reason = why, request_id = p.id, session_id = p.session_id, task = p.task_id })
end

-- The decision on request p (a row of orch.get_approval or pending_approval)
-- of session s: applied once, or refused (already decided, expired, from an
-- older session, withdrawn; a question where an approval was meant).
-- named: the caller named p by its id. -> reply, http | nil, s (nothing
-- this action could decide)
local function decide_on(p, s, action, by, text, describe, channel, named)
  local newest = M.newer_session(s)
  local why = approval.refusal(p, newest)
  if why then return refused(p, why, newest) end
  -- While no host runs the session, a decision on an approval, or an answer
  -- to a question, is kept: the resumed session asks the same again and
  -- takes it at once (S.waits_while_down). Pause has nothing to pause.
  -- An inbox's is refused (below).
  local up = running(s)
  if not up and (action == "pause" or not S.waits_while_down(p)) then return nil, s end
  -- an inbox keeps none: its next start runs the task from its file again
  if not up and s.kind == "inbox" then
    return err(409, fmt.reply("inbox_down", s.id, p.task_id), { session_id = s.id, request_id = p.id })
  end
  if action == "answer" and p.kind ~= "question" then
    if not named then return nil, s end
    return err(409, fmt.reply("request_not_question", p.id, p.task_id), { session_id = s.id, request_id = p.id })
  end
  if action == "approve" and p.kind == "question" then
    return err(409, fmt.reply("approve_question", p.task_id, p.task_id, p.task_id),
      { session_id = s.id, request_id = p.id, waiting = { kind = p.kind, task = p.task_id, prompt = p.prompt } })
  end
  if not orch.resolve_approval(p.id, action, text or "", by, channel) then
    local now = orch.get_approval(p.id)  -- decided by someone else between the look and the write
    if now and now.status ~= "pending" then return refused(now, approval.refusal(now) or "withdrawn") end
    return err(409, fmt.reply("decided_first"), { session_id = s.id, request_id = p.id })
  end
  local r = { status = "ok", session_id = s.id, task = p.task_id, kind = p.kind, request_id = p.id }
  r.message = up and describe(r, s) or fmt.reply("recorded", action, p.task_id, s.id)
  return r, 200
end

-- A request no session holds: orch.await_approval without session= in a
-- workflow of one's own (the README's hello.lua) -> whether p is one
local function loose(p) return p.session_id == nil or p.session_id == "" or p.session_id == orch.json.null end

-- The loose request a command naming no session and no task decides, while a
-- host runs (the one waiting in it) -> row | nil
local function loose_request(params)
  if (params.session ~= nil and params.session ~= "") or (params.task ~= nil and params.task ~= "") then return nil end
  if not orch.host_running() then return nil end
  local p = orch.pending_approval()
  if p and loose(p) then return p end
end

-- The decision on loose request p, applied once or refused -> reply, http | nil (not this action's)
local function decide_loose(p, action, by, text, channel)
  local why = approval.refusal(p)
  if why then return refused(p, why) end
  if action == "answer" and p.kind ~= "question" then return nil end
  if not orch.resolve_approval(p.id, action, text or "", by, channel) then
    return err(409, fmt.reply("decided_first"), { request_id = p.id })
  end
  local prompt = fmt.truncate((p.prompt or ""):match("^%s*(.-)%s*$"), 60)
  return { status = "ok", request_id = p.id, kind = p.kind,
           message = fmt.reply("loose_decided", action, p.id, prompt) }, 200
end

-- decide: resolve one pending request with `action`: params.request_id's
-- (exactly that one, or a refusal saying why not), else params.task's, else
-- the only one waiting (naming none while several wait is refused with their
-- ids); describe(r, s) words the reply. opts.channel: how the decision came
-- (cli, webhook, rest, telegram). -> reply, http status (decided, or
-- refused) | nil, session (nothing waits that this action could decide)
local function decide(action, params, by, text, describe, opts)
  local channel = approval.channel(by, opts and opts.channel)
  if params.request_id ~= nil and params.request_id ~= "" then
    local rid = tonumber(params.request_id)
    if not rid or rid % 1 ~= 0 or rid < 1 then
      return err(400, fmt.reply("request_bad_id", M.param_path(opts)("request_id"),
        fmt.truncate(tostring(params.request_id), 40)))
    end
    local p = orch.get_approval(rid)
    if not p then return err(404, fmt.reply("request_not_found", rid), { reason = "not_found", request_id = rid }) end
    if loose(p) then
      local r, x = decide_loose(p, action, by, text, channel)
      if r then return r, x end
      return err(409, fmt.reply("request_not_question", p.id, p.task_id or ""), { request_id = p.id })
    end
    if params.session ~= nil and params.session ~= "" and tostring(params.session) ~= p.session_id then
      return err(409, fmt.reply("request_other_session", rid, p.session_id, params.session),
        { reason = "other_session", request_id = rid, session_id = p.session_id })
    end
    local s = S.load(p.session_id)
    if not s then return err(404, fmt.reply("no_session", p.session_id)) end
    local r, x = decide_on(p, s, action, by, text, describe, channel, true)
    if r then return r, x end
    return not_running(s, "request #" .. tostring(rid) .. " applies only while its session runs")
  end
  local s, e = load(params)
  local lp = (not s or not orch.pending_approval(s.id)) and loose_request(params)
  if lp then
    local r, x = decide_loose(lp, action, by, text, channel)
    if r then return r, x end
  end
  if not s then return err(404, e) end
  local task = params.task ~= nil and params.task ~= "" and tostring(params.task) or nil
  if task and not S.task(s, task) then return err(404, fmt.reply("no_task", task, s.id)) end
  if not task and action ~= "pause" then
    local list, ids = waiting_requests(s, action)
    if #list > 1 then
      local which = action == "answer" and fmt.reply("answer_which", s.id, table.concat(ids, ", "), action,
          fmt.task_syntax(action, channel, nil, true))
        or fmt.reply("request_which", s.id, table.concat(list, ", "), action, fmt.request_syntax(action, channel))
      return err(409, which, { session_id = s.id })
    end
    -- the one waiting, though a request of the other kind waits too (the
    -- newest pending request of the session may be another task's question)
    if #list == 1 then task = ids[1] end
  end
  local p = orch.pending_approval(s.id, task)
  if not p then return nil, s end
  return decide_on(p, s, action, by, text, describe, channel)
end

-- The newest decision on an approval of s (of task, when given), for one who
-- comes too late: a waiting task's request decided by someone else whose
-- decision its host has not taken yet (a race), else the newest the tasks keep
local function last_decision(s, task)
  local best
  for _, t in ipairs(s.tasks or {}) do
    if not task or tostring(t.id) == task then
      local rid = tonumber(t.approval_request)
      local p = rid and orch.get_approval(rid)
      if p and p.status == "resolved" and p.kind ~= "question" then return p end
      for _, a in ipairs(type(t.approvals) == "table" and t.approvals or {}) do
        if a.request_id and (not best or (tonumber(a.at) or 0) >= (tonumber(best.at) or 0)) then
          best = { id = a.request_id, session_id = s.id, task_id = t.id, action = a.action, by = a.by,
                   channel = a.channel, at = a.at }
        end
      end
    end
  end
  return best
end

-- others_waiting(s, params) -> "session S2 (request #12, task 1), ..." of the other active
-- sessions an approval waits in (several days in one serve), when params
-- name no session, task or request (the default session, s, was meant) | nil
local function others_waiting(s, params)
  for _, k in ipairs({ "session", "task", "request_id" }) do
    if params[k] ~= nil and params[k] ~= "" then return nil end
  end
  local list = {}
  for _, row in ipairs(orch.list_sessions(20)) do
    local p = row.id ~= s.id and ACTIVE[row.status] and orch.pending_approval(row.id)
    if p and p.kind ~= "question" then
      list[#list + 1] = string.format("session %s (request #%s, task %s)", row.id, tostring(p.id), tostring(p.task_id))
    end
  end
  return #list > 0 and table.concat(list, ", ") or nil
end

function M.approve(params, by, opts)
  local r, x = decide("approve", params, by, params.text, function(d, s)
    local t = S.task(s, d.task)
    return fmt.executing(d.task, t and t.title)
  end, opts)
  if r then return r, x end
  local d = last_decision(x, params.task ~= nil and params.task ~= "" and tostring(params.task) or nil)
  local http
  if d then r, http = refused(d, "decided")
  elseif not running(x) then r, http = not_running(x, "nothing is waiting for approval")
  else r, http = err(409, fmt.reply("nothing_to_approve", x.id, x.status), { session_id = x.id }) end
  -- a bare approve meant the default session; one that waits elsewhere is
  -- named, never decided: the approver may have meant the request decided here
  local others = others_waiting(x, params)
  if others then
    r.message = r.message .. " " .. fmt.reply("sessions_waiting", others,
      fmt.session_syntax("approve", approval.channel(by, opts and opts.channel)))
  end
  return r, http
end

function M.pause(params, by, opts)
  local r, s = decide("pause", params, by, params.text, function(d) return fmt.reply("paused", d.session_id) end,
    opts)
  if r then return r, s end
  if s.status == "paused" then  -- already: a pause is idempotent
    return { status = "ok", session_id = s.id, message = fmt.reply("session_is", s.id, s.status) }, 200
  elseif not ACTIVE[s.status] then  -- ended: nothing to pause
    return err(409, fmt.reply("session_is", s.id, s.status) .. "; nothing to pause", { session_id = s.id })
  end
  if not running(s) then return not_running(s, "nothing to pause") end
  orch.push_command(s.id, "pause", {}, by)
  local now = (cfg().orchestrator or {}).pause_stops_agent  -- lib/runner's rule
  local agents = 0
  for _, a in ipairs(S.agents(s)) do if a.status == "running" then agents = agents + 1 end end
  local key = agents == 0 and "pausing_idle" or now and "pausing_now" or agents > 1 and "pausing_many" or "pausing"
  return { status = "ok", session_id = s.id, message = fmt.reply(key, s.id, agents) }, 200
end

function M.answer(params, by, opts)
  local text = params and (params.text or params.answer)
  if type(text) ~= "string" or text:match("^%s*$") then return err(400, fmt.reply("answer_missing")) end
  local r, s = decide("answer", params, by, text, function(d) return fmt.reply("answer_sent", d.task) end, opts)
  if r then return r, s end
  if not running(s) then
    -- an answer given while no host runs is kept (the first wins, as for any
    -- decision): a second is refused saying which one the resume delivers
    local questions = require("lib.questions")
    for _, t in ipairs(s.tasks or {}) do
      local d = (params.task == nil or params.task == "" or tostring(params.task) == tostring(t.id))
        and questions.recorded(s, t)
      if d then
        return err(409, fmt.reply("answer_recorded", t.id, fmt.truncate(tostring(d.text), 200), tostring(d.by)),
          { session_id = s.id, task = t.id, reason = "decided" })
      end
    end
    return not_running(s, "no question is waiting")
  end
  local task = params.task ~= nil and params.task ~= "" and tostring(params.task) or nil
  if not task then return err(409, fmt.reply("no_question", s.id), { session_id = s.id }) end
  -- another task's question waits: said, in the words of the channel the answer came from
  local _, ids = waiting_requests(s, "answer")
  local channel = approval.channel(by, opts and opts.channel)
  local others = #ids == 0 and "none is waiting"
    or #ids == 1 and fmt.reply("question_of", ids[1], fmt.task_syntax("answer", channel, ids[1], true))
    or fmt.reply("questions_of", table.concat(ids, ", "), fmt.task_syntax("answer", channel, nil, true))
  return err(409, fmt.reply("no_question_task", task, s.id, others), { session_id = s.id, task = task })
end

return decide
end }
