-- parallel.lua: the task file's tasks through orch.run_claude, 8 at a time
-- (bench/run.sh, benchmark 2). Run: orch-host run bench/parallel.lua --tasks F
--
-- Each task does the durable work daily.lua does per task, so the comparison
-- with a bare spawn loop is honest: the session and its tasks saved through
-- lib/session.lua (one commit when a task starts, one when it ends, each with
-- its event), claude_started/claude_finished events, the agent's output log,
-- and the live safety check on every stream event. It leaves out the console
-- (notify, status line) and approvals, which a benchmark run does not use.
-- args: tasks=, workers= (default 8, or ORCH_BENCH_WORKERS)
local args = ...
local tasks_md = require("lib.tasks_md")
local safety = require("lib.safety")
local S = require("lib.session")

local cfg = orch.config
local WORKERS = tonumber(args.workers or os.getenv("ORCH_BENCH_WORKERS")) or 8

local text, err = orch.read_file(args.tasks or "")
if not text then
  orch.print("error: cannot read the task file: " .. tostring(err))
  return 2
end
local doc, perr = tasks_md.parse(text, args.tasks)
if not doc then
  orch.print("error: " .. tostring(perr))
  return 2
end
local s = S.new(doc, { task_file = args.tasks, workflow = "bench/parallel.lua", pid = orch.pid })

local prompt_for = require("lib.prompt").for_task

local check_opts = { allowed_root = cfg.claude.allowed_root }
local function on_event(ev) return safety.check(ev, check_opts) end

local function execute(t)
  S.set_task(s, t, { status = "running", started_at = orch.now(), error = orch.json.null }, "task_started")
  local log = string.format("%s/task-%s-%s-output.log", cfg.paths.logs_dir, s.id, t.id)
  orch.emit("claude_started", { session = s.id, task = t.id })
  local r = orch.run_claude({ prompt = prompt_for(t), log_path = log, on_event = on_event,
                              event_types = { "assistant" },  -- as daily.lua
                              env = { ORCH_SESSION_ID = s.id, ORCH_TASK_ID = t.id } })
  orch.emit("claude_finished", { session = s.id, task = t.id, ok = r.ok, exit_code = r.exit_code,
    error = r.error, cost_usd = r.cost_usd, tokens = r.tokens, duration_ms = r.duration_ms })
  local fields = { completed_at = orch.now(), cost_usd = r.cost_usd or 0, tokens = r.tokens or 0,
                   output_log = log, claude_session = r.session_id, num_turns = r.num_turns, result = r.result }
  if r.ok then fields.status = "completed" else fields.status, fields.error = "failed", r.error or "failed" end
  S.set_task(s, t, fields, "task_finished", { error = fields.error })
end

local next_i = 0
local function worker()
  while true do
    next_i = next_i + 1
    local t = s.tasks[next_i]
    if not t then return end
    execute(t)
  end
end

local ids = {}
for i = 1, math.min(WORKERS, #s.tasks) do ids[i] = orch.spawn(worker) end
for _, id in ipairs(ids) do
  local ok, werr = orch.wait(id)
  if not ok then orch.print("error: worker failed: " .. tostring(werr)) end
end

local c = S.counts(s)
S.set_status(s, "completed", { finished_at = orch.now() }, "session_completed")
orch.print(string.format("parallel: %d tasks, %d completed, %d failed, %d workers", c.total, c.completed, c.failed, WORKERS))
return c.failed > 0 and 1 or 0
