-- Specs for `orch-host status` / `sessions` as lib/status_cli builds them: the
-- CLI's JSON view carries the webhook's status reply (lib/control), so the two
-- agree; the wait and the runtime follow lib/session's rules (a question does
-- not wait while no host runs; a finished session's runtime ends when it
-- finished); the table's texts (lib/format_status) use lib/format's duration
-- and show control bytes as escapes.
local T = require("orch.testing")
local S = require("lib.session")
local control = require("lib.control")
local cli = require("lib.status_cli")
local fs = require("lib.format_status")
local fmt = require("lib.format")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local NOW = 1763635000

local function doc(n)
  local d = { date = "2025-11-20", tasks = {} }
  for i = 1, n do d.tasks[i] = { id = i, title = "Task " .. i, type = "backend", priority = "medium" } end
  return d
end

-- fn() with orch.now fixed and orch.pending_approval answering `pending`
local function with(pending, fn)
  local real_now, real_pending = orch.now, orch.pending_approval
  rawset(orch, "now", function() return NOW end)
  rawset(orch, "pending_approval", function() return pending end)
  local res = { pcall(fn) }
  rawset(orch, "now", real_now)
  rawset(orch, "pending_approval", real_pending)
  if not res[1] then error(res[2], 0) end
  return res[2], res[3]
end

local function session(id, n)
  local s = S.new(doc(n), { id = id, task_file = "tasks/" .. id .. ".md", workflow = "daily.lua" })
  S.set_task(s, s.tasks[1], { status = "completed", started_at = NOW - 65, completed_at = NOW - 60,
    cost_usd = 0.5, tokens = 1200 })
  S.set_task(s, s.tasks[2], { status = "running", started_at = NOW - 60 })
  return s
end

local APPROVAL = { id = 7, kind = "approval", task_id = "2", prompt = "go?", created_at = NOW - 30 }
local QUESTION = { id = 8, kind = "question", task_id = "2", prompt = "which one?", created_at = NOW - 30 }

