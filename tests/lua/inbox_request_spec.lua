-- Specs for workflows/lib/inbox_request.lua and lib/inbox_where.lua: a
-- free-text request -> a structured task, by the plain parser and by the
-- local model through a fake transport (lib/ollama's M.transport stands in for
-- orch.http; tests/cli/ollama_fake.sh runs the model path against the loopback
-- fake server, since a real Ollama cannot be installed here).
local T = require("orch.testing")
local R = require("lib.inbox_request")
local W = require("lib.inbox_where")
local ollama = require("lib.ollama")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local function has(text, piece)
  ok(tostring(text):find(piece, 1, true), "missing " .. piece .. " in:\n" .. tostring(text))
end

local function sh(...)
  local r = orch.exec({ cmd = { ... }, timeout = 30 })
  assert(r and r.ok, "command failed: " .. table.concat({ ... }, " ") .. ": " .. tostring(r and r.stderr))
  return (r.stdout:gsub("%s+$", ""))
end

-- a scratch tree: base/{backend,auth-system}, root/{app}, outside/, base/escape -> outside
local tmp = sh("mktemp", "-d")
tmp = sh("realpath", tmp)
for _, d in ipairs({ "base/backend", "base/backend/api", "base/auth-system", "root/app/sub", "outside" }) do
  orch.make_dir(tmp .. "/" .. d)
end
sh("ln", "-s", tmp .. "/outside", tmp .. "/root/app/escape")
sh("ln", "-s", tmp .. "/outside", tmp .. "/base/elsewhere")

local function cfg(fields)
  local c = { claude = { base_cwd = tmp .. "/base", allowed_root = "" },
              ollama = { enabled = "false", host = "127.0.0.1:1", model = "llama3.1:8b", timeout = 5 } }
  for k, v in pairs(fields or {}) do c.claude[k] = v end
  return c
end
local function on(c) c = c or cfg(); c.ollama.enabled = "auto"; return c end

