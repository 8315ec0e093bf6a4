-- Specs for orch.yaml.decode (host/lua/api_yaml.cpp) and workflows/lib/tasks_yaml.lua
-- (the YAML day file, docs/task-file-yaml.md).
local T = require("orch.testing")
local tasks_yaml = require("lib.tasks_yaml")
local tasks = require("lib.tasks")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

describe("orch.yaml.decode", function()
  it("decodes mappings, sequences (as arrays), scalars by the core schema, nulls as orch.json.null", function()
    local v = assert(orch.yaml.decode("a: 1\nb: [x, ~]\nc:\nd: yes\ne: 2026-12-01\nf: {g: true}\ne2: []\n"))
    eq({ v.a, v.b[1], v.b[2], v.c, v.d, v.e, v.f.g }, { 1, "x", orch.json.null, orch.json.null, "yes",
      "2026-12-01", true })
    eq(orch.json.encode(v.e2), "[]")
    eq(orch.json.encode(v.b), '["x",null]')
  end)

  it("gives the line of every key and item with opts.lines", function()
    local v, lines = orch.yaml.decode("top: 1\nlist:\n  - one\n  -\n    k: v\n", { lines = true })
    eq(lines[v], { top = 1, list = 2 })
    eq(lines[v.list], { 3, 5 })  -- an item: the line where its value starts
    eq(lines[v.list[2]], { k = 5 })
  end)

  it("returns an empty document as orch.json.null", function()
    eq(orch.yaml.decode(""), orch.json.null)
  end)

  local BAD = {
    { "syntax", "a: [1, 2\n", "syntax", 2 },
    { "duplicate key", "a: 1\na: 2\n", "duplicate_key", 2 },
    { "unknown tag", "a: !x 1\n", "bad_tag", 1 },
    { "two documents", "a: 1\n---\nb: 2\n", "documents", 2 },
    { "too deep", string.rep("[", 70) .. string.rep("]", 70), "too_deep", 1 },
    { "billion laughs", 'a: &a ["l","l","l","l","l","l","l","l","l"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
      .. "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
      "aliases", 5 },
    { "invalid UTF-8", "a: \255\n", "syntax", 1 },
  }
  for _, c in ipairs(BAD) do
    it("refuses " .. c[1] .. " with the code and the line", function()
      local v, err = orch.yaml.decode(c[2])
      eq(v, nil)
      eq({ err.code, err.line }, { c[3], c[4] })
      ok(tostring(err):find("^line " .. c[4] .. ", column %d+: "), tostring(err))
    end)
  end

  it("refuses text over max_bytes, and more aliases than max_aliases", function()
    local _, err = orch.yaml.decode("a: 1234567890\n", { max_bytes = 8 })
    eq({ err.code, err.message }, { "too_large", "14 bytes is over the limit of 8 bytes" })
    local _, err2 = orch.yaml.decode("a: &x 1\nb: *x\nc: *x\n", { max_aliases = 1 })
    eq({ err2.code, err2.line }, { "aliases", 3 })
  end)

  it("checks its options", function()
    T.raises(function() orch.yaml.decode("a: 1", { max_depth = 0 }) end, "max_depth")
    T.raises(function() orch.yaml.decode(nil) end, "string expected")
  end)
end)

