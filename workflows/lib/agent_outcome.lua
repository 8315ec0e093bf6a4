-- agent_outcome: what one agent run's result (orch.run_claude) means for the
-- retry policy (lib/policy) and the usage-limit gate (lib/limits).
--
-- M.classify(r [, seen]) -> { kind =, reason =, resets_at = }
--   seen.rate_limit (else r.rate_limit): the rate_limit_info of a
--   `rate_limit_event` line with status "rejected" seen in the run's stream.
--
--   kind "ok"           the run succeeded (an agent's question is the caller's)
--   kind "cancelled"    stopped on purpose (skip, pause, interrupt, budget)
--   kind "usage_limit"  the account's usage limit: a rejected rate_limit_event,
--                       or a result that says the limit was hit; resets_at =
--                       Unix seconds when it resets, when the stream or the
--                       text says
--   kind "permanent"    retrying cannot help until a person acts: HTTP 401 or
--                       403, an invalid or missing key ("Not logged in"), an
--                       exhausted credit balance or billing problem, a CLI
--                       that cannot start (not found, not executable)
--   kind "transient"    the API or the network failed and the CLI gave up:
--                       HTTP 5xx, 529 overloaded, 429 (a per-minute rate
--                       limit, not the usage limit), connection errors, a
--                       stalled stream
--   kind "failed"       anything else (the agent's own failure, a timeout...)
--   reason: a short text for the event, the log and the notification.
--   fix: "path" for a permanent kind whose cause is the CLI's path (else the
--        credentials or the billing)
--
-- The CLI reports an API error as is_error=true (subtype "success"),
-- api_error_status = the HTTP status or null (no answer), the message in
-- `result` ("API Error: 500 ...", "API Error: Unable to connect to API
-- (ConnectionRefused)", "Not logged in · Please run /login", "You've hit your
-- session limit · resets 5:49pm (UTC)", "Claude AI usage limit reached|<epoch>")
-- and, in later versions, terminal_reason = "api_error".
-- Pure: no io/os/debug, no globals.
local M = {}

local lower = string.lower

-- Texts are matched lowercased; first match wins, permanent before transient
-- (an "authentication_error" says more than the "API Error" around it).
local USAGE_LIMIT = { "usage limit reached", "hit your limit", "hit your session limit", "hit your weekly limit",
  "hit your opus limit", "hit your sonnet limit", "out of extra usage", "usage limit has been reached" }
local PERMANENT = {
  { "invalid api key", "invalid API key" },
  { "invalid x-api-key", "invalid API key" },
  { "not logged in", "not logged in" },
  { "authentication_error", "authentication failed" },
  { "oauth token has expired", "the OAuth token has expired" },
  { "oauth token revoked", "the OAuth token was revoked" },
  { "credit balance is too low", "the credit balance is too low" },
  { "credits_required", "credits required" },
  { "billing", "a billing problem" },
  { "permission_error", "permission denied by the API" },
}
local TRANSIENT = {
  { "overloaded", "the API is overloaded" },
  { "unable to connect", "cannot connect to the API" },
  { "connectionrefused", "cannot connect to the API" },
  { "econnreset", "the connection was reset" },
  { "econnrefused", "cannot connect to the API" },
  { "etimedout", "the connection timed out" },
  { "socket hang up", "the connection was dropped" },
  { "fetch failed", "the connection failed" },
  { "request timed out", "the API request timed out" },
  { "connection error", "a connection error" },
  { "network error", "a network error" },
  { "internal server error", "the API failed (500)" },
  { "api_error", "the API failed" },
}

local function said_limit(text)
  for _, k in ipairs(USAGE_LIMIT) do
    if text:find(k, 1, true) then return true end
  end
  return false
end

local function first_match(text, list)
  for _, pair in ipairs(list) do
    if text:find(pair[1], 1, true) then return pair[2] end
  end
end

-- the words the run failed with: the result text, the first of errors, the error
local function texts(r)
  local parts = {}
  if type(r.result) == "string" then parts[#parts + 1] = r.result end
  if type(r.errors) == "table" and type(r.errors[1]) == "string" then parts[#parts + 1] = r.errors[1] end
  if type(r.error) == "string" then parts[#parts + 1] = r.error end
  return lower(table.concat(parts, "\n"))
end

-- Unix seconds from "...limit reached|1767225600" (the CLI's older text)
local function epoch_in(text)
  local n = tonumber(text:match("|%s*(%d%d%d%d%d%d%d%d%d%d?)%s*$") or "")
  return n
end

local function reset_of(info)
  local v = type(info) == "table" and tonumber(info.resetsAt) or nil
  if v and v > 1e12 then v = v / 1000 end  -- milliseconds
  return v
end

local function short(s)
  s = tostring(s or ""):gsub("%s+", " ")
  return #s > 160 and s:sub(1, 157) .. "..." or s
end

function M.classify(r, seen)
  r, seen = r or {}, seen or {}
  if r.ok then return { kind = "ok" } end
  if r.cancelled then return { kind = "cancelled", reason = r.cancel_reason } end
  if r.spawn_failed then  -- the CLI did not start: a path or a binary to fix (pause), else a passing want (retry)
    local why = lower(tostring(r.error or ""))
    for _, w in ipairs({ "not found", "no such file", "permission denied", "exec format", "not executable",
                         "is a directory" }) do
      if why:find(w, 1, true) then return { kind = "permanent", reason = short(r.error), fix = "path" } end
    end
    return { kind = "transient", reason = short(r.error) }
  end
  local text = texts(r)
  local status = tonumber(r.api_error_status)
  local rl = seen.rate_limit or r.rate_limit
  if rl or said_limit(text) then
    local resets = reset_of(rl) or epoch_in(type(r.result) == "string" and r.result or "")
    return { kind = "usage_limit", resets_at = resets,
             reason = "usage limit" .. (rl and rl.rateLimitType and (" (" .. tostring(rl.rateLimitType) .. ")") or "") }
  end
  if status == 401 or status == 403 then
    return { kind = "permanent", reason = string.format("HTTP %d: %s", status,
      first_match(text, PERMANENT) or (status == 401 and "authentication failed" or "permission denied")) }
  end
  local perm = first_match(text, PERMANENT)
  if perm and (r.is_error or status) then return { kind = "permanent", reason = perm } end
  if r.stalled then return { kind = "transient", reason = short(r.error or "stalled") } end
  if status and (status == 429 or status == 408 or status >= 500) then
    local why = status == 529 and "the API is overloaded (529)" or status == 429 and "rate limited (429)"
      or ("the API failed (" .. status .. ")")
    return { kind = "transient", reason = why }
  end
  if r.is_error or r.terminal_reason == "api_error" then
    local tr = first_match(text, TRANSIENT)
    if tr then return { kind = "transient", reason = tr } end
  end
  return { kind = "failed", reason = short(r.error or "failed") }
end

return M
