-- control_cli: `orch-host approve|skip|pause|answer [TEXT]` and
-- `orch-host resume [SESSION]` (host/cli/control.cpp calls run(req) and acts
-- on what it returns). The decisions are lib/control's, the same as for the
-- webhook, Telegram and the schedules; this maps the command line onto them
-- and the reply onto an exit code. Policy: edit freely.
local control = require("lib.control")

local M = {}

local EXIT = { ok = 0, refused = 1, bad_input = 2 }

-- The exit code of a reply's HTTP status: 2xx ok; 400 (bad input: no answer
-- text, a bad parameter) 2; anything else refused (1): nothing waits, no such
-- session, someone decided first, a question waits where an approval was
-- expected.
function M.exit_code(http)
  if http >= 200 and http < 300 then return EXIT.ok end
  if http == 400 then return EXIT.bad_input end
  return EXIT.refused
end

-- run{command=, session=, text=, task=, request=, by=, auto_approve=, no_input=, max_concurrent=} ->
-- {exit=, message=, http=, [run = {workflow=, args=}]}
-- session: the one named, else the newest (lib/control); text: approve's,
-- skip's and answer's words; request: the request id a decision is for
-- (refused when it is decided, expired, withdrawn or of an older session); auto_approve, no_input,
-- max_concurrent: resume's flags when
-- given. `run`: resume here, under the run lock, with these args.
-- the flag each param comes from, as a refusal names it (lib/control's param_path)
M.FLAGS = { session = "--session", task = "--task", request_id = "--request", text = "TEXT",
  auto_approve = "--auto-approve", no_input = "--no-input" }

function M.run(req)
  local params = { session = req.session, text = req.text, task = req.task, request_id = req.request }
  if req.command == "resume" then
    params.auto_approve, params.no_input, params.max_concurrent = req.auto_approve, req.no_input, req.max_concurrent
  end
  local plan
  local opts = { run = function(workflow, args) plan = { workflow = workflow, args = args } end, channel = "cli",
                 param_path = function(k) return M.FLAGS[k] or k end }
  local reply, http = control.run(req.command, params, req.by, opts)
  local message = reply.message
  -- bad input (no answer text, a bad --request, cancel without --task): the
  -- command line's own hint, as the parser's errors end
  if http == 400 and req.command then message = tostring(message) .. "\nsee orch-host " .. req.command .. " --help" end
  return { exit = M.exit_code(http), message = message, http = http, run = plan }
end

return M
