-- Specs for workflows/lib/format.lua: the bot's Telegram messages, deterministic.
local T = require("orch.testing")
local F = require("lib.format")
local S = require("lib.session")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local T0 = 1763631000 -- 2025-11-20 09:30:00 UTC

local function session(status)
  return { id = "20251120-093015", status = status or "waiting_approval", started_at = T0,
    task_file = "orchestrator_tasks/2025-11-20-tasks.md",
    tasks = {
      { id = 1, title = "Create baptisms migration", type = "database", priority = "high",
        status = "completed", started_at = T0 + 15, completed_at = T0 + 165, cost_usd = 0.0123, tokens = 12345 },
      { id = 2, title = "Create baptisms server actions", type = "backend", priority = "high",
        description = "Create server actions for CRUD operations on baptisms", status = "pending" },
      { id = 3, title = "Create baptisms UI - List page", type = "frontend", status = "pending" },
    } }
end

local function lines(...) return table.concat({ ... }, "\n") end

local function has(text, piece) ok(text:find(piece, 1, true), "missing " .. piece .. " in:\n" .. text) end

describe("format: the Telegram flow", function()
  it("session_started lists the tasks", function()
    local s = session()
    for _, t in ipairs(s.tasks) do t.status = "pending" end
    eq(F.session_started(s), lines("🤖 Orchestrator Starting...", "",
      "📋 Loading tasks from: orchestrator_tasks/2025-11-20-tasks.md", "",
      "Found 3 tasks:", "1. Create baptisms migration (database)", "2. Create baptisms server actions (backend)",
      "3. Create baptisms UI - List page (frontend)", "", "▶️ Ready to begin!", "",
      "Commands: /approve /status /pause /help"))
  end)

  it("task_started shows position, title and type", function()
    eq(F.task_started(session(), session().tasks[1]), lines("⚙️ Executing Task 1/3",
      "📝 Create baptisms migration", "Type: database", "", "Please wait..."))
  end)

  it("task_completed shows the result, stats, progress, the next task and the commands", function()
    local s = session()
    eq(F.task_completed(s, s.tasks[1], { summary = "Migration created: 20251120_create_baptisms.sql",
      duration_ms = 150000, cost_usd = 0.0123, usage = { input_tokens = 10000, output_tokens = 2345 } }),
      lines("✅ Task 1/3 Complete!", "", "Migration created: 20251120_create_baptisms.sql", "",
        "⏱ 2m 30s · 💰 $0.0123 · 🔢 12,345 tokens", "", "📊 Progress: 1/3 finished (33%): 1 completed", "▓▓▓░░░░░░░", "",
        F.RULE, "", "Next: Task 2/3", "📝 Create baptisms server actions", "Type: backend", "",
        "/approve to continue, /skip to skip, /pause to pause"))
  end)

  it("status is the /status reply", function()
    eq(F.status(session(), T0 + 300), lines("📊 Orchestrator Status", "",
      "Session: 20251120-093015", "Status: ⏸️ Waiting for approval", "",
      "Progress: 1/3 finished (33%)", "✅ Completed: 1", "⏳ Pending: 2", "",
      "Current: Task 2 - Create baptisms server actions", "", "Started: 9:30 AM UTC", "Runtime: 5m 00s", "",
      "/approve /skip /pause"))
  end)

  it("paused and resumed read as they should", function()
    eq(F.paused(session("paused")), lines("⏸️ Orchestrator Paused", "", "Current: Task 2/3",
      "Progress: 1/3 finished (33%): 1 completed", "",
      "State saved. Use /resume to continue."))
    eq(F.resumed(session()), lines("▶️ Orchestrator Resumed", "", "Continuing from: Task 2/3",
      "📝 Create baptisms server actions", "Type: backend", "", "/approve to execute, /status for details"))
  end)
end)

