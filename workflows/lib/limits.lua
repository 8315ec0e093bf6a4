-- limits: the server-wide usage-limit gate. When an agent hits the account's
-- usage limit (lib/agent_outcome kind "usage_limit"), no agent starts anywhere
-- until the limit resets, plus a little jitter so parked agents do not all
-- start in the same second. The gate is one row of the host's state
-- (orch.save_state "usage_limit" = {resets_at=, until=, set_at=, reason=}),
-- so every session of a `serve` process, every `run` on the same state
-- database and a host restarted later all see it.
--
-- M.park(resets_at, reason, cfg [, now]) -> until, fresh
--     close the gate until resets_at + jitter (resets_at nil: now +
--     cfg.limit_wait); fresh = this limit is a new one (no gate, or a later
--     reset than the one stored): the caller notifies once for it
-- M.closed([now]) -> until, gate | nil   the gate while it is closed
-- M.wait(sleep [, now_fn]) -> true, waited | nil, err
--     until the gate opens: sleep(seconds) is called (and may return nil, err
--     when cancelled); re-reads the gate after each sleep, so a later limit
--     set meanwhile (by another session or process) holds it longer
-- cfg: the orchestrator section (limit_jitter=, limit_wait=).
local M = {}

M.KEY = "usage_limit"

local function gate()
  local g = orch.load_state(M.KEY)
  return type(g) == "table" and tonumber(g["until"]) and g or nil
end

function M.closed(now)
  now = now or orch.now()
  local g = gate()
  if g and g["until"] > now then return g["until"], g end
  return nil
end

-- a share of the jitter that differs between hosts and calls
local function jitter(max)
  if max <= 0 then return 0 end
  return max * (((orch.monotonic() * 1000003) + orch.pid) % 1000) / 1000
end

M.MAX_WAIT = 8 * 86400  -- a reset later than this (the longest limit is a week's) is misread: waited this long

function M.park(resets_at, reason, cfg, now)
  cfg, now = cfg or {}, now or orch.now()
  resets_at = tonumber(resets_at)
  if not resets_at or resets_at <= now then resets_at = now + (tonumber(cfg.limit_wait) or 3600) end
  if resets_at > now + M.MAX_WAIT then
    orch.log("warn", string.format("usage limit: a reset %.0f days away (%s) cannot be right: waiting %d days "
      .. "at most", (resets_at - now) / 86400, tostring(reason), math.floor(M.MAX_WAIT / 86400)))
    resets_at = now + M.MAX_WAIT
  end
  local old = gate()
  if old and old["until"] > now and (tonumber(old.resets_at) or 0) >= resets_at then
    return old["until"], false
  end
  local untl = resets_at + jitter(tonumber(cfg.limit_jitter) or 60)
  orch.save_state(M.KEY, { resets_at = resets_at, ["until"] = untl, set_at = now, reason = reason })
  orch.emit("usage_limit", { resets_at = resets_at, ["until"] = untl, reason = reason })
  return untl, true
end

function M.wait(sleep, now_fn)
  now_fn = now_fn or orch.now
  local waited = false
  while true do
    local now = now_fn()
    local untl = M.closed(now)
    if not untl then return true, waited end
    waited = true
    local ok, err = sleep(untl - now)
    if not ok then return nil, err end
  end
end

return M
