-- Specs for workflows/lib/graph.lua: the ready set, blocking and the end of a
-- dependency graph.
local T = require("orch.testing")
local graph = require("lib.graph")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local function tasks(spec) -- { {"1"}, {"2", "1"} } -> tasks with id and depends_on
  local out = {}
  for i, row in ipairs(spec) do
    out[i] = { id = row[1], depends_on = { unpack(row, 2) } }
  end
  return out
end

local function ids(list)
  local out = {}
  for i, t in ipairs(list) do out[i] = t.id end
  return out
end

local function take_all(g)
  local out = {}
  while true do
    local t = g:take()
    if not t then return out end
    out[#out + 1] = tostring(t.id)
  end
end

describe("graph.new", function()
  it("refuses an unknown dependency, a self-dependency, a duplicate id and a cycle, naming them", function()
    local g, err = graph.new(tasks({ { "1", "9" } }))
    eq(g, nil)
    local _
    eq({ err.code, err.message, err.task }, { "bad_graph", "task 1 depends on unknown task 9", "1" })
    _, err = graph.new(tasks({ { "1", "1" } }))
    eq(err.message, "task 1 depends on itself")
    _, err = graph.new(tasks({ { "1" }, { "1" } }))
    eq(err.message, "task 1 appears twice")
    _, err = graph.new(tasks({ { "task-1" }, { "task-2", "task-5" }, { "task-5", "task-2" } }))
    eq(err.message, "dependency cycle: task-2 -> task-5 -> task-2")
  end)

  it("takes numbers as ids (the markdown day's task numbers)", function()
    local g = assert(graph.new({ { id = 1 }, { id = 2, depends_on = { 1 } } }))
    eq(take_all(g), { "1" })
  end)
end)

describe("graph: the ready set", function()
  it("offers the tasks with no dependencies first, in file order", function()
    local g = assert(graph.new(tasks({ { "task-1" }, { "task-2", "task-1" }, { "task-3" } })))
    eq(take_all(g), { "task-1", "task-3" })
    eq(g:done(), false)
    eq(g:finish("task-3", "completed"), {})
    eq(g:has_ready(), false)
    g:finish("task-1", "completed")
    eq(take_all(g), { "task-2" })
    g:finish("task-2", "completed")
    eq(g:done(), true)
  end)

  it("a task waits for every one it depends on", function()
    local g = assert(graph.new(tasks({ { "a" }, { "b" }, { "c", "a", "b" } })))
    eq(take_all(g), { "a", "b" })
    g:finish("b", "completed")
    eq(g:take(), nil)
    g:finish("a", "completed")
    eq(take_all(g), { "c" })
  end)

  it("keeps file order among tasks that become ready later", function()
    local g = assert(graph.new(tasks({ { "r" }, { "x", "r" }, { "y" }, { "z", "r" } })))
    eq(g:take().id, "r")
    g:finish("r", "completed")
    eq(take_all(g), { "x", "y", "z" })
  end)

  it("put_back makes a started task ready again, in its place", function()
    local g = assert(graph.new(tasks({ { "1" }, { "2" } })))
    eq(g:take().id, "1")
    g:put_back("1")
    eq(take_all(g), { "1", "2" })
  end)
end)

describe("graph: blocking", function()
  it("a failed task blocks its dependents, transitively, with the first cause; others go on", function()
    local g = assert(graph.new(tasks({ { "task-1" }, { "task-2", "task-1" }, { "task-3" }, { "task-4", "task-2" } })))
    eq(take_all(g), { "task-1", "task-3" })
    local blocked = g:finish("task-1", "failed")
    eq(ids(blocked), { "task-2", "task-4" })
    eq(g:blocked_reason("task-4"), "task-1 failed")
    eq(g:blocked_reason("task-2"), "task-1 failed")
    eq(g:done(), false)  -- task-3 still runs
    g:finish("task-3", "completed")
    eq(g:done(), true)
  end)

  it("skipped and cancelled block as failed does", function()
    for _, st in ipairs({ "skipped", "cancelled" }) do
      local g = assert(graph.new(tasks({ { "1" }, { "2", "1" } })))
      g:take()
      eq(ids(g:finish("1", st)), { "2" }, st)
      eq(g:blocked_reason("2"), "1 " .. st)
    end
  end)

  it("a ready task that something blocks is not offered (a task of two parents)", function()
    local g = assert(graph.new(tasks({ { "a" }, { "b" }, { "c", "b" }, { "d", "a" } })))
    eq(g:take().id, "a")
    g:finish("a", "completed")  -- d ready
    eq(g:take().id, "b")
    eq(g:finish("b", "failed")[1].id, "c")
    eq(take_all(g), { "d" })
  end)

  it("remaining lists the tasks not started, in file order (a budget skips them)", function()
    local g = assert(graph.new(tasks({ { "1" }, { "2", "1" }, { "3" } })))
    eq(g:take().id, "1")
    eq(ids(g:remaining()), { "2", "3" })
  end)
end)

describe("graph: a resumed session", function()
  it("counts finished tasks as they are; a stored failure blocks, a stored block keeps its reason", function()
    local list = tasks({ { "1" }, { "2", "1" }, { "3" }, { "4", "3" }, { "5", "4" }, { "6", "2" } })
    list[1].status, list[2].status, list[3].status = "completed", "running", "failed"
    list[4].status, list[4].error = "blocked", "blocked: 3 failed"
    local g = assert(graph.new(list))
    eq(ids(g.blocked), { "5" })
    eq(g:blocked_reason("5"), "3 failed")
    eq(take_all(g), { "2" })  -- the one that was running starts again
    g:finish("2", "completed")
    eq(take_all(g), { "6" })
    g:finish("6", "completed")
    eq(g:done(), true)
  end)

  it("is linear in the edges: a long chain and a wide fan", function()
    local list = {}
    for i = 1, 20000 do list[i] = { id = "t" .. i, depends_on = i > 1 and { "t" .. (i - 1) } or {} } end
    local g = assert(graph.new(list))
    local n = 0
    while true do
      local t = g:take()
      if not t then break end
      n = n + 1
      g:finish(t, "completed")
    end
    eq(n, 20000)
    ok(g:done())
    local fan = { { id = "root" } }
    for i = 2, 20000 do fan[i] = { id = "f" .. i, depends_on = { "root" } } end
    g = assert(graph.new(fan))
    g:take()
    eq(#g:finish("root", "failed"), 19999)
  end)
end)
