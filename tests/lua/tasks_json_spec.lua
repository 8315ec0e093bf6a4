-- Specs for workflows/lib/tasks_json.lua (the JSON task list, docs/task-file-json.md).
local T = require("orch.testing")
local tasks_json = require("lib.tasks_json")
local tasks = require("lib.tasks")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

describe("tasks_json.parse: the example graph, tasks/tasks.json", function()
  local doc = assert(tasks.load("tasks/tasks.json"))

  it("reads three tasks: task-2 after task-1, task-3 on its own", function()
    eq(doc.format, "json")
    local ids, deps = {}, {}
    for i, t in ipairs(doc.tasks) do ids[i], deps[i] = t.id, table.concat(t.depends_on, ",") end
    eq({ ids, deps }, { { "task-1", "task-2", "task-3" }, { "", "task-1", "" } })
  end)

  it("maps name, prompt, branch_name and dependencies into the one model", function()
    local t = doc.tasks[2]
    eq({ t.title, t.branch, t.line }, { "Add API endpoints", "feature/notes-api", nil })
    ok(t.instruction:find("^Add src/api/notes%.js"), t.instruction)
    eq(t.description, "List, create and delete notes over HTTP.")
  end)
end)

describe("tasks_json.parse: other shapes", function()
  it("takes the list of tasks alone, and numbers as ids", function()
    local d = assert(tasks_json.parse('[{"id": 1, "name": "A"}, {"id": "2", "name": "B", "dependencies": [1]}]',
      "l.json"))
    eq({ d.tasks[1].id, d.tasks[2].depends_on }, { "1", { "1" } })
  end)

  it("takes max_parallel_agents as max_concurrent, and a null as absent", function()
    local d = assert(tasks_json.parse('{"max_parallel_agents": 3, "max_cost_usd": 2.5, "tasks": '
      .. '[{"id": "a", "name": "A", "prompt": null}]}', "p.json"))
    eq({ d.max_concurrent, d.max_cost_usd, d.tasks[1].instruction }, { 3, 2.5, nil })
  end)

  it("checks a decoded value the same way (an inline list in a request body)", function()
    local d = assert(tasks.from_value({ tasks = { { id = "x", name = "X", dependencies = {} } } }, "request body"))
    eq(d.tasks[1].id, "x")
    local _, err = tasks.from_value({ tasks = { { id = "x", name = "X", dependencies = { "y" } } } }, "request body")
    eq(err.message,
      'request body: /tasks/0/dependencies/0: task x \'X\': depends on "y", which is not a task of this file')
  end)
end)

