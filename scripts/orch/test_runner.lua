-- Runs one Lua spec inside orch-host (`orch-host test SPEC.lua`): the same
-- sandbox, orch table and event loop as workflows, so specs can call the
-- waiting primitives. Returns the failure count (the host's exit code).
local args = ...
local T = require("orch.testing")
T.read_file = function(path) return orch.read_file(path) end
T.output = orch.print

local spec = args.spec
local display = spec
if display:sub(1, #orch.root + 1) == orch.root .. "/" then display = display:sub(#orch.root + 2) end
local text, err = orch.read_file(spec)
if not text then
  T.it(display .. " (cannot read)", function() error(tostring(err), 0) end)
else
  local chunk, lerr = load(text, "@" .. display, "t")
  if not chunk then
    T.it(display .. " (cannot load)", function() error(lerr, 0) end)
  else
    local ok, e = pcall(chunk)
    if not ok then T.it(display .. " (loading)", function() error(e, 0) end) end
  end
end
return T.run()
