-- Specs for workflows/lib/tasks_md.lua (the markdown day file, docs/task-file-markdown.md).
local T = require("orch.testing")
local tasks_md = require("lib.tasks_md")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local function strip_lines(doc)
  for _, t in ipairs(doc.tasks) do t.line = nil end
  return doc
end

local EXAMPLE_TASKS = {
  { id = 1, line = 3, title = "Create baptisms migration", type = "database", priority = "high",
    requires_approval = true,
    description = "Create database migration for baptisms table following wedding pattern",
    acceptance_criteria = { "Migration file created in supabase/migrations/", "Table uses plural form (baptisms)",
      "RLS policies created", "Parish scoping included" },
    instruction = "Create a database migration for the baptisms table. Follow the exact pattern used in the "
      .. "weddings table migration. Include all necessary columns, RLS policies, and parish scoping. "
      .. "The migration file should be named with today's timestamp." },
  { id = 2, line = 19, title = "Create baptisms server actions", type = "backend", priority = "high",
    requires_approval = true, description = "Create server actions for CRUD operations on baptisms",
    acceptance_criteria = { "File created at src/app/(main)/baptisms/actions.ts",
      "Implements create, update, delete, get, list", "Uses WithRelations pattern",
      "Includes proper error handling" },
    instruction = "Create server actions file for the baptisms module at src/app/(main)/baptisms/actions.ts. "
      .. "Follow the exact pattern from weddings/actions.ts. Include all CRUD operations and the "
      .. "WithRelations interface for fetching baptisms with related data." },
  { id = 3, line = 35, title = "Create baptisms UI - List page", type = "frontend", priority = "high",
    requires_approval = false, description = "Create the main list page for baptisms module",
    acceptance_criteria = { "page.tsx created (server component)", "baptisms-list-client.tsx created",
      "Search and filter functionality", "Empty state with create button", "Uses ModuleListPanel" },
    instruction = "Create the baptisms list page following the wedding module pattern. Create both page.tsx "
      .. "(server) and baptisms-list-client.tsx (client) files. Implement search, filtering, and the "
      .. "entity grid display." },
}

describe("tasks_md.parse: the example day", function()
  local text = T.read_fixture("example-day.md")

  it("yields the date, the title and three tasks with every field", function()
    local doc, err = tasks_md.parse(text, "example-day.md")
    eq(err, nil)
    eq(doc, { title = "Tasks - 2025-11-20", date = "2025-11-20", tasks = EXAMPLE_TASKS })
  end)

  it("renders back byte for byte", function()
    eq(tasks_md.render(assert(tasks_md.parse(text, "example"))), text)
  end)

  it("accepts CRLF line endings and a UTF-8 BOM", function()
    local crlf = "\239\187\191" .. text:gsub("\n", "\r\n")
    eq(assert(tasks_md.parse(crlf, "crlf.md")), assert(tasks_md.parse(text, "lf.md")))
  end)

  it("loads as a pure module (no io/os/debug, no globals)", function()
    local pure = T.load_pure("workflows/lib/tasks_md.lua")
    eq(assert(pure.parse(text, "example")).tasks, EXAMPLE_TASKS)
  end)
end)

