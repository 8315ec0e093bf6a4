-- Specs for workflows/lib/policy.lua: the approval semantics written at its top.
local T = require("orch.testing")
local policy = require("lib.policy")
local tasks_md = require("lib.tasks_md")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

-- The orchestrator section of the default config (scripts/orch/config.lua).
local function default_cfg(mode)
  return { approval_mode = mode, checkpoint_after = { "database", "deployment" },
    auto_approve = { "documentation", "testing" } }
end

local function task(type_, ra) return { id = 1, title = "t", type = type_, requires_approval = ra } end

local function ask(t, cfg, opts) return (policy.needs_approval(t, cfg, opts)) end

describe("policy.needs_approval", function()
  -- mode, type, Requires Approval, expected: the decision table of the module header.
  local MATRIX = {
    { "required", "backend", false, true }, { "required", "backend", true, true },
    { "required", "documentation", false, false }, { "required", "documentation", true, true },
    { "required", "Testing", false, false }, { "required", nil, false, true },
    { "manual", "documentation", false, true }, { "manual", "backend", false, true },
    { "manual", "backend", true, true },
    { "auto", "backend", false, false }, { "auto", "database", false, false },
    { "auto", "documentation", true, true }, { "auto", "backend", true, true },
  }
  for _, row in ipairs(MATRIX) do
    local mode, ty, ra, want = row[1], row[2], row[3], row[4]
    it(string.format("%s mode, type %s, Requires Approval %s -> %s", mode, tostring(ty), tostring(ra),
      want and "ask" or "run"), function()
      eq(ask(task(ty, ra), default_cfg(mode)), want)
    end)
  end

  it("--auto-approve never asks, in any mode, whatever the task says", function()
    for _, mode in ipairs({ "required", "manual", "auto" }) do
      local yes, why = policy.needs_approval(task("database", true), default_cfg(mode), { auto_approve = true })
      eq({ yes, why }, { false, "--auto-approve: no prompts" }, mode)
    end
  end)

  it("defaults to required mode when approval_mode is absent", function()
    eq(ask(task("backend", false), { auto_approve = { "testing" } }), true)
    eq(ask(task("testing", false), { auto_approve = { "testing" } }), false)
    eq(ask(task("backend", false), nil), true)
  end)

  it("treats '*' in auto_approve as every type", function()
    eq(ask(task("anything", false), { approval_mode = "required", auto_approve = { "*" } }), false)
    eq(ask(task(nil, false), { auto_approve = { "*" } }), false)
    eq(ask(task("anything", true), { auto_approve = { "*" } }), true)
  end)

  it("says why", function()
    local _, why = policy.needs_approval(task("backend", false), default_cfg("required"))
    eq(why, "required mode: type 'backend' is not in auto_approve")
    _, why = policy.needs_approval(task("documentation", false), default_cfg("required"))
    eq(why, "required mode: type 'documentation' is in auto_approve")
    _, why = policy.needs_approval(task("documentation", true), default_cfg("auto"))
    eq(why, "the task says Requires Approval: true")
    _, why = policy.needs_approval(task("x", false), default_cfg("manual"))
    eq(why, "manual mode: every task is approved by hand")
  end)

  it("asks when the config is invalid, naming the bad field", function()
    local yes, why = policy.needs_approval(task("testing", false), { approval_mode = "yolo" })
    eq(yes, true)
    ok(why:find("approval_mode", 1, true), why)
  end)
end)

describe("policy.checkpoint_after", function()
  it("pauses after a listed type in every mode, case-insensitively", function()
    for _, mode in ipairs({ "required", "manual", "auto" }) do
      eq(policy.checkpoint_after(task("database"), default_cfg(mode)), true, mode)
      eq(policy.checkpoint_after(task("Deployment"), default_cfg(mode)), true, mode)
      eq(policy.checkpoint_after(task("backend"), default_cfg(mode)), false, mode)
    end
  end)

  it("never pauses with --auto-approve", function()
    eq(policy.checkpoint_after(task("database"), default_cfg("manual"), { auto_approve = true }), false)
  end)

  it("'*' pauses after every task; a task with no type matches only '*'", function()
    eq(policy.checkpoint_after(task(nil), default_cfg("required")), false)
    eq(policy.checkpoint_after(task(nil), { checkpoint_after = { "*" } }), true)
    eq(policy.checkpoint_after(task("x"), { checkpoint_after = { "*" } }), true)
  end)

  it("says why, and pauses on an invalid config", function()
    local yes, why = policy.checkpoint_after(task("database"), default_cfg("auto"))
    eq({ yes, why }, { true, "type 'database' is in checkpoint_after" })
    yes, why = policy.checkpoint_after(task("x"), { checkpoint_after = "database" })
    eq(yes, true)
    ok(why:find("checkpoint_after", 1, true), why)
  end)
end)

