-- orch.testing: a tiny spec harness for tests/lua/*_spec.lua.
--
--   local T = require("orch.testing")
--   T.describe("tasks_md", function()
--     T.it("parses the example", function() T.eq(actual, expected) end)
--   end)
--   T.run() -> failures        prints TAP: "ok N - name" / "not ok N - name: reason"
--
-- A spec only registers tests (describe/it) and returns nothing; its runner
-- (scripts/orch/test_runner.lua, tests/lua/run_plain.lua) calls run(). A spec
-- that runs itself is still counted: totals() adds up every run().
--
-- eq(actual, expected, msg) compares deeply and names the first difference by
-- path ("value.tasks[2].title: expected "a", got "b""). ok(v, msg) wants a truthy
-- v. raises(fn, pattern) wants fn to fail with a message containing pattern (a
-- Lua pattern, or the plain text) and returns the error value.
--
-- No io here: the runner injects M.read_file(path) -> text | nil, err
-- (tests/lua/run_plain.lua uses io.open; orch-host brings its own), specs read
-- fixtures with M.read_fixture(name). Output goes through M.output (print).
local M = {}

M.fixtures_dir = "tests/lua/fixtures"
M.output = print
M.read_file = nil

local tests, prefix = {}, {}
local ran, failed = 0, 0  -- over every run()

function M.it(name, fn)
  local full = #prefix > 0 and (table.concat(prefix, " > ") .. " > " .. name) or name
  tests[#tests + 1] = { name = full, fn = fn }
end

-- Runs the body now to collect its `it`s; an error in the body becomes a failing test.
function M.describe(name, fn)
  prefix[#prefix + 1] = name
  local ok, err = pcall(fn)
  if not ok then M.it("(describe body)", function() error(err, 0) end) end
  prefix[#prefix] = nil
end

local function show(v)
  if type(v) == "string" then
    local q = string.format("%q", v):gsub("\\\n", "\\n")
    return #q > 120 and (q:sub(1, 117) .. "...") or q
  end
  return tostring(v)
end

local function key_path(path, k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return path .. "." .. k end
  return path .. "[" .. show(k) .. "]"
end

-- First difference between a (actual) and e (expected), or nil.
local function diff(a, e, path, seen)
  if a == e then return nil end
  if type(a) == "string" and type(e) == "string" then
    local i = 1
    while a:byte(i) == e:byte(i) do i = i + 1 end
    local from = math.max(1, i - 20)
    return string.format("%s: strings differ at byte %d: expected %s, got %s", path, i,
      show(e:sub(from, i + 40)), show(a:sub(from, i + 40)))
  end
  if type(a) ~= "table" or type(e) ~= "table" then
    return string.format("%s: expected %s (%s), got %s (%s)", path, show(e), type(e), show(a), type(a))
  end
  if seen[a] == e then return nil end
  seen[a] = e
  for k, ev in pairs(e) do
    if a[k] == nil then return string.format("%s: missing, expected %s", key_path(path, k), show(ev)) end
    local d = diff(a[k], ev, key_path(path, k), seen)
    if d then return d end
  end
  for k, av in pairs(a) do
    if e[k] == nil then return string.format("%s: unexpected %s", key_path(path, k), show(av)) end
  end
  return nil
end

local function suffix(msg) return msg and (" (" .. tostring(msg) .. ")") or "" end

function M.eq(actual, expected, msg)
  local d = diff(actual, expected, "value", {})
  if d then error(d .. suffix(msg), 2) end
end

function M.ok(v, msg)
  if not v then error("expected a true value, got " .. show(v) .. suffix(msg), 2) end
  return v
end

local function message_of(err)
  if type(err) == "table" and getmetatable(err) == nil and err.message then return tostring(err.message) end
  return tostring(err)
end

function M.raises(fn, pattern, msg)
  local ok, err = pcall(fn)
  if ok then error("expected an error" .. (pattern and (" matching " .. show(pattern)) or "") .. suffix(msg), 2) end
  local text = message_of(err)
  if pattern and not text:find(pattern) and not text:find(pattern, 1, true) then
    error("error " .. show(text) .. " does not match " .. show(pattern) .. suffix(msg), 2)
  end
  return err
end

function M.read_fixture(name)
  if not M.read_file then error("orch.testing: read_file was not injected by the runner", 2) end
  local path = M.fixtures_dir .. "/" .. name
  local text, err = M.read_file(path)
  if not text then error("orch.testing: cannot read fixture " .. path .. ": " .. tostring(err), 2) end
  return text
end

-- The globals a pure module may read (no io, os, debug, load; require only of pure modules).
M.PURE_GLOBALS = { "assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall",
  "rawequal", "rawget", "rawlen", "rawset", "select", "setmetatable", "tonumber", "tostring",
  "type", "unpack", "xpcall", "string", "table", "math", "bit" }

-- The file of a module that a pure module may require: lib.x and orch.x.
local function pure_path(name)
  local lib = name:match("^lib%.([%w_]+)$")
  if lib then return "workflows/lib/" .. lib .. ".lua" end
  local o = name:match("^orch%.([%w_]+)$")
  if o then return "scripts/orch/" .. o .. ".lua" end
end

-- Loads a module file in an environment holding only PURE_GLOBALS, where any other
-- global read or any global write raises; returns what the module returns. Its
-- `require` loads lib.x / orch.x the same way (pure all the way down), once each.
function M.load_pure(path, loaded)
  if not M.read_file then error("orch.testing: read_file was not injected by the runner", 2) end
  loaded = loaded or {}
  local src = assert(M.read_file(path))
  local env = {}
  for _, k in ipairs(M.PURE_GLOBALS) do env[k] = rawget(_G, k) end
  env.require = function(name)
    local file = pure_path(tostring(name))
    if not file then error(path .. " requires '" .. tostring(name) .. "', not a pure module", 2) end
    if loaded[file] == nil then loaded[file] = M.load_pure(file, loaded) end
    return loaded[file]
  end
  setmetatable(env, {
    __index = function(_, k) error(path .. " reads global '" .. tostring(k) .. "'", 2) end,
    __newindex = function(_, k) error(path .. " writes global '" .. tostring(k) .. "'", 2) end,
  })
  local chunk = assert(load(src, "@" .. path, "t", env))
  return chunk()
end

-- Runs every registered test, prints TAP and a summary, returns the failure count.
function M.run()
  local failures, out, tests_run = 0, M.output, tests
  for i, t in ipairs(tests) do
    local ok, err = pcall(t.fn)
    if ok then
      out(string.format("ok %d - %s", i, (t.name:gsub("\n", " "))))
    else
      failures = failures + 1
      out(string.format("not ok %d - %s: %s", i, t.name:gsub("\n", " "), (message_of(err):gsub("\n", "\n# "))))
    end
  end
  out("1.." .. #tests)
  out(string.format("# %d tests, %d passed, %d failed", #tests, #tests - failures, failures))
  tests = {}
  ran, failed = ran + #tests_run, failed + failures
  return failures
end

-- tests run and failed by every run() so far, tests registered and not yet run
function M.totals() return ran, failed, #tests end

return M
