-- Specs for the serve helpers in scripts/orch/init.lua and api_server.cpp that
-- need no server: secret comparison, replies, query parsing, the router's
-- answers for unknown paths, and the registration window (closed here).
local T = require("orch.testing")
local describe, it, eq, ok, raises = T.describe, T.it, T.eq, T.ok, T.raises

describe("orch.secure_compare", function()
  it("is true only for equal, non-empty strings", function()
    eq(orch.secure_compare("s3cret", "s3cret"), true)
    eq(orch.secure_compare("s3cret", "s3creT"), false)
    eq(orch.secure_compare("s3cret", "s3cret "), false)
    eq(orch.secure_compare("s3cret", "s3cre"), false)
    eq(orch.secure_compare("", ""), false)        -- an empty secret never matches
    eq(orch.secure_compare("a\0b", "a\0b"), true) -- lengths, not C strings
    eq(orch.secure_compare("a\0b", "a\0c"), false)
  end)
  it("rejects non-strings", function()
    raises(function() orch.secure_compare(nil, "x") end, "string expected")
  end)
end)

describe("orch.reply and orch.parse_query", function()
  it("builds replies", function()
    local r = orch.reply(201, { a = 1 })
    eq({ r.status, r.json.a, r.body }, { 201, 1, nil })
    r = orch.reply(200, "<p>x</p>", { ["Content-Type"] = "text/html", ["X-A"] = "1" })
    eq({ r.body, r.content_type, r.headers["X-A"], r.headers["Content-Type"] }, { "<p>x</p>", "text/html", "1", nil })
    raises(function() orch.reply(99) end, "HTTP status")
    raises(function() orch.reply("200") end, "HTTP status")
  end)
  it("decodes query strings", function()
    eq(orch.parse_query("a=1&b=two%20words&c=x+y&empty=&flag&=skip"),
      { a = "1", b = "two words", c = "x y", empty = "", flag = "" })
    eq(orch.parse_query(""), {})
  end)
end)

describe("orch.route", function()
  it("is refused outside the server workflow's load", function()
    raises(function() orch.route("GET", "/x", function() end) end, "while the server workflow loads")
  end)
  it("the router answers unknown paths with a JSON 404", function()
    -- luacheck: ignore 143 (orch._serve_request is the host's entry point, not in _meta.lua)
    local r = orch._serve_request({ method = "GET", path = "/nothing/here", query = "", headers = {} })
    eq(r.status, 404)
    ok(r.json.error:find("/nothing/here", 1, true))
  end)
end)

