-- tasks: load a task file of any format into the one task model
-- (lib/task_model.lua) and check its dependency graph.
--   markdown day file  .md / .markdown   lib/tasks_md.lua    docs/task-file-markdown.md
--   YAML day file      .yaml / .yml      lib/tasks_yaml.lua  docs/task-file-yaml.md
--   JSON task list     .json             lib/tasks_json.lua  docs/task-file-json.md
-- Another extension: by content ('{' or '[' first: JSON; a line starting
-- with `tasks:`: YAML; else markdown).
-- M.load(path [, opts]) -> doc | nil, err   reads the file (at most opts.max_bytes,
--   default 5 MB; a read error has err.stage = "read"), then M.parse
-- M.parse(text, file [, opts]) -> doc | nil, err   opts.format forces one
-- M.format_of(file, text) -> "markdown" | "yaml" | "json"
-- The graph: ids unique, every dependency a task of the file, not the task
-- itself, not twice, and no cycle (`task-2 -> task-5 -> task-2`); one pass
-- over tasks and edges. Every error names the file and the line (or the JSON
-- pointer) and the field.
local errors = require("orch.errors")
local tasks_md = require("lib.tasks_md")
local tasks_yaml = require("lib.tasks_yaml")
local tasks_json = require("lib.tasks_json")
local model = require("lib.task_model")

local M = {}

M.DEFAULT_MAX_BYTES = tasks_md.DEFAULT_MAX_BYTES
M.EXTENSIONS = { md = "markdown", markdown = "markdown", yaml = "yaml", yml = "yaml", json = "json" }

function M.format_of(file, text)
  local ext = type(file) == "string" and file:match("%.([%w]+)$")
  local f = ext and M.EXTENSIONS[ext:lower()]
  if f then return f end
  text = text or ""
  if text:sub(1, 3) == "\239\187\191" then text = text:sub(4) end -- a UTF-8 byte order mark
  local first = text:match("^%s*(.)")
  if first == "{" or first == "[" then return "json" end
  -- a YAML day file has a top-level `tasks:` (its comments look like headings)
  if text:find("^tasks%s*:") or text:find("\ntasks%s*:") then return "yaml" end
  return "markdown"
end

-- The markdown parser's doc into the model: ids as strings, the defaults,
-- and a loc for the graph checks (lines of the task and of its Depends On).
local function from_markdown(text, file, opts)
  local field_lines = {}
  local doc, err = tasks_md.parse(text, file, { max_bytes = opts.max_bytes, field_lines = field_lines })
  if not doc then return nil, err end
  doc.format, doc.file = "markdown", file
  local lines = {}
  for i, t in ipairs(doc.tasks) do
    lines[i] = field_lines[t] or {}
    t.id = tostring(t.id)
    model.complete(t)
  end
  local loc = {}
  function loc.fail(code, i, j, fmt, ...)
    local t = doc.tasks[i]
    local line = j and lines[i].depends_on or t.line
    local field = j and "**Depends On:** " or ""
    error(errors.new(code, string.format("%s:%d: task %s '%s': %s", file, line, t.id, t.title, field)
      .. string.format(fmt, ...), { file = file, line = line, task = t.id, field = j and "depends_on" or nil }), 0)
  end
  function loc.where(i) return "line " .. doc.tasks[i].line end
  return doc, loc
end

-- check_graph(doc, loc): raises through loc.fail on the first problem.
local function check_graph(doc, loc)
  local tasks, index = doc.tasks, {}
  for i, t in ipairs(tasks) do
    local first = index[t.id]
    if first then loc.fail("duplicate_id", i, nil, "duplicate task id %q (first at %s)", t.id, loc.where(first)) end
    index[t.id] = i
  end
  for i, t in ipairs(tasks) do
    local seen = {}
    for j, d in ipairs(t.depends_on) do
      if d == t.id then loc.fail("self_dependency", i, j, "depends on itself") end
      if not index[d] then loc.fail("unknown_dependency", i, j,
        "depends on %q, which is not a task of this file", d) end
      if seen[d] then loc.fail("duplicate_dependency", i, j, "depends on %q twice", d) end
      seen[d] = true
    end
  end
  -- Depth-first, iteratively (10,000-deep chains need no C stack): state 1 =
  -- on the current path (pos = its place in it), 2 = done.
  local state, pos, stack, next_dep = {}, {}, {}, {}
  for r = 1, #tasks do
    if not state[r] then
      local n = 1
      stack[1], next_dep[1], state[r], pos[r] = r, 1, 1, 1
      while n > 0 do
        local i = stack[n]
        local j = next_dep[n]
        local d = tasks[i].depends_on[j]
        if d == nil then
          state[i], pos[i], n = 2, nil, n - 1
        else
          next_dep[n] = j + 1
          local k = index[d]
          if state[k] == 1 then
            local ids = {}
            for p = pos[k], n do ids[#ids + 1] = tasks[stack[p]].id end
            ids[#ids + 1] = d
            loc.fail("cycle", i, j, "dependency cycle: %s", table.concat(ids, " -> "))
          elseif not state[k] then
            n = n + 1
            stack[n], next_dep[n], state[k], pos[k] = k, 1, 1, n
          end
        end
      end
    end
  end
end

function M.parse(text, file, opts)
  opts = opts or {}
  file = file or "<tasks>"
  local fmt = opts.format or M.format_of(file, text)
  local doc, loc
  if fmt == "markdown" then doc, loc = from_markdown(text, file, opts)
  elseif fmt == "yaml" then doc, loc = tasks_yaml.parse(text, file, opts)
  elseif fmt == "json" then doc, loc = tasks_json.parse(text, file, opts)
  else return nil, errors.new("bad_format", file .. ": unknown task file format " .. tostring(fmt), { file = file })
  end
  if not doc then return nil, loc end
  local ok, gerr = pcall(check_graph, doc, loc)
  if ok then return doc end
  if errors.is(gerr) then return nil, gerr end
  error(gerr, 0)
end

-- The same checks for a decoded JSON value (an inline task list, e.g. a request body).
function M.from_value(value, name)
  local doc, loc = tasks_json.from_value(value, name)
  if not doc then return nil, loc end
  local ok, gerr = pcall(check_graph, doc, loc)
  if ok then return doc end
  if errors.is(gerr) then return nil, gerr end
  error(gerr, 0)
end

function M.load(path, opts)
  opts = opts or {}
  local max = opts.max_bytes or M.DEFAULT_MAX_BYTES
  local text, err = orch.read_file(path, max)
  if not text then
    err.stage = "read"
    return nil, err
  end
  return M.parse(text, path, opts)
end

return M
