-- Specs for workflows/lib/agent_outcome.lua (the result shapes are the real
-- CLI's, as orch.run_claude returns them), the retry rule of lib/policy
-- (next_try) and the usage-limit gate of lib/limits.
local T = require("orch.testing")
local outcome = require("lib.agent_outcome")
local policy = require("lib.policy")
local limits = require("lib.limits")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

-- an API error result as the CLI reports it: exit 1, is_error, the status, the text
local function api_error(status, text, extra)
  local r = { ok = false, exit_code = 1, is_error = true, subtype = "success", api_error_status = status,
              result = text, error = text, have_result = true }
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

local function kind(r, seen) return outcome.classify(r, seen).kind end

describe("agent_outcome.classify", function()
  it("ok and cancelled runs are the caller's", function()
    eq(kind({ ok = true, result = "QUESTION: which one?" }), "ok")
    eq(outcome.classify({ ok = false, cancelled = true, cancel_reason = "skip" }),
      { kind = "cancelled", reason = "skip" })
  end)
  it("a rejected rate_limit_event is the usage limit, with its reset time", function()
    local r = api_error(429, "You've hit your session limit · resets 5:49pm (UTC)")
    local o = outcome.classify(r, { rate_limit = { status = "rejected", resetsAt = 1796147340,
      rateLimitType = "five_hour" } })
    eq(o, { kind = "usage_limit", resets_at = 1796147340, reason = "usage limit (five_hour)" })
    r.rate_limit = { status = "rejected", resetsAt = 1796147340000 }  -- kept on the result; milliseconds
    eq(outcome.classify(r).resets_at, 1796147340)
  end)
  it("the result texts of the usage limit park without an event", function()
    local o = outcome.classify(api_error(429, "Claude AI usage limit reached|1796147340"))
    eq({ o.kind, o.resets_at }, { "usage_limit", 1796147340 })
    eq(kind(api_error(429, "You've hit your session limit · resets 5:49pm (UTC)")), "usage_limit")
    eq(outcome.classify(api_error(429, "You've hit your weekly limit")).resets_at, nil)
  end)
  it("401, 403, a bad key, no login, no credit are permanent", function()
    eq(outcome.classify(api_error(401, "Failed to authenticate. API Error: 401 fake 401 (authentication_error)")),
      { kind = "permanent", reason = "HTTP 401: authentication failed" })
    eq(kind(api_error(403, "Failed to authenticate. API Error: 403 fake 403 (permission_error)")), "permanent")
    eq(kind(api_error(nil, "Not logged in · Please run /login")), "permanent")
    eq(kind(api_error(nil, "Invalid API key · Fix external API key")), "permanent")
    eq(kind(api_error(400, "API Error: 400 Your credit balance is too low to access the Anthropic API.")),
      "permanent")
    -- a CLI that cannot start: a path to fix (a fork that failed for want of memory may pass)
    eq(kind({ ok = false, spawn_failed = true, error = "cannot start claude: /x/claude: not found" }), "permanent")
    eq(kind({ ok = false, spawn_failed = true, error = "cannot start claude: /x/claude: Permission denied" }),
      "permanent")
    eq(kind({ ok = false, spawn_failed = true, error = "cannot start claude: fork: Resource temporarily unavailable" }),
      "transient")
  end)
  it("5xx, 529, 429 without the usage limit, connection errors and stalls are transient", function()
    eq(outcome.classify(api_error(500, "API Error: 500 mock internal error. This is a server-side issue")),
      { kind = "transient", reason = "the API failed (500)" })
    eq(outcome.classify(api_error(529, "API Error: 529 fake 529 (overloaded_error).")).reason,
      "the API is overloaded (529)")
    eq(kind(api_error(429, "API Error: Request rejected (429) · mock rate limited")), "transient")
    eq(outcome.classify(api_error(nil, "API Error: Unable to connect to API (ConnectionRefused)")),
      { kind = "transient", reason = "cannot connect to the API" })
    eq(outcome.classify({ ok = false, stalled = true, error = "stalled: no output for 600 s",
      last_event = { type = "assistant", tool = "Bash" } }),
      { kind = "transient", reason = "stalled: no output for 600 s" })
  end)
  it("anything else failed: the agent's own failure, a timeout, no result", function()
    eq(kind({ ok = false, is_error = true, subtype = "error_max_turns",
      errors = { "Reached maximum number of turns (1)" }, error = "Reached maximum number of turns (1)" }), "failed")
    eq(kind({ ok = false, timed_out = true, error = "timed out after 1800 s" }), "failed")
    eq(outcome.classify({ ok = false, exit_code = 3, error = "claude exited with code 3" }),
      { kind = "failed", reason = "claude exited with code 3" })
    eq(kind({ ok = false, error = "permission denied: Bash", permission_denials = { {} } }), "failed")
  end)
end)

describe("policy.next_try", function()
  local cfg = { retry_failed = 1, retry_transient = 3, retry_backoff = 10, retry_backoff_max = 25 }
  it("backs off exponentially up to the cap, retry_transient times", function()
    local waits = {}
    for tries = 0, 3 do waits[#waits + 1] = policy.next_try({ kind = "transient" }, tries, cfg) or "no" end
    eq(waits, { 10, 20, 25, "no" })
  end)
  it("runs a failure again at once under retry_failed; never a permanent error or a limit", function()
    eq(policy.next_try({ kind = "failed" }, 0, cfg), 0)
    eq(policy.next_try({ kind = "failed" }, 1, cfg), nil)
    for _, k in ipairs({ "permanent", "usage_limit", "cancelled", "ok" }) do
      eq(policy.next_try({ kind = k }, 0, cfg), nil, k)
    end
  end)
  it("validates its keys", function()
    ok(policy.validate(cfg))
    local _, err = policy.validate({ retry_transient = 1.5 })
    ok(err and err.field == "retry_transient", tostring(err))
    _, err = policy.validate({ retry_backoff = 10, retry_backoff_max = 5 })
    ok(err and err.field == "retry_backoff_max", tostring(err))
    _, err = policy.validate({ retry_backoff = -1 })
    ok(err and err.field == "retry_backoff", tostring(err))
  end)
end)

describe("limits", function()
  it("closes the gate until the reset plus jitter; the same limit again is not fresh", function()
    orch.save_state(limits.KEY, nil)
    local now = orch.now()
    eq(limits.closed(now), nil)
    local untl, fresh = limits.park(now + 100, "usage limit", { limit_jitter = 5 }, now)
    ok(fresh and untl >= now + 100 and untl <= now + 105, tostring(untl))
    eq((limits.closed(now)), untl)
    local again, fresh2 = limits.park(now + 100, "usage limit", { limit_jitter = 5 }, now)
    eq({ again, fresh2 }, { untl, false })
    local later, fresh3 = limits.park(now + 200, "weekly", { limit_jitter = 0 }, now)
    eq({ later, fresh3 }, { now + 200, true })
    eq(limits.closed(now + 201), nil, "open after it")
  end)
  it("without a reset time it parks for limit_wait", function()
    orch.save_state(limits.KEY, nil)
    local now = orch.now()
    eq((limits.park(nil, "x", { limit_wait = 50, limit_jitter = 0 }, now)), now + 50)
  end)
  it("a reset past the longest limit (a week's) is misread: it waits MAX_WAIT at most", function()
    orch.save_state(limits.KEY, nil)
    local now = orch.now()
    eq((limits.park(now + 1e10, "usage limit", { limit_jitter = 0 }, now)), now + limits.MAX_WAIT)
    orch.save_state(limits.KEY, nil)
  end)
  it("wait sleeps until the gate opens, and stops when the sleep is cancelled", function()
    orch.save_state(limits.KEY, nil)
    local clock = 1000
    limits.park(1030, "x", { limit_jitter = 0 }, clock)
    local slept = {}
    local done, waited = limits.wait(function(s) slept[#slept + 1] = s; clock = clock + s; return true end,
      function() return clock end)
    eq({ done, waited, slept }, { true, true, { 30 } })
    eq({ limits.wait(function() error("no sleep when open") end, function() return clock end) }, { true, false })
    clock = 1000
    local r, err = limits.wait(function() return nil, { reason = "pause" } end, function() return clock end)
    eq({ r, err and err.reason }, { nil, "pause" })
    orch.save_state(limits.KEY, nil)
  end)
end)