describe("tasks_md.parse: format details", function()
  local doc = assert(tasks_md.parse(T.read_fixture("features.md"), "features.md"))
  local t1, t2 = doc.tasks[1], doc.tasks[2]

  it("takes any H1 as the title, a date only from '# Tasks - YYYY-MM-DD'", function()
    eq(doc.title, "Sprint tasks")
    eq(doc.date, nil)
  end)

  it("matches field names case-insensitively, lower-cases type and priority, reads yes as true", function()
    eq({ t1.type, t1.priority, t1.requires_approval }, { "documentation", "medium", true })
  end)

  it("continues a description over lines, keeping its blank lines", function()
    eq(t1.description, "First line of the description\ncontinues here.\n\nAnd keeps a paragraph.")
  end)

  it("reads -, * and + items and joins indented continuation lines", function()
    eq(t1.acceptance_criteria, { "README explains setup",
      "Covers the config file, including the approval settings", "Mentions `orch-host doctor`" })
  end)

  it("keeps an instruction's inline start, bold notes, blank lines and code fences intact", function()
    eq(t1.instruction, table.concat({ "Update README.md.",
      "**Note:** this bold line is part of the instruction.", "", "```markdown", "---",
      "## Task 9: not a task, inside a fence", "**Type:** not a field either", "```", "",
      "Keep this paragraph after a blank line." }, "\n"))
  end)

  it("accepts **Name**: and ~~~ fences, and defaults missing fields", function()
    eq(t2, { id = 2, title = "Minimal", line = 32, requires_approval = false, acceptance_criteria = {},
      instruction = "~~~\nonly a fenced block\n---\n~~~" })
  end)

  it("ends an instruction at a known field line", function()
    local d = assert(tasks_md.parse("## Task 5: Order\n**Claude Instruction:**\nrun\n**Type:** ops\n", "o.md"))
    eq({ d.tasks[1].instruction, d.tasks[1].type }, { "run", "ops" })
  end)

  it("round-trips through render (except line numbers)", function()
    local again = assert(tasks_md.parse(tasks_md.render(doc), "again.md"))
    eq(strip_lines(again), strip_lines(assert(tasks_md.parse(T.read_fixture("features.md"), "f"))))
  end)

  it("renders a hand-built doc (create-sample) that parses back to the same tasks", function()
    local sample = { date = "2025-11-21", tasks = { { id = 1, title = "Sample", type = "testing",
      priority = "low", requires_approval = false, acceptance_criteria = { "a", "b" },
      description = "Two\nlines", instruction = "Say hi.\n\n```sh\necho hi\n```" } } }
    local back = assert(tasks_md.parse(tasks_md.render(sample), "sample.md"))
    eq(back.date, "2025-11-21")
    eq(strip_lines(back).tasks, sample.tasks)
  end)

  it("reads **Depends On:** as task numbers (strings), comma or space separated, and renders it back", function()
    local text = "## Task 1: A\n**Claude Instruction:**\na\n\n---\n\n"
      .. "## Task 2: B\n**Claude Instruction:**\nb\n\n---\n\n"
      .. "## Task 3: C\n**Depends On:** 1, 02  2,1\n**Claude Instruction:**\nc\n"
    local d = assert(tasks_md.parse(text, "deps.md"))
    eq(d.tasks[1].depends_on, nil)
    eq(d.tasks[3].depends_on, { "1", "2", "2", "1" })
    local out = tasks_md.render(d)
    ok(out:find("\n%*%*Depends On:%*%* 1, 2, 2, 1\n"), out)
    eq(strip_lines(assert(tasks_md.parse(out, "again.md"))), strip_lines(d))
    local _, err = tasks_md.parse("## Task 1: A\n**Depends On:** ,\n**Claude Instruction:**\na\n", "e.md")
    eq({ err.code, err.line }, { "empty_field", 2 })
  end)

  it("reads Module, Complexity, Branch, Context Files, Deliverables and repeated Acceptance Commands, "
    .. "and renders them back", function()
    local text = "## Task 1: A\n**Module:** Baptisms\n**Complexity:** High\n**Branch:** feature/a\n"
      .. "**Context Files:**\n- CLAUDE.md\n- docs/x.md\n**Deliverables:** out.ts\n- b.ts\n"
      .. "**Acceptance Command:** make test\n**Acceptance Command:** npm run lint\n**Claude Instruction:**\ndo\n"
    local lines = {}
    local d = assert(tasks_md.parse(text, "x.md", { field_lines = lines }))
    local t = d.tasks[1]
    eq({ t.module, t.complexity, t.branch, t.context_files, t.deliverables, t.verify },
      { "baptisms", "high", "feature/a", { "CLAUDE.md", "docs/x.md" }, { "out.ts", "b.ts" }, { "make test",
        "npm run lint" } })
    eq(lines[t], { module = 2, complexity = 3, branch = 4, context_files = 5, deliverables = 8, verify = 10,
      instruction = 12 })
    eq(strip_lines(assert(tasks_md.parse(tasks_md.render(d), "again.md"))), strip_lines(d))
    local _, err = tasks_md.parse("## Task 1: A\n**Complexity:** huge\n**Claude Instruction:**\na\n", "c.md")
    eq({ err.code, err.line }, { "bad_complexity", 2 })
    local _, err2 = tasks_md.parse("## Task 1: A\n**Deliverables:**\n**Claude Instruction:**\na\n", "e.md")
    eq({ err2.code, err2.line, err2.message:match("%*%*Deliverables:%*%* has no") ~= nil }, { "empty_field", 2, true })
  end)

  it("refuses to render a multi-line title", function()
    T.raises(function() tasks_md.render({ tasks = { { id = 1, title = "a\nb", instruction = "x" } } }) end,
      "single line")
  end)
end)

