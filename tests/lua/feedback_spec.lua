-- Specs for workflows/lib/feedback.lua and lib/instructions_md.lua: the daily
-- feedback file, the standing instructions it leaves, and their way into the
-- next day's prompts (docs/feedback.md).
local T = require("orch.testing")
local feedback = require("lib.feedback")
local imd = require("lib.instructions_md")
local prompt = require("lib.prompt")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local DAY = T.read_fixture("feedback-day.md")
local F = "feedback/2025-11-18.md"

describe("feedback.parse: a good file", function()
  local doc, err = feedback.parse(DAY, F)

  it("reads the title, the date and every section", function()
    eq(err, nil)
    eq(doc, { file = F, title = "Feedback - 2025-11-18", date = "2025-11-18", sections = {
      { id = "task-001", title = "Documentation Task", line = 3, rating = 5,
        went_well = { "Perfect structure", "Great examples" }, to_improve = {}, actions = {} },
      { id = "task-002", title = "Pagination Implementation", line = 9, rating = 3, went_well = {},
        to_improve = { "Forgot to write tests", "Didn't follow PAGINATION.md exactly" },
        actions = { { text = "Make testing mandatory in agent instructions", line = 15 },
          { text = "Add PAGINATION.md to the context of pagination tasks", scope = "type", value = "backend",
            line = 16 } } },
      { id = "3", title = "Auth login", line = 18, rating = 2, went_well = {},
        to_improve = { "Skipped the error paths" },
        actions = { { text = "always run the auth tests", scope = "module", value = "auth", line = 21 },
          { text = "re-read the login spec first", scope = "task", value = "3", line = 22 } } },
      { title = "Orchestrator Performance", line = 24, went_well = {}, to_improve = {},
        actions = { { text = "Keep replies short.", scope = "global", line = 27 } } },
      { title = "Tomorrow's Adjustments", line = 29, went_well = {}, to_improve = {}, actions = {} },
    } })
  end)

  it("accepts CRLF line endings and a UTF-8 BOM", function()
    local crlf = "\239\187\191" .. DAY:gsub("\n", "\r\n")
    eq(assert(feedback.parse(crlf, F)), doc)
  end)

  it("takes an empty file, and Actions before any heading", function()
    eq(assert(feedback.parse("", F)).sections, {})
    eq(assert(feedback.parse("Action: be brief\n", F)).sections,
      { { line = 1, went_well = {}, to_improve = {}, actions = { { text = "be brief", line = 1 } } } })
  end)

  it("loads as a pure module (no io/os/debug, no globals)", function()
    local pure = T.load_pure("workflows/lib/feedback.lua")
    eq(assert(pure.parse(DAY, F)), doc)
  end)
end)

