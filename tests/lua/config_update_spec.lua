-- Specs for scripts/orch/config.lua's rebuild() and update(): what
-- orch.reload_config puts into orch.config, in place.
local T = require("orch.testing")
local C = require("orch.config")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local dir = (orch.exec({ cmd = { "mktemp", "-d" }, timeout = 10 }).stdout:gsub("%s+$", ""))
local files = 0

-- a config as load() builds it from a config file's text (and getenv); the file's path
local function build(text, getenv)
  files = files + 1
  local path = dir .. "/config" .. files .. ".lua"
  assert(orch.write_file(path, text))
  return assert(C.load(path, dir, getenv or function() return nil end, true)), path
end

describe("config.update: in place", function()
  it("keeps every table, changes values, reports the changed keys sorted", function()
    local cur = build("return { claude = { timeout = 60, env = { A = '1', B = '2' } } }")
    local claude, env, disallowed = cur.claude, cur.claude.env, cur.claude.disallowed_tools
    local new = build("return { claude = { timeout = 5, env = { A = '1' }, disallowed_tools = { 'Bash' } },"
      .. " orchestrator = { retry_failed = 2 } }")
    local changed = C.update(cur, new)
    eq(table.concat(changed, " "), "claude.disallowed_tools claude.env claude.timeout orchestrator.retry_failed")
    ok(cur.claude == claude and cur.claude.env == env and cur.claude.disallowed_tools == disallowed,
       "a nested table was replaced")
    eq(cur.claude.timeout, 5)
    eq(cur.claude.env.B, nil, "a key that went away stays")
    eq(#cur.claude.disallowed_tools, 1)
    eq(cur.claude.disallowed_tools[1], "Bash")
    eq(cur._sources["claude.timeout"], "config")
  end)

  it("nothing changed: no keys", function()
    local cur = build("return { claude = { timeout = 60 } }")
    eq(#C.update(cur, build("return { claude = { timeout = 60 } }")), 0)
  end)

  it("a value back at its default: changed, and its source goes", function()
    local cur = build("return { claude = { timeout = 60 } }")
    local sources = cur._sources
    eq(table.concat(C.update(cur, build("return {}")), " "), "claude.timeout")
    eq(cur.claude.timeout, C.defaults.claude.timeout)
    ok(cur._sources == sources, "_sources was replaced")
    eq(cur._sources["claude.timeout"], nil)
  end)
end)

describe("config.rebuild", function()
  it("a bad config: nil, the error naming the key", function()
    local cur, path = build("return { claude = { timeout = 60 } }")
    assert(orch.write_file(path, "return { claude = { timeuot = 5 } }\n"))
    local new, err = C.rebuild(path, dir, {}, true)
    eq(new, nil)
    ok(tostring(err):find("claude.timeuot", 1, true), "the error names no key: " .. tostring(err))
    eq(cur.claude.timeout, 60)
  end)

  it("overrides: a variable's new value, or false for one .env no longer sets", function()
    local cur, path = build("return { claude = { max_turns = 9 } }", function(n)
      return n == "CLAUDE_MAX_TURNS" and "3" or nil
    end)
    eq(cur.claude.max_turns, 3)
    assert(orch.write_file(path, "return { claude = { max_turns = 9 } }\n"))
    -- every variable of the config unset but one (the spec's own environment stays out)
    local over = {}
    for _, e in ipairs(C.env) do over[e[1]] = false end
    over.CLAUDE_TIMEOUT_SEC = "7"
    local changed = C.update(cur, assert(C.rebuild(path, dir, over, true)))
    eq(table.concat(changed, " "), "claude.max_turns claude.timeout")
    eq(cur.claude.max_turns, 9)
    eq(cur._sources["claude.max_turns"], "config")
    eq(cur._sources["claude.timeout"], "env CLAUDE_TIMEOUT_SEC")
  end)
end)

describe("config_update_spec", function()
  it("leaves no files behind", function()
    ok(orch.exec({ cmd = { "rm", "-rf", dir }, timeout = 10 }).ok)
  end)
end)