describe("format: other messages", function()
  it("task_completed counts the task as done even before its status is updated", function()
    local s = session("running")
    s.tasks[1].status = "running"
    local text = F.task_completed(s, s.tasks[1], { result = "ok" })
    has(text, "📊 Progress: 1/3 finished (33%): 1 completed")
    has(text, "/status for details, /pause to pause")
  end)

  it("task_completed on the last task says so and offers no next step", function()
    local s = session("running")
    s.tasks[2].status = "completed"
    local text = F.task_completed(s, s.tasks[3], {})
    has(text, "✅ Task 3/3 Complete!")
    has(text, "🏁 That was the last task.")
    ok(not text:find("Next:", 1, true), text)
  end)

  it("task_completed of the last in file order while another still runs (a parallel day) says what is left", function()
    local s = session("running")
    s.tasks[2].status = "running"
    local text = F.task_completed(s, s.tasks[3], {})
    has(text, "⏳ 1 more to finish.")
    ok(not text:find("last task", 1, true), text)
  end)

  it("task_completed in a parallel day names no next task and no /approve: what is in hand, and /status", function()
    local s = session("waiting_approval")
    s.max_concurrent = 4
    s.tasks[1].status = "running"
    s.tasks[2].status = "waiting_approval"
    local text = F.task_completed(s, s.tasks[1], {})
    ok(not text:find("Next:", 1, true), text)
    ok(not text:find("/approve", 1, true), text)
    has(text, "⏳ 2 more to finish.\n⏸️ Waiting for approval: 1 · ⏳ Pending: 1")
    has(text, "/status for details, /pause to pause, /logs for logs")
    s.max_concurrent = 1  -- the serial day keeps its next task
    has(F.task_completed(s, s.tasks[1], {}), "Next: Task 2/3")
  end)

  it("the inbox names a task by its id, even its first or with one agent: /progress takes the id", function()
    local s = session("running")
    s.kind, s.max_concurrent = "inbox", 1
    s.tasks = { s.tasks[1], s.tasks[2] }
    s.tasks[2].status = "pending"
    local text = F.task_completed(s, s.tasks[1], {})
    has(text, "✅ Task " .. tostring(s.tasks[1].id) .. " Complete!")
    ok(not text:find("Task 1/2", 1, true), text)
    ok(not text:find("Next:", 1, true), text)  -- the next file is the queue's choice, by priority
    s.tasks = { s.tasks[1] }
    has(F.task_started(s, s.tasks[1]), "⚙️ Executing Task " .. tostring(s.tasks[1].id))
  end)

  it("a parallel day names a task by its id, not its place in the file (3/3 reads as the last one done)", function()
    local s = session("running")
    s.max_concurrent = 2
    s.tasks[2].status = "running"
    local text = F.task_completed(s, s.tasks[3], {})
    has(text, "✅ Task " .. tostring(s.tasks[3].id) .. " Complete!")
    ok(not text:find("3/3", 1, true), text)
    has(text, "📊 Progress: 2/3")
    has(F.task_started(s, s.tasks[2]), "⚙️ Executing Task " .. tostring(s.tasks[2].id))
  end)

  it("progress is one figure: the tasks in any finished state of lib/session, and how they ended", function()
    local s = session("running")
    s.tasks[2].status, s.tasks[3].status = "cancelled", "running"
    eq(F.progress(S.counts(s)), "2/3 finished (67%): 1 completed, 1 cancelled")
    eq(F.progress(S.counts(s), true), "2/3 finished (67%)")
    has(F.status(s, T0 + 300), "Progress: 2/3 finished (67%)\n✅ Completed: 1\n⚙️ Running: 1\n🛑 Cancelled: 1")
    -- every finished state counts, whichever the list names, and none other does
    for _, st in ipairs(S.STATUSES) do
      s.tasks[2].status = st
      eq(S.counts(s).done, S.FINISHED[st] and 2 or 1, st)
      has(F.task_completed(s, s.tasks[1], {}), "📊 Progress: " .. F.progress(S.counts(s)))
    end
    -- a message about a task that already is in the state it names counts it once
    s.tasks[2].status, s.tasks[3].status = "failed", "failed"
    has(F.task_failed(s, s.tasks[3], {}), "📊 Progress: 3/3 finished (100%): 1 completed, 2 failed")
    has(F.session_completed(s), "✅ Completed: 1\n❌ Failed: 2\n⏭️ Skipped: 0")
  end)

  it("status of a finished session whose tasks did not all complete says how they ended", function()
    local s = session("completed")
    s.tasks[2].status, s.tasks[3].status = "failed", "blocked"
    has(F.status(s, T0 + 300), "Status: 🏁 Finished: 1 failed, 1 blocked")
    s.tasks[2].status, s.tasks[3].status = "completed", "completed"
    has(F.status(s, T0 + 300), "Status: ✅ Completed")
  end)

  it("a finished session's status line names every end state lib/session has, a new one too", function()
    S.STATUSES[#S.STATUSES + 1], S.FINISHED.abandoned = "abandoned", true
    local label = F.session_label({ status = "completed" },
      { total = 4, completed = 1, needs_review = 1, cancelled = 1, abandoned = 1 })
    table.remove(S.STATUSES)
    S.FINISHED.abandoned = nil
    eq(label, "🏁 Finished: 1 needs review, 1 cancelled, 1 abandoned")
  end)

  it("task_failed shows the error, exit code and the commands that apply to a failed task", function()
    local s = session("running")
    eq(F.task_failed(s, s.tasks[2], { error = "claude exited with status 1", exit_code = 1 }),
      lines("❌ Task 2/3 Failed", "📝 Create baptisms server actions", "Type: backend", "",
        "Error: claude exited with status 1", "Exit code: 1", "",
        "📊 Progress: 2/3 finished (67%): 1 completed, 1 failed", "",
        "/logs for details, /progress 2 for its events, /pause to pause the rest"))
    local text = F.task_failed(s, s.tasks[2], { timed_out = true, timeout = 300 })
    has(text, "⚠️ Task 2/3 Timed Out after 5m 00s")
    ok(not text:find("Error:", 1, true), text)
    -- the last task: nothing is left to pause; never /skip (it has ended)
    s.tasks[3].status = "completed"
    text = F.task_failed(s, s.tasks[2], { error = "boom" })
    has(text, "/logs for details, /progress 2 for its events")
    ok(not text:find("/pause", 1, true) and not text:find("/skip", 1, true), text)
  end)

  it("approval_request shows type, priority, the request, what will run and the reason", function()
    local s = session()
    local why = "required mode: type 'backend' is not in auto_approve"
    local rq = { request_id = 7, branch = "orch/s/2", instruction = "Do it.\nThen test." }
    eq(F.approval_request(s, s.tasks[2], why, rq),
      lines("⏸️ Approval needed: Task 2/3", "📝 Create baptisms server actions", "Type: backend · Priority: high",
        "", "Request #7 · task 2", "Branch: orch/s/2", "", "Will run:", "Do it.", "Then test.", "",
        "Why: required mode: type 'backend' is not in auto_approve", "",
        "/approve to run it, /skip to skip, /pause to pause"))
    -- no instruction: the description says what it is
    eq(F.approval_request(s, s.tasks[2], nil, { request_id = 8, instruction = "" }),
      lines("⏸️ Approval needed: Task 2/3", "📝 Create baptisms server actions", "Type: backend · Priority: high",
        "", "Request #8 · task 2", "", "Create server actions for CRUD operations on baptisms", "",
        "/approve to run it, /skip to skip, /pause to pause"))
  end)

  it("question shows the question and how to answer", function()
    local s = session("waiting_approval")
    local text = F.question(s, s.tasks[2], { text = "Table name: baptisms or baptism?" })
    eq(text, lines("❓ Question from Task 2/3", "📝 Create baptisms server actions", "Type: backend", "",
      "Table name: baptisms or baptism?", "",
      "Reply with /answer 2 <your answer> (or /answer <your answer> while only this one waits)"))
    eq(F.question(s, s.tasks[2], "Table name: baptisms or baptism?"), text)
  end)

  it("session_completed sums done/failed/skipped, cost, tokens and duration", function()
    local s = session("completed")
    s.tasks[2].status, s.tasks[2].cost_usd = "failed", 1.5
    s.tasks[2].tokens = { input_tokens = 100, output_tokens = 55 }
    s.tasks[3].status = "skipped"
    eq(F.session_completed(s, T0 + 3725), lines("🏁 Session Complete", "", "Session: 20251120-093015", "",
      "✅ Completed: 1", "❌ Failed: 1", "⏭️ Skipped: 1", "", "Failed:", "• Task 2 - Create baptisms server actions",
      "", "💰 Total cost: $1.51", "🔢 Tokens: 12,500", "⏱ Duration: 1h 02m"))
    for _, t in ipairs(s.tasks) do t.status = "completed" end
    s.finished_at = T0 + 60
    local text = F.session_completed(s, T0 + 99999)
    has(text, "🎉 Session Complete: all 3 tasks done!")
    local one = { id = s.id, status = "completed", started_at = s.started_at, finished_at = s.finished_at,
                  tasks = { s.tasks[1] } }
    has(F.session_completed(one, T0 + 99999), "🎉 Session Complete: the task is done!")  -- not "all 1 tasks"
    has(text, "⏱ Duration: 1m 00s")
    -- the time it stood paused is left out, as in status and the report (S.runtime)
    s.stopped_s = 16
    has(F.session_completed(s, T0 + 99999), "⏱ Duration: 44s")
  end)

  it("status lists only the non-zero extra counts and the right commands", function()
    local s = session("running")
    s.tasks[2].status = "running"
    s.tasks[3].status = "failed"
    local text = F.status(s, nil, { utc_offset = 3600 })
    has(text, "Status: ⚙️ Running")
    has(text, "⚙️ Running: 1\n❌ Failed: 1\n⏳ Pending: 0")
    has(text, "Started: 10:30 AM\n")
    ok(not text:find("Runtime", 1, true) and not text:find("Skipped", 1, true), text)
    has(text, "/pause /logs /help")
  end)

  it("session_started caps a long task list", function()
    local s = { status = "running", tasks = {} }
    for i = 1, 25 do s.tasks[i] = { id = i, title = "T" .. i } end
    local text = F.session_started(s)
    has(text, "Found 25 tasks:")
    has(text, "20. T20\n… and 5 more")
    ok(not text:find("21. T21", 1, true), text)
    ok(not text:find("/approve", 1, true), text)
  end)

  it("logs keeps the newest lines within the size cap", function()
    eq(F.logs({}), lines("📜 Recent Logs", "", "(no log lines yet)"))
    local many = {}
    for i = 1, 1000 do many[i] = string.format("[09:%02d:00] line %04d %s", i % 60, i, string.rep("x", 30)) end
    local text = F.logs(many, { path = "logs/2025-11-20.log" })
    ok(#text < 4096, #text)
    has(text, "line 1000")
    ok(not text:find("line 0001", 1, true), "oldest line kept")
    has(text, "Full logs: logs/2025-11-20.log")
    eq(#many, 1000, "input untouched")
  end)

  it("help lists every command", function()
    local text = F.help()
    for _, c in ipairs({ "/start", "/status", "/approve", "/pause", "/resume", "/skip", "/answer", "/logs",
      "/help", "/task", "/progress", "/cancel" }) do
      ok(text:find("\n" .. c .. "[ -]"), c)
    end
  end)
end)

describe("format helpers", function()
  it("duration", function()
    eq({ F.duration(0), F.duration(45.9), F.duration(125), F.duration(3600), F.duration(3725),
      F.duration(90061), F.duration(-5), F.duration(nil) },
      { "0s", "45s", "2m 05s", "1h 00m", "1h 02m", "1d 1h", "0s", "?" })
  end)

  it("percent rounds to the nearest, 100 only for all and 0 only for none, and survives a zero total", function()
    eq({ F.percent(1, 3), F.percent(2, 3), F.percent(1, 2), F.percent(199, 200), F.percent(3, 3), F.percent(0, 0),
      F.percent(1, 300), F.percent(0, 3), F.percent(-1, 3), F.percent(0 / 0, 3), F.percent(2.25, 2) },
      { 33, 67, 50, 99, 100, 0, 1, 0, 0, 0, 113 })
  end)

  it("one rate everywhere: the progress line, the report's success rate and the budget's share agree", function()
    local s = { id = "r", status = "running", tasks = { { id = "1", status = "completed" },
      { id = "2", status = "completed" }, { id = "3", status = "running" } } }
    ok(F.status(s):find("(67%)", 1, true), F.status(s))
    s.status, s.tasks[3].status = "completed", "failed"
    ok(require("lib.report").render(s, 0, {}):find("success rate 67%", 1, true), "the report's rate")
    eq(F.budget_warning(2, 3), "⚠️ 67% of the day's budget used ($2.00 of $3.00)")
    eq(F.bar(2, 3), "▓▓▓▓▓▓░░░░")
    eq(F.bar(5, 3, 4), "▓▓▓▓")
  end)

  it("clock, thousands, money, tokens, bar", function()
    eq({ F.clock(T0), F.clock(T0, 5 * 3600), F.clock(T0 - 9.5 * 3600), F.clock(T0 + 3 * 3600) },
      { "9:30 AM", "2:30 PM", "12:00 AM", "12:30 PM" })
    -- a time within the next 20 hours alone; later, or gone, with its date
    eq({ F.when(T0 + 3600, T0), F.when(T0 + 2 * 86400, T0), F.when(T0 - 60, T0) },
      { "10:30 AM UTC", "2025-11-22 9:30 AM UTC", "2025-11-20 9:29 AM UTC" })
    eq({ F.thousands(0), F.thousands(999), F.thousands(1000), F.thousands(1234567) },
      { "0", "999", "1,000", "1,234,567" })
    eq({ F.money(0.0123), F.money(12.345), F.money(nil) }, { "$0.0123", "$12.35", nil })
    eq({ F.tokens(5), F.tokens({ input_tokens = 1, output_tokens = 2, service_tier = "x" }), F.tokens("x") },
      { 5, 3, nil })
    eq({ F.bar(0, 3), F.bar(3, 3), F.bar(1, 2, 4) }, { "░░░░░░░░░░", "▓▓▓▓▓▓▓▓▓▓", "▓▓░░" })
  end)

  it("truncate keeps short text, cuts long text on a UTF-8 boundary to exactly max characters", function()
    eq(F.truncate("short", 10), "short")
    eq(F.truncate("ééééé", 5), "ééééé") -- 10 bytes, 5 characters: fits
    eq(F.truncate("abcdefghij", 5), "abcd…")
    eq(F.truncate("ééééééé", 5), "éééé…")
    eq(F.truncate("🤖🤖🤖🤖🤖🤖", 3), "🤖🤖…")
    local long = string.rep("ж", 1000)
    local cut = F.truncate(long)
    eq(cut, string.rep("ж", F.RESULT_CHARS - 1) .. "…")
  end)

  it("result excerpts are short", function()
    local s = session("running")
    local text = F.task_completed(s, s.tasks[1], { result = "  " .. string.rep("word ", 500) .. "  " })
    has(text, "\n\n" .. string.rep("word ", 59) .. "word…\n\n")
  end)

  it("control bytes from an agent are escaped in every message and in the report", function()
    local raw = "done\0 NUL, \27[2Jclear, bell\7, cr\r, del\127, c1 \194\155, caf\195\169\tok\nline 2"
    local shown = "done\\x00 NUL, \\x1b[2Jclear, bell\\x07, cr\\x0d, del\\x7f, c1 \\u009b, caf\195\169\tok\nline 2"
    eq(F.printable(raw), shown)
    eq(F.printable("plain ✅ text"), "plain ✅ text")
    eq(F.printable("\0"), "\\x00")
    eq(F.printable(string.rep("long · text ", 50) .. "\1"), string.rep("long · text ", 50) .. "\\x01")
    eq(F.printable("a · b · \194\133"), "a · b · \\u0085", "a C1 control after a middle dot")
    eq(F.printable("\194\133 then · dots"), "\\u0085 then · dots")
    eq(F.printable("only · dots ·"), "only · dots ·")
    local s = session("running")
    s.tasks[1].title = "evil\27]0;title\7"
    s.tasks[1].result = raw
    local texts = { F.task_completed(s, s.tasks[1], { result = raw }), F.task_failed(s, s.tasks[1], { error = raw }),
      F.question(s, s.tasks[1], raw), F.logs({ raw }), F.session_started(s),
      require("lib.report").render(s, T0 + 600) }
    for i, text in ipairs(texts) do
      ok(not text:find("[%z\1-\8\11-\31\127]") and not text:find("\194[\128-\159]"),
        "raw control bytes in text " .. i .. ": " .. text)
    end
    has(texts[1], "done\\x00 NUL, \\x1b[2Jclear")
    has(texts[6], "done\\x00 NUL, \\x1b[2Jclear")
    has(texts[6], "evil\\x1b]0;title\\x07")
  end)

  it("is deterministic and loads as a pure module (no os.time, io, globals)", function()
    local pure = T.load_pure("workflows/lib/format.lua")
    eq(pure.status(session(), T0 + 300), F.status(session(), T0 + 300))
    eq(pure.session_completed(session(), T0 + 60), F.session_completed(session(), T0 + 60))
  end)
end)

describe("format: the one place for texts", function()
  it("reply fills a named reply and refuses an unknown name", function()
    eq(F.reply("started", "20251120-093015", 3, "tasks/x.md"),
      "Started session 20251120-093015 with 3 task(s) from tasks/x.md")
    eq(F.reply("nothing_to_skip", "s1", nil), "Nothing to skip in session s1 (status: nil)")
    T.raises(function() F.reply("no_such_reply") end, "no reply 'no_such_reply'")
  end)

  it("daily.lua, inbox.lua, the runner, lib/control, schedule and report hold no message text of their own", function()
    -- every message has an emoji or other non-ASCII character somewhere; the
    -- policy files are plain ASCII, so a text moved back into one shows here
    for _, f in ipairs({ "workflows/daily.lua", "workflows/lib/control.lua", "workflows/lib/control_start.lua",
                         "workflows/lib/schedule.lua",
                         "workflows/lib/report.lua", "workflows/lib/report_task.lua",
                         "workflows/lib/report_cli.lua", "workflows/inbox.lua", "workflows/lib/inbox_run.lua",
                         "workflows/lib/inbox_run_files.lua", "workflows/lib/inbox_run_stale.lua",
                         "workflows/lib/runner.lua", "workflows/lib/run_task.lua", "workflows/lib/run_agent.lua",
                         "workflows/lib/run_approve.lua" }) do
      local src = assert(T.read_file(f))
      eq(src:find("[\128-\255]"), nil, f .. " has a non-ASCII text")
    end
  end)

  it("the budget, retry and /progress texts", function()
    eq(F.budget_reached(2, 2), "💸 Budget reached: $2.00 of $2.00. No new task starts; the tasks left are skipped.")
    eq(F.budget_warning(1.5, 2), "⚠️ 75% of the day's budget used ($1.50 of $2.00)")
    local s = session("running")
    eq(F.task_retrying(s, s.tasks[2], { error = "API Error: 500", attempt = 2, of = 3 }),
      lines("🔁 Retrying Task 2/3 (attempt 2 of 3)", "📝 Create baptisms server actions", "Type: backend", "",
        "Last error: API Error: 500", "", "/skip to skip it, /pause to pause"))
    eq(F.task_events("2", { { ts = T0, event = "task_started" } }), "📈 Task 2\n[09:30:00] task_started")
    eq(F.task_events("2", {}), "No events for task 2")
  end)
end)

describe("format: a day of several agents", function()
  it("task_blocked names the cause; status and the end of the day count blocked tasks", function()
    local s = session("running")
    s.tasks[2].status, s.tasks[3].status = "failed", "blocked"
    eq(F.task_blocked(s, s.tasks[3], "2 failed"), lines("🚫 Blocked: Task 3/3", "📝 Create baptisms UI - List page",
      "Type: frontend", "", "Because 2 failed."))
    has(F.status(s, T0 + 60), "🚫 Blocked: 1")
    has(F.session_completed(s, T0 + 60), "⏭️ Skipped: 0\n🚫 Blocked: 1")
    s.tasks[3].status = "skipped"
    ok(not F.session_completed(s, T0 + 60):find("Blocked", 1, true), "no blocked line without blocked tasks")
  end)

  it("agents lists each task in hand on one line; tool_line names the task when several run", function()
    eq(F.agents({ { task = "task-1", title = "Schema", status = "running", elapsed_s = 125, cost_usd = 0.0342,
                    branch = "feature/x" },
                  { task = "task-3", title = "UI", status = "waiting_approval" } }),
      lines("🤖 Agents: 2", "⚙️ task-1 Schema · 2m 05s · $0.0342 · feature/x", "⏸️ task-3 UI · $0.0000"))
    eq(F.agents({ { task = "task-2", title = "Docs", status = "waiting_answer", question = "A\nor  B?" } }),
      lines("🤖 Agents: 1", "⏸️ task-2 Docs · $0.0000", "   ❓ A or B?"))
    eq(F.tool_line("Edit a.lua"), "   ↳ Edit a.lua")
    eq(F.tool_line("Edit a.lua", "task-2"), "   ↳ [task-2] Edit a.lua")
  end)
end)

describe("agent_doing", function()
  it("shows a text block's first 80 bytes with white space squeezed, as the whole text squeezed would", function()
    local big = ("word \n\t "):rep(50000) .. "tail"
    local cases = { "short", "", ("   "):rep(400) .. "x" .. (" y"):rep(100), big, ("a"):rep(79) .. "   \n b",
      ("ab  "):rep(80), ("\n"):rep(5000) }
    for _, text in ipairs(cases) do
      eq(F.agent_doing({ type = "text", text = text }), "💬 " .. text:gsub("%s+", " "):sub(1, 80), #text .. " bytes")
      for _, n in ipairs({ 1, 3, 80, 81 }) do eq(F.squeeze(text, n), (text:gsub("%s+", " "):sub(1, n))) end
    end
    eq(F.agent_doing({ type = "tool_use", name = "Read", input = { file_path = "/a/b" } }), "Read /a/b")
  end)
end)