-- Each bad fixture: the error code, the line, and a message naming file:line and the task.
local BAD = {
  { "bad-missing-title.md", "missing_title", 13, "task 3: missing title" },
  { "bad-unknown-field.md", "unknown_field", 5, "task 1 'Has an odd field': unknown field **Owner:**" },
  { "bad-empty-instruction.md", "empty_field", 3, "task 1 'Empty instruction': empty **Claude Instruction:**" },
  { "bad-missing-instruction.md", "missing_instruction", 11,
    "task 2 'No instruction': missing **Claude Instruction:**" },
  { "bad-duplicate-id.md", "duplicate_id", 11, "duplicate task number 1 (already used at bad-duplicate-id.md:1)" },
  { "bad-utf8.md", "bad_utf8", 7, "invalid UTF-8 (byte 0xFF at column 8)" },
  { "bad-nonnumeric-id.md", "bad_id", 3, 'task number "two" is not a whole number' },
  { "bad-no-tasks.md", "no_tasks", 5, "no tasks by end of file" },
  { "bad-priority.md", "bad_priority", 3,
    "task 1 'Urgent thing': invalid Priority \"urgent\" (expected high, medium or low)" },
  { "bad-priority-template.md", "bad_priority", 5, "invalid Priority \"high | medium | low\"" },
  { "bad-requires-approval.md", "bad_bool", 2, "task 1 'Unsure': invalid Requires Approval \"maybe\"" },
  { "bad-unclosed-fence.md", "unclosed_fence", 4,
    "task 1 'Fence never closes': code fence opened here is never closed" },
  { "bad-heading.md", "bad_heading", 11, "malformed task heading \"## Task 4 Deploy to staging\"" },
  { "bad-text-between.md", "unexpected_text", 10, "task 1 'Good task': unexpected text after the task's '---'" },
  { "bad-duplicate-field.md", "duplicate_field", 3, "task 1 'Typed twice': **Type:** given twice (first at line 2)" },
  { "bad-empty-criteria.md", "empty_field", 2,
    "task 1 'No criteria items': **Acceptance Criteria:** has no '- item' lines" },
  { "bad-field-outside-task.md", "unexpected_text", 3, "field outside a task" },
  { "bad-unexpected-text.md", "unexpected_text", 3,
    "task 1 'Prose among fields': unexpected text \"This line is not a field.\"" },
  { "bad-date.md", "bad_date", 1, "invalid date \"2025-13-45\"" },
  { "bad-depends-on.md", "bad_depends_on", 8, "task 2 'Second': invalid Depends On \"task-x\"" },
}

