-- task_model: the one task model, and the field checks the YAML and JSON task
-- files share (lib/tasks_yaml.lua, lib/tasks_json.lua read decoded tables;
-- lib/tasks.lua loads any format and validates the graph).
--   doc  = {format=, file=, date=, title=, priority=, max_cost_usd=, max_concurrent=, tasks={...}}
--   task = {id= (string), title=, description=, instruction= (the file's own
--           prompt; lib/prompt.lua builds what the agent gets), type=, module=,
--           priority=, complexity=, requires_approval= (false), branch=,
--           acceptance_criteria={}, context_files={}, deliverables={},
--           verify={commands}, depends_on={ids}, line= (YAML, markdown)}
-- M.reader(file, place, task_base [, kind_words]) -> r; r:fail(path, code, task, fmt, ...),
--   M.kind(v [, words]): lib/task_reader's (an error's place and message; a value's kind).
-- M.fields(spec) -> FIELDS, known; M.check(r, raw, path, FIELDS, known, task, out)
--   checks a decoded table field by field and fills the model table.
-- Pure: no io/os/debug, no globals.
local task_reader = require("lib.task_reader")

local M = {}

local format, concat, sort = string.format, table.concat, table.sort
local type, ipairs, pairs, next = type, ipairs, pairs, next  -- hot: 10,000s of tasks

M.ID_PATTERN = "^[%w][%w._-]*$"   -- ids become file, branch and folder names
M.MAX_ID = 64
M.LEVELS = { low = true, medium = true, high = true }  -- priority and complexity

local kind = task_reader.kind
M.kind = kind
M.reader = task_reader.reader

local function is_null(v) return v == nil or type(v) == "userdata" end

-- A valid git branch name, as `git check-ref-format --branch` would take it.
function M.branch_ok(b)
  return #b > 0 and #b <= 200 and not b:find("[%z\1-\32\127~^:?*%[\\]") and not b:find("%.%.")
    and not b:find("@{", 1, true) and not b:find("//", 1, true) and b:sub(1, 1) ~= "-" and b:sub(1, 1) ~= "/"
    and b:sub(-1) ~= "/" and b:sub(-1) ~= "." and b:sub(-5) ~= ".lock" and b ~= "@"
    and not b:find("/%.") and b:sub(1, 1) ~= "."
end