local function fake(content, status)
  local calls = {}
  ollama.transport = function(opts)
    calls[#calls + 1] = opts
    if type(content) == "table" and content.err then return nil, orch.err("http", "orch.http: " .. content.err) end
    local body = type(content) == "table" and content.body
      or orch.json.encode({ model = "llama3.1:8b", message = { role = "assistant", content = content }, done = true })
    return { status = status or 200, body = body, headers = {} }
  end
  return calls
end
local function reset() ollama.transport = nil; ollama.forget() end

describe("inbox_request: the plain parser", function()
  it("reads type, title, priority, target files; the prompt is the text verbatim", function()
    local text = "Fix the database connection timeout in src/db.py and config/db.yaml, urgent"
    local r = assert(R.structure(cfg(), text))
    eq(r.type, "fix")
    eq(r.title, "Fix the database connection timeout in src/db.py and")
    eq(r.priority, "high")
    eq(r.prompt, text)
    eq(r.target_files, { "src/db.py", "config/db.yaml" })
    eq(r.via, "plain")
    eq(r.cwd, nil)
    has(r.fallback, "ollama.enabled = false")
  end)

  local types = {
    { "Review the authentication code", "code_review" },
    { "There is a bug in the login form", "fix" },
    { "The build shows an error", "fix" },
    { "Summarize what changed in the parser", "summarize" },
    { "Write a summary of the API", "summarize" },
    { "Analyze the slow queries", "analyze" },
    { "Please analyse the memory use", "analyze" },
    { "Investigate why the cron job stops", "analyze" },
    { "Review the fix for the login bug", "code_review" },   -- the first keyword wins
    { "Create a new pijama directory and set up a Python project there", "implement" },
    { "Prefix the ids with the date", "implement" },          -- "fix" inside a word is no keyword
    { "Refactor the session saves", "refactor" },
    { "Write tests for the parser", "test" },
    { "Update the docs of the REST API", "document" },
    { "Fix the typo in the docs", "fix" },
  }
  for _, c in ipairs(types) do
    it("type: " .. c[1] .. " -> " .. c[2], function() eq(R.plain_type(c[1], R.types()), c[2]) end)
  end

  it("priority: low words, else medium", function()
    eq(R.structure(cfg(), "Tidy the README, no rush").priority, "low")
    eq(R.structure(cfg(), "Tidy the README").priority, "medium")
  end)

  it("target files: backticked, relative paths, names with an extension; no URLs, '..', absolute paths", function()
    local r = R.structure(cfg(),
      "Look at `lib/a b.lua`, README.md, https://x.org/y, ../etc/passwd, /etc/hosts, e.g. and/or docs/")
    eq(r.target_files, { "lib/a b.lua", "README.md", "docs/" })
  end)

  it("success criteria: list items, else 'make sure'/'ensure' and `cmd` passes", function()
    eq(R.structure(cfg(), "Fix the parser\n- [ ] `make test` passes\n- no warnings").success_criteria,
      { "`make test` passes", "no warnings" })
    local text = "Fix the parser and make sure the old files still load. Then `make check` passes."
    eq(R.structure(cfg(), text).success_criteria,
      { "the old files still load", "`make check` passes" })
  end)

  it("a criterion or a file named twice is one", function()
    local r = R.structure(cfg(), "Fix src/a.py and `src/a.py`\n- [ ] tests pass\n- [ ] tests pass\n- [ ] no warnings")
    eq({ r.target_files, r.success_criteria }, { { "src/a.py" }, { "tests pass", "no warnings" } })
  end)

  it("a command is not a file, a criterion said twice is one, the title leaves out the folder and heading marks",
     function()
    local r = R.structure(cfg(), "Fix `rm -rf build` so that `make test` passes in /backend")
    eq({ r.target_files, r.success_criteria }, { {}, { "`make test` passes in /backend" } })
    eq(R.structure(cfg(), "Fix the typo in /backend, then stop").title, "Fix the typo, then stop")
    eq(R.structure(cfg(), "---\n# The heading\nmore").title, "The heading")
  end)

  it("an empty request is refused", function()
    local r, err = R.structure(cfg(), "  \n ")
    eq(r, nil)
    eq(err.code, "empty")
  end)
end)

describe("inbox_where: the working directory", function()
  it("no folder named: no cwd", function()
    eq(W.resolve(cfg(), "Fix the bug in the login form"), false)
    eq(R.structure(cfg(), "Fix the bug in the login form").cwd, nil)
  end)

  it("in /project-name -> <CLAUDE_BASE_CWD>/project-name", function()
    eq(W.token("Review the authentication code in /auth-system."), "/auth-system")
    local r = assert(R.structure(cfg(), "Review the authentication code in /auth-system."))
    eq(r.cwd, tmp .. "/base/auth-system")
    eq(r.type, "code_review")
    eq(assert(R.structure(cfg(), "Fix the timeout In /backend/")).cwd, tmp .. "/base/backend")
  end)

  it("in /project-name/sub -> that folder of the project; '..' out of CLAUDE_BASE_CWD is refused, quoted as written",
     function()
    eq(assert(R.structure(cfg(), "Fix the timeout in /backend/api")).cwd, tmp .. "/base/backend/api")
    local _, e1 = R.structure(cfg(), "Fix it in /backend/../..")
    has(tostring(e1), "in /backend/../..: backend/../.. under CLAUDE_BASE_CWD (" .. tmp .. "/base) leads to " .. tmp
      .. ", outside it")
    local _, e2 = R.structure(cfg(), "Fix it in /backend/nope.")
    has(tostring(e2), "in /backend/nope: no folder backend/nope under CLAUDE_BASE_CWD")
  end)

  it("a project that does not exist is refused, naming it", function()
    local r, err = R.structure(cfg(), "Fix it in /nope")
    eq(r, nil)
    eq(err.code, "cwd_refused")
    has(tostring(err), "in /nope: no folder nope under CLAUDE_BASE_CWD")
  end)

  it("a project that is a symlink out of CLAUDE_BASE_CWD is refused, naming where it leads", function()
    local r, err = R.structure(cfg(), "Fix it in /elsewhere")
    eq(r, nil)
    eq(err.code, "cwd_refused")
    has(tostring(err), "elsewhere under CLAUDE_BASE_CWD (" .. tmp .. "/base) leads to " .. tmp
      .. "/outside, outside it")
  end)

  it("an absolute path is refused without CLAUDE_ALLOWED_ROOT", function()
    local _, err = R.structure(cfg(), "Fix it in " .. tmp .. "/root/app")
    has(tostring(err), "allowed only inside CLAUDE_ALLOWED_ROOT")
  end)

  it("an absolute path inside CLAUDE_ALLOWED_ROOT is taken", function()
    eq(assert(R.structure(cfg({ allowed_root = tmp .. "/root" }), "Fix it in " .. tmp .. "/root/app/sub")).cwd,
      tmp .. "/root/app/sub")
  end)

  it("an absolute path outside it, by '..' or by a symlink, is refused", function()
    local c = cfg({ allowed_root = tmp .. "/root" })
    local _, e1 = R.structure(c, "Fix it in " .. tmp .. "/outside")
    has(tostring(e1), "is outside the allowed root")
    local _, e2 = R.structure(c, "Fix it in " .. tmp .. "/root/app/../../outside")
    has(tostring(e2), "is outside the allowed root")
    local _, e3 = R.structure(c, "Fix it in " .. tmp .. "/root/app/escape")
    has(tostring(e3), tmp .. "/outside is outside the allowed root")
  end)

  it("a project folder must lie inside CLAUDE_ALLOWED_ROOT when that is set", function()
    local _, err = R.structure(cfg({ allowed_root = tmp .. "/base/backend" }), "Fix it in /auth-system")
    has(tostring(err), "outside the allowed root")
    eq(assert(R.structure(cfg({ allowed_root = tmp .. "/base" }), "Fix it in /backend")).cwd, tmp .. "/base/backend")
  end)

  for _, bad in ipairs({ "~/x", "./x", "../x", "C:\\path\\to\\project", "/..", "/" }) do
    it("anything else is refused: in " .. bad, function()
      local r, err = R.structure(cfg(), "Fix it in " .. bad)
      eq(r, nil)
      eq(err.code, "cwd_refused")
    end)
  end
end)

describe("inbox_request: the local model", function()
  local good = orch.json.encode({ type = "fix", title = "DB timeout", priority = "high",
                                  target_files = { "src/db.py" }, success_criteria = { "the pool waits 30 s" } })

  it("uses the model's answer: via ollama, the prompt still verbatim, the cwd from the Lua rule", function()
    local calls = fake(good)
    local text = "the db keeps timing out in /backend, see src/db.py"
    local r = assert(R.structure(on(), text))
    reset()
    eq(r, { type = "fix", title = "DB timeout", priority = "high", target_files = { "src/db.py" },
            success_criteria = { "the pool waits 30 s" }, prompt = text, cwd = tmp .. "/base/backend",
            folder = "/backend", via = "ollama", model = "llama3.1:8b" })
    eq(calls[1].url, "http://127.0.0.1:1/api/chat")
    local body = orch.json.decode(calls[1].body)
    eq(body.stream, false)
    eq(body.format.type, "object")
    eq(body.format.properties.type.enum, R.types())
    eq(body.messages[2], { role = "user", content = text })
  end)

  it("a refused working directory is refused before the model is asked", function()
    local calls = fake(good)
    local r = R.structure(on(), "Fix it in ~/x")
    reset()
    eq(r, nil)
    eq(#calls, 0)
  end)

  local bad = {
    { "not JSON", "sure! here is the task", "not a JSON object" },
    { "a JSON list", "[1,2]", "not a JSON object" },
    { "an unknown task type", '{"type":"deploy","title":"x"}', "type 'deploy' is not a known task type" },
    { "a type that is not a string", '{"type":3,"title":"x"}', "type must be a string, not number" },
    { "no title", '{"type":"fix"}', "title must be a non-empty string" },
    { "a bad priority", '{"type":"fix","title":"x","priority":"asap"}', "priority must be" },
    { "target_files not a list", '{"type":"fix","title":"x","target_files":"a.py"}',
      "target_files must be an array of strings, not string" },
    { "target_files an object", '{"type":"fix","title":"x","target_files":{"a":1}}',
      "target_files must be an array of strings, not object" },
    { "a path with '..'", '{"type":"fix","title":"x","target_files":["ok.py","../../etc/passwd"]}',
      "target_files[2] has '..'" },
    { "a criterion that is not text", '{"type":"fix","title":"x","success_criteria":[true]}', "success_criteria[1]" },
    { "HTTP 500", { body = '{"error":"boom"}' }, "HTTP 500: boom", 500 },
    { "a body of the wrong shape", { body = '{"done":true}' }, "without message.content" },
    { "a refused connection", { err = "Connection" }, "not reachable" },
  }
  for _, case in ipairs(bad) do
    it("falls back to the plain parser on " .. case[1] .. ", with the reason", function()
      fake(case[2], case[4])
      local text = "Fix the crash in src/app.py"
      local r = assert(R.structure(on(), text))
      reset()
      eq(r.via, "plain")
      eq(r.type, "fix")
      eq(r.target_files, { "src/app.py" })
      eq(r.prompt, text)
      has(r.fallback, case[3])
    end)
  end
end)

describe("inbox_request: clean up", function()
  it("removes the scratch tree", function() sh("rm", "-rf", tmp) end)
end)
