-- Specs for workflows/lib/tasks.lua: the format of a file, the one model for
-- the three formats, and the dependency graph checked at load.
local T = require("orch.testing")
local tasks = require("lib.tasks")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

describe("tasks.format_of", function()
  it("goes by the extension, else by the content", function()
    eq({ tasks.format_of("a.md"), tasks.format_of("a.MARKDOWN"), tasks.format_of("a.yaml"), tasks.format_of("a.yml"),
         tasks.format_of("a.json") }, { "markdown", "markdown", "yaml", "yaml", "json" })
    eq({ tasks.format_of("a.txt", '  {"tasks": []}'), tasks.format_of("a", "[1]"), tasks.format_of("a", "# Tasks\n"),
         tasks.format_of("a", "notes\n## Task 1: x\n"), tasks.format_of("a", "tasks:\n  - id: a\n"),
         tasks.format_of("a", "# a comment\n## Task list\ndate: 2026-12-01\ntasks:\n  - id: a\n") },
      { "json", "json", "markdown", "markdown", "yaml", "yaml" })
  end)
end)

describe("tasks.parse: one model for every format", function()
  local md = "## Task 1: A\n**Claude Instruction:**\na\n\n---\n\n## Task 3: B\n**Depends On:** 1\n"
    .. "**Module:** Docs\n**Complexity:** low\n**Branch:** feature/b\n**Context Files:**\n- README.md\n"
    .. "**Deliverables:**\n- docs/b.md\n**Acceptance Command:** make test\n**Acceptance Command:** make lint\n"
    .. "**Claude Instruction:**\nb\n"
  local yaml = "tasks:\n  - id: '1'\n    name: A\n    prompt: a\n  - id: '3'\n    name: B\n    depends_on: ['1']\n"
    .. "    module: Docs\n    estimated_complexity: low\n    branch_name: feature/b\n    context_files: [README.md]\n"
    .. "    deliverables: [docs/b.md]\n    verify: [make test, make lint]\n    prompt: b\n"
  local json = '{"tasks": [{"id": "1", "name": "A", "prompt": "a"}, {"id": "3", "name": "B", "dependencies": ["1"],'
    .. ' "module": "Docs", "estimated_complexity": "low", "branch_name": "feature/b", "context_files": ["README.md"],'
    .. ' "deliverables": ["docs/b.md"], "verify": ["make test", "make lint"], "prompt": "b"}]}'

  local function strip(doc)
    for _, t in ipairs(doc.tasks) do t.line = nil end
    doc.format, doc.file = nil, nil
    return doc
  end

  it("gives the same tasks from markdown, YAML and JSON (ids as strings)", function()
    local a = strip(assert(tasks.parse(md, "d.md")))
    local b = strip(assert(tasks.parse(yaml, "d.yaml")))
    local c = strip(assert(tasks.parse(json, "d.json")))
    eq(a, b)
    eq(b, c)
    eq(a.tasks[2], { id = "3", title = "B", instruction = "b", depends_on = { "1" }, module = "docs",
      complexity = "low",
      branch = "feature/b", context_files = { "README.md" }, deliverables = { "docs/b.md" },
      verify = { "make test", "make lint" }, requires_approval = false, acceptance_criteria = {} })
  end)

  it("sets format, file and each task's line (markdown, YAML)", function()
    local d = assert(tasks.parse(md, "d.md"))
    eq({ d.format, d.file, d.tasks[2].line }, { "markdown", "d.md", 7 })
    eq(assert(tasks.parse(yaml, "d.yaml")).tasks[2].line, 5)
  end)

  it("loads as a pure model module", function()
    local pure = T.load_pure("workflows/lib/task_model.lua")
    ok(pure.branch_ok("feature/x") and not pure.branch_ok("-x") and not pure.branch_ok("a b"))
  end)
end)