describe("policy on the example day", function()
  local doc = assert(tasks_md.parse(T.read_fixture("example-day.md"), "example-day.md"))
  local function plan(mode, opts)
    local out = {}
    for i, t in ipairs(doc.tasks) do
      out[i] = { ask = ask(t, default_cfg(mode), opts), pause = (policy.checkpoint_after(t, default_cfg(mode), opts)) }
    end
    return out
  end

  it("required: every task asks (frontend is not auto-approved); pause after the migration", function()
    eq(plan("required"), { { ask = true, pause = true }, { ask = true, pause = false }, { ask = true, pause = false } })
  end)

  it("auto: only the tasks marked Requires Approval ask", function()
    eq(plan("auto"), { { ask = true, pause = true }, { ask = true, pause = false }, { ask = false, pause = false } })
  end)

  it("--auto-approve: no prompts at all", function()
    eq(plan("manual", { auto_approve = true }),
      { { ask = false, pause = false }, { ask = false, pause = false }, { ask = false, pause = false } })
  end)
end)

describe("policy.validate", function()
  it("accepts nil, the default config and each mode", function()
    eq(policy.validate(nil), true)
    for _, mode in ipairs({ "required", "auto", "manual" }) do eq(policy.validate(default_cfg(mode)), true) end
    eq(policy.validate({ extra_setting = 1 }), true)
  end)

  local BAD = {
    { "an unknown mode", { approval_mode = "Required" }, "approval_mode", "must be one of required, auto, manual" },
    { "a string for a list", { auto_approve = "documentation" }, "auto_approve", "must be a list of task types" },
    { "a map for a list", { checkpoint_after = { database = true } }, "checkpoint_after", "not a map" },
    { "a non-string entry", { auto_approve = { "docs", 42 } }, "auto_approve[2]", "non-empty task type string" },
    { "a blank entry", { checkpoint_after = { " " } }, "checkpoint_after[1]", "non-empty task type string" },
    { "a non-table config", "required", "(config)", "must be a table" },
  }
  for _, case in ipairs(BAD) do
    it("rejects " .. case[1] .. ", naming the field", function()
      local res, err = policy.validate(case[2])
      eq(res, nil)
      eq({ err.code, err.field }, { "bad_config", case[3] })
      ok(err.message:find("approval config: " .. case[3] .. ": ", 1, true), err.message)
      ok(err.message:find(case[4], 1, true), err.message)
      eq(tostring(err), err.message)
    end)
  end
end)

describe("policy module", function()
  it("loads as a pure module (no io/os/debug, no globals)", function()
    local pure = T.load_pure("workflows/lib/policy.lua")
    eq(pure.needs_approval(task("backend", false), default_cfg("required")), true)
  end)
end)

describe("policy.budget", function()
  local B = { max_cost_usd = 2, warn_at = 0.75 }
  it("pauses at the budget, warns once from warn_at, and has no budget at 0", function()
    eq({ policy.budget(2.0, B) }, { "pause", 2 })
    eq({ policy.budget(2.5, B, true) }, { "pause", 2 })
    eq({ policy.budget(1.5, B) }, { "warn", 2 })
    eq({ policy.budget(1.9, B, true) }, { nil, 2 })
    eq({ policy.budget(1.49, B) }, { nil, 2 })
    eq({ policy.budget(100, { max_cost_usd = 0, warn_at = 0.75 }) }, { nil, 0 })
    eq({ policy.budget(100, nil) }, { nil, 0 })
  end)
  it("takes the day file's max_cost_usd over the config's, and the config's when the day gives none", function()
    eq({ policy.budget(1.0, B, false, 1.2) }, { "warn", 1.2 })
    eq({ policy.budget(1.2, B, true, 1.2) }, { "pause", 1.2 })
    eq({ policy.budget(1.0, B, false, 0) }, { nil, 2 })
    eq({ policy.budget(1.0, B, false, nil) }, { nil, 2 })
    eq({ policy.budget(9, { max_cost_usd = 0, warn_at = 0.75 }, false, 10) }, { "warn", 10 })
    eq({ policy.budget(9, { max_cost_usd = 0, warn_at = 0.95 }, false, 10) }, { nil, 10 })
  end)
end)

describe("policy.retry", function()
  local failed, cfg = { ok = false, error = "API Error: 500" }, { retry_failed = 2 }
  it("runs a failed task again up to retry_failed times", function()
    eq({ policy.retry(failed, 0, cfg), policy.retry(failed, 1, cfg), policy.retry(failed, 2, cfg) },
      { true, true, false })
    eq(policy.retry(failed, 0, {}), false, "default: no retries")
  end)
  it("never retries a success or a run stopped on purpose", function()
    eq(policy.retry({ ok = true }, 0, cfg), false)
    eq(policy.retry({ ok = false, cancelled = true, cancel_reason = "skip" }, 0, cfg), false)
  end)
  it("validate names a bad retry_failed", function()
    local _, e = policy.validate({ retry_failed = -1 })
    eq(e.field, "retry_failed")
    ok(not policy.validate({ retry_failed = 1.5 }))
    ok(policy.validate({ retry_failed = 3 }))
  end)
end)

