-- Specs for scripts/orch/notify.lua: the sinks of the config (defaults and
-- notify.sinks), routing by notify.routes, and the request each sink gets.
local T = require("orch.testing")
local C = require("orch.config")
local N = require("orch.notify")
local describe, it, eq, ok, raises = T.describe, T.it, T.eq, T.ok, T.raises

local copy = C.copy

-- the defaults with `notify` and `telegram` fields on top, resolved
local function config(notify, telegram)
  local cfg = copy(C.defaults)
  for k, v in pairs(notify or {}) do cfg.notify[k] = v end
  for k, v in pairs(telegram or {}) do cfg.telegram[k] = v end
  N.resolve(cfg, function(key, msg) error("workflows/config.lua: '" .. key .. "' " .. msg, 0) end)
  return cfg.notify
end

local TG = { bot_token = "1:tok", chat_id = "1001, -1002", api_base = "http://api.test/" }

describe("notify: sinks and routes", function()
  it("the defaults: n8n_url and every telegram.chat_id chat, each message to all of them", function()
    local n = config({ n8n_url = "http://n8n.test/hook" }, TG)
    eq(N.sinks_for({ type = "progress" }, n), { "n8n", "telegram:-1002", "telegram:1001" })
    eq(n.sinks["telegram:1001"].secret, "1:tok")
    eq(N.sinks_for({ type = "error" }, config({}, {})), {})
  end)

  it("failures also to a second chat, progress only to n8n: routes and one more sink, nothing else", function()
    local n = config({
      n8n_url = "http://n8n.test/hook",
      sinks = { oncall = { kind = "telegram", chat_id = "2002" } },
      routes = {
        { types = { "progress" }, sinks = { "n8n" } },
        { types = { "error" }, sinks = { "default", "oncall" } },
      },
    }, { bot_token = "1:tok", chat_id = "1001" })
    eq(N.sinks_for({ type = "progress" }, n), { "n8n" })
    eq(N.sinks_for({ type = "error" }, n), { "n8n", "oncall", "telegram:1001" })
    eq(N.sinks_for({ type = "success" }, n), { "n8n", "telegram:1001" })
    eq(n.sinks.oncall.secret, "1:tok")  -- telegram.bot_token unless the sink has its own
  end)

  it("a route may decide with a function of the message", function()
    local n = config({ n8n_url = "http://n8n.test/hook",
      sinks = { audit = { kind = "webhook", url = "http://audit.test/in", headers = { ["X-Key"] = "{secret}" },
                          secret = "k" } },
      routes = { { when = function(m) return m.session == "s9" end, sinks = { "audit" } } } })
    eq(N.sinks_for({ type = "info", session = "s9" }, n), { "audit" })
    eq(N.sinks_for({ type = "info", session = "s1" }, n), { "n8n" })
  end)

  it("mistakes are errors naming the field", function()
    raises(function() config({ sinks = { x = { kind = "mail" } } }) end, "'notify.sinks.x.kind' must be")
    raises(function() config({ sinks = { x = { kind = "webhook", url = "ftp://x" } },
      routes = { { sinks = { "x" } } } }) end, "'notify.sinks.x.url' must be an http(s) URL")
    raises(function() config({ sinks = { x = { kind = "telegram", chat_id = "1" } },
      routes = { { sinks = { "x" } } } }) end, "'notify.sinks.x.bot_token' must be set")
    raises(function() config({ sinks = { x = { kind = "webhook", url = "http://x", chat = 1 } } }) end,
      "'notify.sinks.x.chat' is not a key of a webhook sink")
    raises(function() config({ sinks = { x = { kind = "webhook", url = "http://x" } } }) end,
      "'notify.sinks.x' gets nothing")
    raises(function() config({ routes = { { sinks = { "nope" } } } }) end,
      "'notify.routes[1].sinks' names 'nope', which is not a sink (known: default)")
    raises(function() config({ routes = { { types = { "failure" }, sinks = { "default" } } } }) end,
      "'notify.routes[1].types' has 'failure'")
    raises(function() config({ routes = { { type = { "error" }, sinks = { "default" } } } }) end,
      "'notify.routes[1].type' is not a key of a route")
    raises(function() config({ max_attempts = 0 }) end, "'notify.max_attempts' must be >= 1")
  end)
end)

describe("notify: the requests", function()
  it("a webhook gets the payload itself as JSON", function()
    local n = config({ n8n_url = "http://n8n.test/hook" })
    local p = { message = "m", type = "info", session = "s", buttons = { { { text = "A", data = "a" } } } }
    local rows = N.rows(p, n)
    eq(#rows, 1)
    eq(rows[1].sink, "n8n")
    eq(rows[1].request.url, "http://n8n.test/hook")
    eq(orch.json.decode(rows[1].request.body), p)
    eq({ rows[1].type, rows[1].session }, { "info", "s" })
  end)

  it("telegram: sendMessage with chat_id, telegram_text, the keyboard; the token stays {secret}", function()
    local n = config({}, TG)
    local rows = N.rows({ message = "plain", telegram_text = "Approve?", type = "question",
      buttons = { { { text = "Approve", data = "approve:1" }, { text = "Docs", url = "https://d" } } } }, n)
    eq(#rows, 2)
    eq(rows[1].request.url, "http://api.test/bot{secret}/sendMessage")
    eq(orch.json.decode(rows[1].request.body), { chat_id = -1002, text = "Approve?", disable_web_page_preview = true,
      reply_markup = { inline_keyboard = { { { text = "Approve", callback_data = "approve:1" },
                                             { text = "Docs", url = "https://d" } } } } })
    eq(orch.json.decode(rows[2].request.body).chat_id, 1001)
    eq(N.telegram_message("@chan", "x").chat_id, "@chan")
    eq(N.telegram_message(1, "x").reply_markup, nil)
  end)

  it("telegram: a text is cut to 4096 UTF-16 units with an ellipsis; nothing to say, no row", function()
    local emoji = string.rep("\240\159\147\138", 3000)  -- 2 units each
    eq(#N.telegram_message(1, emoji).text, 2047 * 4 + 3)
    eq(N.cut_utf16("short"), "short")
    eq(N.cut_utf16(string.rep("a", 4096)), string.rep("a", 4096))
    eq(N.cut_utf16(string.rep("a", 4097)), string.rep("a", 4095) .. "…")
    eq(#N.rows({ message = "", type = "info" }, config({}, TG)), 0)
  end)

  it("buttons are checked, with where the mistake is", function()
    eq(N.check_buttons(nil), nil)
    eq(N.check_buttons({}), nil)
    eq(N.check_buttons({ { { text = "A", data = "a" } } }), nil)
    eq(N.check_buttons({ { text = "A", data = "a" } }), "[1] must be a non-empty list of {text=, data=}")
    eq(N.check_buttons({ { { text = "A", data = string.rep("x", 65) } } }),
      "[1][1].data must be a string of 1 to 64 bytes")
    eq(N.check_buttons({ { { text = "", data = "a" } } }), "[1][1].text must be a non-empty string")
    eq(N.check_buttons({ { { text = "no data" } } }), "[1][1] needs data= (or url=)")
    eq(N.check_buttons("x"), " must be a list of rows")
    ok(not pcall(orch.notify, "m", { buttons = { { { text = "no data" } } }, quiet = true }))
  end)
end)
