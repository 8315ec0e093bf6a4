-- safety_agent.lua: one agent run with lib/agent_env's environment and no
-- stream check, for tests/e2e/safety_e2e.sh: what the PreToolUse hook and the
-- agent's git stop by themselves. Environment: SAFETY_CWD (the agent's
-- folder), SAFETY_DIR (its agent folder), SAFETY_PROMPT, SAFETY_HOOK ("0":
-- no --settings, so only the git layer is left).
local agent_env = require("lib.agent_env")
local s = { id = "e2e-safety" }
local t = { id = "t1", agent_dir = os.getenv("SAFETY_DIR") }
local a = agent_env.for_run(s, t, os.getenv("SAFETY_CWD"), { ORCH_SESSION_ID = s.id, ORCH_TASK_ID = t.id })
local r, err = orch.run_claude({ prompt = os.getenv("SAFETY_PROMPT"), cwd = os.getenv("SAFETY_CWD"), env = a.env,
  extra_args = os.getenv("SAFETY_HOOK") ~= "0" and a.extra_args or {}, permission_mode = "bypassPermissions",
  disallowed_tools = { "NotebookEdit" }, log_path = os.getenv("SAFETY_DIR") .. "/run.log" })
r = r or err.result or {}
orch.print("agent: ok=" .. tostring(r.ok) .. " exit=" .. tostring(r.exit_code) .. " error=" .. tostring(r.error)
  .. " result=" .. tostring(r.result))
return r.exit_code == 0 and 0 or 1  -- blocked calls are denials: r.ok is false