-- Each bad file: the code, the JSON pointer and a text of the message.
local function one(fields) return '{"tasks": [{"id": "t1", "name": "One"' .. fields .. "}]}" end
local BAD = {
  { "id of the wrong type", '{"tasks": [{"id": [], "name": "x"}]}', "bad_type", "/tasks/0/id", "must be a task id" },
  { "missing name", '{"tasks": [{"id": "a"}]}', "missing_field", "/tasks/0", 'missing field "name"' },
  { "name a number", '{"tasks": [{"id": "a", "name": 1}]}', "bad_type", "/tasks/0/name",
    "must be a string, not number" },
  { "description an object", one(', "description": {}'), "bad_type", "/tasks/0/description",
    "must be a string, not object" },
  { "prompt a boolean", one(', "prompt": false'), "bad_type", "/tasks/0/prompt", "must be a string, not boolean" },
  { "branch_name a number", one(', "branch_name": 3'), "bad_type", "/tasks/0/branch_name", "must be a string" },
  { "branch_name with ..", one(', "branch_name": "a..b"'), "bad_branch", "/tasks/0/branch_name",
    '"a..b" is not a valid git branch name' },
  { "dependencies a string", one(', "dependencies": "t0"'), "bad_type", "/tasks/0/dependencies",
    "must be an array of task ids, not string" },
  { "dependencies an object", one(', "dependencies": {"a": "b"}'), "bad_type", "/tasks/0/dependencies",
    "must be an array of task ids, not object" },
  { "a dependency a float", one(', "dependencies": [2.5]'), "bad_id", "/tasks/0/dependencies/0",
    "2.5 is not a whole number" },
  { "requires_approval a string", one(', "requires_approval": "true"'), "bad_type", "/tasks/0/requires_approval",
    "must be true or false" },
  { "priority", one(', "priority": "now"'), "bad_value", "/tasks/0/priority", '"now" is not one of' },
  { "estimated_complexity a number", one(', "estimated_complexity": 3'), "bad_type", "/tasks/0/estimated_complexity",
    "must be a string" },
  { "context_files item a list", one(', "context_files": [[]]'), "bad_type", "/tasks/0/context_files/0",
    "must be a string, not array" },
  { "deliverables a number", one(', "deliverables": 1'), "bad_type", "/tasks/0/deliverables",
    "must be an array of paths, not number" },
  { "verify an object", one(', "verify": {"a": 1}'), "bad_type", "/tasks/0/verify",
    "must be an array of commands, not object" },
  { "acceptance_criteria item empty", one(', "acceptance_criteria": [""]'), "empty_field",
    "/tasks/0/acceptance_criteria/0",
    "must not be empty" },
  { "depends_on (the YAML name)", one(', "depends_on": []'), "unknown_field", "/tasks/0/depends_on",
    'unknown field "depends_on" (known fields: id, name, description, prompt,' },
  { "a key with a slash", one(', "a/b": 1'), "unknown_field", "/tasks/0/a~1b", 'unknown field "a/b"' },
  { "tasks not an array", '{"tasks": {"a": 1}}', "bad_type", "/tasks", "must be an array of tasks, not object" },
  { "no tasks", '{"tasks": []}', "no_tasks", "/tasks", "no tasks in the file" },
  { "a task not an object", '{"tasks": ["x"]}', "bad_type", "/tasks/0", "must be an object of fields, not string" },
  { "max_parallel_agents zero", '{"max_parallel_agents": 0, "tasks": [{"id": "a", "name": "A"}]}', "bad_value",
    "/max_parallel_agents", "must be at least 1" },
  { "max_cost_usd a string", '{"max_cost_usd": "5", "tasks": [{"id": "a", "name": "A"}]}', "bad_type",
    "/max_cost_usd", "must be a number, not string" },
  { "a string at the top", '"tasks"', "bad_type", "/", "must be an object of fields, not string" },
  { "both names of the width, apart", '{"max_parallel_agents": 3, "max_concurrent": 2, '
    .. '"tasks": [{"id": "a", "name": "A"}]}', "conflict", "/max_parallel_agents",
    'says 3 and "max_concurrent" says 2: give one of them' },
}

describe("tasks_json.parse: bad files fail with the file, the JSON pointer and the task", function()
  for _, c in ipairs(BAD) do
    local name, text, code, pointer, want = c[1], c[2], c[3], c[4], c[5]
    it(name, function()
      local doc, err = tasks_json.parse(text, "bad.json")
      eq(doc, nil)
      eq({ code = err.code, file = err.file, pointer = err.pointer }, { code = code, file = "bad.json",
        pointer = pointer })
      eq(err.message:sub(1, #("bad.json: " .. pointer .. ": ")), "bad.json: " .. pointer .. ": ")
      ok(err.message:find(want, 1, true), "message was: " .. err.message)
    end)
  end

  it("refuses a key twice in one object, naming its line, column and pointer (the first would be lost)", function()
    local _, err = tasks_json.parse('{"tasks": [{"id": "a", "name": "A"},\n  {"id": "b", "name": "B", "dependencies": '
      .. '["a"], "dependencies": []}]}', "dup.json")
    eq({ err.code, err.line, err.column, err.pointer, err.field }, { "duplicate_key", 2, 51, "/tasks/1/dependencies",
      "dependencies" })
    ok(err.message:find('^dup%.json:2:51: /tasks/1/dependencies: duplicate key "dependencies"'), err.message)
    local _, top = tasks_json.parse('{"tasks": [{"id": "a", "name": "A"}], "tasks": []}', "top.json")
    eq({ top.code, top.pointer }, { "duplicate_key", "/tasks" })
    -- the same key in two objects, and keys inside strings, are no duplicates
    assert(tasks_json.parse('{"tasks": [{"id": "a", "name": "{\\"id\\": 1, \\"id\\": 2}"}, {"id": "b", "name": "B"}]}',
      "ok.json"))
  end)

  it("names line and column of a syntax error", function()
    local _, err = tasks_json.parse('{"tasks": [\n  {"id": "a",}\n]}', "syntax.json")
    eq({ err.code, err.line }, { "syntax", 2 })
    ok(err.message:find("^syntax%.json:2:%d+: invalid JSON: "), err.message)
  end)

  it("refuses a file over opts.max_bytes (default 5 MB) from its size", function()
    local _, err = tasks_json.parse(("x"):rep(5 * 1024 * 1024 + 1), "big.json")
    eq({ err.code, err.message }, { "too_large", "big.json: 5242881 bytes is over the limit of 5242880 bytes" })
  end)
end)