describe("status --json and the webhook's status", function()
  it("carry the same reply: every field of the webhook's is in the CLI's view, equal", function()
    local s = session("spec-cli-agree", 4)
    local hook = with(APPROVAL, function() return (control.status({ session = s.id })) end)
    local view = with(APPROVAL, function() return cli.view(s.id) end)
    for k, v in pairs(hook) do eq(view[k], v, "field " .. k) end
    eq({ view.total_tasks, view.completed_tasks, view.cost_usd, view.tokens, view.session_id },
      { 4, 1, 0.5, 1200, s.id })
    eq(#view.tasks, 4)
    eq(view.pending_approval, APPROVAL)
    eq(hook.waiting, { kind = "approval", task = "2", prompt = "go?", since = NOW - 30, request_id = 7 })
  end)

  it("print by view_json what view gives, the tasks from the store's text", function()
    local s = session("spec-cli-view-json", 3)
    local view = with(APPROVAL, function() return cli.view(s.id) end)
    local printed = with(APPROVAL, function() return tostring(cli.view_json(s.id)) end)
    eq(orch.json.decode(printed), orch.json.decode(orch.json.encode(view)))
    eq(#orch.json.decode(printed).tasks, 3)
    eq(cli.view_json("spec-cli-no-such"), nil)
  end)

  it("show an agent's question that waits while no host runs the session (both of them): it is parked", function()
    local s = session("spec-cli-question", 3)
    local hook = with(QUESTION, function() return (control.status({ session = s.id })) end)
    local view = with(QUESTION, function() return cli.view(s.id) end)
    eq(hook.waiting, { kind = "question", task = "2", prompt = "which one?", since = NOW - 30, request_id = 8 },
      "webhook")
    eq(view.pending_approval, QUESTION, "cli")
    eq(view.waiting, hook.waiting, "cli")
    eq(S.waits_while_down(QUESTION), true)
    eq(S.waits_while_down(APPROVAL), true)
    local text = fs.session(view, { clock = fs.utc })
    ok(text:find("Waiting   question #8 for task 2 since", 1, true), text)
    ok(text:find("orch-host answer --task 2 TEXT | skip --task 2 (applied when it resumes)", 1, true), text)
  end)

  it("end a finished session's runtime when it finished, not now", function()
    local s = session("spec-cli-finished", 2)
    S.set_task(s, s.tasks[2], { status = "completed", completed_at = NOW - 50 })
    S.set_status(s, "completed", { finished_at = s.started_at + 125 })
    local view = with(nil, function() return cli.view(s.id) end)
    eq(view.runtime, 125)
    ok(view.message:find("Runtime: 2m 05s", 1, true), view.message)
  end)

  it("leave the time a session stood paused or stopped (stopped_s) out of its runtime", function()
    eq(S.runtime({ started_at = 100, finished_at = 900, stopped_s = 600 }, 1000, false), 200)
    eq(S.runtime({ started_at = 100, status = "running", stopped_s = 300 }, 1000, true), 600)
    eq(S.runtime({ started_at = 100, status = "paused", updated_at = 500, stopped_s = 100 }, 1000, false), 300)
    -- a paused inbox records files dropped meanwhile (updated_at moves): its runtime ends at the pause
    local inbox = { started_at = 100, status = "paused", paused_at = 400, updated_at = 900, kind = "inbox" }
    eq(S.runtime(inbox, 1000, true), 300)
    eq(S.resumed_fields(inbox, 1000).stopped_s, 600)
    -- a pause before the last resume is not this stop
    eq(S.runtime({ started_at = 100, status = "paused", paused_at = 200, resumed_at = 300, updated_at = 500 },
      1000, false), 400)
  end)

  it("answer a session that does not exist with exit 2, naming it", function()
    eq(cli.run({ command = "status", session = "NOPE", state = true }), { exit = 2, err = "no session NOPE" })
  end)
end)

describe("the status table", function()
  local function text_of(v) return fs.session(v, { clock = fs.utc }) end

  it("shows durations as lib/format does, the totals and the wait", function()
    local s = session("spec-cli-table", 3)
    local v = with(APPROVAL, function() return cli.view(s.id) end)
    v.host_alive = false
    local text = text_of(v)
    ok(text:find("Session   " .. s.id .. "  running (host not running: resume it)", 1, true), text)
    ok(text:find("runtime " .. fmt.duration(v.runtime), 1, true), text)
    ok(text:find("Progress  1/3 finished (33%): 1 completed   cost $0.5000   1,200 tokens", 1, true), text)
    ok(text:find("\n  1    ✓ completed        Task 1 ", 1, true), text)
    ok(text:find(" 5s   $0.5000     1,200\n", 1, true), text)
    ok(text:find("Waiting   approval #7 for task 2 since " .. fs.utc(NOW - 30) ..
      ": orch-host approve | skip (applied when it resumes)", 1, true), text)
  end)

  it("pads by the columns a terminal shows: emoji and CJK take 2, a combining mark none", function()
    local titles = { "🚀 Launch the rocket", "日本語のタスクを実行する", "Cafe\204\129 menu", "plain ascii title",
      "✅ " .. string.rep("界", 40) }
    local v = { id = "w", status = "running", host_alive = false, completed_tasks = 0, cost_usd = 0, tokens = 0,
      tasks = {} }
    for i, title in ipairs(titles) do
      v.tasks[i] = { id = "t" .. i, status = i == 2 and "waiting_limit" or "pending", title = title, type = "backend" }
    end
    local lines = {}
    for line in text_of(v):gmatch("[^\n]+") do
      if line:find("^  [#t]") then lines[#lines + 1] = line end
    end
    eq(#lines, #titles + 1, "the header and a row a task")
    for i, line in ipairs(lines) do
      eq(fs.width(line), fs.width(lines[1]), "row " .. i .. " is as wide as the header: " .. line)
      local at = line:find("backend", 1, true)
      ok(i == 1 or (at and fs.width(line:sub(1, at - 1)) == fs.width(lines[1]:sub(1, lines[1]:find("type") - 1))),
        "the type column starts where the header's does: " .. line)
    end
    eq({ fs.width("日本"), fs.width("🚀"), fs.width("e\204\129"), fs.width("abc") }, { 4, 2, 1, 3 })
    eq(fs.pad("日本語", 5), "日本…")
  end)

  it("an emoji sequence is one glyph: VS16 makes its character wide, ZWJ and a skin tone join into one", function()
    local warn, family, thumb = "\226\154\160\239\184\143", "👨\226\128\141👩\226\128\141👧", "👍🏽"  -- U+26A0 U+FE0F
    local keycap = "1\239\184\143\226\131\163"  -- 1 U+FE0F U+20E3
    eq({ fs.width(warn), fs.width(family), fs.width(thumb), fs.width(warn .. " ok"), fs.width(keycap),
         fs.width("a\226\128\141"), fs.width("\226\128\141") },
       { 2, 2, 2, 5, 2, 1, 0 })
    eq(fs.pad(family .. family .. "x", 4), family .. "… ")  -- never cut inside a sequence
    eq(fs.pad(warn .. "x", 3), warn .. "x")
  end)

  it("a live session's running task shows its time so far (now given); a dead host's does not run on", function()
    local v = { id = "r", status = "running", host_alive = true, completed_tasks = 0, cost_usd = 0, tokens = 0,
      tasks = { { id = "t1", status = "running", title = "Runs", started_at = NOW - 65 } } }
    local text = fs.session(v, { clock = fs.utc, now = NOW })
    ok(text:find("Runs%s+1m 05s"), text)
    v.host_alive = false
    ok(not fs.session(v, { clock = fs.utc, now = NOW }):find("1m 05s", 1, true), "a dead host's task ran on")
  end)

  it("names the task in the approve hint while several wait, and the others waiting", function()
    local v = { id = "p", status = "waiting_approval", host_alive = true, completed_tasks = 0, cost_usd = 0,
      tokens = 0, pending_approval = { id = 2, kind = "approval", task_id = "t2", created_at = NOW },
      tasks = { { id = "t1", status = "waiting_approval" }, { id = "t2", status = "waiting_approval" },
                { id = "t3", status = "waiting_answer" }, { id = "t4", status = "pending" } } }
    local text = text_of(v)
    ok(text:find("Waiting   approval #2 for task t2 since " .. fs.utc(NOW) ..
      ": orch-host approve --task t2 | skip --task t2 | pause\n" ..
      "          also waiting: t1, t3 (name one with --task ID)",
      1, true), text)
    v.tasks = { { id = "t2", status = "waiting_approval" } }
    ok(text_of(v):find(": orch-host approve | skip | pause", 1, true), text_of(v))
  end)

  it("offers no decision on a stopped inbox's wait: its next start asks again (as approve says)", function()
    for _, kind in ipairs({ "approval", "question" }) do
      local v = { id = "i", kind = "inbox", status = "waiting_approval", host_alive = false, completed_tasks = 0,
        cost_usd = 0, tokens = 0, pending_approval = { id = 2, kind = kind, task_id = "a2", created_at = NOW },
        tasks = { { id = "a1", status = "waiting_approval" }, { id = "a2", status = "waiting_approval" } } }
      local text = text_of(v)
      ok(text:find("Waiting   " .. kind .. " #2 for task a2 since " .. fs.utc(NOW) .. ": "
        .. fmt.reply("inbox_down", "i", "a2"), 1, true), text)
      ok(not text:find("orch-host approve", 1, true) and not text:find("orch-host answer", 1, true)
        and not text:find("--task", 1, true), text)
      v.host_alive = true
      ok(text_of(v):find(kind == "question" and "orch-host answer --task a2 TEXT | skip --task a2 | pause"
        or "orch-host approve --task a2 | skip --task a2 | pause", 1, true), text_of(v))
    end
  end)

  it("says why a session is paused, on its first line", function()
    local function first(reason, status)
      return text_of({ id = "p", status = status or "paused", host_alive = true, pause_reason = reason,
        completed_tasks = 0, cost_usd = 0, tokens = 0, tasks = {} }):match("^[^\n]*")
    end
    eq(first("paused by cli:root"), "Session   p  paused: by cli:root")
    eq(first("workflow error: workflows/lib/prompt.lua:52: boom"),
      "Session   p  paused: workflow error: workflows/lib/prompt.lua:52: boom")
    eq(first("a\nb"), "Session   p  paused: a\\x0ab")
    eq(first(nil), "Session   p  paused")
    eq(first("paused by cli:root", "running"), "Session   p  running")
  end)

  it("says how an inbox's session ended, as sessions does (0/21 completed reads as done otherwise)", function()
    local v = { id = "i", kind = "inbox", status = "completed", stop_reason = "the inbox stopped", host_alive = false,
      completed_tasks = 0, cost_usd = 0, tokens = 0, tasks = {} }
    eq(text_of(v):match("^[^\n]*"), "Session   i  completed (the inbox stopped)")
    v.kind = nil  -- a day's: its status says it
    eq(text_of(v):match("^[^\n]*"), "Session   i  completed")
  end)

  it("says an inbox's folder is watched only while a live host runs it", function()
    local function line(status, alive)
      local v = { id = "i", kind = "inbox", task_file = "/x/tasks", queued = 2, status = status, host_alive = alive,
        completed_tasks = 0, cost_usd = 0, tokens = 0, tasks = {} }
      return text_of(v):match("\n(Inbox[^\n]*)")
    end
    eq(line("running", true), "Inbox     /x/tasks (watched)   queued 2")
    eq(line("running", false), "Inbox     /x/tasks (not watched)   queued 2")
    eq(line("completed", false), "Inbox     /x/tasks (not watched)   queued 2")
    eq(line("paused", true), "Inbox     /x/tasks (watched)   queued 2", "paused: files queue, none starts")
  end)

  it("shows an agent's or a task file's control bytes as escapes, on one line", function()
    local v = { id = "x", status = "failed", host_alive = true, completed_tasks = 0, cost_usd = 0, tokens = 0,
      tasks = { { id = "1", title = "a\27[2Jb\nc", type = "t\tx", status = "failed", error = "boom\r\n\7" } } }
    local text = text_of(v)
    ok(not text:find("[%z\1-\8\11-\31\127]"), text)
    ok(text:find("a\\x1b[2Jb\\x0ac", 1, true), text)
    ok(text:find("t\\x09x", 1, true), text)
    ok(text:find("↳ boom\\x0d\\x0a\\x07", 1, true), text)
    eq(select(2, text:gsub("\n", "")), 7, "lines: four, a blank one, the header, the row and its error")
  end)

  it("lists every agent in hand with its status, elapsed time, cost and branch, and why tasks are blocked", function()
    local v = { id = "x", status = "running", host_alive = true, completed_tasks = 0, cost_usd = 0, tokens = 0,
      tasks = { { id = "task-1", title = "A", status = "running" }, { id = "task-3", title = "C", status = "running" },
                { id = "task-2", title = "B", status = "blocked", error = "blocked: task-4 failed" } },
      agents = { { task = "task-1", status = "running", elapsed_s = 125, cost_usd = 0.25, branch = "feature/a" },
                 { task = "task-3", status = "waiting_approval", elapsed_s = 5, cost_usd = 0 } } }
    local text = text_of(v)
    ok(text:find("\nAgents    2 in hand: 1 running, 1 waiting for approval\n", 1, true), text)
    -- the id column as wide as the longest id, so the columns stay under their heads
    ok(text:find("\n  #      status             task ", 1, true), text)
    ok(text:find("\n  task-1 ▶ running          A ", 1, true), text)
    ok(text:find("\n  task-1 running            2m 05s   $0.2500  feature/a", 1, true), text)
    ok(text:find("\n  task-3 waiting_approval       5s   $0.0000  -", 1, true), text)
    ok(text:find("⊘ blocked", 1, true), text)
    ok(text:find("↳ blocked: task-4 failed", 1, true), text)
  end)

  it("counts the agents in hand by what each does: running first, then each wait", function()
    local v = { id = "x", status = "running", host_alive = true, completed_tasks = 0, cost_usd = 0, tokens = 0,
      tasks = {}, agents = { { task = "a", status = "waiting_approval" }, { task = "b", status = "running" },
                             { task = "c", status = "waiting_answer" }, { task = "d", status = "waiting_approval" },
                             { task = "e", status = "running", waiting_slot = true } } }
    ok(text_of(v):find("\nAgents    5 in hand: 1 running, 2 waiting for approval, 1 waiting for an answer, "
      .. "1 waiting for a free agent slot\n", 1, true), text_of(v))
  end)

  it("says a failed task's whole reason: its end says what to do", function()
    local why = "worktree: task a: " .. string.rep("/long/path", 20) .. " is a worktree of branch u/a, not of its "
      .. "branch t/a, and it stays (uncommitted changes: x.c): remove it (git worktree remove)"
    local text = text_of({ id = "s", status = "completed", tasks = { { id = "a", title = "A", status = "failed",
      error = why } } })
    ok(text:find("↳ " .. why, 1, true), text)
  end)

  it("cuts a long title to its column with an ellipsis, counting characters", function()
    local v = { id = "x", status = "paused", completed_tasks = 0, tasks = {
      { id = "1", title = string.rep("é", 50), status = "pending" } } }
    local row = text_of(v):match("\n(  1 [^\n]*)")
    ok(row and row:find(string.rep("é", 35) .. "… ", 1, true), row)
  end)

  it("words the dead notifications and the list of sessions", function()
    eq(fs.dead_notifications({ count = 0, newest = {} }), nil)
    eq(fs.dead_notifications({ count = 1, newest = { { id = 3, sink = "n8n", dead_at = 86400,
      last_error = "failed: HTTP 400" } } }, { clock = fs.utc }),
      "Notifications  1 dead (a sink refused them; not retried):\n" ..
      "  #3 to n8n  -  1970-01-02 00:00:00  failed: HTTP 400")
    eq(fs.sessions({ { id = "s1", status = "completed", counts = { total = 2, done = 2, completed = 1, failed = 1 },
      started_at = 1763631015, task_file = "tasks/a.md" } }, { clock = fs.utc }),
      "s1                     completed          2/2 finished (100%): 1 completed, 1 failed  2025-11-20 09:30:15  " ..
      "tasks/a.md")
    eq(fs.utc(951782400), "2000-02-29 00:00:00")
  end)
end)
