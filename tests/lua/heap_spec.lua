-- heap: the one binary heap (lib/graph's ready tasks, lib/inbox_queue's files).
local T = require("orch.testing")
local heap = require("lib.heap")
local describe, it, eq = T.describe, T.it, T.eq

local function lt(a, b) return a < b end

describe("the heap", function()
  it("pops nothing from an empty heap, and its one item from a heap of one", function()
    local h = {}
    eq(heap.pop(h, lt), nil)
    heap.push(h, 7, lt)
    eq({ heap.pop(h, lt), #h }, { 7, 0 })
    eq(heap.pop(h, lt), nil)
  end)

  it("gives 1000 seeded numbers back in order, pushes and pops interleaved", function()
    local h, all, got, seed = {}, {}, {}, 12345
    local function rand()
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % 500
    end
    for i = 1, 1000 do
      local v = rand()
      all[#all + 1] = v
      heap.push(h, v, lt)
      if i % 3 == 0 then got[#got + 1] = heap.pop(h, lt) end
    end
    while #h > 0 do got[#got + 1] = heap.pop(h, lt) end
    eq(#got, 1000)
    -- the popped ones before the end are each the least at their time; the tail is sorted
    local tail = {}
    for i = 334, 1000 do tail[#tail + 1] = got[i] end
    local sorted = {}
    for i, v in ipairs(tail) do sorted[i] = v end
    table.sort(sorted)
    eq(tail, sorted)
    table.sort(all)
    table.sort(got)
    eq(got, all)
  end)
end)
