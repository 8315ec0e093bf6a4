-- json_value: decoded JSON values as lib/json_schema reads and names them.
-- M.kind(v) -> "null" | "boolean" | "number" | "string" | "array" | "object"
--   (lib/task_reader's rule: arrays are tables marked by orch.json.array or with
--   keys 1..n; orch.json.null and nil are null)
-- M.is_integer(v) -> a number without a fraction
-- M.escape(part) -> part as a JSON Pointer token ("~" -> "~0", "/" -> "~1")
-- M.pointer(parts) -> "/a/0/b~1c" (RFC 6901 escaping)
-- M.show(v) -> v for a message: a quoted string (cut at 60), a number, null,
--   true, false, or "array" / "object"; M.shows(list) -> "a, b, c"
-- M.equal(a, b) -> whether two values are the same JSON
-- M.length(s) -> s's length in characters (UTF-8 code points)
-- M.date_time(text) -> whether text is an RFC 3339 date-time
-- Pure: no io/os/debug, no globals.
local reader_kind = require("lib.task_reader").kind

local M = {}

local format, concat, floor = string.format, table.concat, math.floor
local type, pairs, ipairs = type, pairs, ipairs

-- the JSON kind of a Lua value: "null", "boolean", "number", "string", "array", "object" (lib/task_reader's rule)
local function kind(v) return reader_kind(v, "json") end

local function is_integer(v) return type(v) == "number" and v == floor(v) and v - v == 0 end

local function escape(part) return (tostring(part):gsub("~", "~0"):gsub("/", "~1")) end

function M.pointer(parts)
  local out = {}
  for i, p in ipairs(parts) do out[i] = "/" .. escape(p) end
  return concat(out)
end

local function show(v)
  local k = kind(v)
  if k == "string" then
    local s = #v > 60 and (v:sub(1, 57) .. "...") or v
    return '"' .. s:gsub('[%c"\\]', function(c) return format("\\u%04x", c:byte()) end) .. '"'
  elseif k == "number" then
    return is_integer(v) and format("%d", v) or format("%.17g", v)
  elseif k == "null" then return "null"
  elseif k == "boolean" then return tostring(v)
  end
  return k  -- "array", "object"
end

local function shows(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = show(v) end
  return concat(out, ", ")
end

local function equal(a, b)
  local ka, kb = kind(a), kind(b)
  if ka ~= kb then return false end
  if ka == "null" then return true end
  if ka ~= "array" and ka ~= "object" then return a == b end
  for k, v in pairs(a) do if not equal(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

-- UTF-8 code points (a byte that is not a continuation byte starts one)
local function length(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

local DAYS = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
function M.date_time(s)
  if type(s) ~= "string" then return false end
  local y, mo, d, h, mi, sec, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt](%d%d):(%d%d):(%d%d)(.*)$")
  if not y then return false end
  y, mo, d, h, mi, sec = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec)
  local leap = (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
  local dim = (mo == 2 and leap) and 29 or DAYS[mo]
  if not dim or d < 1 or d > dim or h > 23 or mi > 59 or sec > 60 then return false end
  rest = rest:gsub("^%.%d+", "")
  if rest == "Z" or rest == "z" then return true end
  local oh, om = rest:match("^[+-](%d%d):(%d%d)$")
  return oh ~= nil and tonumber(oh) <= 23 and tonumber(om) <= 59
end

M.kind = kind
M.is_integer = is_integer
M.escape = escape
M.show = show
M.shows = shows
M.equal = equal
M.length = length

return M
