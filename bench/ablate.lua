-- ablate.lua: where the host's per-task time goes (bench/breakdown.sh).
-- Runs the task file's tasks one at a time through orch.run_claude, adding
-- one piece of daily.lua's per-task work per level, so the difference
-- between two levels is that piece's cost:
--   0  orch.run_claude{prompt} only: spawn, read, parse each stream line
--      in C++, the result table back to Lua
--   1  + log_path (the per-task output log file)
--   2  + on_event (each stream event converted to a Lua table; safety.check)
--   3  + the task saved twice through lib/session.lua (two commits, two events)
--   4  + orch.emit claude_started / claude_finished (two more commits)
-- The level comes from ORCH_BENCH_LEVEL (default 4).
-- Run: orch-host run bench/ablate.lua --tasks F
local args = ...
local tasks_md = require("lib.tasks_md")
local safety = require("lib.safety")
local S = require("lib.session")

local cfg = orch.config
local level = tonumber(os.getenv("ORCH_BENCH_LEVEL")) or 4

local text, err = orch.read_file(args.tasks or "")
if not text then orch.print("error: " .. tostring(err)) return 2 end
local doc, perr = tasks_md.parse(text, args.tasks)
if not doc then orch.print("error: " .. tostring(perr)) return 2 end

local s
if level >= 3 then
  s = S.new(doc, { task_file = args.tasks, workflow = "bench/ablate.lua", pid = orch.pid })
else
  s = { id = "ablate", tasks = doc.tasks }
  for _, t in ipairs(s.tasks) do t.id = tostring(t.id) end
end

local prompt_for = require("lib.prompt").for_task

local check_opts = { allowed_root = cfg.claude.allowed_root }
local function on_event(ev) return safety.check(ev, check_opts) end

local failed = 0
for _, t in ipairs(s.tasks) do
  if level >= 3 then
    S.set_task(s, t, { status = "running", started_at = orch.now(), error = orch.json.null }, "task_started")
  end
  if level >= 4 then orch.emit("claude_started", { session = s.id, task = t.id }) end
  local o = { prompt = prompt_for(t), env = { ORCH_SESSION_ID = s.id, ORCH_TASK_ID = t.id } }
  if level >= 1 then o.log_path = string.format("%s/task-%s-%s-output.log", cfg.paths.logs_dir, s.id, t.id) end
  if level >= 2 then o.on_event = on_event end
  local r = orch.run_claude(o)
  if not r.ok then failed = failed + 1 end
  if level >= 4 then
    orch.emit("claude_finished", { session = s.id, task = t.id, ok = r.ok, exit_code = r.exit_code,
      error = r.error, cost_usd = r.cost_usd, tokens = r.tokens, duration_ms = r.duration_ms })
  end
  if level >= 3 then
    S.set_task(s, t, { status = r.ok and "completed" or "failed", completed_at = orch.now(),
      cost_usd = r.cost_usd or 0, tokens = r.tokens or 0, output_log = o.log_path,
      claude_session = r.session_id, num_turns = r.num_turns, result = r.result }, "task_finished")
  end
end
orch.print(string.format("ablate level %d: %d tasks, %d failed", level, #s.tasks, failed))
return failed > 0 and 1 or 0
