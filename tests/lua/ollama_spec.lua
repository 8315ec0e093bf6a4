-- Specs for workflows/lib/ollama.lua (the client of the optional local model)
-- and lib/components.lua (what doctor and status say about it). The transport
-- is a fake orch.http (lib/ollama's M.transport); tests/cli/ollama_fake.sh runs
-- the client against the loopback fake server (tests/fake/fake_ollama.js),
-- since a real Ollama cannot be installed on these machines.
local T = require("orch.testing")
local O = require("lib.ollama")
local C = require("lib.components")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local function has(text, piece)
  ok(tostring(text):find(piece, 1, true), "missing " .. piece .. " in:\n" .. tostring(text))
end

local function cfg(fields)
  local c = { enabled = "auto", host = "127.0.0.1:1", model = "llama3.1:8b", timeout = 5 }
  for k, v in pairs(fields or {}) do c[k] = v end
  return { ollama = c }
end

-- routes: path -> {status=, body=} | {err=}
local function fake(routes)
  local calls = {}
  O.transport = function(opts)
    calls[#calls + 1] = opts
    local r = routes[opts.url:match("^https?://[^/]+(.*)$")] or { status = 404, body = "404 page not found" }
    if r.err then return nil, orch.err("http", "orch.http: " .. r.err) end
    return { status = r.status or 200, body = r.body, headers = {} }
  end
  return calls
end
local function reset() O.transport = nil; O.forget() end

describe("ollama.base_url: OLLAMA_HOST as Ollama reads it", function()
  local cases = {
    { "http://127.0.0.1:11434", "http://127.0.0.1:11434" },
    { "127.0.0.1:11434", "http://127.0.0.1:11434" },
    { "localhost", "http://localhost:11434" },
    { "", "http://127.0.0.1:11434" },
    { ":8080", "http://127.0.0.1:8080" },
    { "0.0.0.0:9999", "http://0.0.0.0:9999" },
    { "http://box", "http://box:80" },
    { "https://box/ollama/", "https://box:443/ollama" },
    { "[::1]:11434", "http://[::1]:11434" },
    { "  gpu.lan:1234  ", "http://gpu.lan:1234" },
  }
  for _, c in ipairs(cases) do
    it("'" .. c[1] .. "' -> " .. c[2], function() eq(O.base_url(c[1]), c[2]) end)
  end
  for _, bad in ipairs({ "ftp://box", "box:99999", "a b:1", "user@box:1" }) do
    it("refuses '" .. bad .. "'", function()
      local url, err = O.base_url(bad)
      eq(url, nil)
      has(err, "ollama.host")
    end)
  end
end)

describe("ollama: requests", function()
  it("chat sends the documented body and returns the content and the model", function()
    local calls = fake({ ["/api/chat"] = { body = orch.json.encode({ model = "llama3.1:8b", done = true,
      message = { role = "assistant", content = "hi" } }) } })
    local text, model = O.chat(cfg(), { { role = "user", content = "hello" } },
      { format = "json", options = { temperature = 0 } })
    reset()
    eq({ text, model }, { "hi", "llama3.1:8b" })
    eq(calls[1].method, "POST")
    eq(calls[1].timeout, 5)
    eq(calls[1].content_type, "application/json")
    eq(orch.json.decode(calls[1].body), { model = "llama3.1:8b", stream = false, format = "json",
      options = { temperature = 0 }, messages = { { role = "user", content = "hello" } } })
  end)

  it("enabled = false sends nothing", function()
    local calls = fake({})
    local text, err = O.generate(cfg({ enabled = "false" }), "x")
    reset()
    eq(text, nil)
    eq(err.code, "disabled")
    eq(#calls, 0)
  end)

  it("a bad host is a config error naming ollama.host, and nothing is sent", function()
    local calls = fake({})
    local _, err = O.generate(cfg({ host = "ftp://x" }), "x")
    reset()
    eq(err.code, "config")
    has(err, "ollama.host")
    eq(#calls, 0)
  end)

  it("an empty model is a config error", function()
    local _, err = O.generate(cfg({ model = "" }), "x")
    eq(err.code, "config")
  end)

  it("a refused connection (auto) is remembered for DOWN_FOR seconds, per host", function()
    local calls = fake({ ["/api/generate"] = { err = "Connection" } })
    local _, e1 = O.generate(cfg(), "x")
    local _, e2 = O.generate(cfg(), "x")
    eq({ e1.code, e2.code }, { "down", "down" })
    has(e2, "not tried again for " .. O.DOWN_FOR .. " s")
    eq(#calls, 1)
    O.generate(cfg({ host = "127.0.0.1:2" }), "x")  -- another host is tried
    eq(#calls, 2)
    reset()
  end)
end)

describe("ollama: a reload that changes the ollama section forgets what was remembered", function()
  local reload = require("lib.config_reload")
  local real = orch.reload_config
  it("another section's change keeps the refusal; an ollama key's change drops it", function()
    fake({ ["/api/generate"] = { err = "Connection" } })
    O.generate(cfg(), "x")
    local function usable_after(changed)
      rawset(orch, "reload_config", function() return changed end)
      local okc, e = pcall(reload.fresh, "spec")
      rawset(orch, "reload_config", real)
      assert(okc, e)
      local url, err = O.usable(cfg())
      return url ~= nil, err and err.code
    end
    eq({ usable_after({ "claude.timeout" }) }, { false, "down" })
    eq({ usable_after({ "ollama.timeout" }) }, { true })
    reset()
  end)
end)

describe("ollama.probe and the components rows", function()
  local tags = orch.json.encode({ models = { { name = "llama3.1:8b" }, { name = "mistral:latest" } } })
  local up = { ["/api/version"] = { body = '{"version":"0.5.7"}' }, ["/api/tags"] = { body = tags } }

  it("reachable: the version, the models, whether the configured one is there", function()
    fake(up)
    local p = O.probe(cfg())
    reset()
    eq({ p.reachable, p.version, p.models, p.has_model, p.url },
       { true, "0.5.7", { "llama3.1:8b", "mistral:latest" }, true, "http://127.0.0.1:1" })
    local rows = C.ollama_rows(p)
    eq(rows[1], { mark = "ok", what = "Ollama", detail = "reachable at http://127.0.0.1:1, version 0.5.7" })
    has(rows[2].detail, "the configured llama3.1:8b is among them")
    has(rows[3].detail, "the local model llama3.1:8b")
  end)

  it("a model without a tag matches :latest", function()
    eq(O.has_model({ "mistral:latest" }, "mistral"), true)
    eq(O.has_model({ "mistral:7b" }, "mistral"), false)
  end)

  it("the configured model missing: a note (auto), a FAIL (true)", function()
    fake(up)
    local p = O.probe(cfg({ model = "qwen2:7b" }))
    reset()
    eq(p.has_model, false)
    local rows = C.ollama_rows(p)
    eq(rows[2].mark, "note")
    has(rows[2].detail, "ollama pull qwen2:7b")
    has(rows[3].detail, "plain")
    p.mode = "true"
    eq(C.ollama_rows(p)[2].mark, "FAIL")
  end)

  it("not reachable: 'not found: the plain parser and summary are used'; the refusal is not remembered", function()
    local calls = fake({ ["/api/version"] = { err = "Connection" } })
    local p = O.probe(cfg())
    O.probe(cfg())
    reset()
    eq(#calls, 2)
    eq(p.reachable, false)
    local rows = C.ollama_rows(p)
    eq(rows[1].mark, "note")
    has(rows[1].detail, "not found: Ollama not reachable at http://127.0.0.1:1 (connection refused)")
    has(rows[1].detail, "the plain parser and summary are used")
    p.mode = "true"
    eq(C.ollama_rows(p)[1].mark, "FAIL")
  end)

  it("the probe waits at most PROBE_TIMEOUT seconds, whatever ollama.timeout says", function()
    local calls = fake(up)
    O.probe(cfg({ timeout = 120 }))
    reset()
    eq(calls[1].timeout, O.PROBE_TIMEOUT)
  end)

  it("enabled = false: no probe, the plain path", function()
    local calls = fake(up)
    local rows, problems = C.rows(cfg({ enabled = "false" }), {})
    reset()
    eq(#calls, 0)
    eq(problems, 0)
    has(rows[1].detail, "off (ollama.enabled = false)")
  end)

  it("the claude CLI row: found with its version, or not found (a FAIL)", function()
    eq(C.claude_rows({ name = "claude", exe = "/usr/bin/claude", version = "2.1.197 (Claude Code)" }),
      { { mark = "ok", what = "claude CLI", detail = "/usr/bin/claude (2.1.197 (Claude Code))" } })
    eq(C.claude_rows({ name = "claude", exe = "", version = "" })[1].mark, "FAIL")
    eq(C.claude_rows(nil), {})
  end)
end)

describe("config: the ollama keys", function()
  local config = require("orch.config")
  local function env(vars) return function(k) return vars[k] end end
  local dir = (orch.exec({ cmd = { "mktemp", "-d" }, timeout = 10 }).stdout:gsub("%s+$", ""))
  local function with_file(text)
    orch.write_file(dir .. "/config.lua", text)
    return dir .. "/config.lua"
  end

  it("defaults, and the environment's OLLAMA_* on top", function()
    local c = assert(config.load(dir .. "/none.lua", nil, env({})))
    eq(c.ollama, { enabled = "auto", host = "http://127.0.0.1:11434", model = "llama3.1:8b", timeout = 20 })
    c = assert(config.load(dir .. "/none.lua", nil, env({ OLLAMA_HOST = "gpu:1234", OLLAMA_MODEL = "qwen2:7b",
      OLLAMA_TIMEOUT_SEC = "5", OLLAMA_ENABLED = "FALSE" })))
    eq(c.ollama, { enabled = "false", host = "gpu:1234", model = "qwen2:7b", timeout = 5 })
    eq(c._sources["ollama.host"], "env OLLAMA_HOST")
  end)

  it("enabled may be a boolean in the config file", function()
    local c = assert(config.load(with_file("return { ollama = { enabled = true } }"), nil, env({})))
    eq(c.ollama.enabled, "true")
  end)

  it("a bad value names the key (and the variable)", function()
    local _, e1 = config.load(with_file("return { ollama = { enabled = 'yes' } }"), nil, env({}))
    has(e1, "'ollama.enabled' must be auto, true or false")
    local _, e2 = config.load(dir .. "/none.lua", nil, env({ OLLAMA_TIMEOUT_SEC = "0" }))
    has(e2, "environment OLLAMA_TIMEOUT_SEC: 'ollama.timeout' must be > 0")
    local _, e3 = config.load(dir .. "/none.lua", nil, env({ OLLAMA_TIMEOUT_SEC = "soon" }))
    has(e3, 'OLLAMA_TIMEOUT_SEC="soon" is not a number')
    local _, e4 = config.load(with_file("return { ollama = { modle = 'x' } }"), nil, env({}))
    has(e4, "unknown key 'ollama.modle'")
    orch.exec({ cmd = { "rm", "-rf", dir }, timeout = 10 })
  end)
end)
