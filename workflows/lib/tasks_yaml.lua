-- tasks_yaml: the YAML day file (docs/task-file-yaml.md), read by libyaml
-- (orch.yaml.decode) into the task model of lib/task_model.lua.
--   date: 2026-12-01          max_cost_usd: 50     max_concurrent: 3
--   tasks:
--     - id: task-001          name: "..."          description: |
--       module: baptisms      estimated_complexity: medium
--       context_files: [...]  deliverables: [...]  depends_on: [task-000]
--       verify: [make test]   branch_name: feature/x  prompt: ...
-- M.parse(text, file [, opts]) -> doc | nil, err   (opts.max_bytes, default 5 MB)
--   err = {code=, message="file:line: task ID 'Name': field: what", file=, line=, field=, task=}
--   and loc: loc.fail(code, i [, j], fmt, ...) raises at task i (its j-th
--   depends_on item), loc.where(i) -> "line N" (lib/tasks.lua's graph checks)
local model = require("lib.task_model")
local errors = require("orch.errors")

local M = {}

M.DEFAULT_MAX_BYTES = 5 * 1024 * 1024
M.TASK_FIELDS = model.fields(model.TASK_SPEC)
M.DOC_FIELDS = model.fields(model.DOC_SPEC)

-- The line of the value at path: the line of its key, or of its list item
-- (the deepest one known when the path goes further than the file).
local function line_at(root, lines, path)
  local node, line = root, 1
  for _, k in ipairs(path) do
    local l = type(node) == "table" and lines[node]
    if not l or l[k] == nil then break end
    line, node = l[k], node[k]
  end
  return line
end
M.line_at = line_at  -- (root, lines, path) -> line: also lib/inbox_task's front matter

function M.parse(text, file, opts)
  opts = opts or {}
  file = file or "<tasks>"
  if type(text) ~= "string" then
    return nil, errors.new("bad_input", file .. ": text must be a string", { file = file })
  end
  local root, lines = orch.yaml.decode(text, { lines = true, max_bytes = opts.max_bytes or M.DEFAULT_MAX_BYTES })
  if root == nil then
    local e = lines
    local at = e.line and (file .. ":" .. e.line .. ":" .. e.column) or file
    local what = e.line and e.message:gsub("^line %d+, column %d+: ", "") or e.message
    return nil, errors.new(e.code, at .. ": " .. what, { file = file, line = e.line, column = e.column })
  end
  local r = model.reader(file, function(path) return line_at(root, lines, path) end)
  r.line_of = function(path) return line_at(root, lines, path) end
  local res, err = errors.catch(model.build, root, r, M.DOC_FIELDS, M.TASK_FIELDS, "yaml")
  if not res then return nil, err end
  local loc = {}
  loc.fail = function(code, i, j, fmt, ...)
    local path = j and { "tasks", i, "depends_on", j } or { "tasks", i }
    r:fail(path, code, res.tasks[i], fmt, ...)
  end
  loc.where = function(i) return "line " .. line_at(root, lines, { "tasks", i }) end
  return res, loc
end

return M
