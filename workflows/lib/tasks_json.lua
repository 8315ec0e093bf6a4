-- tasks_json: the JSON task list (docs/task-file-json.md) into the task
-- model of lib/task_model.lua: {"tasks": [{"id", "name", "description",
-- "prompt", "branch_name", "dependencies", ...}]}, or the list alone.
-- M.parse(text, file [, opts]) -> doc, loc | nil, err   (opts.max_bytes, default 5 MB;
--   loc as in lib/tasks_yaml.lua, loc.where(i) -> "/tasks/3")
-- M.from_value(value, name) -> doc | nil, err: the same for a decoded value
--   (an inline list in a request body); errors name name and a JSON pointer:
--   err = {code=, message="file: /tasks/3/dependencies/0: task ID 'Name': what", file=, pointer=, field=, task=}
local model = require("lib.task_model")
local errors = require("orch.errors")

local M = {}

M.DEFAULT_MAX_BYTES = 5 * 1024 * 1024
local RENAME = { depends_on = "dependencies" }
M.TASK_FIELDS = model.fields(model.TASK_SPEC, RENAME)
local doc_spec = {}
for i, s in ipairs(model.DOC_SPEC) do doc_spec[i] = s end
doc_spec[#doc_spec + 1] = { "max_parallel_agents", "max_concurrent", "number",
                             { min = 1, max = model.MAX_CONCURRENT, integer = true } }
M.DOC_FIELDS = model.fields(doc_spec)

-- RFC 6901: array indexes from 0, "~" and "/" escaped.
local function pointer(path)
  local out = {}
  for i, k in ipairs(path) do
    out[i] = type(k) == "number" and tostring(k - 1) or tostring(k):gsub("~", "~0"):gsub("/", "~1")
  end
  return #out == 0 and "/" or "/" .. table.concat(out, "/")
end
M.pointer = pointer

function M.from_value(root, file)
  file = file or "<tasks>"
  local r = model.reader(file, pointer, nil, "json")
  local bare = model.kind(root) == "list"
  local res, err = errors.catch(model.build, root, r, M.DOC_FIELDS, M.TASK_FIELDS, "json", bare)
  if not res then return nil, err end
  local base = bare and {} or { "tasks" }
  local function path_of(i, j)
    local p = { base[1] }
    p[#p + 1] = i
    if j then p[#p + 1] = "dependencies" p[#p + 1] = j end
    return p
  end
  local loc = {}
  loc.fail = function(code, i, j, fmt, ...) r:fail(path_of(i, j), code, res.tasks[i], fmt, ...) end
  loc.where = function(i) return pointer(path_of(i)) end
  return res, loc
end

function M.parse(text, file, opts)
  opts = opts or {}
  file = file or "<tasks>"
  if type(text) ~= "string" then
    return nil, errors.new("bad_input", file .. ": text must be a string", { file = file })
  end
  local max = opts.max_bytes or M.DEFAULT_MAX_BYTES
  if #text > max then
    return nil, errors.new("too_large", string.format("%s: %d bytes is over the limit of %d bytes", file, #text, max),
      { file = file })
  end
  local root, derr, dup = orch.json.decode(text, { unique_keys = true })
  if dup then
    return nil, errors.new("duplicate_key", string.format("%s:%d:%d: %s: duplicate key %q (a key once in an object: "
      .. "the first would be lost)", file, dup.line, dup.column, dup.pointer, dup.key),
      { file = file, line = dup.line, column = dup.column, pointer = dup.pointer, field = dup.key })
  end
  if root == nil or root == orch.json.null then
    local msg = tostring(derr or "the file is null")
    local line, col = msg:match("at line (%d+), column (%d+)")
    msg = msg:gsub("^%[json%.exception%.[%w_.]+%] ", "")
    return nil, errors.new("syntax",
      (line and (file .. ":" .. line .. ":" .. col) or file) .. ": invalid JSON: " .. msg,
      { file = file, line = tonumber(line), column = tonumber(col) })
  end
  return M.from_value(root, file)
end

return M
