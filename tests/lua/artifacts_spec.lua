-- Specs for workflows/lib/artifacts.lua: the result of finished inbox tasks
-- (completed, failed with an error, skipped before it started, needs_review)
-- follows docs/schema/task-result.schema.json by construction; the success
-- criteria say whether the orchestrator checked each (a command that ran, a
-- path looked for) and whether it passed; write leaves both files or
-- neither; validate names each file's violations by JSON pointer.
local T = require("orch.testing")
local A = require("lib.artifacts")
local J = require("lib.json_schema")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local null = orch.json.null
local scratch = (os.getenv("ORCH_LOGS_DIR") or "logs") .. "/artifacts_spec-" .. orch.pid
orch.make_dir(scratch)

local T0 = 1764581400.25  -- 2025-12-01T09:30:00.250Z

local function inbox(name, criteria)
  return { file = "tasks/" .. name .. ".task.md", name = name, sha = "abc", priority_rank = 1,
    success_criteria = criteria or {} }
end

local CRITERIA = {
  { text = "`make test` passes", done = false, command = "make test" },
  { text = "`docs/fix.md` exists", done = false, path = "docs/fix.md" },
  { text = "The login works again", done = true },
}

local function completed()
  return { id = "fix-login", title = "Fix the login", type = "fix", priority = "high", status = "completed",
    started_at = T0, completed_at = T0 + 90.5, cost_usd = 0.0123, attempts = 1,
    tokens = 1500, usage = { input_tokens = 1000, output_tokens = 300, cache_read_input_tokens = 150,
      cache_creation_input_tokens = 50 },
    result = "Fixed the session check.", claude_session = "sess-1", num_turns = 4,
    files_touched = { "src/login.lua", "docs/fix.md" },
    files_changed = { "src/login.lua", "docs/fix.md", "tests/login_spec.lua" }, diff_stat = " 3 files changed",
    changes = { stat = " 3 files changed", files = { { path = "src/login.lua", added = 3, removed = 1 },
      { path = "docs/fix.md", added = 10, removed = 0 },
      { path = "logo.png", added = 0, removed = 0, binary = true } } },
    deliverables = { "docs/fix.md" }, deliverables_missing = {}, verify = { "make test" },
    verify_results = { { cmd = "make test", ok = true, exit_code = 0, output = "ok", duration_s = 2 } },
    inbox = inbox("fix-login", CRITERIA) }
end

local INFO = { summary = { text = "The login works again.\nFiles: src/login.lua", via = "ollama", model = "llama3.2" },
  parsed_by = "file", session = "inbox-20251201" }

