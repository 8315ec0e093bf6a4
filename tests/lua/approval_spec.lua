-- Specs for workflows/lib/approval.lua and the request texts of lib/format:
-- what a request says will run, the channel of a decision, which requests
-- take no decision and why.
local T = require("orch.testing")
local approval = require("lib.approval")
local fmt = require("lib.format")
local fs = require("lib.format_status")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local S = { id = "20261201-090000", tasks = {} }
local TASK = { id = "task-2", title = "Notes API", type = "backend", priority = "high",
  instruction = "Add GET /notes.\n\nThen POST /notes.\nThen tests.\nThen docs.\nThen lint.\nThen more." }
S.tasks[1], S.tasks[2] = { id = "task-1", title = "Schema" }, TASK

describe("approval: the request", function()
  it("says what will run: the task, its branch, the instruction's first lines, the request id", function()
    local rq = approval.request(S, TASK, 12, "required mode")
    eq({ rq.request_id, rq.task, rq.title, rq.branch }, { 12, "task-2", "Notes API", nil })
    eq(rq.instruction, "Add GET /notes.\nThen POST /notes.\nThen tests.\nThen docs.\nThen lint.\n…")
    local with_ws = { id = S.id, tasks = S.tasks, workspace_base = { repo = "/r", commit = "abc" } }
    eq(approval.request(with_ws, TASK, 12).branch, "orch/" .. S.id .. "/task-2")
    eq(approval.request(S, { id = "x", branch = "feature/x" }, 1).branch, "feature/x")
    local text = fmt.approval_request(S, TASK, "required mode", rq)
    ok(text:find("Request #12 · task task-2", 1, true), text)
    ok(text:find("Will run:\nAdd GET /notes.", 1, true), text)
    ok(text:find("Why: required mode", 1, true), text)
    eq(fmt.approval_buttons(12)[1][1].data, "approve:12")
  end)
  it("lists the acceptance commands the orchestrator will run after the agent, so the approver sees them", function()
    local t = { id = "v", title = "Checked", instruction = "Fix it.",
                verify = { "make test", "rm -rf build\n&& make" } }
    local rq = approval.request(S, t, 3)
    eq(rq.commands, { "make test", "rm -rf build\n&& make" })
    local text = fmt.approval_request(S, t, nil, rq)
    ok(text:find("Then the orchestrator runs (its acceptance commands):\n$ make test\n$ rm -rf build && make", 1, true),
      text)
    eq(approval.request(S, { id = "n", instruction = "x" }, 4).commands, nil)
  end)
  it("a decision's channel: the caller's word, else the prefix of who decided", function()
    eq(approval.channel("ops", "webhook"), "webhook")
    eq(approval.channel("api:10.0.0.1"), "rest")
    eq(approval.channel("telegram:42"), "telegram")
    eq(approval.channel("cli:ana"), "cli")
    eq(approval.channel("ops"), "unknown")
    eq(approval.channel("ops", "carrier-pigeon"), "unknown")
  end)
  it("refuses a decided, expired, withdrawn request or one of an older session", function()
    eq(approval.refusal({ status = "resolved", session_id = "a" }), "decided")
    eq(approval.refusal({ status = "expired", session_id = "a" }, "b"), "expired")
    eq(approval.refusal({ status = "pending", session_id = "a" }, "b"), "older_session")
    eq(approval.refusal({ status = "withdrawn", session_id = "a" }), "withdrawn")
    eq(approval.refusal({ status = "pending", session_id = "a" }), nil)
    eq(approval.refusal({ status = "pending", session_id = "a" }, "a"), nil)
  end)
  it("keeps who decided, when and through which channel", function()
    local list = approval.recorded({ approvals = { { request_id = 1 } } },
      { id = 4, action = "approve", by = "cli:ana", channel = "cli", at = 1764581405 })
    eq(list[2], { request_id = 4, action = "approve", by = "cli:ana", channel = "cli", at = 1764581405 })
    eq(fmt.decision_line(list[2], fs.utc), "approve by cli:ana (cli) at 2025-12-01 09:30:05, request #4")
  end)
end)
