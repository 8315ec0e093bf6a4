-- lib/schedule: cron-started sessions in `orch-host serve`. The loops run on a
-- fake clock (now/sleep that move virtual time, no real waiting) against a fake
-- control that records each start; then once against the real lib/control,
-- which runs a real daily.lua session through the stand-in claude.
local T = require("orch.testing")
local describe, it, eq, ok, raises = T.describe, T.it, T.eq, T.ok, T.raises
local cron = require("lib.cron")
local schedule = require("lib.schedule")
local S = require("lib.session")
local control = require("lib.control")

local FIXTURE = "tests/lua/fixtures/schedule-tasks.md"

local function utc(s)
  local y, mo, d, h, mi, sec = s:match("^(%d+)-(%d+)-(%d+) (%d+):(%d+):?(%d*)$")
  return cron.days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400 + tonumber(h) * 3600
    + tonumber(mi) * 60 + (tonumber(sec) or 0)
end
local function show(t) return os.date("!%Y-%m-%d %H:%M:%S", t) end

-- A virtual clock from `start`. sleep(s) moves it by s and returns true, or
-- returns nil (cancelled, which ends the loop) when it would pass `stop`.
-- warps = { {at=, by=} }: once a sleep reaches `at`, the wall clock jumps `by`
-- seconds (a suspend, an NTP step).
local function fake_clock(start, stop, warps)
  local c = { t = start, max_sleep = 0, logs = {}, sleeps = 0 }
  function c.now() return c.t end
  function c.sleep(s)
    assert(type(s) == "number" and s >= 0, "sleep: bad seconds " .. tostring(s))
    c.sleeps = c.sleeps + 1
    if s > c.max_sleep then c.max_sleep = s end
    if c.t + s > stop then return nil, orch.err("cancelled", "test over") end
    c.t = c.t + s
    for _, w in ipairs(warps or {}) do
      if not w.done and c.t >= w.at then w.done, c.t = true, c.t + w.by; stop = stop + (w.stop_by or 0) end
    end
    return true
  end
  function c.log(level, msg) c.logs[#c.logs + 1] = level .. " " .. msg end
  function c.logged(pattern)
    local n = 0
    for _, l in ipairs(c.logs) do if l:find(pattern) then n = n + 1 end end
    return n
  end
  return c
end

-- A control whose start records (virtual time, params, by, opts) and answers reply(n).
local function fake_control(clock, reply)
  local ctl = { calls = {} }
  function ctl.start(params, by, opts)
    ctl.calls[#ctl.calls + 1] = { at = clock.t, params = params, by = by, opts = opts }
    if reply then return reply(#ctl.calls) end
    return { status = "started", session_id = "s" .. #ctl.calls, message = "Started session s" .. #ctl.calls }, 200
  end
  function ctl.times()
    local out = {}
    for i, c in ipairs(ctl.calls) do out[i] = show(c.at) end
    return out
  end
  return ctl
end

-- Runs the schedules on the clock until it stops them; returns the control.
local function run(list, clock, ctl)
  ctl = ctl or fake_control(clock)
  local ids = schedule.start(list, ctl, clock)
  for _, id in ipairs(ids) do
    local done, err = orch.wait(id, 20)
    ok(done, "the schedule loop ended with " .. tostring(err))
  end
  ok(clock.max_sleep <= 60, "slept " .. clock.max_sleep .. " s at once")
  return ctl
end

describe("fire times", function()
  it("0 9 * * 1-5 in UTC fires Friday, Monday and Tuesday at 09:00, not at the weekend", function()
    local c = fake_clock(utc("2025-11-21 08:00"), utc("2025-11-25 10:00"))  -- Fri 08:00 .. Tue 10:00
    local ctl = run({ { cron = "0 9 * * 1-5", tz = "UTC" } }, c)
    eq(ctl.times(), { "2025-11-21 09:00:00", "2025-11-24 09:00:00", "2025-11-25 09:00:00" })
    eq(ctl.calls[1].by, "schedule:0 9 * * 1-5")
    eq(ctl.calls[1].params, {})
    -- a schedule runs its file again each time (past a finished session only: again, not force)
    eq(ctl.calls[1].opts, { again = true })
    eq(c.logged("at 09:00 on Mon%-Fri %(0 9 %* %* 1%-5%), next fire 2025%-11%-21 09:00 UTC"), 1)
    eq(c.logged("next fire 2025%-11%-24 09:00 UTC"), 1)
    eq(c.logged("started session s2"), 0)
    eq(c.logged("fire due 2025%-11%-24 09:00 UTC: Started session s2"), 1)
    eq(c.logged("stopped"), 1)
  end)

  it("a fixed-offset zone fires at 09:00 local: +10:00 is 23:00 UTC the day before", function()
    local c = fake_clock(utc("2025-11-21 00:00"), utc("2025-11-25 00:00"))  -- Fri 10:00 .. Tue 10:00 local
    local ctl = run({ { cron = "0 9 * * 1-5", tz = "+10:00", name = "brisbane",
                        args = { task_file = "tasks/standing.md", auto_approve = true } } }, c)
    eq(ctl.times(), { "2025-11-23 23:00:00", "2025-11-24 23:00:00" })  -- Mon and Tue 09:00 local
    eq(ctl.calls[1].by, "schedule:brisbane")
    eq(ctl.calls[1].params, { task_file = "tasks/standing.md", auto_approve = true })
    eq(c.logged("next fire 2025%-11%-24 09:00 %+10:00"), 1)
  end)

  it("* * * * * fires at each minute", function()
    local c = fake_clock(utc("2025-11-24 12:00:30"), utc("2025-11-24 12:05:10"))
    local ctl = run({ { cron = "* * * * *", tz = "UTC" } }, c)
    eq(ctl.times(), { "2025-11-24 12:01:00", "2025-11-24 12:02:00", "2025-11-24 12:03:00",
                      "2025-11-24 12:04:00", "2025-11-24 12:05:00" })
  end)

  it("fires due in the same minute run in the order the schedules are defined, minute by minute", function()
    local c = fake_clock(utc("2025-11-24 08:58:30"), utc("2025-11-24 09:00:10"))
    local ctl = run({ { name = "a", cron = "0 9 * * *", tz = "UTC" }, { name = "b", cron = "* * * * *", tz = "UTC" },
                      { name = "c", cron = "*/30 * * * *", tz = "+00:00" } }, c)
    local got = {}
    for i, call in ipairs(ctl.calls) do got[i] = show(call.at):sub(12, 16) .. " " .. call.by end
    eq(got, { "08:59 schedule:b", "09:00 schedule:a", "09:00 schedule:b", "09:00 schedule:c" })
  end)

  it("passes a workflow other than daily.lua to control.start", function()
    for wf, opts in pairs({ ["serve.lua"] = { workflow = "serve.lua", again = true },
                            ["daily.lua"] = { again = true } }) do
      local c = fake_clock(utc("2025-11-24 12:00:30"), utc("2025-11-24 12:01:10"))
      local ctl = run({ { cron = "* * * * *", tz = "UTC", workflow = wf } }, c)
      eq(#ctl.calls, 1, wf)
      eq(ctl.calls[1].opts, opts, wf)
    end
  end)
end)

describe("a session already running", function()
  it("is reported and not started again (fake control)", function()
    local c = fake_clock(utc("2025-11-24 12:00:30"), utc("2025-11-24 12:03:10"))
    local ctl = fake_control(c, function(n)
      if n == 1 then return { status = "started", session_id = "s1", message = "Started session s1" }, 200 end
      return { status = "already_running", session_id = "s1", message = "A session is already running" }, 409
    end)
    run({ { cron = "* * * * *", tz = "UTC" } }, c, ctl)
    eq(#ctl.calls, 3, "one call per fire, no retries")
    eq(c.logged("Started session s1"), 1)
    eq(c.logged("not started, a session is already running %(session s1%)"), 2)
  end)

  it("real lib/control answers already_running and starts nothing", function()
    local file = orch.root .. "/" .. FIXTURE
    control.live["sched-busy"] = { task = 0, task_file = file, by = "test", started_at = orch.now() }
    local c = fake_clock(utc("2025-11-24 08:59:30"), utc("2025-11-24 09:00:30"))
    local okr, err = pcall(run, { { cron = "0 9 * * 1-5", tz = "UTC", args = { task_file = FIXTURE } } }, c, control)
    local live = {}
    for id in pairs(control.live) do live[#live + 1] = id end
    control.live["sched-busy"] = nil
    ok(okr, err)
    eq(live, { "sched-busy" })
    eq(c.logged("not started, a session is already running %(session sched%-busy%)"), 1)
  end)
end)

describe("a changed wall clock", function()
  it("a fire missed by more than the grace (host asleep) is skipped, not run late", function()
    -- asleep from 08:59 to 11:59
    local c = fake_clock(utc("2025-11-24 08:58:30"), utc("2025-11-25 09:30"),
      { { at = utc("2025-11-24 08:59"), by = 3 * 3600 } })
    local ctl = run({ { cron = "0 9 * * *", tz = "UTC" } }, c)
    eq(ctl.times(), { "2025-11-25 09:00:00" })
    eq(c.logged("^warn schedule 0 9 %* %* %*: missed the fire due 2025%-11%-24 09:00 UTC by 3%.0h %(more than " ..
      "the 300s grace%): skipped, not run late"), 1)
    eq(c.logged("next fire 2025%-11%-25 09:00 UTC"), 1)
  end)

  it("many missed fires are skipped at once and counted", function()
    local c = fake_clock(utc("2025-11-24 12:00:30"), utc("2025-11-24 13:03:30"),
      { { at = utc("2025-11-24 12:01"), by = 3600 } })
    local ctl = run({ { cron = "* * * * *", tz = "UTC" } }, c)
    eq(ctl.times(), { "2025-11-24 13:02:00", "2025-11-24 13:03:00" })
    eq(c.logged("missed the fire due 2025%-11%-24 12:01 UTC by 60m, and 60 later fires"), 1)
  end)

  it("a fire late within the grace runs once, not once per minute it missed", function()
    local c = fake_clock(utc("2025-11-24 12:00:30"), utc("2025-11-24 12:04:30"),
      { { at = utc("2025-11-24 12:01"), by = 120 } })
    local ctl = run({ { cron = "* * * * *", tz = "UTC", grace = 300 } }, c)
    eq(ctl.times(), { "2025-11-24 12:03:00", "2025-11-24 12:04:00" })
    eq(c.logged("fire due 2025%-11%-24 12:01 UTC"), 1)
  end)

  it("grace = 0 skips any late fire", function()
    local c = fake_clock(utc("2025-11-24 12:00:30"), utc("2025-11-24 12:03:30"),
      { { at = utc("2025-11-24 12:01"), by = 1 } })
    local ctl = run({ { cron = "* * * * *", tz = "UTC", grace = 0 } }, c)
    eq(ctl.times(), { "2025-11-24 12:02:00", "2025-11-24 12:03:00" })
    eq(c.logged("missed the fire due 2025%-11%-24 12:01 UTC by 1s"), 1)
  end)

  it("a clock set back after a fire does not fire it again", function()
    local c = fake_clock(utc("2025-11-24 08:59"), utc("2025-11-24 09:10"),
      { { at = utc("2025-11-24 09:01"), by = -120 } })
    local ctl = run({ { cron = "0 9 * * *", tz = "UTC" } }, c)
    eq(ctl.times(), { "2025-11-24 09:00:00" })
  end)

  it("a clock set back before a fire brings that fire forward", function()
    -- started at 10:00 (next fire tomorrow); the clock was 2 h fast and NTP steps it back
    local c = fake_clock(utc("2025-11-24 10:00"), utc("2025-11-24 10:02"),
      { { at = utc("2025-11-24 10:01"), by = -7200, stop_by = -7200 + 3600 } })
    local ctl = run({ { cron = "0 9 * * *", tz = "UTC" } }, c)
    eq(ctl.times(), { "2025-11-24 09:00:00" })
  end)

  it("sleeps at most 60 s at a time, even with days to wait", function()
    local c = fake_clock(utc("2025-11-22 09:00"), utc("2025-11-24 09:00"))  -- Sat .. Mon
    run({ { cron = "0 9 * * 1-5", tz = "UTC" } }, c)
    ok(c.sleeps >= 2 * 24 * 60, "sleeps: " .. c.sleeps)
  end)
end)

describe("validation", function()
  local CASES = {
    { { { cron = "0 9 * * 8", tz = "UTC" } }, "schedules[1].cron: day-of-week field: 8 is out of range 0-7" },
    { { { cron = "0 9 * * 1-5", tz = "UTC" }, { cron = "0 9 * * *", tz = "Europe/Paris" } },
      "schedules[2].tz: time zone 'Europe/Paris' is not supported" },
    { { { cron = "0 9 * * *" } }, "schedules[1].tz: a time zone is required" },
    { { { cron = 9, tz = "UTC" } }, "schedules[1].cron: must be a cron string, got number" },
    { { { tz = "UTC" } }, "schedules[1].cron: must be a cron string, got nil" },
    { { { cron = "0 0 31 2 *", tz = "UTC" } }, "schedules[1].cron: '0 0 31 2 *' never fires" },
    { { { cron = "0 9 * * *", tz = "UTC", when = "x" } }, "schedules[1].when: unknown key (known: args, cron, grace" },
    { { { cron = "0 9 * * *", tz = "UTC", args = "x" } }, "schedules[1].args: must be a table" },
    { { { cron = "0 9 * * *", tz = "UTC", args = { task_file = 3 } } },
      "schedules[1].args.task_file: must be a string, got number" },
    { { { cron = "0 9 * * *", tz = "UTC", args = { auto_approve = "yes" } } },
      "schedules[1].args.auto_approve: must be a boolean, got string" },
    { { { cron = "0 9 * * *", tz = "UTC", args = { tasks = "x.md" } } },
      "schedules[1].args.tasks: unknown key (known: auto_approve, task_file)" },
    { { { cron = "0 9 * * *", tz = "UTC", workflow = "nope.lua" } },
      "schedules[1].workflow: no such workflow 'nope.lua' under workflows/" },
    { { { cron = "0 9 * * *", tz = "UTC", workflow = 5 } }, "schedules[1].workflow: must be a workflow name" },
    { { { cron = "0 9 * * *", tz = "UTC", grace = -1 } }, "schedules[1].grace: must be a number of seconds >= 0" },
    { { { cron = "0 9 * * *", tz = "UTC", name = "" } }, "schedules[1].name: must be a non-empty string" },
    { { { cron = "0 9 * * *", tz = "UTC", name = "am" }, { cron = "0 18 * * *", tz = "UTC", name = "am" } },
      "schedules[2].name: \"am\" is schedules[1]'s name too" },
    { { "0 9 * * *" }, "schedules[1]: must be a table like" },
    { { cron = "0 9 * * *", tz = "UTC" }, "schedules: must be a list" },
  }
  for _, case in ipairs(CASES) do
    it(case[2], function()
      local calls = 0
      raises(function() schedule.start(case[1], { start = function() calls = calls + 1 end }) end, case[2])
      eq(calls, 0)
    end)
  end
  it("accepts macros, names, args, workflow and grace", function()
    local e = schedule.validate({ { cron = "@daily", tz = "-05:30", name = "n", workflow = "daily.lua",
      args = { task_file = "t.md", auto_approve = false }, grace = 0 } })
    eq({ e[1].label, e[1].workflow, e[1].grace, e[1].offset }, { "n", nil, 0, -19800 })
  end)
  it("refuses a control without start", function()
    raises(function() schedule.start({}, {}) end, "control must be lib/control")
  end)
end)

describe("end to end", function()
  it("a fire starts a real daily.lua session through lib/control and the stand-in claude", function()
    local fake = os.getenv("FAKE_CLAUDE")
    ok(fake and orch.config.claude.path == fake,
      "run under ctest: claude.path must be the stand-in (CLAUDE_CLI_PATH=$FAKE_CLAUDE), got " ..
      tostring(orch.config.claude.path))
    orch.make_dir(orch.config.claude.base_cwd)
    for _, row in ipairs(orch.list_sessions(1000)) do  -- an earlier run's, stopped short, would hold the file
      if row.status ~= "completed" and tostring(row.task_file):find(FIXTURE, 1, true) then
        S.set_status(assert(S.load(row.id)), "completed", {})
      end
    end
    local c = fake_clock(utc("2025-11-24 08:59:30"), utc("2025-11-24 09:00:30"))
    run({ { cron = "0 9 * * 1-5", tz = "UTC", name = "e2e", args = { task_file = FIXTURE } } }, c, control)
    eq(c.logged("^info schedule e2e: fire due 2025%-11%-24 09:00 UTC: Started session"), 1, table.concat(c.logs, "\n"))
    -- (its start answers once the session is stored: a one-task day of the
    -- stand-in may have ended by now, and left control.live)
    local sid
    for _, line in ipairs(c.logs) do sid = line:match("09:00 UTC: Started session (%S+)") or sid end
    ok(sid, table.concat(c.logs, "\n"))
    local live = control.live[sid]
    if live then
      eq(live.task_file, orch.root .. "/" .. FIXTURE)
      eq(live.by, "schedule:e2e")
      local done, code = orch.wait(live.task, 60)
      eq({ done, code }, { true, 0 }, "daily.lua's result")
    end
    local s = orch.load_session(sid)
    eq({ s.status, #s.tasks, s.tasks[1].status }, { "completed", 1, "completed" })
    eq(s.started_by, "schedule:e2e")
    ok(s.tasks[1].cost_usd > 0, "the stand-in's cost was recorded")
    local deadline = orch.monotonic() + 10
    while control.live[sid] and orch.monotonic() < deadline do orch.sleep(0.05) end
    eq(control.live[sid], nil, "control forgets the session when it ends")
    -- the next fire runs the finished file again; one a killed host left running it does not
    -- supersede (that session would stay "running" for ever): it is said instead
    c = fake_clock(utc("2025-11-25 08:59:30"), utc("2025-11-25 09:00:30"))
    run({ { cron = "0 9 * * 1-5", tz = "UTC", name = "e2e", args = { task_file = FIXTURE } } }, c, control)
    eq(c.logged("fire due 2025%-11%-25 09:00 UTC: Started session"), 1, table.concat(c.logs, "\n"))
    local second  -- (its start answers once it is stored: it may have ended by now, and left control.live)
    for _, line in ipairs(c.logs) do second = line:match("09:00 UTC: Started session (%S+)") or second end
    ok(second, table.concat(c.logs, "\n"))
    if control.live[second] then orch.wait(control.live[second].task, 60) end
    local dead = S.load(second)
    S.set_status(dead, "running", { pid = 999999999 })  -- as its host died
    c = fake_clock(utc("2025-11-26 08:59:30"), utc("2025-11-26 09:00:30"))
    run({ { cron = "0 9 * * 1-5", tz = "UTC", name = "e2e", args = { task_file = FIXTURE } } }, c, control)
    local pat = "fire due 2025%-11%-26 09:00 UTC: could not start: Session " .. second:gsub("%-", "%%-")
    eq(c.logged(pat .. " .* is running"), 1,
      table.concat(c.logs, "\n"))
  end)
end)