-- Each bad graph, in YAML (line) and JSON (pointer): code, place, text.
local function yaml_of(spec)
  local out = { "tasks:" }
  for _, t in ipairs(spec) do
    out[#out + 1] = "  - id: " .. t[1]
    out[#out + 1] = "    name: T" .. t[1]
    if t[2] then out[#out + 1] = "    depends_on: [" .. table.concat(t[2], ", ") .. "]" end
  end
  return table.concat(out, "\n") .. "\n"
end
local function json_of(spec)
  local out = {}
  for i, t in ipairs(spec) do
    out[i] = { id = t[1], name = "T" .. t[1], dependencies = orch.json.array(t[2] or {}) }
  end
  return orch.json.encode({ tasks = out })
end

local GRAPHS = {
  { "a duplicate id", { { "a" }, { "b" }, { "a" } }, "duplicate_id", 6, "/tasks/2",
    'task a \'Ta\': duplicate task id "a" (first at ' },
  { "a self-dependency", { { "a" }, { "b", { "b" } } }, "self_dependency", 6, "/tasks/1/dependencies/0",
    "depends on itself" },
  { "an unknown id", { { "a", { "zz" } } }, "unknown_dependency", 4, "/tasks/0/dependencies/0",
    'depends on "zz", which is not a task of this file' },
  { "a dependency twice", { { "a" }, { "b", { "a", "a" } } }, "duplicate_dependency", 6, "/tasks/1/dependencies/1",
    'depends on "a" twice' },
  { "a two-task cycle", { { "task-2", { "task-5" } }, { "task-5", { "task-2" } } }, "cycle", 7,
    "/tasks/1/dependencies/0", "dependency cycle: task-2 -> task-5 -> task-2" },
  { "a cycle behind a chain", { { "a", { "b" } }, { "b", { "c" } }, { "c", { "d" } }, { "d", { "b" } } }, "cycle", 13,
    "/tasks/3/dependencies/0", "dependency cycle: b -> c -> d -> b" },
}

describe("tasks.parse: the graph is checked, naming the place and the cycle", function()
  for _, g in ipairs(GRAPHS) do
    local name, spec, code, line, pointer, want = g[1], g[2], g[3], g[4], g[5], g[6]
    it(name .. " (YAML)", function()
      local _, err = tasks.parse(yaml_of(spec), "g.yaml")
      eq({ err.code, err.line }, { code, line })
      ok(err.message:find("^g%.yaml:" .. line .. ": "), err.message)
      ok(err.message:find(want, 1, true), err.message)
    end)
    it(name .. " (JSON)", function()
      local _, err = tasks.parse(json_of(spec), "g.json")
      eq({ err.code, err.pointer }, { code, pointer })
      ok(err.message:find("g.json: " .. pointer .. ": ", 1, true), err.message)
      ok(err.message:find(want, 1, true), err.message)
    end)
  end

  it("checks markdown's Depends On the same way, naming its line", function()
    local _, err = tasks.parse("## Task 1: A\n**Claude Instruction:**\na\n\n---\n\n## Task 2: B\n"
      .. "**Depends On:** 1, 9\n**Claude Instruction:**\nb\n", "m.md")
    eq({ err.code, err.line, err.field, err.task }, { "unknown_dependency", 8, "depends_on", "2" })
    eq(err.message, "m.md:8: task 2 'B': **Depends On:** depends on \"9\", which is not a task of this file")
  end)
end)

-- A random DAG: task k depends on up to 5 of the tasks before it; written in a
-- shuffled order so the edges point both ways in the file.
local function random_dag(n)
  local seed = 42
  local function rnd(m) seed = (seed * 1103515245 + 12345) % 2147483648 return seed % m end
  local order = {}
  for i = 1, n do order[i] = i end
  for i = n, 2, -1 do local j = rnd(i) + 1 order[i], order[j] = order[j], order[i] end
  local list, edges = {}, 0
  for p, k in ipairs(order) do
    local deps, seen = {}, {}
    for _ = 1, (k > 1 and rnd(6) or 0) do
      local d = rnd(k - 1) + 1
      if not seen[d] then seen[d] = true deps[#deps + 1] = "task-" .. d end
    end
    edges = edges + #deps
    list[p] = { id = "task-" .. k, name = "Task " .. k, dependencies = orch.json.array(deps) }
  end
  return list, edges
end

describe("tasks.parse: large graphs", function()
  it("loads a 10,000-task random DAG (up to 5 dependencies each) from JSON and YAML", function()
    local list, edges = random_dag(10000)
    local d = assert(tasks.parse(orch.json.encode({ tasks = list }), "dag.json"))
    local n = 0
    for _, t in ipairs(d.tasks) do n = n + #t.depends_on end
    eq({ #d.tasks, n }, { 10000, edges })
    local y = {}
    for i, t in ipairs(list) do
      y[i] = "  - id: " .. t.id .. "\n    name: " .. t.name .. "\n    depends_on: ["
        .. table.concat(t.dependencies, ", ") .. "]"
    end
    local dy = assert(tasks.parse("tasks:\n" .. table.concat(y, "\n") .. "\n", "dag.yaml"))
    eq(#dy.tasks, 10000)
  end)

  it("walks a 10,000-long chain without recursion, and finds the cycle that closes it", function()
    local list = {}
    for i = 1, 10000 do list[i] = { id = "t" .. i, name = "T", dependencies = orch.json.array({ "t" .. (i + 1) }) } end
    list[10000].dependencies = orch.json.array({})
    assert(tasks.parse(orch.json.encode({ tasks = list }), "chain.json"))
    list[10000].dependencies = orch.json.array({ "t1" })
    local _, err = tasks.parse(orch.json.encode({ tasks = list }), "chain.json")
    eq({ err.code, err.pointer }, { "cycle", "/tasks/9999/dependencies/0" })
    ok(err.message:find("dependency cycle: t1 -> t2 -> t3 -> ", 1, true), err.message:sub(1, 200))
    eq(err.message:sub(-15), "-> t10000 -> t1")
  end)
end)

describe("tasks.load", function()
  it("reads the file (a read error has stage = 'read')", function()
    local _, err = tasks.load("/nonexistent/day.yaml")
    eq({ err.code, err.stage }, { "not_found", "read" })
  end)

  it("refuses a file over opts.max_bytes from its size, and detects the format of a markdown file", function()
    local path = "tests/lua/fixtures/example-day.md"
    local _, err = tasks.load(path, { max_bytes = 10 })
    eq({ err.code, err.stage }, { "too_large", "read" })
    eq(assert(tasks.load(path)).format, "markdown")
  end)

end)
