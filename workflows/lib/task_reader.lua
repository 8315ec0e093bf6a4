-- task_reader: how the YAML and JSON task file readers (lib/task_model's checks)
-- name a value's kind and report an error at its place in the file.
-- M.kind(v [, words]) -> "list" | "mapping" | "null" | "string" | "number" |
--   "boolean"; with words "json": "array" | "object" for the first two.
-- M.reader(file, place, task_base [, kind_words]) -> r; r:fail(path, code, task, fmt, ...)
--   raises an error value {code=, message=, file=, line= | pointer=, field=,
--   task=} naming the file and place(path): a line (YAML) or a JSON pointer.
--   A path is a list of keys from the root ({"tasks", 3, "depends_on", 1});
--   task_base is the length of a task's own path (2 for {"tasks", i}); kind_words
--   "json": a value's kind in messages is JSON's word (M.kind).
--   r:kind(v) -> v's kind in the reader's words; r:a(kind) -> "a list" | "an array" ...
-- Both are lib/task_model's too. Pure: no io/os/debug, no globals.
local errors = require("orch.errors")

local M = {}

local format, concat = string.format, table.concat
local type, pairs, next, getmetatable = type, pairs, next, getmetatable  -- hot: 10,000s of tasks

-- The kind of a decoded YAML/JSON value, in the words of the file formats:
-- list, mapping (YAML's), or with words "json" array, object; then null (also
-- nil: a missing item), string, number, boolean. Never Lua's "table" or "nil":
-- messages about input use it. The one rule (lib/json_schema uses it too): a
-- list is a table marked by orch.json.array (as decoders give them) or whose
-- keys are 1..n, as orch.json.encode writes one; any other table (an empty
-- one too) is a mapping.
local JSON_WORDS = { list = "array", mapping = "object" }
local function word(k, words) return words == "json" and JSON_WORDS[k] or k end
local function table_kind(v)
  local mt = getmetatable(v)
  if mt and mt.__jsontype == "array" then return "list" end
  if next(v) == nil then return "mapping" end
  local n = 0
  for k in pairs(v) do  -- a mapping's first key is a string: it stops at once
    if type(k) ~= "number" then return "mapping" end
    n = n + 1
  end
  return n == #v and "list" or "mapping"
end
local function kind(v, words)
  local t = type(v)
  if t == "table" then
    return word(table_kind(v), words)
  elseif t == "userdata" or t == "nil" then return "null"
  end
  return t
end
M.kind = kind

local R = {}
R.__index = R

function M.reader(file, place, task_base, kind_words)
  return setmetatable({ file = file, place = place, task_base = task_base or 2, words = kind_words, ids = {} }, R)
end

-- v's kind in the reader's words, for a message
function R:kind(v) return kind(v, self.words) end
-- a kind named in the reader's words with its article: r:a("mapping") -> "a mapping" | "an object",
-- r:a("list") -> "a list" | "an array"
function R:a(k)
  local w = word(k, self.words)
  return (w:find("^[aeiou]") and "an " or "a ") .. w
end

-- The field part of a path, for messages with a line: depends_on[2], tasks[3].
local function field_text(path, from)
  local out = {}
  for i = from, #path do
    local k = path[i]
    out[#out + 1] = type(k) == "number" and ("[" .. k .. "]") or ((#out > 0 and "." or "") .. tostring(k))
  end
  return concat(out)
end

-- fail(path, code, task, fmt, ...): "FILE:LINE: task ID 'Title': field: what"
-- (a line: the field is named) or "FILE: /json/pointer: task ID 'Title': what".
function R:fail(path, code, task, fmt, ...)
  local where = self.place(path)
  local who = task and task.id and format("task %s%s: ", task.id, task.title and (" '" .. task.title .. "'") or "")
    or ""
  local e = { file = self.file, task = task and task.id or nil }
  local field = field_text(path, task and self.task_base + 1 or 1)
  if field ~= "" then e.field = field end
  local at
  if type(where) == "number" then
    e.line, at = where, self.file .. ":" .. where
    if field ~= "" then who = who .. field .. ": " end
  else
    e.pointer, at = where, self.file .. ": " .. where
  end
  error(errors.new(code, at .. ": " .. who .. format(fmt, ...), e), 0)
end

return M
