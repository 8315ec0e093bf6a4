-- orch.notify's half in Lua: which sinks get a message (notify.routes) and
-- the HTTP request each one gets (a webhook: the payload as JSON; Telegram:
-- sendMessage). The host's outbox stores those ready requests and delivers
-- them (host/services/outbox.h); it knows no message format. The sinks are
-- the resolved notify.sinks of the config (scripts/orch/config.lua):
--   name = { kind = "webhook", url=, headers= }
--   name = { kind = "telegram", chat_id=, api_base= }   (bot token: the secret)
-- The bot (workflows/lib/telegram.lua) sends its answers with the same
-- telegram_message, so a Telegram text is cut and a keyboard built in one place.
local M = {}

M.TELEGRAM_MAX_TEXT = 4096  -- UTF-16 code units, as Telegram counts
M.DEFAULT = "default"       -- in a route's sinks: the default sinks (notify.n8n_url, telegram.chat_id)

local function units(c) return c >= 0xF0 and 2 or 1 end  -- UTF-16 units of a UTF-8 lead byte

-- The longest prefix of UTF-8 `s` within `max` UTF-16 units, with "…" when
-- something was cut.
function M.cut_utf16(s, max)
  max = max or M.TELEGRAM_MAX_TEXT
  local n, i, keep = 0, 1, 0
  while i <= #s do
    local c = s:byte(i)
    local len = c < 0x80 and 1 or c < 0xE0 and 2 or c < 0xF0 and 3 or 4
    n = n + units(c)
    i = i + len
    if n <= max - 1 then keep = math.min(i - 1, #s) end
  end
  if n <= max then return s end
  return s:sub(1, keep) .. "…"
end

-- buttons: a list of rows, each a list of {text=, data=} (or {text=, url=}).
-- nil when usable, else what is wrong ("[1][2].text must be ...").
function M.check_buttons(buttons)
  if buttons == nil or (type(buttons) == "table" and next(buttons) == nil) then return nil end
  if type(buttons) ~= "table" or buttons[1] == nil then return " must be a list of rows" end
  for r, row in ipairs(buttons) do
    local at = "[" .. r .. "]"
    if type(row) ~= "table" or row[1] == nil then return at .. " must be a non-empty list of {text=, data=}" end
    for c, b in ipairs(row) do
      local here = at .. "[" .. c .. "]"
      if type(b) ~= "table" then return here .. " must be a table {text=, data=}" end
      if type(b.text) ~= "string" or b.text == "" then return here .. ".text must be a non-empty string" end
      if b.data ~= nil then
        if type(b.data) ~= "string" or #b.data < 1 or #b.data > 64 then
          return here .. ".data must be a string of 1 to 64 bytes"
        end
      elseif type(b.url) ~= "string" or b.url == "" then
        return here .. " needs data= (or url=)"
      end
    end
  end
  return nil
end

-- rows of {text=, data=|url=} -> the Bot API's reply_markup
function M.inline_keyboard(rows)
  local kb = {}
  for i, row in ipairs(rows) do
    kb[i] = {}
    for j, b in ipairs(row) do
      kb[i][j] = b.data ~= nil and { text = b.text, callback_data = b.data } or { text = b.text, url = b.url }
    end
  end
  return { inline_keyboard = kb }
end

-- Telegram chat ids are integers; "@channel" names stay strings.
function M.chat_id(chat)
  if type(chat) == "number" then return chat end
  local s = tostring(chat)
  if #s < 19 and s:match("^%-?%d+$") then return tonumber(s) end
  return s
end

-- The body of a sendMessage: text cut to Telegram's limit, link previews off,
-- the inline keyboard when there are buttons.
function M.telegram_message(chat, text, buttons)
  local msg = { chat_id = M.chat_id(chat), text = M.cut_utf16(tostring(text)), disable_web_page_preview = true }
  if buttons and buttons[1] ~= nil then msg.reply_markup = M.inline_keyboard(buttons) end
  return msg
end

-- A Bot API method's URL; "{secret}" is the token, put in by the host at delivery.
function M.telegram_url(api_base, method)
  return tostring(api_base):gsub("/+$", "") .. "/bot{secret}/" .. method
end

-- The request that delivers `payload` to the sink `spec` -> request | nil, why
function M.request(spec, payload)
  if spec.kind == "telegram" then
    local text = payload.telegram_text
    if type(text) ~= "string" or text == "" then text = payload.message end
    if type(text) ~= "string" or text == "" then return nil, "nothing to send: no message or telegram_text" end
    return { method = "POST", url = M.telegram_url(spec.api_base, "sendMessage"),
             body = orch.json.encode(M.telegram_message(spec.chat_id, text, payload.buttons)) }
  end
  return { method = "POST", url = spec.url, headers = spec.headers, body = orch.json.encode(payload) }
end

local function has(list, x)
  for _, v in ipairs(list or {}) do if v == x then return true end end
  return false
end

-- The default sinks' names, sorted.
function M.defaults(ncfg)
  local out = {}
  for name, spec in pairs(ncfg.sinks or {}) do
    if spec.default then out[#out + 1] = name end
  end
  table.sort(out)
  return out
end

-- The sinks that get `payload`: the first route whose types (and when)
-- match decides; none matching: the default sinks. Sorted, each once.
function M.sinks_for(payload, ncfg)
  local when = M.route_when
  local chosen
  for i, r in ipairs(ncfg.routes or {}) do
    local ok = r.types == nil or has(r.types, payload.type)
    if ok and r.when then ok = when[i] and when[i](payload) and true or false end
    if ok then chosen = r.sinks break end
  end
  if not chosen then return M.defaults(ncfg) end
  local out, seen = {}, {}
  for _, name in ipairs(chosen) do
    for _, n in ipairs(name == M.DEFAULT and M.defaults(ncfg) or { name }) do
      if not seen[n] then seen[n], out[#out + 1] = true, n end
    end
  end
  table.sort(out)
  return out
end

local SINK_KEYS = {
  telegram = { kind = true, chat_id = true, bot_token = true, api_base = true },
  webhook = { kind = true, url = true, headers = true, secret = true },
}
local TYPES = { info = true, progress = true, success = true, error = true, warning = true, question = true }

-- The functions of notify.routes[i].when, by i: a function cannot cross to
-- the host with the rest of the config, so the route keeps `when = true`.
M.route_when = {}

-- notify.sinks checked and completed: every sink gets kind, its fields and
-- `secret` (the host keeps it out of logs and puts it in for "{secret}"),
-- and the defaults are added, marked default = true: "n8n" (notify.n8n_url)
-- and "telegram:<chat>" per telegram.chat_id entry (with telegram.bot_token).
-- notify.routes checked: types known, sinks named, when a function.
-- sources (config's, optional) gets each sink's: the setting it came from.
-- where each field of a default Telegram sink comes from (doctor's sources)
local TELEGRAM_FIELDS = { chat_id = "telegram.chat_id", secret = "telegram.bot_token", api_base = "telegram.api_base" }

-- whether text names a Telegram chat: its id (a number) or @channel
function M.is_chat(text) return text:match("^%-?%d+$") ~= nil or text:match("^@[%w_]+$") ~= nil end

function M.resolve(cfg, fail, sources)
  local n, tg = cfg.notify, cfg.telegram
  for chat in tostring(tg.chat_id):gmatch("[^,]+") do
    chat = chat:match("^%s*(.-)%s*$")
    if chat ~= "" and not M.is_chat(chat) then
      fail("telegram.chat_id", "must be chat ids (numbers) or @channels, comma separated (got '" .. chat .. "')")
    end
  end
  if n.max_attempts < 1 then fail("notify.max_attempts", "must be >= 1") end
  local sinks = {}
  for name, spec in pairs(n.sinks) do
    local key = "notify.sinks." .. tostring(name)
    if type(name) ~= "string" or not name:match("^[%w_.:@%-]+$") then
      fail("notify.sinks", "names must be words (letters, digits, _ . : @ -), got " .. tostring(name))
    end
    if name == "default" or name == "n8n" or name:match("^telegram:") then
      fail(key, "the name is taken by the default sinks (n8n, telegram:<chat>, default): pick another")
    end
    if type(spec) ~= "table" then fail(key, "must be a table { kind = \"telegram\" | \"webhook\", ... }") end
    local keys = SINK_KEYS[spec.kind]
    if not keys then fail(key .. ".kind", "must be \"telegram\" or \"webhook\" (got " .. tostring(spec.kind) .. ")") end
    for k in pairs(spec) do
      if not keys[k] then fail(key .. "." .. tostring(k), "is not a key of a " .. spec.kind .. " sink") end
    end
    local s = { kind = spec.kind }
    if spec.kind == "telegram" then
      s.chat_id = spec.chat_id and tostring(spec.chat_id) or ""
      if not M.is_chat(s.chat_id) then
        fail(key .. ".chat_id", "must be a chat id (a number) or @channel (got " .. tostring(spec.chat_id) .. ")")
      end
      s.secret = spec.bot_token or tg.bot_token
      s.api_base = spec.api_base or tg.api_base
      if type(s.secret) ~= "string" or s.secret == "" then
        fail(key .. ".bot_token", "must be set (or telegram.bot_token / TELEGRAM_BOT_TOKEN)")
      end
      if type(s.api_base) ~= "string" or not s.api_base:match("^https?://") then
        fail(key .. ".api_base", "must be an http(s) URL")
      end
    else
      s.url, s.headers, s.secret = spec.url, spec.headers, spec.secret or ""
      if type(s.url) ~= "string" or not s.url:match("^https?://") then fail(key .. ".url", "must be an http(s) URL") end
      if s.headers ~= nil and type(s.headers) ~= "table" then
        fail(key .. ".headers", "must be a table of name = value")
      end
      for h, v in pairs(s.headers or {}) do
        if type(h) ~= "string" or type(v) ~= "string" then
          fail(key .. ".headers", "names and values must be strings")
        end
      end
      if type(s.secret) ~= "string" then fail(key .. ".secret", "must be a string") end
    end
    sinks[name] = s
  end
  local from, field_from = { ["notify.sinks.n8n"] = "notify.n8n_url" }, {}
  if n.n8n_url ~= "" then sinks.n8n = { kind = "webhook", url = n.n8n_url, secret = "", default = true } end
  if tg.bot_token ~= "" then
    for chat in tostring(tg.chat_id):gmatch("[^,]+") do
      chat = chat:match("^%s*(.-)%s*$")
      if chat ~= "" then
        sinks["telegram:" .. chat] = { kind = "telegram", chat_id = chat, secret = tg.bot_token,
                                       api_base = tg.api_base, default = true }
        from["notify.sinks.telegram:" .. chat] = "telegram.chat_id"
        field_from["notify.sinks.telegram:" .. chat] = TELEGRAM_FIELDS
      end
    end
  end
  local named = {}
  M.route_when = {}
  for i, r in ipairs(n.routes) do
    local key = "notify.routes[" .. i .. "]"
    if type(r) ~= "table" then fail(key, "must be a table { types =, when =, sinks = }") end
    for k in pairs(r) do
      if k ~= "types" and k ~= "when" and k ~= "sinks" then
        fail(key .. "." .. tostring(k), "is not a key of a route")
      end
    end
    if r.types ~= nil then
      if type(r.types) ~= "table" or r.types[1] == nil then
        fail(key .. ".types", "must be a list of message types")
      end
      for _, t in ipairs(r.types) do
        if not TYPES[t] then
          fail(key .. ".types",
            "has '" .. tostring(t) .. "' (known: info, progress, success, error, warning, question)")
        end
      end
    end
    if r.when ~= nil then
      if type(r.when) ~= "function" then fail(key .. ".when", "must be a function(message) -> boolean") end
      M.route_when[i], r.when = r.when, true
    end
    if type(r.sinks) ~= "table" or r.sinks[1] == nil then fail(key .. ".sinks", "must be a list of sink names") end
    for _, s in ipairs(r.sinks) do
      if s ~= "default" and not sinks[s] then
        local known = {}
        for k in pairs(sinks) do known[#known + 1] = k end
        table.sort(known)
        local why = s == "n8n" and ": the n8n sink is there once notify.n8n_url (N8N_NOTIFY_URL) is set"
          or tostring(s):match("^telegram:") and ": a telegram:<chat> sink is there once telegram.bot_token "
            .. "(TELEGRAM_BOT_TOKEN) is set and telegram.chat_id names the chat" or ""
        fail(key .. ".sinks", "names '" .. tostring(s) .. "', which is not a sink (known: default" ..
          (#known > 0 and ", " .. table.concat(known, ", ") or "") .. ")" .. why)
      end
      named[s] = true
    end
  end
  for name, s in pairs(sinks) do
    if not s.default and not named[name] then
      fail("notify.sinks." .. name, "gets nothing: name it in a notify.routes entry's sinks")
    end
  end
  n.sinks = sinks
  for name in pairs(sinks) do
    local key = "notify.sinks." .. name
    if sources then
      sources[key] = sources[from[key] or "notify.sinks"]
      for field, setting in pairs(field_from[key] or {}) do sources[key .. "." .. field] = sources[setting] end
    end
  end
end

-- The outbox rows of one payload: {sink=, type=, session=, task=, request=}.
function M.rows(payload, ncfg)
  local rows = {}
  for _, name in ipairs(M.sinks_for(payload, ncfg)) do
    local spec = ncfg.sinks[name]
    local req, why = M.request(spec, payload)
    if req then
      rows[#rows + 1] = { sink = name, type = payload.type, session = payload.session, task = payload.task,
                          request = req }
    else
      orch.log("warn", "notification to " .. name .. " not sent: " .. why)
    end
  end
  return rows
end

return M
