-- Specs for workflows/lib/summarize.lua: the plain summary, and the local
-- model's path through a fake transport (lib/ollama's M.transport stands in
-- for orch.http; tests/cli/ollama_fake.sh runs the same paths against the
-- loopback fake server, since a real Ollama cannot be installed here).
local T = require("orch.testing")
local S = require("lib.summarize")
local ollama = require("lib.ollama")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local function has(text, piece)
  ok(tostring(text):find(piece, 1, true), "missing " .. piece .. " in:\n" .. tostring(text))
end

local function task(fields)
  local t = { id = "fix_db", title = "Fix the DB timeout", status = "completed",
              result = "Raised the pool timeout to 30 s.\nAdded a retry.\n\nAll tests pass.",
              files_touched = { "src/db.py", "tests/test_db.py" } }
  for k, v in pairs(fields or {}) do t[k] = v end
  return t
end

local OFF = { ollama = { enabled = "false", host = "127.0.0.1:11434", model = "llama3.1:8b", timeout = 20 } }
local function on(mode)
  return { ollama = { enabled = mode or "auto", host = "127.0.0.1:1", model = "llama3.1:8b", timeout = 5 } }
end

-- a fake orch.http answering /api/generate with `response` (or a raw body / error)
local function fake(answer)
  local calls = {}
  ollama.transport = function(opts)
    calls[#calls + 1] = opts
    if answer.err then return nil, orch.err("http", "orch.http: " .. answer.err) end
    local body = answer.body or orch.json.encode({ model = "llama3.1:8b", response = answer.response, done = true })
    return { status = answer.status or 200, body = body, headers = {} }
  end
  return calls
end

local function reset() ollama.transport = nil; ollama.forget() end

describe("summarize.plain", function()
  it("has the status, the first lines of the result, the files and no error line", function()
    eq(S.plain(task()), table.concat({ "Status: completed",
      "Raised the pool timeout to 30 s.\nAdded a retry.\nAll tests pass.",
      "Files: src/db.py, tests/test_db.py" }, "\n"))
  end)

  it("bounds the result: at most RESULT_LINES lines and RESULT_CHARS characters", function()
    local long = {}
    for i = 1, 50 do long[i] = "line " .. i .. " " .. string.rep("x", 60) end
    local text = S.plain(task({ result = table.concat(long, "\n") }))
    has(text, "line 8 ")
    ok(not text:find("line 9 ", 1, true), "line 9 kept:\n" .. text)
    ok(#text < S.RESULT_CHARS + 200, "too long: " .. #text)
  end)

  it("names ten files, then how many more", function()
    local files = {}
    for i = 1, 13 do files[i] = "f" .. i .. ".lua" end
    has(S.plain(task({ files_touched = files })), "f10.lua and 3 more")
  end)

  it("carries the error of a failed task, and works without a result", function()
    eq(S.plain({ status = "failed", error = "claude exited 1: usage limit" }),
      "Status: failed\nError: claude exited 1: usage limit")
  end)

  it("a cleared field (JSON null) and {path=} entries read as they should", function()
    eq(S.plain({ status = "completed", result = orch.json.null, error = orch.json.null,
                 files_touched = { { path = "a.c" } } }),
      "Status: completed\nFiles: a.c")
  end)

  it("takes files_changed when files_touched is not there", function()
    has(S.plain({ status = "completed", files_changed = { "a.txt" } }), "Files: a.txt")
  end)
end)

describe("summarize.summary", function()
  it("falls back to the plain summary when the local model is off, with the reason", function()
    reset()
    local r = S.summary(OFF, task())
    eq(r.via, "plain")
    eq(r.text, S.plain(task()))
    eq(r.model, nil)
    has(r.fallback, "ollama.enabled = false")
  end)

  it("uses the model's answer when it is sane: via ollama, the model named", function()
    local calls = fake({ response = "  The DB pool timeout was raised and a retry added; tests pass.\n" })
    local r = S.summary(on(), task())
    reset()
    eq(r, { text = "The DB pool timeout was raised and a retry added; tests pass.", via = "ollama",
            model = "llama3.1:8b" })
    eq(#calls, 1)
    eq(calls[1].url, "http://127.0.0.1:1/api/generate")
    eq(calls[1].method, "POST")
    eq(calls[1].timeout, 5)
    local body = orch.json.decode(calls[1].body)
    eq(body.model, "llama3.1:8b")
    eq(body.stream, false)
    has(body.prompt, "Raised the pool timeout")
    has(body.prompt, "src/db.py")
  end)

  local bad = {
    { "an empty answer", { response = "   \n" }, "empty" },
    { "JSON where a text was asked", { response = '{"summary": "done"}' }, "JSON" },
    { "an answer too long", { response = string.rep("word ", 400) }, "too long" },
    { "an echo of the prompt", { response = S.PROMPT:match("^[^\n]*") .. " sure" }, "echoes the prompt" },
    { "a body that is not JSON", { body = "<html>oops</html>" }, "not JSON" },
    { "a body of the wrong shape", { body = '{"model":"m","done":true}' }, "without a response" },
    { "HTTP 500", { status = 500, body = '{"error":"out of memory"}' }, "HTTP 500: out of memory" },
    { "a model that is not pulled", { status = 404, body = '{"error":"model \\"llama3.1:8b\\" not found"}' },
      "not found" },
    { "a refused connection", { err = "Connection" }, "not reachable at http://127.0.0.1:1" },
  }
  for _, case in ipairs(bad) do
    it("falls back to the plain summary on " .. case[1] .. ", with the reason", function()
      fake(case[2])
      local r = S.summary(on(), task())
      reset()
      eq(r.via, "plain")
      eq(r.text, S.plain(task()))
      has(r.fallback, case[3])
    end)
  end

  it("with enabled = auto remembers a refused connection: the next task does not try again", function()
    local calls = fake({ err = "Connection" })
    S.summary(on("auto"), task())
    local r = S.summary(on("auto"), task())
    eq(#calls, 1)
    has(r.fallback, "not tried again")
    ollama.forget()
    S.summary(on("auto"), task())
    eq(#calls, 2)
    reset()
  end)

  it("with enabled = true tries every time", function()
    local calls = fake({ err = "Connection" })
    S.summary(on("true"), task())
    S.summary(on("true"), task())
    reset()
    eq(#calls, 2)
  end)

  it("never raises: a transport that raises, a task that is not a table", function()
    ollama.transport = function() error("boom") end
    local r = S.summary(on(), task())
    reset()
    eq(r.via, "plain")
    has(r.fallback, "boom")
    eq(S.summary(OFF, nil).text, "Status: unknown")
    eq(S.summary({ ollama = { enabled = "false" } }, task()).via, "plain")
  end)
end)