describe("policy.max_concurrent", function()
  local cfg = { max_concurrent = 4 }
  it("the run's own, else the day file's, else 1 for markdown, else the config's", function()
    eq(policy.max_concurrent({ max_concurrent = 2 }, { format = "markdown" }, cfg, "d.md"), 2)
    eq(policy.max_concurrent({}, { max_concurrent = 5 }, cfg, "d.json"), 5)
    eq(policy.max_concurrent({}, {}, cfg, "tasks/2026-12-01-tasks.md"), 1)
    eq(policy.max_concurrent({}, { format = "markdown" }, cfg, "x.json"), 1)
    eq(policy.max_concurrent({}, {}, cfg, "tasks/2026-12-01.yaml"), 4)
    eq(policy.max_concurrent({}, {}, cfg, "tasks/tasks.json"), 4)
    eq(policy.max_concurrent({}, {}, {}, "tasks/tasks.json"), 3)
  end)
  it("a markdown day is one by its format, else by its extension", function()
    ok(policy.is_markdown({}, "a.md"))
    ok(policy.is_markdown({ format = "markdown" }, "a.yaml"))
    ok(not policy.is_markdown({ format = "yaml" }, "a.md"))
    ok(not policy.is_markdown({}, "A.YML"))
  end)
  it("validate refuses a max_concurrent that is not a whole number >= 1", function()
    for _, v in ipairs({ 0, 1.5, "3" }) do
      local _, e = policy.validate({ max_concurrent = v })
      eq(e and e.field, "max_concurrent", tostring(v))
    end
    ok(policy.validate({ max_concurrent = 8 }))
  end)
end)

describe("policy: approval_timeout", function()
  it("pauses by default, else does what on_approval_timeout says", function()
    eq((policy.on_approval_timeout({ approval_timeout = 60 })), "pause")
    eq((policy.on_approval_timeout({ approval_timeout = 60, on_approval_timeout = "skip" })), "skip")
    eq((policy.on_approval_timeout({ on_approval_timeout = "approve" })), "approve")
    local _, why = policy.on_approval_timeout({ approval_timeout = 60 })
    ok(why:find("approval_timeout (60 s)", 1, true), why)
  end)
  it("validate names a bad on_approval_timeout or approval_timeout", function()
    local _, e = policy.validate({ on_approval_timeout = "later" })
    eq(e.field, "on_approval_timeout")
    ok(e.message:find("pause, skip, approve", 1, true), e.message)
    _, e = policy.validate({ approval_timeout = -5 })
    eq(e.field, "approval_timeout")
    eq(policy.validate({ approval_timeout = 30, on_approval_timeout = "approve" }), true)
  end)
end)

describe("policy.estimate_cost", function()
  local prices = require("orch.config").defaults.budget.prices
  local function usd(model, usage) return policy.estimate_cost(usage, model, prices) end
  local function near(a, b) ok(math.abs(a - b) < 1e-12, tostring(a) .. " ~= " .. tostring(b)) end
  local M1 = { input_tokens = 1e6 }
  it("prices each of the four counts at its row's column", function()
    near(usd("claude-sonnet-4-5", { input_tokens = 1e6, output_tokens = 1e6, cache_creation_input_tokens = 1e6,
                                    cache_read_input_tokens = 1e6 }), 3 + 15 + 3.75 + 0.30)
    near(usd("claude-haiku-4-5-20251001", { output_tokens = 2e6 }), 10)
  end)
  it("tells the Claude 4.x opus families apart by the model's name", function()
    near(usd("claude-opus-4-1-20250805", M1), 15)
    near(usd("claude-opus-4-1", M1), 15)
    near(usd("claude-opus-4-0", M1), 15)
    near(usd("claude-opus-4-20250514", M1), 15)
    near(usd("claude-opus-4-5-20251101", M1), 5)
    near(usd("claude-opus-4-6", M1), 5)
  end)
  it("prices an unknown or missing model at the row without a match", function()
    near(usd("some-new-model", M1), 15)
    near(usd(nil, M1), 15)
  end)
  it("is 0 with no usage, no row that applies, or no table", function()
    eq(usd("claude-opus-4-6", nil), 0)
    eq(policy.estimate_cost(M1, "x", { { match = "sonnet", input = 3, output = 0, cache_write = 0, cache_read = 0 } }),
      0)
    eq(policy.estimate_cost(M1, "x", nil), 0)
  end)
end)
