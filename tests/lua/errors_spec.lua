-- Specs for scripts/orch/errors.lua: one error value for all of orch-host's Lua,
-- the host's primitives included (the same metatable, the same __tostring).
local T = require("orch.testing")
local errors = require("orch.errors")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

describe("errors: one metatable", function()
  it("is the host's orch.error_mt, which orch.err uses", function()
    ok(errors.mt == orch.error_mt, "orch.errors.mt is not orch.error_mt")
    ok(getmetatable(orch.err("x", "y")) == orch.error_mt)
    local _, e = orch.read_file("/nonexistent/orch-errors-spec")
    ok(errors.is(e), "a host primitive's error is not an orch.errors error")
  end)

  it("is what tasks_md, cron and policy return", function()
    local _, e1 = require("lib.tasks_md").parse("no tasks here\n", "x.md")
    local _, e2 = require("lib.cron").parse("61 * * * *")
    local _, e3 = require("lib.policy").validate({ approval_mode = "sometimes" })
    for i, e in ipairs({ e1, e2, e3 }) do
      ok(getmetatable(e) == orch.error_mt, "error " .. i .. " has its own metatable")
      eq(tostring(e), e.message, "error " .. i)
    end
    eq(e1.code, "no_tasks")
    eq(e3.field, "approval_mode")
  end)

  it("new() keeps the fields given, tostring falls back to the code", function()
    local e = errors.new("bad_thing", nil, { field = "a.b" })
    eq({ e.code, e.field, tostring(e) }, { "bad_thing", "a.b", "bad_thing" })
    eq(tostring(errors.new("c", "the message")), "the message")
    ok(not errors.is({ code = "x" }))
  end)

  it("loads as a pure module", function()
    local pure = T.load_pure("scripts/orch/errors.lua")
    eq(tostring(pure.new("c", "m")), "m")
  end)
end)
