-- json_schema: checks a decoded JSON value against a JSON Schema (draft
-- 2020-12 keywords) and returns every violation, each as
-- { pointer = "/tokens/input", message = "expected integer, got string" }
-- (pointer: a JSON Pointer into the value, "" for the value itself).
--
-- Supported: type (a name or a list; "integer" is a number without a
-- fraction), properties, required, additionalProperties (false or a schema),
-- items (one schema for every item), enum, const, minimum, maximum,
-- minLength, maxLength (in characters: UTF-8 code points), format
-- "date-time" (checked: RFC 3339, a real date and time), $defs, $ref (local
-- "#/$defs/NAME" only), anyOf, oneOf, and the boolean schemas true and false.
-- The annotations $schema, $id, $comment, title, description, default and
-- examples are allowed and change nothing. Any other keyword (or another
-- format, another $ref) is refused: nothing in a schema is silently ignored.
--
-- M.check_schema(schema) -> true; raises an error value (orch.errors,
--   code "schema") naming the keyword and its place in the schema
--   ("#/properties/x") when the schema uses what is not supported here
-- M.validate(value, schema) -> { {pointer=, message=}... } (empty: valid);
--   checks the schema first (raises as check_schema does)
-- M.pointer(parts) -> "/a/0/b~1c" (RFC 6901 escaping)
-- M.date_time(text) -> whether text is an RFC 3339 date-time
--   (both lib/json_value's, with the kind, show and equal of values used here)
-- Values as orch.json.decode gives them: a JSON null is orch.json.null (or
-- nil, for a missing item), arrays are tables marked by orch.json.array or
-- with keys 1..n; any other table is an object (lib/task_reader.kind's rule). Decode a file with
-- orch.json.decode(text, { nulls = true }) so a member that is null is seen.
-- Pure: no io/os/debug, no globals.
local errors = require("orch.errors")
local jv = require("lib.json_value")

local M = {}

local format, concat = string.format, table.concat
local type, pairs, ipairs, next = type, pairs, ipairs, next

local ANNOTATIONS = { ["$schema"] = true, ["$id"] = true, ["$comment"] = true, title = true,
  description = true, default = true, examples = true }
local TYPES = { null = true, boolean = true, object = true, array = true, number = true, integer = true,
  string = true }
local FORMATS = { ["date-time"] = true }
local REF_DEPTH = 64  -- $ref chains deeper than this are a loop

local kind, is_integer, escape, show, shows, equal, length =
  jv.kind, jv.is_integer, jv.escape, jv.show, jv.shows, jv.equal, jv.length
M.pointer = jv.pointer
M.date_time = jv.date_time

-- ---------------------------------------------------------------- the schema

local function refuse(where, fmt, ...)
  local place = "#" .. M.pointer(where)
  error(errors.new("schema", format("schema %s: " .. fmt, place, ...), { pointer = place }), 0)
end

local function at(where, ...)
  local out = { unpack(where) }
  for _, p in ipairs({ ... }) do out[#out + 1] = p end
  return out
end

local checked = setmetatable({}, { __mode = "k" })  -- schemas already checked (the root tables)

local function resolve(root, ref, where)
  local name = type(ref) == "string" and ref:match("^#/%$defs/([^/]+)$")
  if not name then
    refuse(where, "$ref %s is not supported (only local references \"#/$defs/NAME\")", show(ref))
  end
  name = name:gsub("~1", "/"):gsub("~0", "~")
  local defs = type(root) == "table" and root["$defs"]
  if type(defs) ~= "table" or defs[name] == nil then refuse(where, "$ref %s: no such definition", show(ref)) end
  return defs[name]
end

local function check_node(root, s, where)
  if s == true or s == false then return end
  if kind(s) ~= "object" then refuse(where, "a schema must be an object or a boolean, got %s", kind(s)) end
  for key, v in pairs(s) do
    local here = at(where, key)
    local function want(what, ok) if not ok then refuse(here, "%s must be %s", key, what) end end
    if key == "type" then
      local names = kind(v) == "array" and v or { v }
      want("a type name or a non-empty list of them", #names > 0)
      for _, n in ipairs(names) do
        if not TYPES[n] then refuse(here, "unknown type %s", show(n)) end
      end
    elseif key == "properties" or key == "$defs" then
      want("an object", kind(v) == "object")
      for name, sub in pairs(v) do check_node(root, sub, at(here, name)) end
    elseif key == "required" then
      want("a list of property names", kind(v) == "array" or (type(v) == "table" and next(v) == nil))
      for _, n in ipairs(v) do want("a list of property names", type(n) == "string") end
    elseif key == "additionalProperties" or key == "items" then
      check_node(root, v, here)
    elseif key == "enum" then
      want("a non-empty list", kind(v) == "array" and #v > 0)
    elseif key == "minimum" or key == "maximum" then
      want("a number", type(v) == "number")
    elseif key == "minLength" or key == "maxLength" then
      want("a whole number >= 0", is_integer(v) and v >= 0)
    elseif key == "format" then
      if not FORMATS[v] then refuse(here, "format %s is not supported (only \"date-time\")", show(v)) end
    elseif key == "$ref" then
      resolve(root, v, here)
    elseif key == "anyOf" or key == "oneOf" then
      want("a non-empty list of schemas", kind(v) == "array" and #v > 0)
      for i, sub in ipairs(v) do check_node(root, sub, at(here, i - 1)) end
    elseif not ANNOTATIONS[key] and key ~= "const" then  -- these take any value
      refuse(here, "keyword %s is not supported by lib/json_schema", show(key))
    end
  end
end

function M.check_schema(schema)
  if type(schema) == "table" and checked[schema] then return true end
  check_node(schema, schema, {})
  if type(schema) == "table" then checked[schema] = true end
  return true
end

-- ---------------------------------------------------------------- the value
-- A place in the value is a chain { up = place, key = k } (nil: the value
-- itself), made into a JSON Pointer only for a violation: a valid value (every
-- artifact written) costs no pointer strings and no path copies.

local function ptr_of(place)
  if place == nil then return "" end
  local parts, n = {}, 0
  while place do
    n = n + 1
    parts[n] = place.key
    place = place.up
  end
  local out = {}
  for i = n, 1, -1 do out[#out + 1] = "/" .. escape(parts[i]) end
  return concat(out)
end

local function type_ok(v, k, name)
  return name == k or (name == "integer" and is_integer(v)) or (name == "number" and k == "number")
end

local validate

local function add(out, place, fmt, ...) out[#out + 1] = { pointer = ptr_of(place), message = format(fmt, ...) } end

local function first_problem(root, v, s, place, depth)
  local out = {}
  validate(root, v, s, place, out, depth)
  if #out == 0 then return nil end
  local p = out[1]
  return (p.pointer ~= "" and (p.pointer .. ": ") or "") .. p.message
    .. (#out > 1 and format(" (+%d more)", #out - 1) or "")
end

local function combined(root, v, s, place, out, depth, key)
  local matched, why = {}, {}
  for i, sub in ipairs(s[key]) do
    local problem = first_problem(root, v, sub, place, depth)
    if problem then why[#why + 1] = format("#%d: %s", i - 1, problem) else matched[#matched + 1] = i - 1 end
  end
  if #matched == 0 then
    add(out, place, "matches none of the %s schemas (%s)", key, concat(why, "; "))
  elseif key == "oneOf" and #matched > 1 then
    add(out, place, "matches %d of the oneOf schemas (#%s), expected exactly one", #matched,
      concat(matched, ", #"))
  end
end

-- member name of object v (at place) against s's properties
local function member(root, v, s, props, name, place, out, depth)
  local sub, here = props[name], { up = place, key = tostring(name) }
  if sub ~= nil then
    validate(root, v[name], sub, here, out, depth)
  elseif s.additionalProperties == false then
    add(out, here, "property not allowed (not in the schema's properties)")
  elseif s.additionalProperties ~= nil then
    validate(root, v[name], s.additionalProperties, here, out, depth)
  end
end

local EMPTY = {}

local function object_rules(root, v, s, place, out, depth)
  local props = s.properties or EMPTY
  for _, name in ipairs(s.required or EMPTY) do
    if v[name] == nil then add(out, { up = place, key = name }, "required property missing") end
  end
  -- the members in any order; only when one is wrong again by name, so
  -- the violations come in the same order every time
  local before = #out
  for name in pairs(v) do member(root, v, s, props, name, place, out, depth) end
  if #out == before then return end
  for i = #out, before + 1, -1 do out[i] = nil end
  local names = {}
  for name in pairs(v) do names[#names + 1] = tostring(name) end
  table.sort(names)
  for _, name in ipairs(names) do member(root, v, s, props, name, place, out, depth) end
end

local function scalar_rules(v, k, s, place, out)
  if k == "number" then
    if s.minimum and v < s.minimum then add(out, place, "expected at least %s, got %s", show(s.minimum), show(v)) end
    if s.maximum and v > s.maximum then add(out, place, "expected at most %s, got %s", show(s.maximum), show(v)) end
  elseif k == "string" then
    local n = (s.minLength or s.maxLength) and length(v)
    if s.minLength and n < s.minLength then
      add(out, place, "expected at least %d characters, got %d", s.minLength, n)
    end
    if s.maxLength and n > s.maxLength then
      add(out, place, "expected at most %d characters, got %d", s.maxLength, n)
    end
    if s.format == "date-time" and not M.date_time(v) then
      add(out, place, "expected a date-time (RFC 3339, as 2026-12-01T09:30:00Z), got %s", show(v))
    end
  end
end

validate = function(root, v, s, place, out, depth)
  if s == true then return end
  if s == false then return add(out, place, "not allowed (the schema is false)") end
  local k = kind(v)
  if s["$ref"] ~= nil then
    if depth > REF_DEPTH then
      refuse({}, "$ref %s: references nested deeper than %d (a loop?)", show(s["$ref"]), REF_DEPTH)
    end
    validate(root, v, resolve(root, s["$ref"], {}), place, out, depth + 1)
  end
  local st = s.type
  if st ~= nil then
    local ok
    if type(st) == "string" then
      ok = type_ok(v, k, st)
    else
      ok = false
      for _, n in ipairs(st) do ok = ok or type_ok(v, k, n) end
    end
    if not ok then  -- the other keywords would only repeat it
      local names = type(st) == "string" and { st } or st
      return add(out, place, "expected %s, got %s", concat(names, " or "),
        (k == "number" and names[1] == "integer") and "a number with a fraction" or k)
    end
  end
  if s.enum ~= nil then
    local ok = false
    for _, e in ipairs(s.enum) do ok = ok or equal(v, e) end
    if not ok then add(out, place, "expected one of %s, got %s", shows(s.enum), show(v)) end
  end
  if s.const ~= nil and not equal(v, s.const) then add(out, place, "expected %s, got %s", show(s.const), show(v)) end
  if k == "number" or k == "string" then scalar_rules(v, k, s, place, out) end
  if k == "object" then
    object_rules(root, v, s, place, out, depth)
  elseif k == "array" and s.items ~= nil then
    for i = 1, #v do validate(root, v[i], s.items, { up = place, key = i - 1 }, out, depth) end
  end
  if s.anyOf then combined(root, v, s, place, out, depth, "anyOf") end
  if s.oneOf then combined(root, v, s, place, out, depth, "oneOf") end
end

-- validate(value, schema [, trusted]) -> { {pointer=, message=} }; trusted: the
-- schema passed check_schema already (lib/artifacts' cached one), not checked again
function M.validate(value, schema, trusted)
  if not trusted then M.check_schema(schema) end
  local out = {}
  validate(schema, value, schema, nil, out, 0)
  return out
end

return M