describe("tasks_md.parse: bad files fail with file:line and the task", function()
  for _, case in ipairs(BAD) do
    local name, code, line, text = case[1], case[2], case[3], case[4]
    it(name, function()
      local doc, err = tasks_md.parse(T.read_fixture(name), name)
      eq(doc, nil)
      eq({ code = err.code, file = err.file, line = err.line }, { code = code, file = name, line = line })
      local prefix = name .. ":" .. line .. ": "
      eq(err.message:sub(1, #prefix), prefix)
      ok(err.message:find(text, 1, true), "message was: " .. err.message)
      eq(tostring(err), err.message)
    end)
  end
end)

describe("tasks_md.parse: UTF-8 validation", function()
  local head = "## Task 1: T\n**Claude Instruction:**\n"
  local cases = { { "overlong '/'", "\192\175" }, { "surrogate half", "\237\160\128" },
    { "above U+10FFFF", "\244\144\128\128" }, { "lone continuation byte", "\128" },
    { "truncated sequence", "\226\130" }, { "lead byte F5", "\245\128\128\128" },
    { "5-byte lead", "\248\136\128\128\128" } }
  for _, c in ipairs(cases) do
    it("rejects " .. c[1] .. " and names the line", function()
      local _, err = tasks_md.parse(head .. "ok\nbad " .. c[2] .. " here\n", "u.md")
      eq({ err.code, err.line }, { "bad_utf8", 4 })
      ok(err.message:find("^u%.md:4: invalid UTF%-8"), err.message)
    end)
  end
  it("accepts 2-, 3- and 4-byte characters", function()
    local doc = assert(tasks_md.parse("## Task 1: Café ☕ 🤖\n**Claude Instruction:**\nÜber 𝄞\n", "ok.md"))
    eq(doc.tasks[1].title, "Café ☕ 🤖")
  end)
end)

describe("tasks_md.parse: size and speed", function()
  local MB = 1024 * 1024
  local function big(unit, bytes)
    local parts = {}
    for i = 1, math.ceil(bytes / #unit) do parts[i] = unit end
    return table.concat(parts)
  end

  it("refuses input over opts.max_bytes (default 5 MB), naming the file and size", function()
    local text = big("x\n", 5 * MB + 2)
    local _, err = tasks_md.parse(text, "huge.md")
    eq(err.code, "too_large")
    eq(err.message, "huge.md: file is " .. #text .. " bytes, over the limit of 5242880 bytes (opts.max_bytes)")
    local _, err2 = tasks_md.parse("## Task 1: t\n", "small.md", { max_bytes = 4 })
    ok(err2.message:find("^small%.md: file is 13 bytes, over the limit of 4 bytes"), err2.message)
  end)

  it("parses a 10 MB file of many tasks", function()
    local parts, n = {}, 0
    local block = "**Type:** backend\n**Priority:** low\n**Description:** d\n**Acceptance Criteria:**\n- a\n\n"
      .. "**Claude Instruction:**\nDo it.\n\n```\ncode\n```\n\n---\n\n"
    local size = 0
    while size < 10 * MB do
      n = n + 1
      parts[n] = "## Task " .. n .. ": Task number " .. n .. "\n" .. block
      size = size + #parts[n]
    end
    local doc, err = tasks_md.parse(table.concat(parts), "many.md", { max_bytes = 20 * MB })
    eq(err, nil)
    eq(#doc.tasks, n)
    eq(doc.tasks[n].id, n)
    eq(doc.tasks[n].instruction, "Do it.\n\n```\ncode\n```")
  end)

  it("fails fast on 10 MB of binary garbage, naming the line", function()
    local seed, bytes = 12345, {}
    for i = 1, 4096 do
      seed = (seed * 1103515245 + 12345) % 2147483648
      bytes[i] = string.char(seed % 256)
    end
    local garbage = big(table.concat(bytes), 10 * MB)
    local _, err = tasks_md.parse(garbage, "garbage.bin", { max_bytes = 20 * MB })
    eq(err.code, "bad_utf8")
    ok(err.message:find("^garbage%.bin:%d+: invalid UTF%-8"), err.message)
  end)

  it("reports 'no tasks' at the last line of 10 MB of prose", function()
    local unit = "lorem ipsum dolor sit amet\n"
    local text = big(unit, 10 * MB)
    local _, err = tasks_md.parse(text, "prose.md", { max_bytes = 20 * MB })
    eq({ err.code, err.line }, { "no_tasks", #text / #unit })
  end)

  it("stops at the first stray line after a heading", function()
    local text = "## Task 1: t\n" .. big("zzzzzzzz\n", 10 * MB)
    local _, err = tasks_md.parse(text, "z.md", { max_bytes = 20 * MB })
    eq({ err.code, err.line }, { "unexpected_text", 2 })
  end)

  it("stays linear on megabyte-long blank runs inside a line", function()
    local pad = string.rep(" ", 2 * MB)
    local doc = assert(tasks_md.parse("## Task 1:" .. pad .. "Title" .. pad .. "\n**Claude Instruction:**\n"
      .. "a" .. pad .. "b" .. pad .. "\n", "pad.md", { max_bytes = 20 * MB }))
    eq(doc.tasks[1].title, "Title")
    eq(#doc.tasks[1].instruction, 2 * MB + 2)
  end)

  it("rejects task numbers too long to be exact", function()
    local _, err = tasks_md.parse("## Task 12345678901: Big\n**Claude Instruction:**\nx\n", "big-id.md")
    eq({ err.code, err.line }, { "bad_id", 1 })
    ok(err.message:find('^big%-id%.md:1: task number "12345678901" is not a whole number'), err.message)
  end)

  it("returns bad_input for a non-string", function()
    local _, err = tasks_md.parse(nil, "nil.md")
    eq(err.code, "bad_input")
  end)
end)
