-- Wake-ups of one task by another (orch.cancel, orch.resolve_approval, a
-- finished task's waiters) are queued on the loop: the woken task runs after
-- the caller goes on, never inside the call. And every waiting primitive
-- reports its cancellation in one shape: nil, {code="cancelled", reason=}.
local T = require("orch.testing")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok
local FAKE = os.getenv("FAKE_CLAUDE")
local scratch = (os.getenv("ORCH_LOGS_DIR") or "logs") .. "/wakeup_spec-" .. orch.pid
orch.make_dir(scratch)

describe("a task woken by another runs after the caller goes on", function()
  it("orch.cancel", function()
    local log = {}
    local id = orch.spawn(function()
      orch.sleep(30)
      log[#log + 1] = "cancelled task ran"
    end)
    orch.sleep(0.01)
    log[#log + 1] = "before cancel"
    eq(orch.cancel(id, "probe"), true)
    eq(orch.cancel(id, "again"), false, "a second cancel finds nothing waiting")
    log[#log + 1] = "after cancel"
    orch.wait(id)
    eq(table.concat(log, " | "), "before cancel | after cancel | cancelled task ran")
  end)
  it("orch.resolve_approval", function()
    local log = {}
    local id = orch.spawn(function()
      local d = orch.await_approval({ session = "wakeup-1", task = "1", prompt = "go?", terminal = false })
      log[#log + 1] = "approved task ran"
      return d.action
    end)
    orch.sleep(0.05)
    log[#log + 1] = "before resolve"
    eq(orch.resolve_approval("wakeup-1", "approve", "", "spec"), true)
    log[#log + 1] = "after resolve"
    local _, action = orch.wait(id)
    eq(action, "approve")
    eq(table.concat(log, " | "), "before resolve | after resolve | approved task ran")
  end)
  it("the waiters of a task that finishes", function()
    local log, shared = {}, {}
    -- started in this order on the next loop turn: the joiner waits for a,
    -- the canceller ends a before it starts, which finishes a
    local joiner = orch.spawn(function()
      local done, err = orch.wait(shared.a)
      log[#log + 1] = "joiner ran"
      return { done = done, code = err and err.code }
    end)
    local canceller = orch.spawn(function()
      log[#log + 1] = "before cancel"
      orch.cancel(shared.a, "probe")
      log[#log + 1] = "after cancel"
    end)
    shared.a = orch.spawn(function() end)
    local _, res = orch.wait(joiner)
    orch.wait(canceller)
    eq(res, { done = false, code = "task_failed" })
    eq(table.concat(log, " | "), "before cancel | after cancel | joiner ran")
  end)
  it("a wait's timeout after its task finished wakes nothing", function()
    local id = orch.spawn(function()
      local a = orch.spawn(function() orch.sleep(0.01) return "A" end)
      local done, r = orch.wait(a, 0.2)
      local slept, err = orch.sleep(0.5)  -- the stale timeout must not end this sleep
      return { done = done, r = r, slept = slept, err = err and err.code }
    end)
    local _, res = orch.wait(id)
    eq(res, { done = true, r = "A", slept = true })
  end)
end)
  it("a waiter gets the result even when many tasks finish before it wakes", function()
    -- the host keeps the last 256 finished tasks; a, then 300 short tasks
    -- queued before the waiter's wakeup, all finish first (a burst of file
    -- events does this to an agent's set-up)
    local a
    a = orch.spawn(function()
      for _ = 1, 300 do orch.spawn(function() end) end
      return { value = "A" }
    end)
    local done, r = orch.wait(a)
    eq({ done, r }, { true, { value = "A" } })
    local failing = orch.spawn(function()
      for _ = 1, 300 do orch.spawn(function() end) end
      error("boom", 0)
    end)
    local fdone, ferr = orch.wait(failing)
    eq({ fdone, ferr and ferr.code, ferr and ferr.message }, { false, "task_failed", "boom" })
  end)

-- A listener that accepts connections and never answers, for orch.http.
local function silent_server()
  local port_file = scratch .. "/port"
  local task = orch.spawn(function()
    return orch.exec({ cmd = { "python3", "-c", [[
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(120)
]], port_file }, timeout = 120 })
  end)
  local deadline = orch.monotonic() + 30
  while not orch.file_info(port_file) and orch.monotonic() < deadline do orch.sleep(0.02) end
  return task, orch.read_file(port_file)
end

describe("every waiting primitive returns nil, {code=\"cancelled\"} when cancelled", function()
  local server, port, inner
  local waits = {
    sleep = function() return orch.sleep(30) end,
    wait = function() return orch.wait(inner) end,
    exec = function() return orch.exec({ cmd = { "sleep", "30" } }) end,
    run_claude = function()
      return orch.run_claude({ binary = FAKE, prompt = "[fake:hang]", cwd = scratch, kill_grace = 0.2 })
    end,
    await_approval = function()
      return orch.await_approval({ session = "wakeup-2", task = "1", prompt = "go?", terminal = false })
    end,
    http = function() return orch.http({ url = "http://127.0.0.1:" .. tostring(port) .. "/", timeout = 60 }) end,
  }
  for _, name in ipairs({ "sleep", "wait", "exec", "run_claude", "await_approval", "http" }) do
    it(name, function()
      if name == "wait" then inner = orch.spawn(function() orch.sleep(30) end) end
      if name == "http" then server, port = silent_server() end
      local id = orch.spawn(function()
        local r, err = waits[name]()
        return { r = r, code = err and err.code, reason = err and err.reason, message = err and err.message,
                 result = err and err.result ~= nil }
      end)
      orch.sleep(0.3)
      eq(orch.cancel(id, "spec"), true)
      local _, res = orch.wait(id, 30)
      eq({ res.r, res.code, res.reason, res.message }, { nil, "cancelled", "spec", "cancelled: spec" }, name)
      if name == "exec" or name == "run_claude" then ok(res.result, name .. ": err.result") end
      if inner then orch.cancel(inner, "spec over") end
      if server then orch.cancel(server, "spec over") end
    end)
  end
end)
