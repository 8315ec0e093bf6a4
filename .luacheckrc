-- luacheck (Debian lua-check), run by tests/cli/luacheck.sh over workflows/,
-- scripts/orch/ and tests/lua/: zero warnings.
--
-- The std "orch_sandbox" is what host/lua/vm_sandbox.cpp leaves a workflow:
-- no io, debug, jit, dofile, loadfile; os reduced to the clock and the
-- environment; globals strict after the prelude (a new global is a warning:
-- use local, or orch.global). `orch` is read-only, with the fields
-- scripts/orch/_meta.lua documents (json's too), so orch.typo is a warning.
-- tests/lua/boundary_spec.lua loads this file and compares the std with the
-- live VM's globals, and _meta.lua with the live orch table.

-- scripts/orch/_meta.lua's text: luacheck reads it beside this file, which it
-- finds as luacheck does, from the current folder up; the boundary spec, which
-- has no io, passes it in as meta_text.
local meta = meta_text  -- luacheck: ignore 113
local dir = ""
while not meta and #dir < 60 do
  local rc = io.open(dir .. ".luacheckrc")
  local f = rc and io.open(dir .. "scripts/orch/_meta.lua", "rb")
  if rc then rc:close() end
  if f then meta = f:read("*a"); f:close() end
  dir = dir .. "../"
end
assert(meta, ".luacheckrc: scripts/orch/_meta.lua not found (run luacheck inside the repository)")

local function names(...)
  local t = {}
  for _, k in ipairs({ ... }) do t[k] = {} end
  return t
end

-- The fields of `class` documented in _meta.lua: `function class.NAME(`,
-- `class.NAME =` and `---@field NAME` under `---@class class`.
local function documented(class)
  local out, in_class = {}, false
  local esc = class:gsub("%.", "%%.")
  for line in (meta .. "\n"):gmatch("([^\n]*)\n") do
    local cls = line:match("^%-%-%-@class%s+([%w_.]+)")
    if cls then in_class = (cls == class) end
    local field = in_class and line:match("^%-%-%-@field%s+([%a_][%w_]*)")
    local fn = line:match("^function%s+" .. esc .. "%.([%a_][%w_]*)%s*%(")
      or line:match("^" .. esc .. "%.([%a_][%w_]*)%s*=")
    if field or fn then out[field or fn] = {} end
    if not line:match("^%-%-%-") and not line:match("^%s*$") and not fn then in_class = false end
  end
  return out
end

local orch_fields = documented("orch")
orch_fields.json = { fields = documented("orch.json") }
orch_fields.yaml = { fields = documented("orch.yaml") }
orch_fields.config = { other_fields = true }   -- the effective configuration
orch_fields.error_mt = { other_fields = true }

local sandbox_globals = {
  "_VERSION", "assert", "collectgarbage", "error", "gcinfo", "getfenv", "getmetatable",
  "ipairs", "load", "loadstring", "module", "newproxy", "next", "pairs", "pcall", "print",
  "rawequal", "rawget", "rawset", "require", "select", "setfenv", "setmetatable",
  "tonumber", "tostring", "type", "unpack", "xpcall",
  _G = { other_fields = true },
  bit = { fields = names("arshift", "band", "bnot", "bor", "bswap", "bxor", "lshift", "rol", "ror",
                         "rshift", "tobit", "tohex") },
  coroutine = { fields = names("create", "isyieldable", "resume", "running", "status", "wrap", "yield") },
  math = { fields = names("abs", "acos", "asin", "atan", "atan2", "ceil", "cos", "cosh", "deg", "exp",
                          "floor", "fmod", "frexp", "huge", "ldexp", "log", "log10", "max", "min", "modf",
                          "pi", "pow", "rad", "random", "randomseed", "sin", "sinh", "sqrt", "tan", "tanh") },
  os = { fields = names("clock", "date", "difftime", "getenv", "time") },
  package = { fields = {
    config = {}, cpath = {}, path = {}, searchpath = {}, seeall = {},
    loaders = { other_fields = true },
    loaded = { other_fields = true, read_only = false },  -- modules register here (scripts/orch/init.lua)
    preload = { other_fields = true, read_only = false },
  } },
  string = { fields = names("byte", "char", "dump", "find", "format", "gmatch", "gsub", "len", "lower",
                            "match", "rep", "reverse", "sub", "upper") },
  table = { fields = names("concat", "foreach", "foreachi", "getn", "insert", "maxn", "move", "remove",
                           "sort") },
  orch = { fields = orch_fields },
}
stds.orch_sandbox = { read_globals = sandbox_globals }

std = "orch_sandbox"
max_line_length = 120
exclude_files = { "scripts/orch/_meta.lua", "build", ".deps", "demo" }

-- tests/lua/run_plain.lua runs the specs with the plain luajit binary (io and all)
files["tests/lua/run_plain.lua"] = { std = "luajit" }
