-- hook_cli: `orch-host hook pre-tool-use` (host/cli/hook.cpp calls run(req)
-- and exits with what it returns). claude runs it before every tool call of
-- an agent (lib/agent_env writes it into the agent's --settings); the tool
-- input is asked of lib/safety, the same rules as the stream check. A
-- blocked call: exit 2 and the reason on stderr (claude tells the agent),
-- and a tool_blocked event of the agent's session and task (ORCH_SESSION_ID,
-- ORCH_TASK_ID in its environment), which lib/safety_after puts on the task.
-- Policy: edit freely.
local req = ...  -- the request when run as the hook command's workflow; the module name when required
local safety = require("lib.safety")
local fmt = require("lib.format")

local M = {}

M.BLOCK = 2  -- the exit code that makes claude block the call

-- run{event= (the hook's JSON), session=, task=} -> {exit=, message=}
function M.run(r)
  local ev = r.event
  if type(ev) ~= "table" then return { exit = M.BLOCK, message = fmt.hook_error("stdin: not a JSON object") } end
  if ev.hook_event_name ~= nil and ev.hook_event_name ~= "PreToolUse" then return { exit = 0 } end
  if type(ev.tool_name) ~= "string" or (ev.tool_input ~= nil and type(ev.tool_input) ~= "table") then
    return { exit = M.BLOCK, message = fmt.hook_error("stdin: not a tool call (tool_name, tool_input)") }
  end
  local reason = safety.check_tool(ev.tool_name, ev.tool_input,
    { allowed_root = orch.config.claude.allowed_root, cwd = ev.cwd })
  if not reason then return { exit = 0 } end
  if r.session or r.task then
    orch.emit("tool_blocked", { session = r.session, task = r.task, tool = ev.tool_name, reason = reason,
                                tool_use_id = ev.tool_use_id })
  end
  return { exit = M.BLOCK, message = fmt.tool_blocked(reason) }
end

if type(req) == "table" then return M.run(req) end
return M
