-- Specs for workflows/lib/json_schema.lua: each supported keyword with a
-- value that follows it and one that does not (every violation named by its
-- JSON pointer), the shipped result schema accepted, and every keyword it
-- does not support refused, naming the keyword and its place in the schema.
local T = require("orch.testing")
local J = require("lib.json_schema")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local null, array = orch.json.null, orch.json.array

local function violations(value, schema)
  local out = {}
  for i, v in ipairs(J.validate(value, schema)) do out[i] = v.pointer .. ": " .. v.message end
  return out
end

local function valid(value, schema) eq(violations(value, schema), {}) end

local function refused(schema, pattern)
  local e = T.raises(function() J.validate(1, schema) end, pattern)
  eq(e.code, "schema")
  return e
end

describe("type", function()
  it("takes each JSON kind, and integer as a number without a fraction", function()
    valid(1, { type = "integer" })
    valid(1.5, { type = "number" })
    valid("x", { type = "string" })
    valid(false, { type = "boolean" })
    valid(null, { type = "null" })
    valid(array(), { type = "array" })
    valid({}, { type = "object" })
    valid({ a = 1 }, { type = "object" })
    valid({ 1, 2 }, { type = "array" })
  end)
  it("names the kinds expected and the kind found", function()
    eq(violations("3", { type = "integer" }), { ": expected integer, got string" })
    eq(violations(1.5, { type = "integer" }), { ": expected integer, got a number with a fraction" })
    eq(violations(null, { type = { "string", "number" } }), { ": expected string or number, got null" })
    eq(violations({}, { type = "array" }), { ": expected array, got object" })
    eq(violations(array(), { type = "object" }), { ": expected object, got array" })
  end)
  it("names a kind by lib/task_model's rule, the one the encoder follows", function()
    local model = require("lib.task_model")
    local cases = { { null, "null" }, { true, "boolean" }, { "x", "string" }, { array(), "array" },
      { {}, "object" }, { { a = 1 }, "object" }, { { 1, 2 }, "array" }, { { 1, a = 2 }, "object" },
      { { [2] = "x" }, "object" } }
    for _, c in ipairs(cases) do
      eq(model.kind(c[1], "json"), c[2], c[2])
      eq(violations(c[1], { type = "integer" }), { ": expected integer, got " .. c[2] }, c[2])
      eq(orch.json.encode(c[1]):sub(1, 1) == "[", c[2] == "array", c[2])
    end
    eq(model.kind(nil, "json"), "null")  -- a missing item
    eq(model.kind({ 1, a = 2 }), "mapping")
  end)
  it("takes a list of types", function()
    valid(null, { type = { "string", "null" } })
    valid("a", { type = { "string", "null" } })
  end)
end)

describe("objects", function()
  local schema = { type = "object", required = { "a", "b" }, additionalProperties = false,
    properties = { a = { type = "integer" }, b = { type = { "string", "null" } },
      tokens = { type = "object", properties = { input = { type = "integer" } } } } }
  it("a good object", function() valid({ a = 1, b = null, tokens = { input = 3 } }, schema) end)
  it("names every violation by its pointer", function()
    eq(violations({ b = 2, c = true, tokens = { input = "many" } }, schema), {
      "/a: required property missing",
      "/b: expected string or null, got number",
      "/c: property not allowed (not in the schema's properties)",
      "/tokens/input: expected integer, got string",
    })
  end)
  it("a null member is present (required), not missing", function()
    valid({ a = 1, b = null }, schema)
  end)
  it("additionalProperties as a schema checks the others", function()
    local s = { type = "object", properties = { a = {} }, additionalProperties = { type = "string" } }
    valid({ a = 1, b = "x" }, s)
    eq(violations({ a = 1, b = 2 }, s), { "/b: expected string, got number" })
  end)
  it("escapes ~ and / in pointers", function()
    eq(violations({ ["a/b"] = 1, ["c~d"] = 1 }, { additionalProperties = false }), {
      "/a~1b: property not allowed (not in the schema's properties)",
      "/c~0d: property not allowed (not in the schema's properties)" })
  end)
end)

