-- The Lua boundary, checked against the live VM rather than the C++ source:
-- every public orch.* name the host and scripts/orch/ register is documented
-- in scripts/orch/_meta.lua, and nothing documented there is gone; the raw_
-- primitives are wrapped by scripts/orch/*.lua; and the globals luacheck
-- allows a workflow (.luacheckrc, std orch_sandbox) are exactly the ones the
-- sandbox leaves (host/lua/vm_sandbox.cpp).
local T = require("orch.testing")
local describe, it, eq = T.describe, T.it, T.eq

local function read(rel)
  return assert(orch.read_file(orch.root .. "/" .. rel))
end

-- .luacheckrc run as luacheck runs it: stds and files tables to fill in, and
-- _meta.lua's text given (the sandbox has no io to let it read the file).
local function luacheck_std()
  local files = setmetatable({}, { __index = function(t, k) local v = {}; rawset(t, k, v); return v end })
  local env = setmetatable({ meta_text = read("scripts/orch/_meta.lua"), stds = {}, files = files },
                           { __index = _G })
  local chunk = assert(load(read(".luacheckrc"), "@.luacheckrc", "t", env))
  chunk()
  eq(env.std, "orch_sandbox", ".luacheckrc: the default std")
  return env.stds.orch_sandbox.read_globals
end

-- { name = def } from a luacheck definition list (names in the array part)
local function defs(list)
  local out = {}
  for k, v in pairs(list) do
    if type(k) == "number" then out[v] = {} else out[k] = v end
  end
  return out
end

local function sorted_keys(t, keep)
  local out = {}
  for k in pairs(t) do
    if type(k) == "string" and (not keep or keep(k)) then out[#out + 1] = k end
  end
  table.sort(out)
  return out
end

-- names in `have` and not in `want`, as "prefix.name, ..."
local function missing(have, want, prefix)
  local out = {}
  for _, k in ipairs(have) do
    if want[k] == nil then out[#out + 1] = prefix .. k end
  end
  return table.concat(out, ", ")
end

local function internal(name) return name:sub(1, 1) == "_" or name:sub(1, 4) == "raw_" end
local function public(name) return not internal(name) end

describe("orch API and _meta.lua", function()
  local model = defs(luacheck_std()).orch.fields

  it("every public orch name the host registers is documented", function()
    local live = sorted_keys(orch, public)
    eq(missing(live, model, "orch."), "", "registered but not in scripts/orch/_meta.lua")
  end)

  it("every name _meta.lua documents still exists", function()
    eq(missing(sorted_keys(model), orch, "orch."), "", "in scripts/orch/_meta.lua but not registered")
  end)

  it("the tables documented field by field match the live ones (orch.json)", function()
    local n = 0
    for name, def in pairs(model) do
      if def.fields then
        n = n + 1
        eq(type(orch[name]), "table", "orch." .. name)
        local live = sorted_keys(orch[name])
        eq(missing(live, def.fields, "orch." .. name .. "."), "", "registered but not in scripts/orch/_meta.lua")
        eq(missing(sorted_keys(def.fields), orch[name], "orch." .. name .. "."), "",
           "in scripts/orch/_meta.lua but not registered")
      end
    end
    T.ok(n > 0, "no documented sub-table found (the _meta.lua reader in .luacheckrc broke?)")
  end)

  it("every raw_ primitive is wrapped by scripts/orch/*.lua", function()
    local text = {}
    for _, e in ipairs(assert(orch.list_dir(orch.root .. "/scripts/orch"))) do
      local name = type(e) == "table" and e.name or e
      if name:match("%.lua$") and name ~= "_meta.lua" then text[#text + 1] = read("scripts/orch/" .. name) end
    end
    text = table.concat(text, "\n")
    local unused = {}
    for _, k in ipairs(sorted_keys(orch)) do
      if k:sub(1, 4) == "raw_" and not text:find("orch." .. k, 1, true) then unused[#unused + 1] = "orch." .. k end
    end
    eq(table.concat(unused, ", "), "", "raw_ primitives no scripts/orch/*.lua uses")
  end)
end)

describe(".luacheckrc models the sandbox", function()
  local model = defs(luacheck_std())

  it("the globals are the sandbox's", function()
    local live = sorted_keys(_G)
    eq(missing(live, model, ""), "", "globals of the sandbox .luacheckrc does not allow")
    eq(missing(sorted_keys(model), _G, ""), "", "globals .luacheckrc allows that the sandbox does not have")
  end)

  it("the libraries' fields are the sandbox's (os: the clock and the environment)", function()
    for name, def in pairs(model) do
      if def.fields and name ~= "orch" then
        local fields = defs(def.fields)
        eq(missing(sorted_keys(_G[name]), fields, name .. "."), "", "fields .luacheckrc does not allow")
        eq(missing(sorted_keys(fields), _G[name], name .. "."), "", "fields .luacheckrc allows that are not there")
      end
    end
    eq(sorted_keys(defs(model.os.fields)), { "clock", "date", "difftime", "getenv", "time" })
  end)

  it("io, debug, jit, dofile and loadfile are not allowed", function()
    for _, name in ipairs({ "io", "debug", "jit", "dofile", "loadfile", "ffi" }) do
      eq(model[name], nil, name)
      eq(rawget(_G, name), nil, name)
    end
  end)
end)
