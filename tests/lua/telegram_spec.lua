-- Specs for workflows/lib/telegram.lua against a recorded Bot API (a fake
-- orch.http) and a recording control: who is served, what each update
-- becomes, the offset, both polling behaviours. The round trip with a Bot
-- API emulator is tests/telegram/bot_flow.sh.
local T = require("orch.testing")
local TG = require("lib.telegram")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local CFG = { bot_token = "123:SECRET", chat_id = "500", allowed_users = "42, 43", api_base = "http://tg.test/",
              poll_timeout = 25 }

-- a Bot API that answers getUpdates from a queue and records every call
local function fake_api(batches)
  local api = { calls = {}, sent = {}, answered = {} }
  api.http = function(req)
    local method = req.url:match("/bot123:SECRET/(%w+)$")
    local params = orch.json.decode(req.body)
    api.calls[#api.calls + 1] = { method = method, params = params, url = req.url }
    local result = true
    if method == "getMe" then
      result = { id = 7, is_bot = true, username = "orch_bot" }
    elseif method == "getUpdates" then
      result = table.remove(batches, 1) or {}
    elseif method == "sendMessage" then
      api.sent[#api.sent + 1] = params
      result = { message_id = #api.sent }
    elseif method == "answerCallbackQuery" then
      api.answered[#api.answered + 1] = params
    end
    return { status = 200, body = orch.json.encode({ ok = true, result = result }) }
  end
  return api
end

local function fake_control(replies)
  local c = { runs = {}, asking_tasks = {}, tasks = {} }
  c.asking = function(task) return c.asking_tasks[task] == true, c.asking_tasks[task] == true or c.tasks[task] end
  c.run = function(cmd, params, by, opts)
    c.runs[#c.runs + 1] = { cmd = cmd, params = params, by = by, channel = opts and opts.channel }
    return (replies or {})[cmd] or { status = "ok", message = "did " .. cmd }
  end
  return c
end

local function msg(id, from, chat, text)
  return { update_id = id, message = { message_id = id, from = { id = from, username = "u" .. from },
                                         chat = { id = chat }, text = text, date = 0 } }
end

describe("telegram: parsing", function()
  it("reads commands with and without the bot's name and arguments", function()
    eq({ TG.parse_command("/approve") }, { "approve", "" })
    eq({ TG.parse_command("/answer@orch_bot  use  postgres ") }, { "answer", "use  postgres", "orch_bot" })
    eq({ TG.parse_command("/LOGS 20") }, { "logs", "20" })
    eq({ TG.parse_command("hello there") }, { nil, "hello there" })
  end)
  it("reads callback data and refuses anything else", function()
    eq({ TG.parse_callback("approve:12") }, { "approve", 12 })
    eq({ TG.parse_callback("approve:20261124-071245:3") }, {})  -- before request ids: names no request
    eq({ TG.parse_callback("approve:../x:1") }, {})
    eq({ TG.parse_callback("approve:1234567890123456") }, {})
    eq({ TG.parse_callback(nil) }, {})
  end)
end)

describe("telegram: who is served", function()
  it("serves allowed users and the configured chat, and nobody else", function()
    local api, c = fake_api({}), fake_control()
    local bot = TG.new(c, CFG, { http = api.http })
    bot:handle(msg(1, 42, 42, "/status"))        -- allowed user, private chat
    bot:handle(msg(2, 7, 500, "/status"))        -- anyone in the configured chat
    bot:handle(msg(3, 666, 666, "/status"))      -- a stranger: nothing
    bot:handle(msg(4, 666, 777, "/approve"))
    eq(#c.runs, 2)
    eq(#api.sent, 2)
    eq(api.sent[1].chat_id, 42)
    eq(api.sent[2].chat_id, 500)
    eq(bot.refused, 2)
    eq(c.runs[1].by, "telegram:42")
  end)
end)

describe("telegram: odd updates", function()
  it("ignores edits, answers stickers, cuts huge texts, helps with unknown commands", function()
    local api, c = fake_api({}), fake_control()
    local bot = TG.new(c, CFG, { http = api.http })
    bot:handle({ update_id = 1, edited_message = { from = { id = 42 }, chat = { id = 42 }, text = "/approve" } })
    eq(#c.runs, 0)
    bot:handle({ update_id = 2, message = { from = { id = 42 }, chat = { id = 42 }, sticker = { file_id = "x" } } })
    ok(api.sent[1].text:find("only understand text", 1, true))
    bot:handle(msg(3, 42, 42, "/answer " .. string.rep("y", 100000)))
    eq(c.runs[1].cmd, "answer")
    ok(#c.runs[1].params.text <= TG.MAX_INPUT)
    bot:handle(msg(4, 42, 42, "/frobnicate"))
    ok(api.sent[#api.sent].text:find("Unknown command /frobnicate", 1, true))
    bot:handle({ update_id = 5, channel_post = { chat = { id = 1 }, text = "hi" } })
    local replies_before = #api.sent
    bot:handle({ update_id = 6 })
    eq(#api.sent, replies_before)
  end)
  it("turns plain text into an answer when a question waits, else a task", function()
    local api = fake_api({})
    local c = fake_control({ status = { status = "waiting_approval", waiting = { kind = "question" } } })
    local bot = TG.new(c, CFG, { http = api.http })
    bot:handle(msg(1, 42, 42, "use postgres"))
    eq(c.runs[#c.runs].cmd, "answer")
    eq(c.runs[#c.runs].params.text, "use postgres")
    c = fake_control({ status = { status = "idle" } })
    bot = TG.new(c, CFG, { http = api.http })
    bot:handle(msg(2, 42, 42, "Create a pijama directory"))
    eq(c.runs[#c.runs].cmd, "task")
  end)
  it("/answer <task_id> <text> names the task when that task asks; else the whole text is the answer", function()
    local api, c = fake_api({}), fake_control()
    c.asking_tasks["task-2"] = true
    local bot = TG.new(c, CFG, { http = api.http })
    bot:handle(msg(1, 42, 42, "/answer task-2 use postgres"))
    eq(c.runs[#c.runs].params, { task = "task-2", text = "use postgres" })
    bot:handle(msg(2, 42, 42, "/answer use postgres"))
    eq(c.runs[#c.runs].params, { text = "use postgres" })
    -- the task alone: no text (control refuses it), never the task id as the answer
    bot:handle(msg(3, 42, 42, "/answer task-2"))
    eq(c.runs[#c.runs].params, { task = "task-2", text = "" })
    bot:handle(msg(4, 42, 42, "/answer yes"))
    eq(c.runs[#c.runs].params, { text = "yes" })
  end)
  it("/answer <task_id> <text> naming a task that does not ask goes to that task, for control to refuse", function()
    local api, c = fake_api({}), fake_control()
    c.asking_tasks["1"], c.tasks["2"] = true, true
    local bot = TG.new(c, CFG, { http = api.http })
    -- a number names a task, one the session lacks too: never the text of task 1's answer
    bot:handle(msg(1, 42, 42, "/answer 7 B please"))
    eq(c.runs[#c.runs].params, { task = "7", text = "B please" })
    bot:handle(msg(2, 42, 42, "/answer 2 use B"))
    eq(c.runs[#c.runs].params, { task = "2", text = "use B" })
    -- a lone word, or a first word that is no task nor a number, is the answer
    bot:handle(msg(3, 42, 42, "/answer 7"))
    eq(c.runs[#c.runs].params, { text = "7" })
    bot:handle(msg(4, 42, 42, "/answer postgres please"))
    eq(c.runs[#c.runs].params, { text = "postgres please" })
  end)
  it("/answer <task_id> alone gets control's refusal: the text is missing", function()
    local api = fake_api({})
    local control = require("lib.control")
    local bot = TG.new({ asking = function() return true end, run = control.run }, CFG, { http = api.http })
    bot:handle(msg(1, 42, 42, "/answer tq"))
    eq(api.sent[#api.sent].text, "answer: the text is missing")
  end)
  it("learns its name from getMe before any update, and ignores commands addressed to another bot", function()
    local api = fake_api({ { msg(1, 42, 42, "/help@OtherBot"), msg(2, 42, 500, "/approve@otherbot"),
                             msg(3, 42, 42, "/help@Orch_Bot"), msg(4, 42, 42, "/status") } })
    local c = fake_control()
    local bot = TG.new(c, CFG, { http = api.http })
    eq((bot:poll_once()), 4)
    eq(api.calls[1].method, "getMe")
    eq(bot.username, "orch_bot")
    eq(#c.runs, 2)
    eq(c.runs[1].cmd, "help")
    eq(c.runs[2].cmd, "status")
    eq(#api.sent, 2)
  end)
  it("handles no update while getMe fails", function()
    local api = fake_api({ { msg(1, 42, 42, "/help") } })
    local http = api.http
    api.http = function(req)
      if req.url:find("/getMe$") then return { status = 502, body = '{"ok":false,"description":"down"}' } end
      return http(req)
    end
    local c = fake_control()
    local bot = TG.new(c, CFG, { http = api.http })
    local n, e = bot:poll_once()
    eq(n, nil)
    ok(tostring(e):find("getMe", 1, true), e)
    eq(#c.runs, 0)
  end)
  it("never puts the token in what it logs", function()
    local bot = TG.new(fake_control(), CFG, { http = function() return nil, orch.err("io", "connection refused") end })
    local _, err = bot:call("getUpdates", {})
    ok(err and not err:find("SECRET", 1, true), err)
  end)
end)

describe("telegram: polling", function()
  it("advances the offset and drops repeats from an API that ignores it", function()
    local batch = { msg(10, 42, 42, "/status"), msg(11, 42, 42, "/logs 5") }
    local api, c = fake_api({ batch, batch, { msg(12, 42, 42, "/help") } }), fake_control()
    local bot = TG.new(c, CFG, { http = api.http })
    eq((bot:poll_once()), 2)
    eq(bot.offset, 12)
    eq((bot:poll_once()), 0)          -- the same two again: not handled twice
    eq((bot:poll_once()), 1)
    eq(#c.runs, 3)
    eq(c.runs[2].params.lines, 5)
    local polls = {}
    for _, call in ipairs(api.calls) do
      if call.method == "getUpdates" then polls[#polls + 1] = call.params end
    end
    eq(polls[2].offset, 12)            -- the offset is sent (long polling APIs honour it)
    eq(polls[1].timeout, 25)
    eq(orch.load_state("telegram:offset"), 13)
  end)
  it("takes ids lower than the offset that it has not seen (Telegram restarts ids)", function()
    local api, c = fake_api({ { msg(500, 42, 42, "/status") }, { msg(3, 42, 42, "/help") } }), fake_control()
    local bot = TG.new(c, CFG, { http = api.http })
    eq((bot:poll_once()), 1)
    eq((bot:poll_once()), 1)
    eq(bot.offset, 4)
    eq(#c.runs, 2)
  end)
  it("answers button presses, refusing stale ones", function()
    local api = fake_api({})
    local c = fake_control({ approve = { status = "error", reason = "decided",
                                         message = "Request #9 (task 1) was already decided: approve by cli:x." } })
    local bot = TG.new(c, CFG, { http = api.http })
    bot:handle({ update_id = 1, callback_query = { id = "cb1", from = { id = 42 }, data = "approve:nosuch:1",
                                                   message = { message_id = 3, chat = { id = 42 } } } })
    eq(#c.runs, 0)
    eq(api.answered[1].callback_query_id, "cb1")
    ok(api.answered[1].text:find("names no request", 1, true), api.answered[1].text)
    bot:handle({ update_id = 2, callback_query = { id = "cb2", from = { id = 666 }, data = "approve:1",
                                                   message = { message_id = 3, chat = { id = 666 } } } })
    eq(#api.answered, 1)              -- a stranger's press gets nothing
    -- a press on a request decided already: refused, saying so, and the request says it too
    bot:handle({ update_id = 3, callback_query = { id = "cb3", from = { id = 42 }, data = "approve:9",
      message = { message_id = 3, chat = { id = 42 }, text = "Approval" } } })
    ok(api.answered[2].text:find("already decided", 1, true), api.answered[2].text)
    eq(#api.sent, 0)
    local edit = api.calls[#api.calls - 1]
    eq(edit.method, "editMessageText")
    ok(edit.params.text:find("already decided", 1, true), edit.params.text)
  end)
end)


describe("telegram: /logs", function()
  it("refuses a count that is not a whole number 1..200 with the command's usage; none means 10", function()
    local bot = TG.new(require("lib.control"), CFG, { http = fake_api({}).http })
    for _, arg in ipairs({ "abc", "0", "-3", "2.5", "999", "1e2", "0x10" }) do
      local r = bot:command("logs", arg, "telegram:42")
      ok(r.message:find("logs: lines must be a whole number from 1 to 200, not " .. arg, 1, true), r.message)
      ok(r.message:find("Usage: /logs [n] - ", 1, true), r.message)
    end
    local c = fake_control()
    bot = TG.new(c, CFG, { http = fake_api({}).http })
    bot:command("logs", "", "telegram:42")
    bot:command("logs", "7", "telegram:42")
    eq({ c.runs[1].params.lines, c.runs[2].params.lines }, { 10, 7 })
  end)
end)

describe("telegram: /skip in a day of several agents", function()
  it("/skip <task_id> names the task; a session id still names the session", function()
    local c = fake_control()
    local bot = TG.new(c, CFG, { http = fake_api({}).http })
    bot:command("skip", "task-3", "telegram:42")
    bot:command("skip", "20261201-140543", "telegram:42")
    bot:command("skip", "", "telegram:42")
    eq({ c.runs[1].params, c.runs[2].params, c.runs[3].params },
      { { task = "task-3" }, { session = "20261201-140543" }, {} })
  end)
end)

describe("telegram: approvals in a day of several agents", function()
  it("/approve <task_id> names the task; a session id still names the session", function()
    local c = fake_control()
    local bot = TG.new(c, CFG, { http = fake_api({}).http })
    bot:command("approve", "task-3", "telegram:42")
    bot:command("approve", "20261201-140543", "telegram:42")
    eq({ c.runs[1].params, c.runs[2].params }, { { task = "task-3" }, { session = "20261201-140543" } })
  end)
  it("a button decides its own request and no other, through the telegram channel", function()
    local api, c = fake_api({}), fake_control()
    local bot = TG.new(c, CFG, { http = api.http })
    for i, data in ipairs({ "approve:1", "skip:2", "pause:1" }) do
      bot:handle({ update_id = i, callback_query = { id = "cb" .. i, from = { id = 42 }, data = data,
                                                     message = { message_id = 3, chat = { id = 42 } } } })
    end
    eq(#c.runs, 3)
    eq({ c.runs[1].cmd, c.runs[1].params, c.runs[1].channel }, { "approve", { request_id = 1 }, "telegram" })
    eq({ c.runs[2].cmd, c.runs[2].params }, { "skip", { request_id = 2 } })
    eq({ c.runs[3].cmd, c.runs[3].params }, { "pause", { request_id = 1 } })
    eq(c.runs[1].by, "telegram:42")
  end)
end)