describe("items", function()
  local schema = { type = "array", items = { type = "string", minLength = 1 } }
  it("checks every item, pointers from 0", function()
    valid(array({ "a", "b" }), schema)
    eq(violations(array({ "a", 2, "" }), schema), { "/1: expected string, got number",
      "/2: expected at least 1 characters, got 0" })
  end)
  it("a null item is null", function()
    eq(violations(array({ "a", null }), schema), { "/1: expected string, got null" })
  end)
end)

describe("enum and const", function()
  it("enum, null among them", function()
    local s = { enum = array({ "high", "low", null }) }
    valid("high", s)
    valid(null, s)
    eq(violations("urgent", s), { ': expected one of "high", "low", null, got "urgent"' })
  end)
  it("const, compared deeply", function()
    valid(1, { const = 1 })
    eq(violations(2, { const = 1 }), { ": expected 1, got 2" })
    valid({ a = array({ 1 }) }, { const = { a = array({ 1 }) } })
    eq(#violations({ a = array({ 2 }) }, { const = { a = array({ 1 }) } }), 1)
  end)
end)

describe("numbers and strings", function()
  it("minimum and maximum", function()
    local s = { type = "number", minimum = 0, maximum = 10 }
    valid(0, s)
    valid(10, s)
    eq(violations(-0.5, s), { ": expected at least 0, got -0.5" })
    eq(violations(11, s), { ": expected at most 10, got 11" })
  end)
  it("minLength and maxLength count characters, not bytes", function()
    local s = { type = "string", minLength = 2, maxLength = 3 }
    valid("éé", s)   -- 4 bytes, 2 characters
    valid("日本語", s) -- 9 bytes, 3 characters
    eq(violations("a", s), { ": expected at least 2 characters, got 1" })
    eq(violations("abcd", s), { ": expected at most 3 characters, got 4" })
  end)
  it("only apply to their kind", function()
    valid(null, { type = { "number", "null" }, minimum = 0 })
    valid(5, { minLength = 9 })
  end)
end)

describe("format date-time", function()
  local s = { type = { "string", "null" }, format = "date-time" }
  it("takes RFC 3339 times", function()
    for _, v in ipairs({ "2026-12-01T09:30:00Z", "2026-12-01T09:30:00.250Z", "2024-02-29T23:59:60+01:00",
      "2026-12-01t09:30:00z", "2026-12-01T09:30:00-05:30" }) do valid(v, s) end
    valid(null, s)
  end)
  it("refuses what is not one, or not a real date", function()
    for _, v in ipairs({ "yesterday", "2026-12-01", "2026-12-01 09:30:00Z", "2026-13-01T09:30:00Z",
      "2025-02-29T09:30:00Z", "2026-04-31T00:00:00Z", "2026-12-01T24:00:00Z", "2026-12-01T09:30:00",
      "2026-12-01T09:30:00+0100" }) do
      eq(#violations(v, s), 1, v)
    end
    eq(violations("soon", s)[1], ': expected a date-time (RFC 3339, as 2026-12-01T09:30:00Z), got "soon"')
  end)
end)

describe("$defs and $ref", function()
  local s = { ["$defs"] = { count = { type = "integer", minimum = 0 } },
    properties = { a = { ["$ref"] = "#/$defs/count" } } }
  it("a local reference", function()
    valid({ a = 3 }, s)
    eq(violations({ a = -1 }, s), { "/a: expected at least 0, got -1" })
  end)
  it("refuses a reference that is not local, and one to nothing", function()
    refused({ ["$ref"] = "other.json#/x" }, 'schema #/$ref: $ref "other.json#/x" is not supported')
    refused({ ["$ref"] = "#/properties/a" }, "only local references")
    refused({ properties = { a = { ["$ref"] = "#/$defs/nope" } } },
      'schema #/properties/a/$ref: $ref "#/$defs/nope": no such definition')
  end)
  it("stops a reference loop", function()
    T.raises(function() J.validate(1, { ["$defs"] = { a = { ["$ref"] = "#/$defs/a" } }, ["$ref"] = "#/$defs/a" }) end,
      "a loop")
  end)
end)

describe("anyOf and oneOf", function()
  it("anyOf: one match is enough, none names each branch's first problem", function()
    local s = { anyOf = array({ { type = "null" }, { type = "object", required = array({ "files" }) } }) }
    valid(null, s)
    valid({ files = 1 }, s)
    eq(violations({}, s), { ": matches none of the anyOf schemas (#0: expected null, got object; "
      .. "#1: /files: required property missing)" })
  end)
  it("oneOf: exactly one", function()
    local s = { oneOf = array({ { properties = { checked = { const = true }, passed = { type = "boolean" } } },
      { properties = { checked = { const = false }, passed = { type = "null" } } } }) }
    valid({ checked = true, passed = false }, s)
    valid({ checked = false, passed = null }, s)
    eq(#violations({ checked = false, passed = true }, s), 1)
    eq(violations({}, { oneOf = array({ { type = "object" }, { required = array({}) } }) }),
      { ": matches 2 of the oneOf schemas (#0, #1), expected exactly one" })
  end)
end)

describe("boolean schemas", function()
  it("true takes anything, false nothing", function()
    valid({ a = 1 }, { properties = { a = true } })
    eq(violations({ a = 1 }, { properties = { a = false } }), { "/a: not allowed (the schema is false)" })
  end)
end)

describe("what is not supported is refused", function()
  it("an unknown keyword, naming it and where", function()
    refused({ properties = { a = { pattern = "^x" } } },
      'schema #/properties/a/pattern: keyword "pattern" is not supported')
    refused({ patternProperties = {} }, 'keyword "patternProperties"')
    refused({ allOf = array({ {} }) }, 'keyword "allOf"')
    refused({ ["$defs"] = { x = { uniqueItems = true } } }, 'schema #/$defs/x/uniqueItems')
    refused({ items = { exclusiveMinimum = 0 } }, 'schema #/items/exclusiveMinimum')
    refused({ oneOf = array({ { type = "string" }, { ["if"] = {} } }) }, 'schema #/oneOf/1/if')
  end)
  it("also in a branch the value never reaches", function()
    refused({ anyOf = array({ true, { contains = {} } }) }, "schema #/anyOf/1/contains")
  end)
  it("another format, an unknown type, a bad keyword value", function()
    refused({ format = "email" }, 'schema #/format: format "email" is not supported')
    refused({ type = "int" }, 'schema #/type: unknown type "int"')
    refused({ minimum = "0" }, "schema #/minimum: minimum must be a number")
    refused({ required = "a" }, "schema #/required: required must be a list of property names")
    refused({ properties = { a = 3 } }, "schema #/properties/a: a schema must be an object or a boolean")
  end)
  it("the annotations change nothing", function()
    valid(1, { ["$schema"] = "https://json-schema.org/draft/2020-12/schema", ["$id"] = "x", title = "t",
      description = "d", ["$comment"] = "c", default = 0, examples = array({ 1 }) })
  end)
end)

describe("the shipped result schema", function()
  it("is supported whole", function()
    local s = orch.json.decode(orch.read_file(orch.root .. "/docs/schema/task-result.schema.json"), { nulls = true })
    ok(J.check_schema(s))
    local bad = J.validate({ schema_version = 2 }, s)
    ok(#bad > 10, "a near-empty result has many violations")
    eq(bad[1], { pointer = "/task_id", message = "required property missing" })
    eq(bad[#bad], { pointer = "/schema_version", message = "expected 1, got 2" })
  end)
end)

describe("decoded values", function()
  it("orch.json.decode with nulls keeps a null member, so a wrong null is seen", function()
    local s = { type = "object", properties = { result = { type = "string" } } }
    eq(violations(orch.json.decode('{"result": null}', { nulls = true }), s), { "/result: expected string, got null" })
    valid(orch.json.decode('{"result": null}'), s)  -- without it the member is gone
    eq(violations(orch.json.decode('{"a": [1, null]}', { nulls = true }),
      { properties = { a = { items = { type = "integer" } } } }),
      { "/a/1: expected integer, got null" })
  end)
end)
