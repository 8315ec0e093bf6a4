-- errors: the one error value of orch-host's Lua, {code=, message=, ...} with
-- __tostring (the message, else the code). The host's primitives return the
-- same shape (`nil, err`); orch.err is new. In the host, mt is orch.error_mt
-- (scripts/orch/init.lua sets it), so is() knows the host's errors as well.
-- Pure: no io/os/debug, no globals, so pure modules (lib/tasks_md, lib/cron,
-- lib/policy) use it too.
local M = {}

M.mt = { __tostring = function(e)
  return type(e.message) == "string" and e.message or type(e.code) == "string" and e.code or "error"
end }

-- new(code, message [, fields]) -> error (fields, when given, becomes the error)
function M.new(code, message, fields)
  local e = fields or {}
  e.code, e.message = code, message
  return setmetatable(e, M.mt)
end

-- is(v) -> true when v is an error made here or by the host
function M.is(v) return type(v) == "table" and getmetatable(v) == M.mt end

-- catch(fn, ...) -> fn's result | nil, err: the way a parser reports bad
-- input. An error value fn raises (new, is) comes back as nil, err; any other
-- error (a bug) is raised again.
function M.catch(fn, ...)
  local ok, res = pcall(fn, ...)
  if ok then return res end
  if M.is(res) then return nil, res end
  error(res, 0)
end

return M