local schema = assert(A.schema())
local function follows(r)
  local bad = J.validate(r, schema)
  local lines = {}
  for i, v in ipairs(bad) do lines[i] = v.pointer .. ": " .. v.message end
  eq(lines, {}, "violations")
  -- and the same after the JSON file's round trip
  local back = orch.json.decode(orch.json.encode(r, { pretty = true }), { nulls = true })
  eq(#J.validate(back, schema), 0, "violations after encode/decode")
end

describe("result", function()
  it("a completed task: every field, the criteria checked", function()
    local r = assert(A.result(completed(), INFO))
    follows(r)
    eq(r.schema_version, 1)
    eq({ r.task_id, r.name, r.title, r.type, r.priority, r.status }, { "fix-login", "fix-login", "Fix the login", "fix",
      "high", "completed" })
    eq(r.source_file, "tasks/fix-login.task.md")
    eq(r.session, "inbox-20251201")
    eq(r.started_at, "2025-12-01T09:30:00.250Z")
    eq(r.completed_at, "2025-12-01T09:31:30.750Z")
    eq(r.duration_s, 90.5)
    eq(r.cost_usd, 0.0123)
    eq(r.tokens, { total = 1500, input = 1000, output = 300, cache_read = 150, cache_creation = 50 })
    eq(r.attempts, 1)
    eq(r.result, "Fixed the session check.")
    eq(r.files_touched, { "src/login.lua", "docs/fix.md", "tests/login_spec.lua" })
    eq(r.diff.stat, " 3 files changed")
    eq(r.diff.files[3], { path = "logo.png", added = 0, removed = 0, binary = true })
    eq(r.diff.error, null)
    eq(r.success_criteria, {
      { text = "`make test` passes", done = false, command = "make test", path = null, checked = true, passed = true },
      { text = "`docs/fix.md` exists", done = false, command = null, path = "docs/fix.md", checked = true,
        passed = true },
      { text = "The login works again", done = true, command = null, path = null, checked = false, passed = null },
    })
    eq(r.error, null)
    eq(r.parsed_by, "file")
    eq(r.summary.via, "ollama")
    eq(r.summary.model, "llama3.2")
    eq(r.summary.fallback, null)
    eq(r.claude, { session_id = "sess-1", num_turns = 4 })
  end)

  it("a failed task: its error, the failing command not passed", function()
    local t = completed()
    t.status, t.error = "failed", "acceptance failed: make test"
    t.verify_results = { { cmd = "make test", ok = false, exit_code = 2, output = "1 failing", duration_s = 1 } }
    t.attempts = 3
    local r = assert(A.result(t, { summary = { text = "x", via = "plain", fallback = "Ollama not reachable" },
                                   parsed_by = "ollama" }))
    follows(r)
    eq(r.summary.fallback, "Ollama not reachable")
    eq(r.error, "acceptance failed: make test")
    eq(r.attempts, 3)
    eq(r.parsed_by, "ollama")
    eq(r.summary.via, "plain")
    eq(r.summary.model, null)
    eq(r.success_criteria[1].checked, true)
    eq(r.success_criteria[1].passed, false)
    eq(r.success_criteria[1].exit_code, 2)  -- why, without the report
    eq(r.success_criteria[1].output, "1 failing")
    eq(r.success_criteria[2].exit_code, nil)  -- a path's criterion has none
  end)

  it("a failed command's output is cut to its end, on a character's boundary", function()
    local t = completed()
    t.status, t.error = "failed", "acceptance failed: make test"
    t.verify_results = { { cmd = "make test", ok = false, output = ("é"):rep(A.OUTPUT_CHARS) .. "last line\n" } }
    local r = assert(A.result(t, { summary = { text = "x", via = "plain" } }))
    follows(r)
    local out = r.success_criteria[1].output
    eq(r.success_criteria[1].exit_code, null)  -- timed out, or did not start
    ok(#out <= A.OUTPUT_CHARS + 3 and out:sub(1, 3) == "..." and out:sub(-10) == "last line\n", out)
    ok(orch.json.decode(orch.json.encode({ out })) ~= nil, "valid UTF-8")
  end)

  it("a failed agent: nothing was checked", function()
    local r = assert(A.result({ id = "t9", status = "failed", started_at = T0, completed_at = T0 + 3,
      error = "claude exited with code 1", tokens = 0, inbox = inbox("t9", CRITERIA) }, {}))
    follows(r)
    for _, c in ipairs(r.success_criteria) do eq({ c.checked, c.passed }, { false, null }, c.text) end
    eq(r.result, null)
    eq(r.diff, null)
    eq(r.claude, { session_id = null, num_turns = null })
  end)

  it("a task skipped before it started: no start, no duration, no attempts", function()
    local r = assert(A.result({ id = "t2", title = "Later", status = "skipped", completed_at = T0,
      error = "skipped before its agent started", inbox = inbox("later", CRITERIA) }, {}))
    follows(r)
    eq(r.name, "later")
    eq(r.started_at, null)
    eq(r.completed_at, "2025-12-01T09:30:00.250Z")
    eq(r.duration_s, null)
    eq(r.attempts, 0)
    eq(r.cost_usd, 0)
    eq(r.tokens, { total = 0, input = null, output = null, cache_read = null, cache_creation = null })
    eq(r.files_touched, {})
    eq(r.priority, null)
    eq(r.parsed_by, "file")
  end)

  it("needs_review: the missing deliverable did not pass", function()
    local t = completed()
    t.status, t.error = "needs_review", "deliverables missing: docs/fix.md"
    t.deliverables_missing = { "docs/fix.md" }
    local r = assert(A.result(t, INFO))
    follows(r)
    eq(r.status, "needs_review")
    eq({ r.success_criteria[2].checked, r.success_criteria[2].passed }, { true, false })
    eq({ r.success_criteria[1].checked, r.success_criteria[1].passed }, { true, true })
  end)

  it("tokens as the session keeps them: a number, or a usage table", function()
    local t = completed()
    t.usage = nil
    eq(A.result(t, INFO).tokens,
      { total = 1500, input = null, output = null, cache_read = null, cache_creation = null })
    t.tokens = { input_tokens = 7, output_tokens = 3 }
    eq(A.result(t, INFO).tokens, { total = 10, input = 7, output = 3, cache_read = null, cache_creation = null })
  end)

  it("a worktree git could not read: the diff's error", function()
    local t = completed()
    t.changes, t.files_changed, t.diff_stat = nil, nil, nil
    t.changes_error = "git: not a repository"
    local r = assert(A.result(t, INFO))
    follows(r)
    eq(r.diff, { files = {}, stat = null, error = "git: not a repository" })
    eq(r.files_touched, { "src/login.lua", "docs/fix.md" })
  end)

  it("a day task without an inbox: its id names it, its acceptance criteria unchecked", function()
    local r = assert(A.result({ id = "task-3", status = "completed", started_at = T0, completed_at = T0 + 1,
      acceptance_criteria = { "It builds" } }, {}))
    follows(r)
    eq(r.name, "task-3")
    eq(r.source_file, null)
    eq(r.success_criteria, { { text = "It builds", done = false, command = null, path = null, checked = false,
      passed = null } })
  end)

  it("odd fields still give a result the schema takes (write does not check it again)", function()
    local nan, inf = 0 / 0, math.huge
    for _, status in ipairs({ "completed", "needs_review", "failed", "skipped", "cancelled", "blocked" }) do
      follows(assert(A.result({ id = 7, status = status, title = 42, type = {}, priority = "urgent",
        started_at = T0 + 10, completed_at = T0, cost_usd = -1, tokens = { input_tokens = nan, output_tokens = -3 },
        attempts = inf, result = "", error = { code = "x" }, claude_session = 5, num_turns = -1,
        files_touched = { "", 3, "a.lua", "a.lua" }, files_changed = "not a list",
        changes = { files = { { path = "" }, { path = "b.lua", added = nan, removed = "2" }, "c.lua" } },
        verify_results = { { cmd = "make", ok = "yes" }, "junk" }, deliverables_missing = { "gone.md" },
        inbox = { name = "odd", file = "", success_criteria = { "plain text", { text = 3, command = "make",
          path = "gone.md", done = "no" } } } }, { summary = { via = "elsewhere", model = 9 }, parsed_by = "x" })))
      follows(assert(A.result({ id = "t", status = status, started_at = -5, completed_at = 0, cost_usd = nan,
        tokens = "many", usage = "none", changes_error = "" }, {})))
    end
  end)

  it("a task that has not finished has none", function()
    local r, err = A.result({ id = "t", status = "running" }, {})
    eq(r, nil)
    ok(tostring(err):find("task t: status running has no result", 1, true), tostring(err))
  end)
end)

local function cfg(dir)
  return { paths = { results_dir = dir .. "/results", summaries_dir = dir .. "/summaries" } }
end

-- INFO for a later version n of the task file
local function version(n)
  local info = { version = n }
  for k, v in pairs(INFO) do info[k] = v end
  return info
end

describe("write", function()
  it("writes the result and the summary, which validate", function()
    local dir = scratch .. "/w1"
    local w = assert(A.write(cfg(dir), completed(), INFO))
    eq(w, { result = dir .. "/results/fix-login_result.json", summary = dir .. "/summaries/fix-login_summary.txt" })
    local r = orch.json.decode(orch.read_file(w.result), { nulls = true })
    eq(r.summary.path, w.summary)
    eq(r.status, "completed")
    ok(orch.read_file(w.result):find('\n  "status": "completed"', 1, true), "pretty JSON")
    eq(orch.read_file(w.summary), "task fix-login 'Fix the login': completed, cost $0.0123, summary by ollama "
      .. "(llama3.2)\n\nThe login works again.\nFiles: src/login.lua\n")
    eq(A.validate(dir .. "/results"), {})
    eq(orch.list_dir(dir .. "/results"), { "fix-login_result.json" }, "no temp file left")
  end)

  it("a later version of the task file (info.version 2, 3...) has its own pair: the first one's stays", function()
    local dir = scratch .. "/w-version"
    local v2 = version(2)
    local alone = assert(A.write(cfg(dir .. "-alone"), completed(), v2))  -- no earlier pair: nothing to keep
    eq(alone.result, dir .. "-alone/results/fix-login_result.json")
    local first = assert(A.write(cfg(dir), completed(), INFO))
    local w = assert(A.write(cfg(dir), completed(), v2))
    eq(w, { result = dir .. "/results/fix-login-2_result.json", summary = dir .. "/summaries/fix-login-2_summary.txt" })
    local r = orch.json.decode(orch.read_file(w.result), { nulls = true })
    eq({ r.name, r.summary.path }, { "fix-login", w.summary })
    ok(orch.file_info(first.result) and orch.file_info(first.summary), "the first version's pair stays")
    eq(A.validate(dir .. "/results"), {})
  end)

  it("a name another task file's result holds is not taken: a later version, a file named like one", function()
    local dir = scratch .. "/w-clash"
    local v2 = version(2)
    assert(A.write(cfg(dir), completed(), INFO))
    local second = assert(A.write(cfg(dir), completed(), v2))
    eq(second.result, dir .. "/results/fix-login-2_result.json")
    local other = completed()  -- fix-login-2.task.md, another task file: fix-login v2's pair stays
    other.id, other.inbox = "other", inbox("fix-login-2", CRITERIA)
    other.inbox.id = "other"
    local w = assert(A.write(cfg(dir), other, INFO))
    eq(w.result, dir .. "/results/fix-login-2.2_result.json")
    eq(orch.json.decode(orch.read_file(second.result)).task_id, "fix-login", "the second version's result stays")
    eq(assert(A.write(cfg(dir), other, INFO)).result, w.result, "its own pair, written again: the same name")
    local rev = dir .. "-rev"  -- the other way round: x-2.task.md first, then x's second version
    local x2 = completed()
    x2.id, x2.inbox = "other", inbox("fix-login-2", CRITERIA)
    x2.inbox.id = "other"
    assert(A.write(cfg(rev), x2, INFO))
    assert(A.write(cfg(rev), completed(), INFO))
    eq(assert(A.write(cfg(rev), completed(), v2)).result, rev .. "/results/fix-login-2.2_result.json")
    eq(orch.json.decode(orch.read_file(rev .. "/results/fix-login-2_result.json")).task_id, "other")
    eq(A.validate(dir .. "/results"), {})
  end)

  it("checks the result against the schema first: one that does not follow it writes nothing", function()
    local dir = scratch .. "/w-schema"
    local real = A.schema
    local strict = {}
    for k, v in pairs(assert(real())) do strict[k] = v end
    strict.properties = {}
    for k, v in pairs(real().properties) do strict.properties[k] = v end
    strict.properties.status = { enum = { "never" } }
    A.schema = function() return strict end
    local w, err = A.write(cfg(dir), completed(), INFO)
    A.schema = real
    eq(w, nil)
    eq(err.code, "schema")
    ok(tostring(err):find("fix-login_result.json: the result does not follow docs/schema/task-result.schema.json: "
      .. "/status", 1, true), tostring(err))
    eq(orch.file_info(dir .. "/results/fix-login_result.json"), nil)
    eq(orch.file_info(dir .. "/summaries/fix-login_summary.txt"), nil)
  end)

  it("writes the model's control bytes in a summary as escapes (the file is read on terminals)", function()
    local dir = scratch .. "/w-esc"
    local info = { summary = { text = "Done.\27[2J\7 Really.\n", via = "ollama", model = "m" } }
    local w = assert(A.write(cfg(dir), completed(), info))
    local text = orch.read_file(w.summary)
    ok(text:find("Done.\\x1b[2J\\x07 Really.\n", 1, true), text)
    ok(not text:find("\27", 1, true), "an ESC byte left")
  end)

  it("both or neither: a result that cannot be written takes the summary with it (an earlier run's too)", function()
    local dir = scratch .. "/w2"
    assert(A.write(cfg(dir), completed(), INFO))  -- an earlier run of the same name
    local c = cfg(dir)
    c.paths.results_dir = dir .. "/results/fix-login_result.json"  -- a file, not a folder
    local w, err = A.write(c, completed(), INFO)
    eq(w, nil)
    ok(tostring(err):find(dir .. "/results/fix-login_result.json/fix-login_result.json: ", 1, true), tostring(err))
    eq(orch.file_info(dir .. "/summaries/fix-login_summary.txt"), nil, "the summary is gone")
    eq(orch.list_dir(dir .. "/summaries"), {})
  end)

  it("a summary that cannot be written: no result either", function()
    local dir = scratch .. "/w3"
    assert(orch.write_file(dir .. "/summaries", "a file"))
    local w, err = A.write(cfg(dir), completed(), INFO)
    eq(w, nil)
    ok(tostring(err):find(dir .. "/summaries/fix-login_summary.txt: ", 1, true), tostring(err))
    eq(orch.file_info(dir .. "/results/fix-login_result.json"), nil)
  end)

  it("writes the longest name it takes (MAX_NAME bytes: NAME_result.json is 255), no temp file left", function()
    local dir = scratch .. "/w5"
    local t = completed()
    t.inbox = inbox(string.rep("n", A.MAX_NAME), CRITERIA)
    local w, err = A.write(cfg(dir), t, INFO)
    ok(w, tostring(err))
    eq(#w.result:match("[^/]+$"), 255)
    eq(A.validate(dir .. "/results"), {})
    eq(orch.list_dir(dir .. "/results"), { string.rep("n", A.MAX_NAME) .. "_result.json" }, "no temp file left")
  end)

  it("a later version of the longest task file name fits: the name cut, its version and a mark of it kept", function()
    local dir = scratch .. "/w-long"
    local inbox_task = require("lib.inbox_task")
    -- the longest name the inbox takes, ending in a two-byte character the cut must not split
    local long = string.rep("n", inbox_task.MAX_NAME - 3) .. "x\195\169"
    local other = string.rep("n", inbox_task.MAX_NAME - 3) .. "y\195\169"  -- starts alike: its own files
    eq(#long, inbox_task.MAX_NAME)
    local function task(name)
      local t = completed()
      t.inbox = inbox(name, CRITERIA)
      return t
    end
    assert(A.write(cfg(dir), task(long), INFO))
    assert(A.write(cfg(dir), task(other), INFO))
    local names = {}
    for _, v in ipairs({ 2, 100, 1000 }) do
      for _, name in ipairs({ long, other }) do
        local w, err = A.write(cfg(dir), task(name), version(v))
        ok(w, tostring(err))
        local file = w.result:match("[^/]+$")
        ok(#file <= 255, #file .. " bytes: " .. file)
        ok(file:sub(-#("-" .. v .. "_result.json")) == "-" .. v .. "_result.json", file)
        ok(not names[file], "two files, one name: " .. file)
        names[file] = true
        ok(orch.file_info(w.summary), w.summary)
        eq(orch.json.decode(orch.read_file(w.result)).name, name)
      end
    end
    -- a clash's ".2" after a version fits too: a result another task file holds under the name
    local t = task(long)
    t.inbox.id = "another"
    local w = assert(A.write(cfg(dir), t, version(100)))
    ok(#w.result:match("[^/]+$") <= 255 and w.result:find("-100.2_result.json", 1, true), w.result)
    eq(A.validate(dir .. "/results"), {})
  end)

  it("fit cuts a name on a UTF-8 boundary, keeping the tail and a mark of the whole name", function()
    eq(A.fit("short", "-2"), "short-2")
    local name = "a" .. string.rep("\195\169", 119) .. "b"  -- 240 bytes: the cut falls inside a character
    local cut = A.fit(name, "-100")
    eq(#cut, 229 + 9 + 4)
    eq(cut, name:sub(1, 229) .. "~" .. orch.sha256(name):sub(1, 8) .. "-100")
    ok(cut:sub(1, 229):find("^a[\195][\169]") and not cut:sub(229, 229):find("[\192-\255]"), "no half character")
  end)

  it("refuses a name that cannot name a file, and an unfinished task", function()
    local t = completed()
    t.inbox.name = "../up"
    local w, err = A.write(cfg(scratch .. "/w4"), t, INFO)
    eq(w, nil)
    ok(tostring(err):find("cannot name an artifact file", 1, true), tostring(err))
    t = completed()
    t.status = "paused"
    w, err = A.write(cfg(scratch .. "/w4"), t, INFO)
    eq(w, nil)
    ok(tostring(err):find("has no result", 1, true), tostring(err))
    eq(orch.file_info(scratch .. "/w4"), nil, "nothing written")
  end)
end)

describe("validate", function()
  it("names each file's violations by pointer, and files that are not JSON", function()
    local dir = scratch .. "/v1"
    local w = assert(A.write(cfg(dir), completed(), INFO))
    local r = orch.json.decode(orch.read_file(w.result), { nulls = true })
    r.tokens.input, r.status, r.extra = "many", "done", true
    r.error = nil
    assert(orch.write_file(dir .. "/results/bad_result.json", orch.json.encode(r)))
    assert(orch.write_file(dir .. "/results/broken_result.json", "{ not json"))
    assert(orch.write_file(dir .. "/results/2025-12-01-report.md", "# not a result"))
    local out, n = A.validate(dir .. "/results")
    eq(n, 3)
    local lines = {}
    for i, v in ipairs(out) do
      lines[i] = v.file:sub(#dir + 10) .. ": " .. (v.pointer or "-") .. ": " .. v.message
    end
    lines[5] = lines[5]:sub(1, 52)  -- (the reason's words: the parser's, without its library tag)
    eq(lines, {
      "bad_result.json: /error: required property missing",
      "bad_result.json: /extra: property not allowed (not in the schema's properties)",
      'bad_result.json: /status: expected one of "completed", "needs_review", "failed", "skipped", "cancelled", '
        .. '"blocked", got "done"',
      "bad_result.json: /tokens/input: expected integer or null, got string",
      "broken_result.json: -: not JSON: parse error at line",
    })
    eq(A.validate(w.result), {}, "one file")
  end)
end)

describe("orch.remove_file", function()
  it("removes a file; a missing one and a folder are errors naming the path", function()
    local p = scratch .. "/rm/a.txt"
    assert(orch.write_file(p, "x"))
    eq(orch.remove_file(p), true)
    eq(orch.file_info(p), nil)
    local r, err = orch.remove_file(p)
    eq(r, nil)
    eq(err.code, "not_found")
    ok(tostring(err):find(p, 1, true), tostring(err))
    r, err = orch.remove_file(scratch .. "/rm")
    eq(r, nil)
    eq(err.code, "io")
    ok(orch.file_info(scratch .. "/rm"), "the folder stays")
  end)
end)
