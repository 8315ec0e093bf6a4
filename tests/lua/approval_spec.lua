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

describe("approval: one who decides too late", function()
  local control = require("lib.control")
  local session = require("lib.session")
  it("is told the approval was already decided, by whom and how, not that nothing waits", function()
    local s = session.new({ tasks = { { id = "1", title = "A" }, { id = "2", title = "B" } } },
      { task_file = "/tmp/late-approval-spec.md", id = "late-approval" })
    local t = session.task(s, "1")
    local rid = orch.open_approval({ session = s.id, task = "1", kind = "approval", prompt = "Approve A?" })
    session.set_task(s, t, { status = "waiting_approval", approval_request = rid })
    -- the race: alice's decision is in, the host has not taken it yet
    ok(orch.resolve_approval(rid, "approve", "", "cli:alice", "cli"))
    local r, http = control.run("approve", { session = s.id }, "telegram:7", { channel = "telegram" })
    eq({ http, r.reason, r.request_id }, { 409, "decided", rid })
    eq(r.message,
      "Request #" .. rid .. " (task 1) was already decided: approve by cli:alice (cli). Nothing was changed.")
    -- taken: the task runs, its decision kept on it; a late approve still says who decided
    session.set_task(s, t, { status = "running", approval_request = orch.json.null,
      approvals = { { request_id = rid, action = "approve", by = "cli:alice", channel = "cli", at = orch.now() } } })
    r, http = control.run("approve", { session = s.id }, "webhook:10.0.0.1")
    eq(http, 409)
    ok(r.message:find("already decided: approve by cli:alice (cli)", 1, true), r.message)
  end)
  it("a bare approve too late for the newest session names the others still waiting, never decides them", function()
    local function waiting(id)
      local s = session.new({ tasks = { { id = "1", title = "A" } } }, { task_file = "/tmp/" .. id .. ".md", id = id })
      local rid = orch.open_approval({ session = s.id, task = "1", kind = "approval", prompt = "Approve " .. id })
      session.set_task(s, session.task(s, "1"), { status = "waiting_approval", approval_request = rid })
      return s, rid
    end
    local _, ra = waiting("waits-older")
    local b, rb = waiting("waits-newest")
    ok(orch.resolve_approval(rb, "approve", "", "cli:alice", "cli"))
    eq(control.session_id({}), b.id)
    local r, http = control.run("approve", {}, "cli:bob", { channel = "cli" })
    eq({ http, r.reason, r.request_id }, { 409, "decided", rb })
    eq(r.message, "Request #" .. rb .. " (task 1) was already decided: approve by cli:alice (cli). Nothing was " ..
      "changed. Still waiting for approval: session waits-older (request #" .. ra .. ", task 1). Name the session " ..
      "to approve (orch-host approve --session ID).")
    eq(orch.get_approval(ra).status, "pending")
    r = control.run("approve", {}, "telegram:7", { channel = "telegram" })
    ok(r.message:find("(/approve <session>)", 1, true), r.message)
    r = control.run("approve", {}, "webhook:10.0.0.1", { channel = "webhook" })
    ok(r.message:find('("session": ID)', 1, true), r.message)
    -- naming the session (or the request) says nothing of the others
    r = control.run("approve", { session = b.id }, "cli:bob", { channel = "cli" })
    ok(not r.message:find("Still waiting", 1, true), r.message)
    _, http = control.run("approve", { session = "waits-older" }, "cli:bob", { channel = "cli" })
    eq({ http, orch.get_approval(ra).status }, { 200, "resolved" })
  end)
end)

describe("approval: which one, when several wait", function()
  local control = require("lib.control")
  local session = require("lib.session")
  -- a session whose tasks 1 and 2 both wait (status: waiting_approval or waiting_answer)
  local function two_waiting(id, status, kind)
    local s = session.new({ tasks = { { id = "1", title = "A" }, { id = "2", title = "B" } } },
      { task_file = "/tmp/" .. id .. "-spec.md", id = id })
    local rids = {}
    for _, tid in ipairs({ "1", "2" }) do
      rids[#rids + 1] = orch.open_approval({ session = s.id, task = tid, kind = kind, prompt = "?" })
      session.set_task(s, session.task(s, tid), { status = status, approval_request = rids[#rids] })
    end
    return s, rids
  end
  it("says how to name the request in the words of the caller's channel only", function()
    local s, rids = two_waiting("which-requests", "waiting_approval", "approval")
    local head = "Session which-requests has several requests waiting: #" .. rids[1] .. " (task 1), #" .. rids[2] ..
      " (task 2). Name the one to approve ("
    local want = { cli = "orch-host approve --request ID).", telegram = "its buttons, or /approve <task_id>).",
                   webhook = '"request_id": ID).' }
    for channel, tail in pairs(want) do
      local r, http = control.run("approve", { session = s.id }, channel .. ":x", { channel = channel })
      eq({ http, r.message }, { 409, head .. tail })
    end
    local r = control.run("skip", { session = s.id }, "telegram:7", { channel = "telegram" })
    ok(r.message:find("Say which to skip (/skip <task_id>).", 1, true), r.message)
    r = control.run("skip", { session = s.id }, "cli:ana", { channel = "cli" })
    ok(r.message:find("Say which to skip (orch-host skip --task ID).", 1, true), r.message)
  end)
  it("says how to name the question's task in the caller's channel's words", function()
    local s = two_waiting("which-questions", "waiting_answer", "question")
    local head = "Session which-questions has several questions waiting: tasks 1, 2. Name the task to answer ("
    local want = { cli = "orch-host answer --task ID TEXT).", telegram = "/answer <task_id> <text>).",
                   webhook = '"task": ID).' }
    for channel, tail in pairs(want) do
      local r, http = control.run("answer", { session = s.id, text = "yes" }, channel .. ":x", { channel = channel })
      eq({ http, r.message }, { 409, head .. tail })
    end
  end)
end)
