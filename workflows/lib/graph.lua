-- graph: the day's tasks as a dependency graph, for a runner that starts
-- every ready task up to its concurrency. Each task is {id=, depends_on= {ids},
-- status=} (status as lib/session names them; nil is pending). A task is
-- ready once every task it depends on is completed; among ready tasks the
-- one earlier in the file comes first. A task that ends failed, skipped,
-- cancelled or blocked blocks every task that depends on it, directly or
-- through others, with the reason naming the first cause ("task-1 failed").
--
-- g = graph.new(tasks)    -> g | nil, err {code="bad_graph", message=, task=}
--                            (unknown id, a task depending on itself, a cycle
--                            spelled out "a -> b -> a")
-- g:peek()                -> the next ready task (left ready) | nil
-- g:take()                -> the next ready task (now started) | nil
-- g:has_ready()           -> bool
-- g:put_back(t)           -> a started task is ready again (it paused)
-- g:finish(t, status)     -> {tasks now blocked}: t ended with status (none
--                            unless it is failed, skipped, cancelled, blocked)
-- g:blocked_reason(t)     -> "task-1 failed" for a task that is blocked
-- g:done()                -> true when no task is ready, started or waiting
-- g:remaining()           -> the tasks not started and not settled, in file order
-- Tasks already finished when new is called (a resumed session) count as
-- they are (a blocked one's reason read from its error, "blocked: <reason>");
-- g.blocked lists the open tasks their failures block now.
-- O(tasks + edges) overall, plus a heap of the ready ones (log n each).
-- Pure: no io/os/debug, no globals.
local errors = require("orch.errors")

local M = {}

M.GOOD = { completed = true }
M.BAD = { failed = true, needs_review = true, skipped = true, cancelled = true, blocked = true }

local function bad(message, task)
  return nil, errors.new("bad_graph", message, { task = task })
end

-- the ready heap: tasks by position (file order)
local heap = require("lib.heap")
local function by_pos(a, b) return a.pos < b.pos end
local function push(h, n) heap.push(h, n, by_pos) end
local function pop(h) return heap.pop(h, by_pos) end

-- a cycle through the graph, spelled out, or nil (iterative depth-first walk)
local function find_cycle(nodes)
  local state = {}  -- node -> 1 on the path, 2 done
  for _, root in ipairs(nodes) do
    if not state[root] then
      local stack = { { node = root, i = 0 } }
      state[root] = 1
      while #stack > 0 do
        local top = stack[#stack]
        top.i = top.i + 1
        local dep = top.node.deps[top.i]
        if not dep then
          state[top.node] = 2
          stack[#stack] = nil
        elseif state[dep] == 1 then
          local path, from = {}, nil
          for k = 1, #stack do if stack[k].node == dep then from = k break end end
          for k = from, #stack do path[#path + 1] = stack[k].node.id end
          path[#path + 1] = dep.id
          return path
        elseif not state[dep] then
          state[dep] = 1
          stack[#stack + 1] = { node = dep, i = 0 }
        end
      end
    end
  end
end

local G = {}
G.__index = G

function M.new(tasks)
  local nodes, by_id = {}, {}
  for i, t in ipairs(tasks) do
    local id = tostring(t.id)
    if by_id[id] then return bad("task " .. id .. " appears twice", id) end
    local n = { id = id, task = t, pos = i, deps = {}, dependents = {}, waiting = 0 }
    nodes[i], by_id[id] = n, n
  end
  for _, n in ipairs(nodes) do
    local seen = {}
    for _, d in ipairs(n.task.depends_on or {}) do
      d = tostring(d)
      if d == n.id then return bad("task " .. n.id .. " depends on itself", n.id) end
      local dn = by_id[d]
      if not dn then return bad("task " .. n.id .. " depends on unknown task " .. d, n.id) end
      if not seen[d] then
        seen[d] = true
        n.deps[#n.deps + 1] = dn
        dn.dependents[#dn.dependents + 1] = n
      end
    end
  end
  local cycle = find_cycle(nodes)
  if cycle then return bad("dependency cycle: " .. table.concat(cycle, " -> "), cycle[1]) end
  local g = setmetatable({ nodes = nodes, by_id = by_id, heap = {}, open = 0, reasons = {}, blocked = {} }, G)
  local bad_roots = {}
  for _, n in ipairs(nodes) do
    local st = n.task.status or "pending"
    if M.GOOD[st] or M.BAD[st] then
      n.state = "settled"
      if M.BAD[st] then bad_roots[#bad_roots + 1] = n end
    else
      g.open = g.open + 1
      for _, d in ipairs(n.deps) do
        if not M.GOOD[d.task.status or "pending"] then n.waiting = n.waiting + 1 end
      end
      n.state = "waiting"
    end
  end
  for _, n in ipairs(bad_roots) do
    local stored = type(n.task.error) == "string" and n.task.error:match("^blocked: (.+)")
    local why = n.task.status == "blocked" and stored or (n.id .. " " .. n.task.status)
    g.reasons[n] = why
    for _, b in ipairs(g:block_from(n, why)) do g.blocked[#g.blocked + 1] = b end
  end
  for _, n in ipairs(nodes) do
    if n.state == "waiting" and n.waiting == 0 then n.state = "ready" push(g.heap, n) end
  end
  return g
end

-- every open task reachable from n becomes blocked with `why`: -> their tasks
function G:block_from(n, why)
  local out, stack = {}, { n }
  while #stack > 0 do
    local x = table.remove(stack)
    for _, d in ipairs(x.dependents) do
      if d.state == "waiting" or d.state == "ready" then
        -- a ready one stays in the heap: has_ready drops it
        d.state = "settled"
        self.open = self.open - 1
        self.reasons[d] = why
        out[#out + 1] = d.task
        stack[#stack + 1] = d
      end
    end
  end
  return out
end

function G:has_ready()
  while self.heap[1] and self.heap[1].state ~= "ready" do pop(self.heap) end
  return self.heap[1] ~= nil
end

function G:peek()
  return self:has_ready() and self.heap[1].task or nil
end

function G:take()
  if not self:has_ready() then return nil end
  local n = pop(self.heap)
  n.state = "started"
  return n.task
end

local function node(g, t)
  return g.by_id[tostring(type(t) == "table" and t.id or t)] or error("graph: no task " .. tostring(t), 3)
end

function G:put_back(t)
  local n = node(self, t)
  if n.state ~= "started" then return end
  n.state = "ready"
  push(self.heap, n)
end

-- finish(t, status) -> the tasks it blocks now (empty unless status is bad)
function G:finish(t, status)
  local n = node(self, t)
  if n.state == "settled" then return {} end
  n.state = "settled"
  self.open = self.open - 1
  if M.GOOD[status] then
    for _, d in ipairs(n.dependents) do
      if d.state == "waiting" then
        d.waiting = d.waiting - 1
        if d.waiting == 0 then d.state = "ready" push(self.heap, d) end
      end
    end
    return {}
  end
  return self:block_from(n, self.reasons[n] or (n.id .. " " .. tostring(status)))
end

function G:blocked_reason(t) return self.reasons[node(self, t)] end

function G:done() return self.open == 0 end

function G:remaining()
  local out = {}
  for _, n in ipairs(self.nodes) do
    if n.state == "waiting" or n.state == "ready" then out[#out + 1] = n.task end
  end
  return out
end

return M
