-- lib/control's start, as the webhook, the REST API and the schedules call it:
-- its "started" reply names a session that is stored by then, so a status of
-- that id, `orch-host sessions` or a bare `approve` right after it find it.
local T = require("orch.testing")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok
local control = require("lib.control")

local FILE = "tests/lua/fixtures/schedule-tasks.md"
local LATE = orch.root .. "/tests/lua/fixtures/store_late.lua"

describe("control.start", function()
  it("answers started once the session is stored, though its workflow stores it late", function()
    local r, http = control.start({ task_file = FILE, force = true }, "test", { workflow = LATE })
    eq({ http, r.status }, { 200, "started" }, r.message)
    local s = orch.load_session(r.session_id, { tasks = false })
    ok(s, "session " .. r.session_id .. " is not stored when start answers")
    eq(s.task_file, orch.root .. "/" .. FILE)
    local l = control.live[r.session_id]
    if l then eq({ orch.wait(l.task, 60) }, { true, 0 }, "the workflow's result") end
  end)

  it("does not wait past a request's deadline, less a second for the reply", function()
    local r = control.start({ task_file = FILE, force = true }, "test",
                            { workflow = LATE, deadline = orch.monotonic() + 1 })
    eq(r.status, "started", r.message)
    eq(orch.load_session(r.session_id, { tasks = false }), nil, "start waited for the session past its deadline")
    local l = control.live[r.session_id]
    if l then orch.wait(l.task, 60) end
  end)
end)