-- Paths are one mutable list per parse: a check appends its key, checks,
-- and removes it (an error stops the parse where the path is).
local function push(path, key) path[#path + 1] = key end
local function pop(path) path[#path] = nil end

local byte = string.byte
-- No lazy patterns on file text: "^%s*(.-)%s*$" is quadratic on blank runs.
local function is_space(b) return b == 32 or (b >= 9 and b <= 13) end
local function trim(v)
  local n = #v
  if n > 0 and not is_space(byte(v, 1)) and not is_space(byte(v, n)) then return v end
  local i = v:find("%S")
  if not i then return "" end
  local j = n
  while is_space(byte(v, j)) do j = j - 1 end
  return v:sub(i, j)
end

-- The checks; each returns the model's value or raises.
local CHECK = {}

function CHECK.string(r, v, path, task, f)
  if type(v) ~= "string" then r:fail(path, "bad_type", task, "must be a string, not %s", r:kind(v)) end
  local s = trim(v)
  if s == "" then r:fail(path, "empty_field", task, "must not be empty") end
  if f.one_line and (s:find("\n", 1, true) or s:find("\r", 1, true)) then r:fail(path, "bad_value", task,
    "must be one line") end
  if f.lower then s = s:lower() end
  if f.enum and not f.enum[s] then
    local names = {}
    for k in pairs(f.enum) do names[#names + 1] = k end
    sort(names)
    r:fail(path, "bad_value", task, "%q is not one of %s", v, concat(names, ", "))
  end
  return s
end

function CHECK.text(r, v, path, task)
  if type(v) ~= "string" then r:fail(path, "bad_type", task, "must be a string, not %s", r:kind(v)) end
  local s = trim(v)
  if s == "" then r:fail(path, "empty_field", task, "must not be empty") end
  return s
end

function CHECK.id(r, v, path, task)
  if r.ids[v] then return v end  -- seen before in this file (dependencies repeat ids)
  if type(v) == "number" then
    if v ~= math.floor(v) or v < 0 or v >= 2 ^ 53 then
      r:fail(path, "bad_id", task, "%s is not a whole number or a string", tostring(v))
    end
    v = format("%d", v)
  elseif type(v) ~= "string" then
    r:fail(path, "bad_type", task, "must be a task id (a string), not %s", r:kind(v))
  end
  if #v > M.MAX_ID or not v:find(M.ID_PATTERN) then
    r:fail(path, "bad_id", task, "%q is not a task id (letters, digits, '.', '_', '-'; at most %d characters)",
      v:sub(1, 80), M.MAX_ID)
  end
  r.ids[v] = true
  return v
end

function CHECK.branch(r, v, path, task, f)
  local s = CHECK.string(r, v, path, task, f)
  if not M.branch_ok(s) then r:fail(path, "bad_branch", task, "%q is not a valid git branch name", s) end
  return s
end

function CHECK.boolean(r, v, path, task)
  if type(v) ~= "boolean" then r:fail(path, "bad_type", task, "must be true or false, not %s", r:kind(v)) end
  return v
end

function CHECK.number(r, v, path, task, f)
  if type(v) ~= "number" then r:fail(path, "bad_type", task, "must be a number, not %s", r:kind(v)) end
  if v ~= v or v == math.huge or v == -math.huge then r:fail(path, "bad_value", task, "must be a finite number") end
  if f.min and v < f.min then r:fail(path, "bad_value", task, "must be at least %s", tostring(f.min)) end
  if f.max and v > f.max then r:fail(path, "bad_value", task, "must be at most %s", tostring(f.max)) end
  if f.integer and v ~= math.floor(v) then r:fail(path, "bad_value", task, "must be a whole number") end
  return v
end

function CHECK.date(r, v, path, task, f)
  local s = CHECK.string(r, v, path, task, f)
  local y, m, d = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  local days = m and ({ 31, (y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)) and 29 or 28, 31, 30, 31, 30, 31, 31,
                        30, 31, 30, 31 })[m]
  if not y or not days or d < 1 or d > days then
    r:fail(path, "bad_date", task, "%q is not a date (YYYY-MM-DD)", s)
  end
  return s
end

-- A list of `f.item` values; with f.one_ok, a single string is a list of one.
function CHECK.list(r, v, path, task, f)
  local sub = f.sub
  if f.one_ok and type(v) == "string" then return { CHECK[f.item](r, v, path, task, sub) } end
  -- an empty table is an empty list (a table built in Lua cannot say which it is)
  if kind(v) ~= "list" and not (type(v) == "table" and next(v) == nil) then
    r:fail(path, "bad_type", task, "must be %s%s, not %s", r:a("list"), f.what or "", r:kind(v))
  end
  local out = {}
  for i, x in ipairs(v) do
    push(path, i)
    if is_null(x) then r:fail(path, "bad_type", task, "item %d is empty", i) end
    out[i] = CHECK[f.item](r, x, path, task, sub)
    pop(path)
  end
  return out
end

-- The raw list of tasks (checked as a list; each task is checked by build).
function CHECK.tasks(r, v, path, task)
  if kind(v) ~= "list" then r:fail(path, "bad_type", task, "must be %s of tasks, not %s", r:a("list"), r:kind(v)) end
  return v
end

-- check(r, raw, path, FIELDS, task, out) -> out: every key of raw is a known
-- field (unknown_field names the known ones), nulls count as absent, the
-- required fields are there. The required ones (the id and name) are checked
-- first, so later messages name the task; then the rest, in the file's order.
function M.check(r, raw, path, fields, task, out)
  if kind(raw) ~= "mapping" then
    r:fail(path, "bad_type", task, "must be %s of fields, not %s", r:a("mapping"), r:kind(raw))
  end
  for _, name in ipairs(fields.required) do
    local f, v = fields[name], raw[name]
    if is_null(v) then r:fail(path, "missing_field", task, "missing field %q", name) end
    push(path, name)
    out[f.key] = CHECK[f.check](r, v, path, task, f)
    pop(path)
  end
  for name, v in pairs(raw) do
    local f = fields[name]
    if not f or type(name) ~= "string" then
      push(path, name)
      r:fail(path, "unknown_field", task, "unknown field %q (known fields: %s)", tostring(name), fields.known)
    end
    if not f.required and not is_null(v) then
      push(path, name)
      out[f.key] = CHECK[f.check](r, v, path, task, f)
      pop(path)
    end
  end
  -- two names of one field (max_concurrent, max_parallel_agents) must agree; the later one is named
  local first = {}
  for _, name in ipairs(fields.order) do
    local f, v = fields[name], raw[name]
    if not is_null(v) then
      local prev = first[f.key]
      if prev and raw[prev] ~= v then
        push(path, name)
        r:fail(path, "conflict", task, "says %s and %q says %s: give one of them", tostring(v), prev,
          tostring(raw[prev]))
      end
      first[f.key] = prev or name
    end
  end
  return out
end

-- fields(spec [, rename]) -> FIELDS: spec = { {name, key, check, opts}, ... };
-- rename = {model key = this format's name}. FIELDS[name] = {key=, check=, ...},
-- FIELDS.order (names in spec order), FIELDS.required, FIELDS.known ("a, b, c").
function M.fields(spec, rename)
  local fields = { order = {}, required = {} }
  for _, s in ipairs(spec) do
    local name = rename and rename[s[2]] or s[1]
    local f = { key = s[2], check = s[3] }
    for k, v in pairs(s[4] or {}) do f[k] = v end
    if f.item then f.sub = setmetatable({}, { __index = f }) end
    fields[name] = f
    fields.order[#fields.order + 1] = name
    if f.required then fields.required[#fields.required + 1] = name end
  end
  fields.known = concat(fields.order, ", ")
  return fields
end

-- The fields of a task and of a file in the YAML and JSON formats (the names
-- are the YAML ones; lib/tasks_json.lua renames a few).
M.TASK_SPEC = {
  { "id", "id", "id", { required = true } },
  { "name", "title", "string", { required = true, one_line = true } },
  { "description", "description", "text" },
  { "prompt", "instruction", "text" },
  { "type", "type", "string", { one_line = true, lower = true } },
  { "module", "module", "string", { one_line = true, lower = true } },
  { "priority", "priority", "string", { lower = true, enum = M.LEVELS } },
  { "estimated_complexity", "complexity", "string", { lower = true, enum = M.LEVELS } },
  { "requires_approval", "requires_approval", "boolean" },
  { "depends_on", "depends_on", "list", { item = "id", what = " of task ids" } },
  { "branch_name", "branch", "branch", { one_line = true } },
  { "context_files", "context_files", "list", { item = "string", one_line = true, what = " of paths" } },
  { "deliverables", "deliverables", "list", { item = "string", one_line = true, what = " of paths" } },
  { "acceptance_criteria", "acceptance_criteria", "list", { item = "text", what = " of texts" } },
  { "verify", "verify", "list", { item = "string", one_line = true, one_ok = true, what = " of commands" } },
}
M.MAX_CONCURRENT = 1000  -- agents at once a task file may ask for (as `--max-concurrent`)
M.DOC_SPEC = {
  { "date", "date", "date" },
  { "title", "title", "string", { one_line = true } },
  { "priority", "priority", "string", { lower = true, enum = M.LEVELS } },
  { "max_cost_usd", "max_cost_usd", "number", { min = 0 } },
  { "max_concurrent", "max_concurrent", "number", { min = 1, max = M.MAX_CONCURRENT, integer = true } },
  { "tasks", "tasks", "tasks", { required = true } },
}

-- build(root, r, DOC_FIELDS, TASK_FIELDS, format [, tasks_only]) -> doc: the
-- file's fields, then each task, completed with the defaults; t.line is set
-- when r.line_of(path) gives one. tasks_only: root is the list of tasks.
function M.build(root, r, doc_fields, task_fields, fmt_name, tasks_only)
  local doc, list, base = { format = fmt_name, file = r.file }
  if tasks_only then
    list, base = CHECK.tasks(r, root, {}, nil, nil), {}
    r.task_base = 1
  else
    M.check(r, root, {}, doc_fields, nil, doc)
    list, base = doc.tasks, { "tasks" }
  end
  if #list == 0 then r:fail(base, "no_tasks", nil, "no tasks in the file") end
  local tasks = {}
  for i, raw in ipairs(list) do
    push(base, i)
    -- the keys every task has, so the table is sized once (complete() fills the lists)
    local t = { id = false, title = false, requires_approval = false, line = false, acceptance_criteria = false,
      context_files = false, deliverables = false, verify = false, depends_on = false }
    M.check(r, raw, base, task_fields, t, t)
    t.line = r.line_of and r.line_of(base) or nil
    tasks[i] = M.complete(t)
    pop(base)
  end
  doc.tasks = tasks
  return doc
end

-- The model's defaults, for any format: empty lists and requires_approval=false.
function M.complete(t)
  t.requires_approval = t.requires_approval == true
  for _, k in ipairs({ "acceptance_criteria", "context_files", "deliverables", "verify", "depends_on" }) do
    t[k] = t[k] or {}
  end
  return t
end

return M
