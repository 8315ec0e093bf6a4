-- telegram: the bot, speaking the Bot API directly (docs/telegram.md).
-- Long-polls getUpdates with an offset (kept in the state database, so a
-- restart neither loses nor repeats a command), answers the commands through
-- lib/control.lua, and answers inline-button presses. Only the configured
-- users (TELEGRAM_ALLOWED_USERS) and chats (TELEGRAM_CHAT_ID) are served;
-- anyone else gets nothing and is logged. Notifications (session start, task
-- done, approvals with their buttons) go out through the host's outbox
-- (orch.notify); this module only answers, with the same sendMessage body
-- (orch.notify's telegram_message: the 4096 cut, the keyboard). Every text
-- is lib/format's.
--
-- The token travels in every URL: never log a URL here.
local fmt = require("lib.format")
local notify = require("orch.notify")

local M = {}

M.MAX_INPUT = 4000          -- longer incoming texts are cut before parsing
M.SHORT_POLL_INTERVAL = 1   -- seconds between polls when the API does not hold requests
M.PLAIN_TEXT = "task"       -- a message that is not a command: "task" (a one-task session) or "help"

local function ids(list)
  local set = {}
  for id in tostring(list or ""):gmatch("[^,%s]+") do set[id] = true end
  return set
end

-- "/approve@my_bot now" -> "approve", "now", "my_bot" (the bot the command
-- is addressed to: nil when it names none)
function M.parse_command(text)
  local cmd, at, rest = text:match("^/([%a_]+)(@?[%w_]*)%s*(.-)%s*$")
  if not cmd then return nil, text end
  return cmd:lower(), rest, (at ~= "" and at ~= "@") and at:sub(2) or nil
end

-- Callback data of the approval buttons (lib/format.approval_buttons):
-- "<action>:<request id>" -> action, request id (a number) | nil
function M.parse_callback(data)
  local action, id = tostring(data or ""):match("^(%a+):(%d+)$")
  if not action or #id > 15 then return nil end
  return action, tonumber(id)
end

M.DECISIONS = { approve = true, skip = true, pause = true }

function M.new(control, cfg, deps)
  local bot = {
    control = control,
    cfg = cfg,
    users = ids(cfg.allowed_users),
    chats = ids(cfg.chat_id),
    base = cfg.api_base:gsub("/+$", "") .. "/bot" .. cfg.bot_token .. "/",
    http = deps and deps.http or orch.http,
    handled = 0,
    refused = 0,
    seen = {},
    seen_order = {},
  }
  return setmetatable(bot, { __index = M })
end

-- A Bot API call -> result | nil, error text (never the URL)
function M:call(method, params, timeout)
  local r, err = self.http({ method = "POST", url = self.base .. method, body = orch.json.encode(params or {}),
                             content_type = "application/json", timeout = timeout or 30 })
  if not r then return nil, method .. ": " .. tostring(err and err.message or err) end
  local body = orch.json.decode(r.body or "")
  if type(body) ~= "table" then return nil, method .. ": HTTP " .. tostring(r.status) .. ", not JSON" end
  if not body.ok then
    return nil, method .. ": HTTP " .. tostring(r.status) .. ": " .. tostring(body.description or "failed"),
      body.parameters and body.parameters.retry_after
  end
  return body.result
end

-- the last 1000 update ids handled
function M:remember(id)
  self.seen[id] = true
  local q = self.seen_order
  q[#q + 1] = id
  if #q > 1000 then self.seen[table.remove(q, 1)] = nil end
end

function M:send(chat_id, text, buttons)
  local _, err = self:call("sendMessage", notify.telegram_message(chat_id, text, buttons))
  if err then orch.log("warn", "telegram: " .. err) end
end

function M:allowed(from, chat)
  local uid = from and from.id and tostring(math.floor(from.id))
  local cid = chat and chat.id and tostring(math.floor(chat.id))
  return (uid and self.users[uid]) or (cid and self.chats[cid]) or false
end

local function who(from)
  if not from then return "unknown" end
  return tostring(from.id and math.floor(from.id)) .. (from.username and (" @" .. tostring(from.username)) or "")
end

-- What a command does: control's reply, and the buttons to show with it.
function M:command(cmd, arg, by)
  local c = self.control
  local params = {}
  if cmd == "start" then
    local file, force = arg:match("^(.-)%s*(force)$")
    if force then arg, params.force = file, true end
    if arg ~= "" then params.task_file = arg end
  elseif cmd == "answer" then
    -- /answer <task_id> <text> when the first word names a task asking, or,
    -- with words after it, names another task or is a number (a task id the
    -- session may not have): control refuses those as it does the CLI's
    -- --task and the webhook's "task", never sending the text to another
    -- task's question; else /answer <text>. (/answer <task_id> alone has no
    -- text: control refuses it, answer_missing.)
    local id, rest = arg:match("^(%S+)%s*(.-)$")
    local asking, named = false, false
    if id then asking, named = c.asking(id, params) end
    if asking or (rest ~= "" and (named or id:match("^%d+$"))) then
      params.task, params.text = id, rest
    else
      params.text = arg
    end
  elseif cmd == "task" then
    params.text = arg
  elseif cmd == "logs" then  -- a count that is no number goes as it is: control refuses it, naming it
    params.lines = arg == "" and 10 or (arg:match("^%d+$") and tonumber(arg)) or arg
  elseif cmd == "progress" or cmd == "cancel" then
    params.task = arg
  elseif (cmd == "skip" or cmd == "approve") and arg ~= "" and not arg:match("^%d%d%d%d%d%d%d%d%-%d%d%d%d%d%d") then
    params.task = arg  -- /skip <task_id>, /approve <task_id>; a session id (YYYYmmdd-HHMMSS...) names the session
  elseif cmd == "approve" or cmd == "skip" or cmd == "pause" or cmd == "resume" or cmd == "status" then
    if arg ~= "" then params.session = arg end
  elseif cmd ~= "help" then
    return { message = "Unknown command /" .. cmd .. "\n\n" .. fmt.help() }
  end
  local r, http = c.run(cmd, params, by, { channel = "telegram" })
  -- a bad count (/logs abc), a first word of /answer naming no task: what control says, and the usage
  if (http == 400 and cmd == "logs") or (http == 404 and cmd == "answer" and params.task) then
    r.message = tostring(r.message) .. "\n" .. fmt.usage(cmd)
  end
  local buttons
  if cmd == "status" and r.waiting and r.waiting.kind == "approval" and r.waiting.request_id then
    buttons = fmt.approval_buttons(r.waiting.request_id)
  end
  return r, buttons
end

function M:on_message(msg, edited)
  if not self:allowed(msg.from, msg.chat) then
    self.refused = self.refused + 1
    orch.log("warn", "telegram: ignored a message from user " .. who(msg.from) .. " in chat " ..
      tostring(msg.chat and msg.chat.id) .. " (not in TELEGRAM_ALLOWED_USERS / TELEGRAM_CHAT_ID)")
    return
  end
  if edited then return end  -- an edit of an old message is not a new command
  local chat = msg.chat.id
  if type(msg.text) ~= "string" then
    return self:send(chat, "I only understand text. " .. "Send /help for the commands.")
  end
  local text = msg.text:sub(1, M.MAX_INPUT)
  local by = "telegram:" .. tostring(math.floor(msg.from and msg.from.id or chat))
  local cmd, arg, to = M.parse_command(text)
  if to and to:lower() ~= tostring(self.username or ""):lower() then
    -- "/help@OtherBot" in a group: another bot's command, not ours
    orch.log("info", "telegram: ignored /" .. cmd .. "@" .. to .. " from " .. who(msg.from) .. " (not @" ..
      tostring(self.username) .. ")")
    return
  end
  if not cmd then
    -- plain text: the answer to a waiting question, else a new one-task session
    local st = self.control.run("status", {}, by)
    if st.waiting and st.waiting.kind == "question" then cmd, arg = "answer", text
    elseif M.PLAIN_TEXT == "task" then cmd, arg = "task", text
    else cmd, arg = "help", "" end
  end
  orch.log("info", "telegram: /" .. cmd .. " from " .. who(msg.from))
  local r, buttons = self:command(cmd, arg, by)
  self:send(chat, r.message or r.status or "ok", buttons)
end

function M:on_callback(q)
  local chat = q.message and q.message.chat
  if not self:allowed(q.from, chat) then
    self.refused = self.refused + 1
    orch.log("warn", "telegram: ignored a button press from user " .. who(q.from))
    return
  end
  local action, rid = M.parse_callback(q.data)
  local by = "telegram:" .. tostring(math.floor(q.from and q.from.id or 0))
  local answer
  if not action or not M.DECISIONS[action] then
    answer = fmt.reply("button_unknown")
  else
    -- the button's own request and no other: one already decided, expired,
    -- withdrawn or of an older session is refused, and says which
    local r = self.control.run(action, { request_id = rid }, by, { channel = "telegram" })
    answer = r.message or r.status
    local m = q.message
    local mark = r.status == "ok" and fmt.decided(action, q.from) or (r.reason and r.message)
    if chat and mark and m and m.message_id and type(m.text) == "string" then
      -- the request itself loses its buttons and says what was decided (or why it takes none)
      local _, eerr = self:call("editMessageText", { chat_id = chat.id, message_id = m.message_id,
        text = notify.cut_utf16(m.text .. "\n\n" .. mark) })
      if eerr then orch.log("warn", "telegram: " .. eerr) end
    end
    if chat and r.status == "ok" then self:send(chat.id, r.message) end
  end
  local _, err = self:call("answerCallbackQuery", { callback_query_id = q.id, text = fmt.truncate(answer, 190) })
  if err then orch.log("warn", "telegram: " .. err) end
end

function M:handle(update)
  self.handled = self.handled + 1
  if update.message then return self:on_message(update.message) end
  if update.edited_message then return self:on_message(update.edited_message, true) end
  if update.callback_query then return self:on_callback(update.callback_query) end
  -- channel posts, polls, member updates...: nothing to do
end

-- learn_name() -> the bot's own username (getMe), kept in self.username | nil, error:
-- a command addressed to another bot ("/help@OtherBot") is not ours
function M:learn_name()
  local me, err = self:call("getMe", {})
  if not me then return nil, err end
  if type(me) ~= "table" or type(me.username) ~= "string" or me.username == "" then
    return nil, "getMe: the answer has no username"
  end
  self.username = me.username
  return me.username
end

-- One getUpdates round: handles what came, returns the count and whether
-- the API held the request (long polling) or answered at once. The bot's
-- name comes first (learn_name): no update is handled before it is known.
function M:poll_once()
  if not self.username then
    local _, nerr = self:learn_name()
    if nerr then return nil, nerr end
  end
  local timeout = self.cfg.poll_timeout
  local started = orch.monotonic()
  local updates, err, retry_after = self:call("getUpdates",
    { offset = self.offset, timeout = timeout, allowed_updates = { "message", "edited_message", "callback_query" } },
    timeout + 15)
  if not updates then return nil, err, retry_after end
  local n = 0
  for _, u in ipairs(updates) do
    local id = tonumber(u.update_id)
    -- An API that ignores offset sends old updates again: skip the ones seen.
    -- Not "id < offset": Telegram restarts ids at random after a quiet week.
    if id and not self.seen[id] then
      self:remember(id)
      self.offset = id + 1
      n = n + 1
      local ok, herr = pcall(self.handle, self, u)
      if not ok then orch.log("error", "telegram: update " .. tostring(id) .. " failed: " .. tostring(herr)) end
    end
  end
  if n > 0 then orch.save_state("telegram:offset", self.offset) end
  return n, orch.monotonic() - started
end

function M:run()
  self.offset = orch.load_state("telegram:offset")
  local backoff = 1
  while not orch.interrupted() do
    local n, info, retry_after = self:poll_once()
    if n == nil then
      orch.log("warn", "telegram: " .. tostring(info) .. "; retrying in " .. (retry_after or backoff) .. " s")
      if not orch.sleep(retry_after or backoff) then return end
      backoff = math.min(backoff * 2, 60)
    else
      backoff = 1
      -- a server that answers at once (short polling, or poll_timeout = 0):
      -- do not spin
      if n == 0 and info < 0.5 then
        if not orch.sleep(M.SHORT_POLL_INTERVAL) then return end
      end
    end
  end
end

-- start(control): the poller, as a task of the server
function M.start(control, cfg)
  cfg = cfg or orch.config.telegram
  local bot = M.new(control, cfg)
  if next(bot.users) == nil and next(bot.chats) == nil then
    orch.log("warn", "telegram: neither TELEGRAM_ALLOWED_USERS nor TELEGRAM_CHAT_ID is set: the bot answers nobody")
  end
  orch.log("info", "telegram: polling " .. cfg.api_base .. " (long poll " .. cfg.poll_timeout .. " s)")
  orch.spawn(function() bot:run() end)
  return bot
end

return M
