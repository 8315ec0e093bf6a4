-- agent_slots: a day's workers (one orch.spawn task per task in hand) and the
-- max_concurrent agent slots they share (workflows/daily.lua's scheduler).
-- A worker starts with a slot ("starting") and keeps it ("agent") through its
-- worktree, agent and checks; a wait for a person gives it back ("waiting",
-- at most max of them at once, so a serial day asks one thing at a time:
-- a worker started to ask, still "starting", counts as one of them); a
-- task parked on its agent's question, a usage limit or a retry's backoff
-- holds none and counts for nothing ("parked"), as one whose agent and
-- checks are done while its end is written ("finishing": the inbox's
-- artifacts). A slot given back goes to the first worker queued for one
-- ("queued"). Policy: edit freely.
--
--   pool = M.new(max, on_change [, on_queue])  on_change(): a phase changed (the day
--                                       wakes); on_queue(w, true | false): w waits for a slot, or no more
--   w = pool:add(t [, asks])            a worker for task t, holding a slot; w.co = its task;
--                                       asks: it will wait for a person first
--   pool:waits() -> the workers waiting for a person, and those started to ask
--   pool:remove(w)
--   pool:acquire(w) -> true | nil, reason   (cancelled while queued)
--   pool:release(w, phase)              its slot to the next in line
--   pool:cancel(w, reason)              what w waits for; one not waiting finds it at its next wait
--   M.pending_cancel(w) -> reason | nil  that reason, taken
--   pool:wait_unslotted(w, seconds [, keep]) -> true | nil, err   parked meanwhile (keep: holding its slot)
--   pool:running_ids() -> the ids of the tasks whose worker holds a slot, sorted
--   pool.workers (task id -> w), pool.n, pool.agents, pool.waiting, pool.asking
local M = {}
local P = {}
P.__index = P

function M.new(max, on_change, on_queue)
  return setmetatable({ max = max, on_change = on_change or function() end, on_queue = on_queue or function() end,
                        workers = {}, n = 0, agents = 0, waiting = 0, asking = 0, queue = {} }, P)
end

function P:set_phase(w, phase)
  if w.phase == "agent" or w.phase == "starting" then self.agents = self.agents - 1
  elseif w.phase == "waiting" then self.waiting = self.waiting - 1 end
  if w.phase == "starting" and w.asks then self.asking = self.asking - 1 end
  w.phase = phase
  if phase == "agent" or phase == "starting" then self.agents = self.agents + 1
  elseif phase == "waiting" then self.waiting = self.waiting + 1 end
  if phase == "starting" and w.asks then self.asking = self.asking + 1 end
  self.on_change()
end

function P:add(t, asks)
  local w = { task = t, phase = "none", asks = asks and true or nil }
  self:set_phase(w, "starting")
  self.workers[t.id], self.n = w, self.n + 1
  return w
end

-- the waits for a person: a worker waiting, and one started to ask that
-- has not asked yet (at max of them, no task that asks starts)
function P:waits() return self.waiting + self.asking end

function P:remove(w)
  self.workers[w.task.id], self.n = nil, self.n - 1
end

function P.cancel(_, w, reason)
  if not orch.cancel(w.co, reason) then w.pending_cancel = w.pending_cancel or reason end
end

function M.pending_cancel(w)
  local why = w.pending_cancel
  w.pending_cancel = nil
  return why
end

function P:acquire(w)
  local why = M.pending_cancel(w)
  if why then return nil, why end
  if w.phase == "agent" then return true end
  if w.phase == "starting" or self.agents < self.max then self:set_phase(w, "agent") return true end
  self:set_phase(w, "queued")
  self.queue[#self.queue + 1] = w
  self.on_queue(w, true)
  while w.phase == "queued" do
    local _, e = orch.sleep(86400)
    if e and e.reason ~= "slot" then
      for i, x in ipairs(self.queue) do if x == w then table.remove(self.queue, i) break end end
      if w.phase == "queued" then self:set_phase(w, "none") end
      self.on_queue(w, false)
      return nil, e.reason
    end
  end
  self.on_queue(w, false)
  return true
end

function P:release(w, phase)
  self:set_phase(w, phase)
  while self.agents < self.max and self.queue[1] do
    local next_w = table.remove(self.queue, 1)
    self:set_phase(next_w, "agent")
    orch.cancel(next_w.co, "slot")
  end
end

-- keep: the worker keeps its slot while it waits (a serial day: the next
-- task waits behind a retry's backoff or a usage limit, in file order)
function P:wait_unslotted(w, seconds, keep)
  local why = M.pending_cancel(w)
  if why then return nil, { reason = why } end
  if keep then  -- a pause still ends the wait (lib/runner's request_pause: w.backoff)
    w.backoff = true
    local ok, e = orch.sleep(seconds)
    w.backoff = nil
    return ok, e
  end
  self:release(w, "parked")
  local ok, e = orch.sleep(seconds)
  self:set_phase(w, "none")
  return ok, e
end

function P:running_ids()
  local ids = {}
  for id, w in pairs(self.workers) do if w.phase == "agent" then ids[#ids + 1] = id end end
  table.sort(ids)
  return ids
end

return M
