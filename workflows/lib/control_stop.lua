-- control_stop: the stops of one task of lib/control (installed into its
-- table: callers use lib.control): skip (the task named, else the one in
-- hand; its decision: lib/control_decide's decide) and cancel, and the
-- /progress of one task, which finds the task's session as cancel does:
--   skip(params, by [, opts]) -> reply, http
--   cancel(params, by [, verb [, opts]]) -> reply, http
--   progress(params) -> reply, http
-- Policy: edit freely.
local fmt = require("lib.format")
local S = require("lib.session")
local approval = require("lib.approval")

local ACTIVE = S.SESSION_ACTIVE

return { install = function(M, shared)
local err, load, running, not_running = shared.err, shared.load, shared.running, shared.not_running
local decide = shared.decide

-- a task in hand whose agent is not running: its question, a usage limit, a retry's backoff
local PARKED = { waiting_answer = true, waiting_limit = true, waiting_retry = true }

-- the tasks of s in hand (running, waiting for a person or parked), "1 (running), 3 (waiting_approval)",
-- and those tasks
local function in_hand(s)
  local list, tasks = {}, {}
  for _, t in ipairs(s.tasks or {}) do
    if ACTIVE[t.status] or PARKED[t.status] then
      list[#list + 1] = string.format("%s (%s)", tostring(t.id), t.status)
      tasks[#tasks + 1] = t
    end
  end
  return list, tasks
end

-- the reply to a skip or cancel (verb: "skip" | "cancel") of task t that a
-- host runs: a running one has its agent stopped; one that waits (a retry, an
-- answer, a limit, approval: S.WAITING_FOR) had none to stop
local function stopping(verb, t)
  local waits = S.WAITING_FOR[t.status]
  if waits then return fmt.reply(verb == "skip" and "skipping_waiting" or "cancelling_waiting", t.id, waits) end
  if verb == "skip" then return fmt.reply(t.status == "running" and "skipping" or "skipping_task", t.id) end
  return fmt.reply(t.status == "running" and "cancelling_running" or "cancel_requested", t.id)
end

-- skip [task]: the task named (a parallel day runs several), else the one
-- waiting or running; while several are in hand, which one must be said
function M.skip(params, by, opts)
  local named = params.request_id ~= nil and params.request_id ~= ""
  if params.task ~= nil and params.task ~= "" and not named then return M.cancel(params, by, "skip", opts) end
  local whole = not named and load(params)
  local hand, tasks = {}, {}
  if whole then hand, tasks = in_hand(whole) end
  if #hand > 1 then
    return err(409, fmt.reply("skip_which", whole.id, table.concat(hand, ", "),
      fmt.task_syntax("skip", approval.channel(by, opts and opts.channel))), { session_id = whole.id })
  end
  local r, s = decide("skip", params, by, params.text, function(d) return fmt.reply("skipped", d.task) end, opts)
  if r then return r, s end
  if not running(s) then
    -- no host runs it: the one task in hand (its agent gone with its host, or
    -- parked: a retry's backoff, a usage limit) is skipped in the stored
    -- state now, as skip --task does (M.cancel); a waiting approval's or
    -- question's skip was kept above (decide)
    if #tasks == 1 then
      return M.cancel({ session = s.id, task = tasks[1].id, text = params.text }, by, "skip", opts)
    end
    return not_running(s, "nothing to skip")
  end
  local t = S.current(s)
  -- (the task named: the host's skip finds it parked too, and never the next one if it ended meanwhile)
  if ACTIVE[s.status] and t and (t.status == "running" or t.status == "waiting_limit"
                                 or t.status == "waiting_retry") then
    orch.push_command(s.id, "skip", { task = t.id, note = approval.note(params.text),
                                      channel = approval.channel(by, opts and opts.channel) }, by)
    return { status = "ok", session_id = s.id, task = t.id, message = stopping("skip", t) }, 200
  end
  return err(409, fmt.reply("nothing_to_skip", s.id, s.status), { session_id = s.id })
end

-- The session a command about one task means when params names none and
-- the one M.session_id names lacks it (has(id) says): the newest one with an
-- event of that task, e.g. the inbox's while a day runs beside it
local function task_session(params, task, has)
  local id = M.session_id(params)
  if (params.session and params.session ~= "") or (id and has(id)) then return id end
  local last = orch.recent_events({ task = tostring(task), limit = 1 })[1]
  return last and last.session_id or id
end

-- the refusal of a command about one task that names none (text): with the
-- unfinished tasks of the session it would address to pick from (a phone
-- cannot tap an id in "/progress <task_id>"), at most WHICH_IDS of them
local WHICH_IDS = 10
local function which(text, params)
  local s = load(params or {})
  local ids = {}
  for _, t in ipairs(s and s.tasks or {}) do
    if not S.FINISHED[t.status] then ids[#ids + 1] = string.format("%s (%s)", tostring(t.id), t.status) end
  end
  if #ids == 0 then return err(400, text) end
  local more = #ids > WHICH_IDS and fmt.reply("which_more", #ids - WHICH_IDS) or ""
  for i = #ids, WHICH_IDS + 1, -1 do ids[i] = nil end
  return err(400, text .. fmt.reply("which_of", s.id, table.concat(ids, ", ") .. more), { session_id = s.id })
end

-- progress: the last events of one task (the bot's /progress <task_id>)
function M.progress(params)
  local task = params and params.task
  if not task or task == "" then return which(fmt.reply("progress_which"), params) end
  task = tostring(task)
  local evs
  local sid = task_session(params, task, function(id)
    evs = orch.recent_events({ session = id, task = task, limit = 10 })
    return #evs > 0
  end)
  if not evs or #evs == 0 then evs = orch.recent_events({ session = sid, task = task, limit = 10 }) end
  return { status = "ok", session_id = sid, task = task, events = evs,
           message = fmt.task_events(task, evs, function(ts) return os.date("%H:%M:%S", math.floor(ts)) end) },
    200
end

-- cancel: stop a task (the running one gets its agent stopped, a waiting
-- one stops waiting, a pending one never runs); verb: "skip" for skip's
-- words (stopping) and end (skipped), else cancel's (cancelled:
-- lib/session STOPPED_AS). params.text: the person's note, kept with the
-- decision (lib/approval decision_record)
function M.cancel(params, by, verb, opts)
  verb = verb or "cancel"
  local channel = approval.channel(by, opts and opts.channel)
  local task = params and params.task
  if not task or task == "" then
    return which(fmt.reply("cancel_which", fmt.task_syntax("cancel", channel)), params)
  end
  local loaded = {}
  local sid = task_session(params, task, function(id)
    loaded[id] = S.load(id)
    return loaded[id] ~= nil and S.task(loaded[id], task) ~= nil
  end)
  local s, e = loaded[sid], nil
  if not s then s, e = load({ session = sid }) end
  if not s then return err(404, e) end
  local t = S.task(s, task)
  if not t then return err(404, fmt.reply("no_task", task, s.id)) end
  if S.FINISHED[t.status] then  -- nothing to do: refused, so a script can tell it from a cancel
    return err(409, fmt.reply("task_already", t.id, t.status), { session_id = s.id, task = t.id })
  end
  local note = approval.note(params.text)
  local p = orch.pending_approval(s.id, t.id)
  if not running(s) then
    -- no host runs the session: a command queued for it would be taken, and
    -- lost, as the resumed host starts; the stored task ends now, so the
    -- resume does not run it (its dependents are blocked then)
    if s.kind == "inbox" then return not_running(s, "its next start runs the task from its file again") end
    -- what it was doing: waiting for a retry, not started, running when its host stopped...
    local f = S.skipped_in(t, by, { how = verb, note = note, channel = channel, request_id = p and p.id,
                                    down = true })
    S.set_task(s, t, f, "task_finished", { reason = f.error })
    if p then orch.resolve_approval(p.id, verb, note or "", by, channel) end
    return { status = "ok", session_id = s.id, task = t.id,
             message = fmt.reply("cancelled_stored", t.id, s.id, f.status) }, 200
  end
  if p then
    orch.resolve_approval(p.id, verb, note or "", by, channel)
  else
    orch.push_command(s.id, verb, { task = t.id, note = note, channel = channel }, by)
  end
  return { status = "ok", session_id = s.id, task = t.id, message = stopping(verb, t) }, 200
end

end }