describe("tasks_yaml.parse: the example day, tasks/2026-12-01.yaml", function()
  local doc = assert(tasks.load("tasks/2026-12-01.yaml"))

  it("reads the day's fields", function()
    eq({ doc.format, doc.date, doc.max_cost_usd, doc.max_concurrent, doc.priority, #doc.tasks },
      { "yaml", "2026-12-01", 50, 2, "high", 3 })
  end)

  it("reads every field of a task into the one model", function()
    eq(doc.tasks[2], { id = "task-002", line = 22, title = "Add a task count to the status line",
      description = 'The terminal status line shows the current task only. Add "n of N"\n'
        .. "so the user sees how far the day is.",
      module = "workflows", complexity = "medium", requires_approval = false,
      context_files = { "workflows/lib/format.lua" }, deliverables = { "workflows/lib/format.lua" },
      verify = { '"$ORCH_HOST" test --no-state --root . tests/lua/format_spec.lua' }, depends_on = {},
      acceptance_criteria = {} })
    eq(doc.tasks[3].depends_on, { "task-002" })
  end)
end)

describe("tasks_yaml.parse: the optional fields", function()
  it("takes prompt, type, priority, requires_approval, branch_name, acceptance_criteria, a one-command verify",
    function()
    local d = assert(tasks_yaml.parse("tasks:\n  - id: 7\n    name: N\n    prompt: Do it.\n    type: Database\n"
      .. "    priority: LOW\n    requires_approval: true\n    branch_name: feature/x-1\n"
      .. "    acceptance_criteria: [a, b]\n    verify: make test\n    description: ~\n", "o.yaml"))
    local t = d.tasks[1]
    eq({ t.id, t.instruction, t.type, t.priority, t.requires_approval, t.branch, t.acceptance_criteria, t.verify,
         t.description },
      { "7", "Do it.", "database", "low", true, "feature/x-1", { "a", "b" }, { "make test" }, nil })
  end)
end)

-- Each bad file: the code, the line, the field, and a text of the message.
local HEAD = "tasks:\n  - id: task-1\n    name: One\n"
local BAD = {
  { "id of the wrong type", "tasks:\n  - id: true\n    name: x\n", "bad_type", 2, "id",
    "id: must be a task id (a string), not boolean" },
  { "id with a space", "tasks:\n  - id: task 1\n    name: x\n", "bad_id", 2, "id", '"task 1" is not a task id' },
  { "fractional id", "tasks:\n  - id: 1.5\n    name: x\n", "bad_id", 2, "id", "1.5 is not a whole number" },
  { "missing id", "tasks:\n  - name: x\n", "missing_field", 2, nil, 'missing field "id"' },
  { "missing name", "tasks:\n  - id: a\n", "missing_field", 2, nil, 'task a: missing field "name"' },
  { "name a number", "tasks:\n  - id: a\n    name: 5\n", "bad_type", 3, "name", "name: must be a string, not number" },
  { "empty name", "tasks:\n  - id: a\n    name: ''\n", "empty_field", 3, "name", "name: must not be empty" },
  { "description a list", HEAD .. "    description: [a]\n", "bad_type", 4, "description",
    "must be a string, not list" },
  { "prompt a mapping", HEAD .. "    prompt: {a: 1}\n", "bad_type", 4, "prompt", "must be a string, not mapping" },
  { "type a number", HEAD .. "    type: 3\n", "bad_type", 4, "type", "type: must be a string" },
  { "module a list", HEAD .. "    module: [a]\n", "bad_type", 4, "module", "module: must be a string" },
  { "priority", HEAD .. "    priority: urgent\n", "bad_value", 4, "priority",
    '"urgent" is not one of high, low, medium' },
  { "complexity", HEAD .. "    estimated_complexity: huge\n", "bad_value", 4, "estimated_complexity",
    '"huge" is not one of' },
  { "requires_approval a string", HEAD .. "    requires_approval: 'yes'\n", "bad_type", 4, "requires_approval",
    "must be true or false, not string" },
  { "depends_on a string", HEAD .. "    depends_on: task-0\n", "bad_type", 4, "depends_on",
    "depends_on: must be a list of task ids, not string" },
  { "depends_on item a mapping", HEAD .. "    depends_on:\n      - {a: 1}\n", "bad_type", 5, "depends_on[1]",
    "depends_on[1]: must be a task id (a string), not mapping" },
  { "depends_on empty item", HEAD .. "    depends_on: [~]\n", "bad_type", 4, "depends_on[1]", "item 1 is empty" },
  { "branch_name invalid", HEAD .. "    branch_name: 'a b'\n", "bad_branch", 4, "branch_name",
    "not a valid git branch name" },
  { "branch_name ending .lock", HEAD .. "    branch_name: x.lock\n", "bad_branch", 4, "branch_name",
    "not a valid git" },
  { "context_files a string", HEAD .. "    context_files: README.md\n", "bad_type", 4, "context_files",
    "must be a list of paths, not string" },
  { "deliverables item a number", HEAD .. "    deliverables:\n      - 1\n", "bad_type", 5, "deliverables[1]",
    "must be a string, not number" },
  { "acceptance_criteria a mapping", HEAD .. "    acceptance_criteria: {a: b}\n", "bad_type", 4, "acceptance_criteria",
    "must be a list of texts" },
  { "verify a number", HEAD .. "    verify: 3\n", "bad_type", 4, "verify", "must be a list of commands, not number" },
  { "unknown task field", HEAD .. "    colour: red\n", "unknown_field", 4, "colour",
    'unknown field "colour" (known fields: id, name,' },
  { "task not a mapping", "tasks:\n  - just text\n", "bad_type", 2, nil, "must be a mapping of fields, not string" },
  { "tasks a mapping", "tasks:\n  a: 1\n", "bad_type", 1, "tasks", "tasks: must be a list of tasks, not mapping" },
  { "no tasks", "date: 2026-12-01\ntasks: []\n", "no_tasks", 2, "tasks", "no tasks in the file" },
  { "missing tasks", "date: 2026-12-01\n", "missing_field", 1, nil, 'missing field "tasks"' },
  { "bad date", "date: tomorrow\n" .. HEAD, "bad_date", 1, "date", '"tomorrow" is not a date' },
  { "impossible date", "date: 2026-13-01\n" .. HEAD, "bad_date", 1, "date", "is not a date" },
  { "a day February lacks", "date: 2026-02-29\n" .. HEAD, "bad_date", 1, "date", '"2026-02-29" is not a date' },
  { "max_cost_usd infinite", "max_cost_usd: .inf\n" .. HEAD, "bad_value", 1, "max_cost_usd",
    "must be a finite number" },
  { "max_concurrent huge", "max_concurrent: 1000000000\n" .. HEAD, "bad_value", 1, "max_concurrent",
    "must be at most 1000" },
  { "title a list", "title: [a]\n" .. HEAD, "bad_type", 1, "title", "title: must be a string" },
  { "day priority", "priority: top\n" .. HEAD, "bad_value", 1, "priority", '"top" is not one of' },
  { "max_cost_usd a string", "max_cost_usd: fifty\n" .. HEAD, "bad_type", 1, "max_cost_usd",
    "must be a number, not string" },
  { "max_cost_usd negative", "max_cost_usd: -1\n" .. HEAD, "bad_value", 1, "max_cost_usd", "must be at least 0" },
  { "max_concurrent fractional", "max_concurrent: 1.5\n" .. HEAD, "bad_value", 1, "max_concurrent", "whole number" },
  { "max_concurrent zero", "max_concurrent: 0\n" .. HEAD, "bad_value", 1, "max_concurrent", "must be at least 1" },
  { "unknown day field", "owner: me\n" .. HEAD, "unknown_field", 1, "owner", 'unknown field "owner"' },
  { "a list at the top", "- id: a\n", "bad_type", 1, nil, "must be a mapping of fields, not list" },
  { "an empty file", "", "bad_type", 1, nil, "must be a mapping of fields, not null" },
  { "duplicate key", HEAD .. "    name: Two\n", "duplicate_key", 4, nil, 'duplicate key "name" (first at line 3)' },
  { "syntax", HEAD .. "   bad: indent\n", "syntax", 4, nil, "" },
}

describe("tasks_yaml.parse: bad files fail with file:line, the field and the task", function()
  for _, c in ipairs(BAD) do
    local name, text, code, line, field, want = c[1], c[2], c[3], c[4], c[5], c[6]
    it(name, function()
      local doc, err = tasks_yaml.parse(text, "bad.yaml")
      eq(doc, nil)
      eq({ code = err.code, file = err.file, line = err.line, field = err.field },
         { code = code, file = "bad.yaml", line = line, field = field })
      ok(err.message:find("^bad%.yaml:" .. line .. "[:]"), err.message)
      ok(err.message:find(want, 1, true), "message was: " .. err.message)
    end)
  end
end)

describe("tasks_yaml.parse: hostile input", function()
  it("refuses a YAML bomb naming the line", function()
    local bomb = { 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]' }
    local prev = "a"
    for c in ("bcdefghi"):gmatch(".") do
      bomb[#bomb + 1] = c .. ": &" .. c .. " [" .. ("*" .. prev .. ","):rep(8) .. "*" .. prev .. "]"
      prev = c
    end
    bomb[#bomb + 1] = "tasks: *i"
    local _, err = tasks_yaml.parse(table.concat(bomb, "\n"), "bomb.yaml")
    eq({ err.code, err.line }, { "aliases", 5 })
    ok(err.message:find("^bomb%.yaml:5:%d+: aliases expand to more than 10000 nodes"), err.message)
  end)

  it("refuses a 10 MB file from its size (default limit 5 MB)", function()
    local unit = "  - id: t\n    name: \"filler filler filler filler\"\n"
    local text = "tasks:\n" .. unit:rep(math.ceil(10 * 1024 * 1024 / #unit))
    local _, err = tasks_yaml.parse(text, "big.yaml")
    eq(err.code, "too_large")
    eq(err.message, "big.yaml: " .. #text .. " bytes is over the limit of 5242880 bytes")
  end)

  it("refuses 100 levels of nesting", function()
    local _, err = tasks_yaml.parse("tasks: " .. ("["):rep(100) .. ("]"):rep(100), "deep.yaml")
    eq({ err.code, err.line }, { "too_deep", 1 })
  end)

  it("returns bad_input for a non-string", function()
    local _, err = tasks_yaml.parse(nil, "nil.yaml")
    eq(err.code, "bad_input")
  end)
end)

describe("lib/prompt.for_task on a YAML task", function()
  local prompt = require("lib.prompt")
  it("tells the name and description when there is no prompt, and lists context, deliverables and commands", function()
    local doc = assert(tasks.load("tasks/2026-12-01.yaml"))
    eq(prompt.for_task(doc.tasks[2]), table.concat({
      "Task: Add a task count to the status line", "",
      'The terminal status line shows the current task only. Add "n of N"', "so the user sees how far the day is.", "",
      "Read these first:", "- workflows/lib/format.lua", "",
      "Deliverables (create or update each of these paths):", "- workflows/lib/format.lua", "",
      "The task is checked with these commands after you stop:",
      '- "$ORCH_HOST" test --no-state --root . tests/lua/format_spec.lua', "",
      prompt.RULES }, "\n"))
  end)

  it("keeps the instruction first and the description as context when the file gives a prompt", function()
    local d = assert(tasks.parse("tasks:\n  - id: a\n    name: A\n    prompt: Do it.\n    description: Why.\n",
      "p.yaml"))
    eq(prompt.for_task(d.tasks[1]), "Do it.\n\nContext: Why.\n\n" .. prompt.RULES)
  end)
end)
