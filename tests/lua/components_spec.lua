-- lib/components' rows of `orch-host doctor`: the schedules' row is
-- lib/schedule's check, the one `serve` runs before it starts them, so a
-- schedule that stops serve fails doctor too.
local T = require("orch.testing")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok
local components = require("lib.components")

local function rows(schedules)
  return components.rows({ schedules = schedules }, { ollama = false, schedules = true })
end

describe("components: doctor's schedules row", function()
  it("fails a time zone serve does not support, naming the entry", function()
    local r, problems = rows({ { name = "p", cron = "0 9 * * *", tz = "Europe/Paris" } })
    eq(problems, 1)
    eq(r[1].mark, "FAIL")
    ok(r[1].detail:find("schedules[1].tz: time zone 'Europe/Paris' is not supported", 1, true), r[1].detail)
  end)
  it("fails a minute out of range", function()
    local r, problems = rows({ { cron = "61 9 * * *", tz = "UTC" } })
    eq(problems, 1)
    ok(r[1].detail:find("schedules[1].cron", 1, true), r[1].detail)
  end)
  it("passes good schedules and none", function()
    local r, problems = rows({ { cron = "0 9 * * 1-5", tz = "+02:00" } })
    eq(problems, 0)
    eq(r[1].mark, "ok")
    r, problems = rows({})
    eq(problems, 0)
    eq(r[1].detail, "none")
  end)
  it("names each schedule with its next fire and its task file, a missing one noted", function()
    local r, problems = rows({ { name = "daily", cron = "0 9 * * *", tz = "UTC",
                                 args = { task_file = "tasks/tasks.json" } },
                               { name = "gone", cron = "@hourly", tz = "+01:00",
                                 args = { task_file = "tasks/no-such-file.md" } },
                               { cron = "30 8 * * 1-5", tz = "UTC" } })
    eq(problems, 0)
    eq({ #r, r[1].detail }, { 4, "3 valid" })
    eq({ r[2].mark, r[2].what }, { "ok", "schedule daily" })
    ok(r[2].detail:find("^at 09:00 %(0 9 %* %* %*%), next fire %d+%-%d+%-%d+ 09:00 UTC, runs tasks/tasks%.json$"),
      r[2].detail)
    eq({ r[3].mark, r[3].what }, { "note", "schedule gone" })
    ok(r[3].detail:find("runs tasks/no-such-file.md: no such file (each fire fails until it exists)", 1, true),
      r[3].detail)
    eq(r[4].what, "schedule 30 8 * * 1-5")
    ok(r[4].detail:find("runs the day's file$"), r[4].detail)
  end)
  it("gives no schedules row unless asked (status)", function()
    local r = components.rows({ schedules = { { cron = "x" } } }, { ollama = false })
    eq(#r, 0)
  end)
end)
