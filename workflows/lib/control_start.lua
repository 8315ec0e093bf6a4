-- control_start: the commands of lib/control that run a session here
-- (installed into its table: callers use lib.control): start a day from a
-- task file, start the task inbox, resume a session; and what they share
-- with the decisions (the sessions launched here, an older session's newer one):
--   start(params, by [, opts]) -> reply, http
--   start_inbox(by) -> id | nil, err
--   resume_args(s, params) -> workflow, args;  resume(params, by [, opts]) -> reply, http
--   moved(old, new);  prior_session(file) -> row | nil;  newer_session(s) -> id | nil
--   parallel_limit(v, field) -> n | nil, message;  STORED_WAIT
-- Policy: edit freely.
local fmt = require("lib.format")
local S = require("lib.session")

local ACTIVE = S.SESSION_ACTIVE

return { install = function(M, shared)
local cfg, err, load = shared.cfg, shared.err, shared.load

local function resolve_task_file(params)
  local f = params.task_file or params.tasks
  if f == nil or f == "" then return nil end
  f = tostring(f)
  if f:sub(1, 1) ~= "/" then f = orch.root .. "/" .. f end
  return f
end

-- Runs the day's workflow (or `workflow`) as a task here; forgets it when it ends.
local function launch(id, args, by, task_file, workflow)
  require("lib.config_reload").fresh("serve")  -- a changed .env or config applies to the session
  args.no_input = true
  args.started_by = by
  local task, lerr = orch.start_workflow(workflow or cfg().server.session_workflow, args)
  if not task then return nil, tostring(lerr) end
  local entry = { task = task, task_file = task_file, by = by, started_at = orch.now() }
  M.live[id] = entry
  orch.spawn(function()
    local ok, result = orch.wait(task)
    for k, l in pairs(M.live) do if l == entry then M.live[k] = nil end end  -- under its last id (M.moved)
    -- the host's stop (SIGTERM, Ctrl-C) cancels it: that is no error
    orch.log((ok or orch.interrupted()) and "info" or "error", string.format("session %s ended: %s", id,
      ok and ("exit " .. tostring(result)) or tostring(result)))
  end)
  return task
end

-- await_stored(id, deadline): waits until the session launched as id is
-- stored (its workflow stores it once it has read the file and the
-- repository, which waits on git), or its workflow ended, or STORED_WAIT
-- seconds (the request's deadline, orch.monotonic(), less a margin): the
-- reply "started" comes after, so GET /api/status/ID, `orch-host sessions`
-- and a bare `orch-host approve` right after it find that session
M.STORED_WAIT = 5
local function await_stored(id, deadline)
  local limit = orch.monotonic() + M.STORED_WAIT
  if deadline then limit = math.min(limit, deadline - 1) end
  while M.live[id] and not orch.load_session(id, { tasks = false }) and orch.monotonic() < limit do
    orch.sleep(0.02)
  end
end

-- moved(old, new): the session this process runs as old goes on as new (the
-- inbox's session of a new day: workflows/inbox.lua); commands find it there
function M.moved(old, new)
  M.live[new], M.live[old] = M.live[old], nil
end

-- a new session id: none stored has it, and none launched here that has
-- not stored its session yet (two starts in one second get two ids, and each
-- caller is told the one its session is stored under)
local function fresh_id() return S.new_id(nil, function(id) return M.live[id] ~= nil end) end

-- the file a task file's path names: its real path (symlinks, "." and ".."
-- resolved; a relative one from the project's root) while it exists, else
-- the path as given
local function file_key(p)
  if p:sub(1, 1) ~= "/" then p = orch.root .. "/" .. p end
  local info = orch.file_info(p)
  return info and info.real or p
end

local function same_file(a, b)
  if a == nil or b == nil then return false end
  return a == b or file_key(a) == file_key(b)
end

-- the already_running reply when a session launched here runs this task file, else nil
local function live_over(file)
  for id, l in pairs(M.live) do
    if same_file(l.task_file, file) then
      return { status = "already_running", session_id = id, message = fmt.reply("already_running", file, id) }
    end
  end
end

-- the newest stored session over this task file (among the last 50)
function M.prior_session(file)
  for _, s in ipairs(orch.list_sessions(50)) do
    if same_file(s.task_file, file) then return s end
  end
end

-- newer_session(s) -> id | nil: the newest session over s's task file, when
-- it is not s (its requests are refused: lib/approval's older_session; it is
-- not resumed)
function M.newer_session(s)
  local newest = s and s.task_file and M.prior_session(s.task_file)
  if newest and newest.id ~= s.id then return newest.id end
end

-- parallel_limit(v, field) -> n | nil, message: how many agents a request
-- may ask for (a whole number from 1 to server.max_parallel_agents)
function M.parallel_limit(v, field)
  local cap = cfg().server.max_parallel_agents
  if type(v) ~= "number" or v ~= v or v % 1 ~= 0 or v < 1 then
    return nil, string.format("%s must be a whole number of agents >= 1, not %s", field,
      fmt.truncate(orch.json.encode(v), 40))
  end
  if v > cap then
    return nil, string.format("%s: %.0f is over this server's limit of %d (server.max_parallel_agents)", field, v, cap)
  end
  return v
end

-- start: a new session from a task file (params.task_file, else today's),
-- or a clear answer when one is already running here; params.max_concurrent:
-- agents at once (M.parallel_limit). opts.workflow (from
-- lib/schedule, never from a request's params) runs another workflow file.
function M.start(params, by, opts)
  params = params or {}
  if params.max_concurrent ~= nil then
    local _, merr = M.parallel_limit(params.max_concurrent, "max_concurrent")
    if merr then return err(400, merr) end
  end
  local file = resolve_task_file(params) or S.today_file(cfg().paths.tasks_dir)
  local running_here = live_over(file)
  if running_here then return running_here, 409 end
  -- the file first: one that does not read or parse is a 400 naming it
  local doc, perr = require("lib.tasks").load(file)
  if not doc then return err(400, perr.stage == "read" and fmt.unreadable_tasks(perr) or tostring(perr)) end
  -- then what `orch-host check` finds the run would refuse (a cycle, the day's
  -- repository and branches) or fail at a task's start (a context file outside
  -- or missing, a deliverable outside, a worktree in use): check's own rules
  local c = require("lib.check_cli").run({ tasks = file, doc = doc, state = true,
                                            auto_approve = params.auto_approve == true })
  if c.problems then return err(400, fmt.reply("start_problems", table.concat(c.problems, "; "))) end
  if c.exit ~= 0 then return err(400, c.out) end
  -- the same file's latest session, unless params.force: a paused one is
  -- resumed (not started over), a finished one is not run again by accident
  -- (once the file is edited, its tasks are new: S.same_tasks). opts.again (a
  -- schedule's fire: its file again every night) passes a finished one only:
  -- one its killed host left running, or paused, is resumed, never superseded
  if not params.force then
    local prior = M.prior_session(file)
    if prior and (prior.status == "paused" or ACTIVE[prior.status]) then
      return { status = "paused", session_id = prior.id,
               message = fmt.reply("prior_active", prior.id, file, prior.status) }, 409
    elseif prior and prior.status == "completed" and not (opts and opts.again)
           and S.same_tasks(S.load(prior.id) or prior, doc) then
      return { status = "completed", session_id = prior.id, message = fmt.reply("prior_completed", prior.id, file) },
        409
    end
  end
  -- the checks above wait (git, through orch.exec): a start of the same file
  -- that came meanwhile may have launched it; from here to launch nothing waits
  running_here = live_over(file)
  if running_here then return running_here, 409 end
  local id = fresh_id()
  local _, lerr = launch(id, { tasks = file, session_id = id, auto_approve = params.auto_approve == true,
                              max_concurrent = params.max_concurrent }, by, file, opts and opts.workflow)
  if lerr then return err(500, fmt.reply("cannot_start", lerr)) end
  await_stored(id, opts and opts.deadline)
  return { status = "started", session_id = id, total_tasks = #doc.tasks, task_file = file,
           message = fmt.reply("started", id, #doc.tasks, file) }, 200
end

-- start_inbox(by): the task inbox (workflows/inbox.lua, config inbox) as a
-- session of this process -> its session id | nil, err
function M.start_inbox(by)
  local id = fresh_id()
  local _, lerr = launch(id, { session_id = id }, by, cfg().paths.tasks_dir, "inbox.lua")
  if lerr then
    orch.log("error", "inbox: " .. tostring(lerr))
    return nil, lerr
  end
  return id
end

-- What resuming session s runs: the workflow it stored, its task file and the
-- flags it was started with (auto_approve, no_input, max_concurrent), unless
-- params give one (params.auto_approve, params.no_input: booleans;
-- params.max_concurrent: agents at once from now on). The task
-- inbox (workflows/inbox.lua) reads only these; a day reads its stored
-- session too.
function M.resume_args(s, params)
  local args = { resume = true, session = s.id, tasks = s.task_file, no_input = s.no_input == true,
                 auto_approve = s.auto_approve == true, max_concurrent = tonumber(s.max_concurrent) }
  if type(params.no_input) == "boolean" then args.no_input = params.no_input end
  if type(params.auto_approve) == "boolean" then args.auto_approve = params.auto_approve end
  if params.max_concurrent ~= nil then args.max_concurrent = params.max_concurrent end  -- checked by M.resume
  return s.workflow or cfg().server.session_workflow, args
end

-- resume: a completed session has nothing to resume; one running here gets
-- the command, and so does the host running in another process (lib/control's
-- watch resumes it there); else it continues here: as a task
-- of this process, or with opts.run(workflow, args) (the command line runs
-- it itself, under the run lock).
function M.resume(params, by, opts)
  if params.max_concurrent ~= nil and not (opts and opts.channel == "cli") then  -- the command line checked its own
    local _, merr = M.parallel_limit(params.max_concurrent, "max_concurrent")
    if merr then return err(400, merr) end
  end
  local s, e = load(params)
  if not s then return err(404, e) end
  if s.status == "completed" then
    return { status = "ok", session_id = s.id, message = fmt.reply("already_completed", s.id) }, 200
  end
  if M.live[s.id] then
    orch.push_command(s.id, "resume", {}, by)
    return { status = "ok", session_id = s.id, message = fmt.reply("resuming", s.id) }, 200
  end
  -- a newer session over the same file has taken its place: its decisions
  -- would all be refused (older_session), so it is not run again
  local newer = M.newer_session(s)
  if newer then
    return { status = "error", reason = "older_session", session_id = s.id, newer_session = newer,
             message = fmt.reply("resume_older", s.id, newer, newer) }, 409
  end
  if M.host_runs(s) then
    orch.push_command(s.id, "resume", {}, by)
    return { status = "ok", session_id = s.id, message = fmt.reply("resume_sent", s.id) }, 200
  end
  local up, pid = orch.host_running()
  if up then  -- its host is gone, and another holds the lock: that one can run it
    return err(409, fmt.reply("resume_elsewhere", s.id, tostring(pid)))
  end
  local workflow, args = M.resume_args(s, params)
  if opts and opts.run then
    opts.run(workflow, args)
    return { status = "ok", session_id = s.id, message = fmt.reply("resuming", s.id) }, 200
  end
  local _, lerr = launch(s.id, args, by, s.task_file, workflow)
  if lerr then return err(500, fmt.reply("cannot_resume", lerr)) end
  return { status = "ok", session_id = s.id, message = fmt.reply("resumed", s.id) }, 200
end

end }
