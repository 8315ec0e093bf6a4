-- heap: a binary min-heap in a plain array, ordered by less(a, b). Used by
-- lib/graph (ready tasks by file order) and lib/inbox_queue (task files by
-- priority, age, name). Pure.
--
-- M.push(h, x, less)        add x: O(log n)
-- M.pop(h, less) -> x|nil   take the least: O(log n)
local M = {}

function M.push(h, x, less)
  local i = #h + 1
  h[i] = x
  while i > 1 do
    local p = math.floor(i / 2)
    if not less(h[i], h[p]) then break end
    h[p], h[i] = h[i], h[p]
    i = p
  end
end

function M.pop(h, less)
  local n = #h
  if n == 0 then return nil end
  local top, last = h[1], h[n]
  h[n] = nil
  n = n - 1
  if n == 0 then return top end
  h[1] = last
  local i = 1
  while true do
    local l, r, m = 2 * i, 2 * i + 1, i
    if l <= n and less(h[l], h[m]) then m = l end
    if r <= n and less(h[r], h[m]) then m = r end
    if m == i then break end
    h[m], h[i] = h[i], h[m]
    i = m
  end
  return top
end

return M
