-- Specs for lib/control's parameters (docs/webhook-api.md "Parameters"): what
-- every command refuses before it acts -- params that are no object, a flag
-- that is no boolean, a count out of 1..200 -- with a 400 naming the field.
local T = require("orch.testing")
local control = require("lib.control")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local function refused(command, params, piece)
  local r, http = control.run(command, params, "spec")
  eq(http, 400, command .. " " .. orch.json.encode(params))
  ok(tostring(r.message):find(piece, 1, true), tostring(r.message))
end

describe("control: parameters", function()
  it("params must be an object: an array is none", function()
    refused("status", { 1 }, '"params" must be an object')
    refused("status", orch.json.array({}), '"params" must be an object')
    refused("status", "x", '"params" must be an object')
    local _, http = control.run("status", {}, "spec")
    eq(http, 200)
  end)
  it("auto_approve, force and no_input are booleans", function()
    refused("start", { task_file = "tasks/none.json", auto_approve = "yes" }, "params.auto_approve must be a boolean")
    refused("start", { task_file = "tasks/none.json", force = "yes" }, "params.force must be a boolean")
    refused("resume", { no_input = 1 }, "params.no_input must be a boolean")
  end)
  it("a value of the wrong type is named in JSON's words, never Lua's table", function()
    refused("approve", { task = { a = 1 } }, "params.task must be a string or number, not object")
    refused("approve", { task = { 1 } }, "params.task must be a string or number, not array")
    refused("answer", { text = orch.json.null }, "params.text must be a string, not null")
    refused("start", { force = "yes" }, "params.force must be a boolean, not string")
  end)
  it("lines and limit are whole numbers from 1 to 200", function()
    for _, v in ipairs({ "abc", 0, 500, "500", 2.5, "-1" }) do
      refused("logs", { lines = v }, "logs: lines must be a whole number from 1 to 200")
      local r, http = control.sessions({ limit = v })
      eq(http, 400)
      ok(r.message:find("sessions: limit must be a whole number from 1 to 200", 1, true), r.message)
    end
    local r, http = control.run("logs", { lines = "3" }, "spec")
    eq({ http, r.status }, { 200, "ok" })
    r, http = control.sessions({ limit = "200" })
    eq({ http, type(r.sessions) }, { 200, "table" })
    http = select(2, control.sessions({}))
    eq(http, 200)
  end)
end)