describe("feedback.parse: bad input names file:line and the field", function()
  local cases = {
    { "rating 0", "## t1: A\nRating: 0/5\n", "bad_rating", 2, "Rating" },
    { "rating 6", "## t1: A\nRating: 6/5\n", "bad_rating", 2, "Rating" },
    { "rating x", "## t1: A\n\nRating: x/5\n", "bad_rating", 3, "Rating" },
    { "rating without /5", "## t1: A\nRating: 4\n", "bad_rating", 2, "Rating" },
    { "rating out of 10", "## t1: A\nRating: 4/10\n", "bad_rating", 2, "Rating" },
    { "rating twice", "## t1: A\nRating: 4/5\nRating: 3/5\n", "duplicate_field", 3, "Rating" },
    { "rating outside a task", "## Notes\nRating: 4/5\n", "misplaced_rating", 2, "Rating" },
    { "rating before any heading", "Rating: 4/5\n", "misplaced_rating", 1, "Rating" },
    { "'## ' without text", "# F\n## \n", "bad_heading", 2, "heading" },
    { "'## ' without id", "## : Title\n", "bad_id", 1, "task id" },
    { "an id with spaces", "## two words: Title\n", "bad_id", 1, "task id" },
    { "a duplicate id", "## t1: A\n## t1: B\n", "duplicate_id", 2, "task id" },
    { "an unknown scope", "## t1: A\nAction (team: x): do it\n", "unknown_scope", 2, "Action" },
    { "a scope without a name", "Action (module): do it\n", "unknown_scope", 1, "Action" },
    { "a scope without ')'", "Action (global: do it\n", "bad_action", 1, "Action" },
    { "no ':' after the scope", "Action (global) do it\n", "bad_action", 1, "Action" },
    { "an empty Action", "Action:   \n", "empty_field", 1, "Action" },
    { "an empty ✅", "## t1: A\n✅\n", "empty_field", 2, "\226\156\133" },
    { "a bad date in the title", "# Feedback - 2025-13-01\n", "bad_date", 1, "title" },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      local doc, err = feedback.parse(c[2], F)
      eq(doc, nil)
      eq({ err.code, err.file, err.line, err.field }, { c[3], F, c[4], c[5] })
      ok(tostring(err):find(F .. ":" .. c[4] .. ": " .. c[5] .. ": ", 1, true), tostring(err))
    end)
  end

  it("invalid UTF-8, with its line", function()
    local _, err = feedback.parse("## t1: A\n\226\156 broken\n", F)
    eq({ err.code, err.line }, { "bad_utf8", 2 })
    ok(tostring(err):find(F .. ":2:", 1, true), tostring(err))
  end)

  it("a 10 MB file, refused before it is read", function()
    local _, err = feedback.parse(string.rep("✅ fine\n", 10 * 1024 * 1024 / 10), F)
    eq(err.code, "too_large")
    ok(tostring(err):find(F, 1, true))
  end)

  it("a long run of one character stays linear (no lazy patterns)", function()
    local long = string.rep(" ", 200000)
    eq(#assert(feedback.parse("Action:" .. long .. "x" .. long .. "\nRating" .. long, F)).sections, 1)
    local _, err = feedback.parse("## t: A\nRating: " .. string.rep("1", 200000), F)
    eq(err.code, "bad_rating")
  end)
end)

describe("instructions file: parse and render", function()
  local EDITED = T.read_fixture("instructions-edited.md")
  local src = "feedback/instructions.md"

  it("reads scopes, items, continuations, sources and the absorbed dates", function()
    local doc = assert(imd.parse(EDITED, src))
    eq(doc.absorbed, { "2025-11-17", "2025-11-18" })
    eq(doc.items, {
      { text = "Always run the auth tests before saying you are done", scope = "module", value = "auth",
        source = "feedback/2025-11-18.md:21", date = "2025-11-18" },
      { text = "Make testing mandatory in agent instructions", scope = "global",
        source = "feedback/2025-11-18.md:15", date = "2025-11-18" },
      { text = "Written by hand: no source", scope = "global" },
      { text = "Add PAGINATION.md to the context", scope = "type", value = "backend",
        source = "feedback/2025-11-18.md:16" },
    })
  end)

  it("renders grouped by scope, keeps the free text above the first heading, and reads back the same", function()
    local doc = assert(imd.parse(EDITED, src))
    local text = imd.render(doc)
    eq(text, table.concat({ "# Standing instructions", "", "My own notes about these, kept when the file is rewritten.",
      "Absorbed: 2025-11-17, 2025-11-18", "", "## Global", "- Make testing mandatory in agent instructions",
      "  from: feedback/2025-11-18.md:15 (2025-11-18)", "- Written by hand: no source", "", "## Module: auth",
      "- Always run the auth tests before saying you are done", "  from: feedback/2025-11-18.md:21 (2025-11-18)",
      "", "## Type: backend", "- Add PAGINATION.md to the context", "  from: feedback/2025-11-18.md:16", "" }, "\n"))
    local again = assert(imd.parse(text, src))
    eq(imd.render(again), text)
    eq(assert(imd.parse(imd.render(again), src)), again)
  end)

  it("a new file renders the default header and reads back equal", function()
    local new = imd.new()
    eq(assert(imd.parse(imd.render(new), src)), new)
    ok(imd.render(new):find("\nAbsorbed:\n", 1, true), "no trailing space on an empty Absorbed line")
  end)

  local bad = {
    { "an unknown scope heading", "# I\n## Team: x\n- a\n", "unknown_scope", 2, "scope" },
    { "free text in a scope", "## Global\n- a\nstray words\n", "unexpected_text", 3, "instruction" },
    { "an empty item", "## Global\n-  \n", "empty_field", 2, "instruction" },
    { "a bad absorbed date", "Absorbed: 2025-11-18, yesterday\n", "bad_date", 1, "Absorbed" },
    { "two Absorbed lines", "Absorbed:\nAbsorbed: 2025-11-18\n", "duplicate_field", 2, "Absorbed" },
    { "two sources", "## Global\n- a\n  from: x:1\n  from: y:2\n", "duplicate_field", 4, "from" },
    { "an empty source", "## Global\n- a\n  from: (2025-11-18)\n", "empty_field", 3, "from" },
  }
  for _, c in ipairs(bad) do
    it("refuses " .. c[1], function()
      local doc, err = imd.parse(c[2], src)
      eq(doc, nil)
      eq({ err.code, err.file, err.line, err.field }, { c[3], src, c[4], c[5] })
      ok(tostring(err):find(src .. ":" .. c[4] .. ": " .. c[5] .. ": ", 1, true), tostring(err))
    end)
  end

  it("reads a long Absorbed line in one pass (sorted once, each date once)", function()
    local dates = {}
    for i = 0, 29999 do -- newest first
      dates[30000 - i] = string.format("%04d-%02d-%02d", 1000 + math.floor(i / 336), math.floor(i % 336 / 28) + 1,
        i % 28 + 1)
    end
    local doc = assert(imd.parse("Absorbed: " .. table.concat(dates, ", ") .. ", " .. dates[1] .. "\n", src))
    eq(#doc.absorbed, 30000)
    ok(doc.absorbed[1] < doc.absorbed[30000])
  end)

  it("refuses invalid UTF-8", function()
    local _, err = imd.parse("## Global\n- caf\233\n", src)
    eq({ err.code, err.line }, { "bad_utf8", 2 })
  end)
end)

describe("feedback.absorb", function()
  local TASKS = { { id = "task-001", module = "docs" }, { id = "task-002", module = "Api", type = "backend" },
    { id = 3, type = "frontend" } }

  it("turns Actions into instructions: the named scope, else the task's module, else global; "
    .. "with file:line and date", function()
    local instr, added = feedback.absorb(imd.new(), assert(feedback.parse(DAY, F)), "2025-11-18", TASKS)
    eq(added, 5)
    eq(instr.absorbed, { "2025-11-18" })
    eq(instr.items, {
      { text = "Make testing mandatory in agent instructions", scope = "module", value = "api",
        source = F .. ":15", date = "2025-11-18" },
      { text = "Add PAGINATION.md to the context of pagination tasks", scope = "type", value = "backend",
        source = F .. ":16", date = "2025-11-18" },
      { text = "always run the auth tests", scope = "module", value = "auth", source = F .. ":21",
        date = "2025-11-18" },
      { text = "re-read the login spec first", scope = "task", value = "3", source = F .. ":22", date = "2025-11-18" },
      { text = "Keep replies short.", scope = "global", source = F .. ":27", date = "2025-11-18" },
    })
  end)

  it("uses the task's type when it has no module, and global when the task is unknown", function()
    local doc = assert(feedback.parse("## 3: A\nAction: one\n## task-9: B\nAction: two\n", F))
    local instr = feedback.absorb(imd.new(), doc, "2025-11-18", TASKS)
    eq({ instr.items[1].scope, instr.items[1].value, instr.items[2].scope, instr.items[2].value },
      { "type", "frontend", "global", nil })
  end)

  it("adds nothing twice (case, spacing and a final '.' aside), and marks the date once", function()
    local instr = feedback.absorb(imd.new(), assert(feedback.parse(DAY, F)), "2025-11-18", TASKS)
    local doc = assert(feedback.parse("Action (global): keep   REPLIES short\nAction: Keep replies short.\n", F))
    local _, added = feedback.absorb(instr, doc, "2025-11-18", TASKS)
    eq(added, 0)
    eq(#instr.items, 5)
    eq(instr.absorbed, { "2025-11-18" })
  end)
end)

describe("feedback.applicable and the prompt", function()
  local instr = assert(imd.parse(table.concat({ "## Global", "- g1", "## Module: auth", "- m-auth",
    "## Type: backend", "- t-backend", "## Type: frontend", "- t-frontend", "## Task: 7", "- task-7", "- g1", "" },
    "\n"), "i.md"))
  local function texts(list) local out = {} for i, x in ipairs(list) do out[i] = x.text end return out end

  it("gives global, the task's module, type and id, each once", function()
    eq(texts(feedback.applicable(instr, { id = 7, module = "Auth", type = "backend" })),
      { "g1", "m-auth", "t-backend", "task-7" })
    eq(texts(feedback.applicable(instr, { id = "x", type = "frontend" })), { "g1", "t-frontend" })
    eq(texts(feedback.applicable(instr, { id = "x", type = "auth" })), { "g1", "m-auth" })
    eq(texts(feedback.applicable(instr, { id = 8 })), { "g1" })
  end)

  it("adds them to the prompt and records them on the task", function()
    local t = { id = 7, type = "backend", instruction = "Do the thing." }
    local p = prompt.for_task(t, { instructions = instr })
    ok(p:find("Standing instructions from earlier feedback:\n- g1\n- t-backend\n- task-7\n", 1, true), p)
    ok(p:find(prompt.RULES, 1, true))
    eq(t.instructions_applied, { "g1", "t-backend", "task-7" })
  end)

  it("leaves the prompt as it was without instructions, or with none that apply", function()
    local t = { id = 1, instruction = "Do the thing." }
    local plain = prompt.for_task(t)
    eq(t.instructions_applied, nil)
    eq(prompt.for_task(t, { instructions = imd.new() }), plain)
    eq(t.instructions_applied, {})
  end)
end)

describe("feedback.for_day: the files", function()
  local dir = (os.getenv("ORCH_LOGS_DIR") or "logs") .. "/feedback_spec-" .. orch.pid
  local cfg = { paths = { feedback_dir = dir, tasks_dir = dir .. "/tasks" } }
  assert(orch.make_dir(dir .. "/tasks"))
  local path = dir .. "/instructions.md"

  it("with no feedback folder, gives empty instructions and writes nothing", function()
    local instr = assert(feedback.for_day({ paths = { feedback_dir = dir .. "/none" } }, "2025-11-19"))
    eq(instr.items, {})
    eq(orch.file_info(dir .. "/none"), nil)
  end)

  it("absorbs each earlier file once, not today's, and writes the file", function()
    assert(orch.write_file(dir .. "/2025-11-17.md", "## Task 1: A\nAction: check the schema\n"))
    assert(orch.write_file(dir .. "/2025-11-18.md", DAY))
    assert(orch.write_file(dir .. "/2025-11-19.md", "Action: from today, not yet\n"))
    assert(orch.write_file(dir .. "/notes.md", "Action: not a dated file\n"))
    assert(orch.write_file(dir .. "/tasks/2025-11-17.md",
      "## Task 1: A\n**Type:** database\n\n**Claude Instruction:**\nx\n"))
    local instr = assert(feedback.for_day(cfg, "2025-11-19"))
    eq(instr.absorbed, { "2025-11-17", "2025-11-18" })
    eq({ instr.items[1].text, instr.items[1].scope, instr.items[1].value, instr.items[1].source },
      { "check the schema", "type", "database", dir .. "/2025-11-17.md:2" })
    eq(#instr.items, 6)
    local on_disk = assert(imd.parse(assert(orch.read_file(path)), path))
    eq(on_disk.absorbed, instr.absorbed)
    eq(#on_disk.items, 6)
  end)

  it("keeps the user's edits and does not absorb a file again", function()
    local text = assert(orch.read_file(path))
    text = text:gsub("%- check the schema\n[^\n]*\n", "")  -- the user deletes one
    assert(orch.write_file(path, text))
    local instr = assert(feedback.for_day(cfg, "2025-11-20"))
    eq(instr.absorbed, { "2025-11-17", "2025-11-18", "2025-11-19" })
    eq(#instr.items, 6) -- 5 left + "from today, not yet", now yesterday's
    for _, x in ipairs(instr.items) do ok(x.text ~= "check the schema", "a deleted instruction came back") end
  end)

  it("leaves out a bad feedback file with its file:line; the rest apply; fixed, it is read then", function()
    local items = #assert(feedback.for_day(cfg, "2025-11-20", { write = false })).items
    assert(orch.write_file(dir .. "/2025-11-20.md", "## t1: A\nRating: 9/5\n"))
    assert(orch.write_file(dir .. "/2025-11-21.md", "## t1: A\nAction: global: keep the logs short\n"))
    local instr = assert(feedback.for_day(cfg, "2025-11-22"))
    eq(#instr.unread, 1)
    ok(instr.unread[1].error:find(dir .. "/2025-11-20.md:2: Rating:", 1, true), instr.unread[1].error)
    eq(#instr.items, items + 1)
    eq(instr.absorbed[#instr.absorbed], "2025-11-21")
    for _, d in ipairs(instr.absorbed) do ok(d ~= "2025-11-20", "the bad file was absorbed") end
    assert(orch.write_file(dir .. "/2025-11-20.md", "## t1: A\nRating: 4/5\nAction: global: say why\n"))
    local fixed = assert(feedback.for_day(cfg, "2025-11-22"))
    eq(fixed.unread, nil)
    eq(#fixed.items, items + 2)
  end)

  it("finds a plain Action's task in a YAML or JSON day file of that date", function()
    local d2 = dir .. "/formats"
    local c2 = { paths = { feedback_dir = d2, tasks_dir = d2 .. "/tasks" } }
    assert(orch.make_dir(d2 .. "/tasks"))
    assert(orch.write_file(d2 .. "/tasks/2026-03-05.yaml", "date: 2026-03-05\ntasks:\n"
      .. "  - {id: api-1, name: api work, module: api, description: the api}\n"))
    assert(orch.write_file(d2 .. "/tasks/2026-03-06.json",
      '{"tasks": [{"id": "ui-1", "name": "ui", "type": "frontend", "prompt": "the ui"}]}'))
    assert(orch.write_file(d2 .. "/2026-03-05.md", "## api-1: api work\nAction: Document every new endpoint\n"))
    assert(orch.write_file(d2 .. "/2026-03-06.md", "## ui-1: ui\nAction: Check the contrast\n"))
    local instr = assert(feedback.for_day(c2, "2026-03-07", { write = false }))
    eq({ instr.items[1].scope, instr.items[1].value }, { "module", "api" })
    eq({ instr.items[2].scope, instr.items[2].value }, { "type", "frontend" })
  end)

  it("finds a plain Action's task in any session of that day, though a newer one ran another file", function()
    -- a server's day: a team day's list (no date: its day is the day it started), then a list without that task
    local d3 = dir .. "/sessions"
    local c3 = { paths = { feedback_dir = d3, tasks_dir = d3 .. "/tasks" } }
    assert(orch.make_dir(d3 .. "/tasks"))
    local S = require("lib.session")
    local today = os.date("%Y-%m-%d", math.floor(orch.now()))
    local function session(name, text)
      local file = d3 .. "/" .. name
      assert(orch.write_file(file, text))
      S.set_status(S.new(assert(require("lib.tasks").load(file)), { task_file = file }), "completed", {})
    end
    session("team.json", '{"tasks": [{"id": "srv-1", "name": "bill", "module": "billing", "prompt": "p"}]}')
    session("later.json", '{"date": "' .. today .. '", "tasks": [{"id": "z-9", "name": "z", "prompt": "p"}]}')
    assert(orch.write_file(d3 .. "/" .. today .. ".md", "## srv-1: bill\nAction: Round every amount\n"))
    local instr = assert(feedback.for_day(c3, "9999-12-31", { write = false }))
    eq({ instr.items[1].text, instr.items[1].scope, instr.items[1].value },
      { "Round every amount", "module", "billing" })
  end)

  it("refuses a date that is not YYYY-MM-DD", function()
    local _, err = feedback.for_day(cfg, "tomorrow")
    eq(err.code, "bad_date")
  end)
end)

describe("feedback/example.md", function()
  it("parses (for_day reads only dated names: notes.md above)", function()
    local doc = assert(feedback.parse(assert(T.read_file("feedback/example.md")), "feedback/example.md"))
    eq(#doc.sections, 3)
    eq(doc.date, nil)
  end)
end)
