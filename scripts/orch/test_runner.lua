-- Runs one Lua spec inside orch-host (`orch-host test SPEC.lua`): the same
-- sandbox, orch table and event loop as workflows, so specs can call the
-- waiting primitives. Returns the failure count (the host's exit code).
-- A spec fails when a test fails, when loading it raises (an error or assert
-- outside a test), when it returns anything but nothing (false, a failure
-- count from calling T.run itself...), and when it defines no tests.
local args = ...
local T = require("orch.testing")
T.read_file = function(path) return orch.read_file(path) end
T.output = orch.print
local ran_before, failed_before = T.totals()  -- earlier specs of this run

local spec = args.spec
local display = spec
if display:sub(1, #orch.root + 1) == orch.root .. "/" then display = display:sub(#orch.root + 2) end

local function failing(what, message)
  T.it(display .. " (" .. what .. ")", function() error(message, 0) end)
end

local text, err = orch.read_file(spec)
if not text then
  failing("cannot read", tostring(err))
else
  local chunk, lerr = load(text, "@" .. display, "t")
  if not chunk then
    failing("cannot load", lerr)
  else
    local ok, res = pcall(chunk)
    if not ok then
      failing("loading", res)
    elseif res ~= nil then
      failing("result", "the spec returned " .. tostring(res)
        .. "; a spec registers tests with describe/it and returns nothing (the runner runs them)")
    end
  end
end
local ran, _, pending = T.totals()
if ran - ran_before + pending == 0 then failing("no tests", "the spec defines no tests") end
T.run()
local _, failed = T.totals()
return failed - failed_before
