-- agent_slots: the day's workers and the agent slots they share.
local T = require("orch.testing")
local slots = require("lib.agent_slots")
local describe, it, eq = T.describe, T.it, T.eq

local function task(id) return { id = id } end

describe("the agent slots", function()
  it("a worker starts holding a slot and keeps it; one queued gets a slot given back, first come first served",
    function()
      local changes = 0
      local pool = slots.new(1, function() changes = changes + 1 end)
      local a = pool:add(task("a"))
      eq({ pool.agents, pool.n, a.phase }, { 1, 1, "starting" })
      eq(pool:acquire(a), true)
      eq({ pool.agents, a.phase }, { 1, "agent" })
      local order = {}
      local function queued(id)
        local w = { task = task(id), phase = "none" }
        pool.workers[id], pool.n = w, pool.n + 1
        w.co = orch.spawn(function()
          eq(pool:acquire(w), true)
          order[#order + 1] = id
          pool:release(w, "none")
        end)
        return w
      end
      local b, c = queued("b"), queued("c")
      orch.sleep(0.01)
      eq({ b.phase, c.phase, pool.agents }, { "queued", "queued", 1 })
      pool:release(a, "waiting")
      orch.wait(b.co)
      orch.wait(c.co)
      eq(order, { "b", "c" })
      eq({ pool.agents, pool.waiting }, { 0, 1 })
      eq(pool:running_ids(), {})
      eq(changes > 0, true)
    end)

  it("on_queue hears when a worker starts and stops waiting for a slot (status says so)", function()
    local heard = {}
    local pool = slots.new(1, nil, function(w, queued) heard[#heard + 1] = w.task.id .. (queued and "+" or "-") end)
    local a = pool:add(task("a"))
    eq(pool:acquire(a), true)
    local b = { task = task("b"), phase = "none" }
    pool.workers.b, pool.n = b, pool.n + 1
    local got
    b.co = orch.spawn(function() got = pool:acquire(b) end)
    local c = { task = task("c"), phase = "none" }
    pool.workers.c, pool.n = c, pool.n + 1
    local cgot, cwhy
    c.co = orch.spawn(function() cgot, cwhy = pool:acquire(c) end)
    orch.sleep(0)
    eq(heard, { "b+", "c+" })
    pool:cancel(c, "skip")
    orch.wait(c.co)
    eq({ cgot, cwhy }, { nil, "skip" })
    pool:release(a, "none")
    orch.wait(b.co)
    eq(got, true)
    eq(heard, { "b+", "c+", "c-", "b-" })
  end)

  it("a cancel of a queued worker takes it out of the line; one not waiting finds it at its next wait", function()
    local pool = slots.new(1, nil)
    local a = pool:add(task("a"))
    local b = { task = task("b"), phase = "none" }
    local got
    b.co = orch.spawn(function() got = { pool:acquire(b) } end)
    orch.sleep(0.01)
    pool:cancel(b, "skip")
    orch.wait(b.co)
    eq(got, { nil, "skip" })
    eq({ b.phase, #pool.queue }, { "none", 0 })
    a.co = orch.spawn(function() end)
    orch.wait(a.co)
    pool:cancel(a, "pause")                 -- nothing to cancel: kept for its next wait
    eq({ pool:acquire(a) }, { nil, "pause" })
    eq(slots.pending_cancel(a), nil, "taken")
  end)

  it("a worker started to ask counts as a wait for a person until it asks or goes on", function()
    local pool = slots.new(2, nil)
    local a, b = pool:add(task("a"), true), pool:add(task("b"))
    eq({ pool.agents, pool.waiting, pool:waits() }, { 2, 0, 1 })
    pool:release(a, "waiting")              -- it asks: one wait, not two
    eq({ pool.agents, pool.waiting, pool:waits() }, { 1, 1, 1 })
    pool:set_phase(a, "none")
    local c = pool:add(task("c"), true)
    eq(pool:waits(), 1)
    eq(pool:acquire(c), true)               -- it did not ask (approved before, its context failed)
    eq({ pool.agents, pool:waits() }, { 2, 0 })
    pool:release(b, "none")
    pool:release(c, "none")
    eq({ pool.agents, pool.waiting, pool.asking }, { 0, 0, 0 })
  end)

  it("a parked wait holds no slot and counts for nothing", function()
    local pool = slots.new(1, nil)
    local a = pool:add(task("a"))
    eq(pool:acquire(a), true)
    a.co = orch.spawn(function() return pool:wait_unslotted(a, 0.01) end)
    orch.sleep(0.001)
    eq({ a.phase, pool.agents, pool.waiting }, { "parked", 0, 0 })
    orch.wait(a.co)
    eq(a.phase, "none")
    pool:remove(a)
    eq({ pool.n, pool.workers.a }, { 0, nil })
  end)
end)
