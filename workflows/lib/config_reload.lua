-- config_reload: the configuration read again (orch.reload_config: one stat
-- of .env and one of the config file when neither changed) before work
-- starts: the inbox's next task, a session the server starts, each request
-- the server authenticates (a rotated WEBHOOK_SECRET or bearer token
-- applies to the next request). What changed goes to the daily log; a bad
-- new config keeps the one in force and is said once until it changes. A
-- changed ollama section forgets lib/ollama's remembered refusals and hangs.
-- Policy: edit freely.
local M = {}

local last_error  -- the refusal said last (not said again for every request)

-- fresh(who) -> changed keys | nil (the old config stays in force)
function M.fresh(who)
  local changed, cerr = orch.reload_config()
  if not changed then
    local why = tostring(cerr)
    if why ~= last_error then
      orch.log("warn", who .. ": the configuration is not reloaded, the one in force stays: " .. why)
      last_error = why
    end
    return nil
  end
  last_error = nil
  if #changed > 0 then orch.log("info", who .. ": configuration reloaded: " .. table.concat(changed, ", ")) end
  for _, key in ipairs(changed) do
    -- a new ollama section is tried afresh: a remembered refusal or hang goes
    if key:match("^ollama%f[^%w_]") then require("lib.ollama").forget() break end
  end
  return changed
end

return M
