-- Runs Lua specs with the plain luajit binary, from the repository root:
--   luajit tests/lua/run_plain.lua tests/lua/*_spec.lua
-- Prints TAP; exits 0 when every test passes, 1 on failures, 2 on usage errors.
-- Specs see the same harness orch-host will give them: orch.testing with an
-- injected read_file. Undeclared globals are errors here, as in the host.
package.path = "scripts/?.lua;workflows/?.lua;workflows/lib/?.lua;" .. package.path

local T = require("orch.testing")
local open, exit, files = io.open, os.exit, { ... }

T.read_file = function(path)
  local f, err = open(path, "rb")
  if not f then return nil, err end
  local text = f:read("*a")
  f:close()
  return text
end

if #files == 0 then
  io.stderr:write("usage: luajit tests/lua/run_plain.lua SPEC.lua...\n")
  exit(2)
end

setmetatable(_G, {
  __newindex = function(_, k) error("assignment to undeclared global '" .. tostring(k) .. "'", 2) end,
  __index = function(_, k) error("read of undeclared global '" .. tostring(k) .. "'", 2) end,
})

-- the rules of scripts/orch/test_runner.lua: a spec that raises, returns
-- something or defines no tests fails
for _, path in ipairs(files) do
  local ran, _, pending = T.totals()
  local chunk, err = loadfile(path)
  if chunk then
    local ok, e = pcall(chunk)
    if not ok then T.it(path .. " (loading)", function() error(e, 0) end)
    elseif e ~= nil then T.it(path .. " (result)", function() error("the spec returned " .. tostring(e), 0) end) end
  else
    T.it(path .. " (cannot load)", function() error(err, 0) end)
  end
  local ran2, _, pending2 = T.totals()
  if ran2 + pending2 == ran + pending then
    T.it(path .. " (no tests)", function() error("the spec defines no tests", 0) end)
  end
end

T.run()
local _, failed = T.totals()
exit(failed == 0 and 0 or 1)
