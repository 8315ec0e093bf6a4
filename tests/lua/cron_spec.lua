-- Specs for workflows/lib/cron.lua: parsing, next_fire/matches in explicit fixed-offset zones,
-- the day-of-month/day-of-week rule, leap years, never-firing expressions and every error.
-- Expected instants are written as UTC text; the helpers below convert them without the
-- module's calendar code (a naive day count and os.date("!...") as the oracle).
local T = require("orch.testing")
local cron = require("lib.cron")
local describe, it, eq, ok, raises = T.describe, T.it, T.eq, T.ok, T.raises

local function leap(y) return y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0) end
local MDAYS = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

-- "2025-11-21 09:30[:15]" (UTC, year >= 1970) -> epoch, by counting days one by one.
local function utc(s)
  local y, mo, d, h, mi, sec = s:match("^(%d+)-(%d+)-(%d+) (%d+):(%d+):?(%d*)$")
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  local days = d - 1
  for yy = 1970, y - 1 do days = days + (leap(yy) and 366 or 365) end
  for mm = 1, mo - 1 do days = days + MDAYS[mm] + ((mm == 2 and leap(y)) and 1 or 0) end
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + (tonumber(sec) or 0)
end

local function show(t) return t and os.date("!%Y-%m-%d %H:%M %a", t) or nil end

-- next_fire as text, or the error code and message.
local function fire(expr, after, tz)
  local t, err = cron.next_fire(expr, type(after) == "string" and utc(after) or after, tz or "UTC")
  if t then return show(t) end
  return err.code .. ": " .. err.message
end

-- The next n fires, chained; each must be later than the one before.
local function fires(expr, after, n, tz)
  local out, t = {}, utc(after)
  for i = 1, n do
    local nt = assert(cron.next_fire(expr, t, tz or "UTC"))
    if nt <= t then error(string.format("fire %d: %s is not after %s", i, show(nt), show(t)), 2) end
    t, out[i] = nt, show(nt)
  end
  return out
end

describe("test helpers", function()
  it("utc() and show() agree with a known instant", function()
    eq(utc("2025-11-20 09:30"), 1763631000)
    eq(utc("2000-03-01 00:00"), 951868800)
    eq(show(1763631000), "2025-11-20 09:30 Thu")
  end)
end)

describe("cron.parse", function()
  it("reads the five fields of weekdays at 09:00", function()
    local s = assert(cron.parse("0 9 * * 1-5"))
    eq({ s.expr, s.fields, s.minute, s.hour, s.month, s.dow, s.dom_star, s.dow_star },
      { "0 9 * * 1-5", { "0", "9", "*", "*", "1-5" }, { 0 }, { 9 }, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 },
        { 1, 2, 3, 4, 5 }, true, false })
    eq(#s.dom, 31)
    eq({ s.set.dow[0], s.set.dow[1], s.set.dow[5], s.set.dow[6], s.set.hour[9], s.set.hour[10] },
      { nil, true, true, nil, true, nil })
  end)

  local FIELDS = {
    { "*/15 * * * *", "minute", { 0, 15, 30, 45 } },
    { "10-40/10 * * * *", "minute", { 10, 20, 30, 40 } },
    { "1-10/4 * * * *", "minute", { 1, 5, 9 } },
    { "*/60 * * * *", "minute", { 0 } },
    { "5,1-3,2,59 * * * *", "minute", { 1, 2, 3, 5, 59 } },
    { "0 9-17/2 * * *", "hour", { 9, 11, 13, 15, 17 } },
    { "0 */6 * * *", "hour", { 0, 6, 12, 18 } },
    { "0 0 1,15,31 * *", "dom", { 1, 15, 31 } },
    { "0 0 */10 * *", "dom", { 1, 11, 21, 31 } },
    { "0 0 * jan,MAR,Dec *", "month", { 1, 3, 12 } },
    { "0 0 * Jan-apr/2 *", "month", { 1, 3 } },
    { "0 0 * 1,feb,11-12 *", "month", { 1, 2, 11, 12 } },
    { "0 0 * * mon-fri", "dow", { 1, 2, 3, 4, 5 } },
    { "0 0 * * Sat,SUN", "dow", { 0, 6 } },
    { "0 0 * * 7", "dow", { 0 } },
    { "0 0 * * 0,7", "dow", { 0 } },
    { "0 0 * * 5-7", "dow", { 0, 5, 6 } },
    { "0 0 * * 1-7", "dow", { 0, 1, 2, 3, 4, 5, 6 } },
    { "0 0 * * */2", "dow", { 0, 2, 4, 6 } },
    { "0 0 * * thu-sat/2", "dow", { 4, 6 } },
  }
  for _, c in ipairs(FIELDS) do
    it(c[1] .. " -> " .. c[2], function()
      local s = assert(cron.parse(c[1]))
      eq(s[c[2]], c[3])
      local set = {}
      for _, v in ipairs(c[3]) do set[v] = true end
      eq(s.set[c[2]], set)
    end)
  end

  it("ignores surrounding and repeated blanks, tabs included", function()
    local s = assert(cron.parse("  0   9\t* *  1-5 "))
    eq({ s.expr, s.fields }, { "0   9\t* *  1-5", { "0", "9", "*", "*", "1-5" } })
  end)

  it("knows the macros, in any case", function()
    local MACROS = { ["@hourly"] = "0 * * * *", ["@daily"] = "0 0 * * *", ["@midnight"] = "0 0 * * *",
      ["@weekly"] = "0 0 * * 0", ["@monthly"] = "0 0 1 * *", ["@yearly"] = "0 0 1 1 *",
      ["@annually"] = "0 0 1 1 *", ["@DAILY"] = "0 0 * * *" }
    for macro, fields in pairs(MACROS) do
      local s = assert(cron.parse(macro), macro)
      eq(table.concat(s.fields, " "), fields, macro)
      eq(s.expr, macro)
    end
  end)

  it("marks day fields that start with '*' as unrestricted, as cron does", function()
    local function stars(e) local s = assert(cron.parse(e)); return { s.dom_star, s.dow_star } end
    eq(stars("0 0 * * *"), { true, true })
    eq(stars("0 0 13 * 5"), { false, false })
    eq(stars("0 0 */2 * 5"), { true, false })
    eq(stars("0 0 1-31 * 1-7"), { false, false })
    eq(stars("0 0 1 * */7"), { false, true })
  end)

  -- expression, field, bad token, the rest of the message after "<token> "
  local BAD = {
    { "61 9 * * *", "minute", "61", "is out of range 0-59" },
    { "0 24 * * *", "hour", "24", "is out of range 0-23" },
    { "0 0 0 * *", "day-of-month", "0", "is out of range 1-31" },
    { "0 0 32 * *", "day-of-month", "32", "is out of range 1-31" },
    { "0 0 * 0 *", "month", "0", "is out of range 1-12" },
    { "0 0 * 13 *", "month", "13", "is out of range 1-12" },
    { "0 0 * * 8", "day-of-week", "8", "is out of range 0-7" },
    { "0 0 * * 1-8", "day-of-week", "8", "is out of range 0-7" },
    { "0 0 * foo *", "month", "foo", "is not a number or month name (jan-dec)" },
    { "0 0 * mon *", "month", "mon", "is not a number or month name (jan-dec)" },
    { "0 0 * * jan", "day-of-week", "jan", "is not a number or day name (sun-sat)" },
    { "0 0 * * monday", "day-of-week", "monday", "is not a number or day name (sun-sat)" },
    { "jan 0 * * *", "minute", "jan", "is not a number" },
    { "1.5 0 * * *", "minute", "1.5", "is not a number" },
    { "0 *-5 * * *", "hour", "*", "is not a number" },
    { "0 1-2-3 * * *", "hour", "2-3", "is not a number" },
    { "-5 0 * * *", "minute", "-5", "is missing a number" },
    { "5- 0 * * *", "minute", "5-", "is missing a number" },
    { "/5 0 * * *", "minute", "/5", "is missing a number" },
    { "30-10 0 * * *", "minute", "30-10", "is a backwards range" },
    { "0 0 * * fri-mon", "day-of-week", "fri-mon", "is a backwards range" },
    { "*/0 0 * * *", "minute", "*/0", "has step 0, out of range 1-60" },
    { "*/61 0 * * *", "minute", "*/61", "has step 61, out of range 1-60" },
    { "0 */25 * * *", "hour", "*/25", "has step 25, out of range 1-24" },
    { "*/x 0 * * *", "minute", "*/x", "has a step that is not a number" },
    { "*/ 0 * * *", "minute", "*/", "has a step that is not a number" },
    { "5/10 0 * * *", "minute", "5/10", "has a step but no range (write 5-59/10)" },
    { "0 0 * * mon/2", "day-of-week", "mon/2", "has a step but no range (write mon-7/2)" },
    { "1,,2 0 * * *", "minute", "1,,2", "has an empty list entry" },
    { ",1 0 * * *", "minute", ",1", "has an empty list entry" },
    { "0 0 * * 1,", "day-of-week", "1,", "has an empty list entry" },
  }
  for _, c in ipairs(BAD) do
    it("rejects '" .. c[1] .. "', naming the " .. c[2] .. " field and " .. c[3], function()
      local res, err = cron.parse(c[1])
      eq(res, nil)
      eq({ err.code, err.field, err.token }, { "bad_cron", c[2], c[3] })
      eq(err.message, "cron: " .. c[2] .. " field: " .. c[3] .. " " .. c[4] .. " in '" .. c[1] .. "'")
      eq(tostring(err), err.message)
    end)
  end

  it("gives the exact message of the brief", function()
    local _, err = cron.parse("61 9 * * *")
    eq(err.message, "cron: minute field: 61 is out of range 0-59 in '61 9 * * *'")
  end)

  it("rejects a wrong number of fields (a command after the fields too)", function()
    local CASES = { { "* * * *", 4 }, { "* * * * * *", 6 }, { "0 9 * * 1-5 /usr/bin/run", 6 },
      { "", 0 }, { "   ", 0 } }
    for _, c in ipairs(CASES) do
      local res, err = cron.parse(c[1])
      eq(res, nil, c[1])
      eq({ err.code, err.field }, { "bad_cron", nil }, c[1])
      eq(err.message, string.format("cron: expected 5 fields (minute hour day-of-month month day-of-week), "
        .. "got %d in '%s'", c[2], (c[1]:match("^%s*(.-)%s*$"))))
    end
  end)

  it("rejects unknown macros, @reboot included (it is not a time)", function()
    for _, m in ipairs({ "@reboot", "@every 5m", "@", "@daily 0" }) do
      local res, err = cron.parse(m)
      eq(res, nil, m)
      eq({ err.code, err.token }, { "bad_cron", m })
      eq(err.message, "cron: unknown macro " .. m
        .. " (known: @hourly @daily @midnight @weekly @monthly @yearly @annually)")
    end
  end)

  it("rejects a non-string expression", function()
    for _, v in ipairs({ 42, true, {} }) do
      local res, err = cron.parse(v)
      eq({ res, err.code, err.message }, { nil, "bad_cron", "cron: expression must be a string, got " .. type(v) })
    end
    local res, err = cron.parse(nil)
    eq({ res, err.message }, { nil, "cron: expression must be a string, got nil" })
  end)
end)

describe("cron.parse_tz", function()
  local GOOD = { { "UTC", 0 }, { "utc", 0 }, { " Z ", 0 }, { "+02:00", 7200 }, { "-05:30", -19800 },
    { "+0530", 19800 }, { "-03", -10800 }, { "+14:00", 50400 }, { "-14:00", -50400 }, { "-00:00", 0 },
    { { offset_seconds = 3600 }, 3600 }, { { offset_seconds = -16200 }, -16200 }, { { offset_seconds = 0 }, 0 } }
  for _, c in ipairs(GOOD) do
    local name = type(c[1]) == "table" and ("{offset_seconds=" .. c[1].offset_seconds .. "}") or c[1]
    it("reads " .. name .. " as " .. c[2] .. " seconds", function() eq(cron.parse_tz(c[1]), c[2]) end)
  end

  local NOT_SUPPORTED = { "Europe/Berlin", "CET", "UTC+2", "GMT", "+2:00", "02:00", "+02:00:00", "" }
  for _, tz in ipairs(NOT_SUPPORTED) do
    it("refuses '" .. tz .. "' and says what to use", function()
      local res, err = cron.parse_tz(tz)
      eq({ res, err.code, tostring(err) }, { nil, "bad_tz", "cron: time zone '" .. tz
        .. "' is not supported: use 'UTC' or a fixed offset like '+02:00' (DST is not modelled)" })
    end)
  end

  it("refuses offsets beyond 14 hours or with 60+ minutes", function()
    for _, tz in ipairs({ "+14:01", "-15:00", "+25:00", "+02:60" }) do
      local res, err = cron.parse_tz(tz)
      eq({ res, err.code, err.message }, { nil, "bad_tz",
        "cron: time zone offset '" .. tz .. "' is out of range -14:00..+14:00" }, tz)
    end
  end)

  it("refuses a bad offset_seconds table", function()
    for _, v in ipairs({ "3600", 1.5, 50401, -50401, 1 / 0, false }) do
      local res, err = cron.parse_tz({ offset_seconds = v })
      eq({ res, err.code, err.message }, { nil, "bad_tz",
        "cron: offset_seconds must be whole seconds within 14 hours, got " .. tostring(v) }, tostring(v))
    end
    local res, err = cron.parse_tz({})
    eq({ res, err.message }, { nil, "cron: offset_seconds must be whole seconds within 14 hours, got nil" })
  end)

  it("requires a zone: nil or a number is never taken as the machine's zone", function()
    for _, v in ipairs({ 7200, true }) do
      local res, err = cron.parse_tz(v)
      eq({ res, err.code }, { nil, "bad_tz" })
      ok(err.message:find("a time zone is required", 1, true), err.message)
      ok(err.message:find("got " .. type(v), 1, true), err.message)
    end
    local res, err = cron.parse_tz(nil)
    eq({ res, err.message }, { nil, "cron: a time zone is required (the machine's is never used), got nil: "
      .. "use 'UTC', a fixed offset like '+02:00' or {offset_seconds=N}" })
  end)
end)

describe("cron.next_fire", function()
  it("weekdays at 09:00 skip the weekend", function()
    eq(fire("0 9 * * 1-5", "2025-11-21 09:30"), "2025-11-24 09:00 Mon")
    eq(fire("0 9 * * 1-5", "2025-11-22 12:00"), "2025-11-24 09:00 Mon")
    eq(fire("0 9 * * 1-5", "2025-11-23 23:59"), "2025-11-24 09:00 Mon")
    eq(fire("0 9 * * 1-5", "2025-11-21 08:59"), "2025-11-21 09:00 Fri")
    eq(fires("0 9 * * mon-fri", "2025-11-20 09:00", 4),
      { "2025-11-21 09:00 Fri", "2025-11-24 09:00 Mon", "2025-11-25 09:00 Tue", "2025-11-26 09:00 Wed" })
  end)

  it("is strictly after: the fire instant itself gives the next one; seconds count", function()
    eq(fire("0 9 * * 1-5", "2025-11-21 09:00"), "2025-11-24 09:00 Mon")
    eq(fire("0 9 * * 1-5", "2025-11-21 08:59:59"), "2025-11-21 09:00 Fri")
    eq(cron.next_fire("0 9 * * *", utc("2025-11-21 08:59") + 59.5, "UTC"), utc("2025-11-21 09:00"))
    eq(cron.next_fire("* * * * *", utc("2025-11-21 08:59") + 0.25, "UTC"), utc("2025-11-21 09:00"))
  end)

  it("every 15 minutes, across the hour and the day", function()
    eq(fires("*/15 * * * *", "2025-11-21 23:07", 4),
      { "2025-11-21 23:15 Fri", "2025-11-21 23:30 Fri", "2025-11-21 23:45 Fri", "2025-11-22 00:00 Sat" })
    eq(fire("*/15 * * * *", "2025-11-21 10:15"), "2025-11-21 10:30 Fri")
  end)

  it("ranges with steps", function()
    eq(fires("10-40/10 9-17/4 * * *", "2025-11-21 13:35", 5), { "2025-11-21 13:40 Fri",
      "2025-11-21 17:10 Fri", "2025-11-21 17:20 Fri", "2025-11-21 17:30 Fri", "2025-11-21 17:40 Fri" })
    eq(fire("10-40/10 9-17/4 * * *", "2025-11-21 17:40"), "2025-11-22 09:10 Sat")
  end)

  it("month and day names", function()
    eq(fires("0 12 1 jan,JUL *", "2025-03-05 00:00", 3),
      { "2025-07-01 12:00 Tue", "2026-01-01 12:00 Thu", "2026-07-01 12:00 Wed" })
    eq(fires("30 8 * * sat,SUN", "2025-11-19 00:00", 3),
      { "2025-11-22 08:30 Sat", "2025-11-23 08:30 Sun", "2025-11-29 08:30 Sat" })
  end)

  it("Sunday is 0, 7 and sun", function()
    for _, e in ipairs({ "0 10 * * 0", "0 10 * * 7", "0 10 * * sun", "0 10 * * SUN,7" }) do
      eq(fire(e, "2025-11-19 00:00"), "2025-11-23 10:00 Sun", e)
    end
    eq(fires("0 10 * * 5-7", "2025-11-20 00:00", 3),
      { "2025-11-21 10:00 Fri", "2025-11-22 10:00 Sat", "2025-11-23 10:00 Sun" })
  end)

  it("either-day rule: the 13th OR a Friday when both are restricted", function()
    eq(fires("0 0 13 * 5", "2025-11-01 00:00", 5), { "2025-11-07 00:00 Fri", "2025-11-13 00:00 Thu",
      "2025-11-14 00:00 Fri", "2025-11-21 00:00 Fri", "2025-11-28 00:00 Fri" })
    eq(fire("0 0 31 2 1", "2026-01-15 00:00"), "2026-02-02 00:00 Mon")
  end)

  it("a day field starting with '*' makes both day fields required (odd days that are Fridays)", function()
    eq(fires("0 0 */2 * 5", "2025-11-01 00:00", 4),
      { "2025-11-07 00:00 Fri", "2025-11-21 00:00 Fri", "2025-12-05 00:00 Fri", "2025-12-19 00:00 Fri" })
  end)

  it("day 31 skips the months without one", function()
    eq(fires("0 0 31 * *", "2025-04-01 00:00", 3),
      { "2025-05-31 00:00 Sat", "2025-07-31 00:00 Thu", "2025-08-31 00:00 Sun" })
  end)

  it("Feb 29 only in leap years: 2028, 2032; 2000 is one, 2100 is not", function()
    eq(fire("0 0 29 2 *", "2025-01-01 00:00"), "2028-02-29 00:00 Tue")
    eq(fire("0 0 29 2 *", "2028-02-29 00:00"), "2032-02-29 00:00 Sun")
    eq(fire("0 0 29 2 *", "2000-01-01 00:00"), "2000-02-29 00:00 Tue")
    eq(fire("0 0 29 2 *", "2096-02-29 00:00"), "2104-02-29 00:00 Fri")
    eq(fire("0 0 28-29 2 *", "2100-02-28 00:00"), "2101-02-28 00:00 Mon")
  end)

  it("Feb 29 on a Sunday: the 40-year gap over 2100 is found", function()
    eq(fires("0 0 29 2 */7", "2025-01-01 00:00", 4),
      { "2032-02-29 00:00 Sun", "2060-02-29 00:00 Sun", "2088-02-29 00:00 Sun", "2128-02-29 00:00 Sun" })
  end)

  -- (speed is for benchmarks, not tests: this checks the answers only)
  it("finds Feb 29 from 300 starting points", function()
    local t, done = utc("2025-01-01 00:00"), 0
    for i = 1, 300 do
      local after = t + i * 86400 * 37
      local n = assert(cron.next_fire("59 23 29 2 *", after, "UTC"))
      ok(n > after and n - after < 8 * 366 * 86400 and n % 86400 == 86340, show(n))
      done = i
    end
    eq(done, 300)
  end)

  it("crosses the year boundary", function()
    eq(fire("0 0 1 1 *", "2025-12-31 23:59"), "2026-01-01 00:00 Thu")
    eq(fire("59 23 31 12 *", "2025-12-31 23:59"), "2026-12-31 23:59 Thu")
    eq(fire("*/15 * * * *", "2025-12-31 23:50"), "2026-01-01 00:00 Thu")
    eq(fire("0 9 * * 1-5", "2027-12-31 09:00"), "2028-01-03 09:00 Mon")
  end)

  it("macros", function()
    eq(fire("@hourly", "2025-11-21 10:00"), "2025-11-21 11:00 Fri")
    eq(fire("@daily", "2025-11-21 10:00"), "2025-11-22 00:00 Sat")
    eq(fire("@weekly", "2025-11-21 10:00"), "2025-11-23 00:00 Sun")
    eq(fire("@monthly", "2025-01-31 10:00"), "2025-02-01 00:00 Sat")
    eq(fire("@yearly", "2025-01-01 00:00"), "2026-01-01 00:00 Thu")
  end)

  it("fixed offsets: +02:00 09:00 is 07:00 UTC, -05:30 09:00 is 14:30 UTC", function()
    eq(fire("0 9 * * *", "2025-06-01 00:00", "+02:00"), "2025-06-01 07:00 Sun")
    eq(fire("0 9 * * *", "2025-06-01 07:00", "+02:00"), "2025-06-02 07:00 Mon")
    eq(fire("0 9 * * *", "2025-06-01 00:00", { offset_seconds = 7200 }), "2025-06-01 07:00 Sun")
    eq(fire("0 9 * * *", "2025-06-01 00:00", "-05:30"), "2025-06-01 14:30 Sun")
    eq(fire("0 9 * * *", "2025-06-01 15:00", "-05:30"), "2025-06-02 14:30 Mon")
  end)

  it("the weekday and the date are the zone's, not UTC's", function()
    -- Sunday 12:00 UTC is already Monday 02:00 at +14:00
    eq(fire("0 9 * * 1-5", "2025-11-23 12:00", "+14:00"), "2025-11-23 19:00 Sun")
    -- Friday 23:00 UTC is Friday 17:30 at -05:30: still Friday there
    eq(fire("0 18 * * 5", "2025-11-21 23:00", "-05:30"), "2025-11-21 23:30 Fri")
    eq(fire("0 0 1 * *", "2025-11-15 00:00", "-05:00"), "2025-12-01 05:00 Mon")
    eq(fire("0 0 1 1 *", "2025-12-31 12:00", "+02:00"), "2025-12-31 22:00 Wed")
  end)

  it("answers at once that an impossible day never fires", function()
    for _, c in ipairs({ { "0 0 31 2 *", "31", "2" }, { "0 0 30 feb *", "30", "feb" },
      { "0 0 31 4,6,9,11 *", "31", "4,6,9,11" }, { "0 0 30-31 2 */7", "30-31", "2" } }) do
      local t, err = cron.next_fire(c[1], utc("2025-01-01 00:00"), "UTC")
      eq({ t, err.code, tostring(err) }, { nil, "never_fires", "cron: '" .. c[1] .. "' never fires: day-of-month "
        .. c[2] .. " does not occur in month " .. c[3] }, c[1])
    end
    eq(fire("0 0 31 2,3 *", "2025-01-01 00:00"), "2025-03-31 00:00 Mon")
  end)

  it("returns the parse error for a bad expression and the zone error for a bad zone", function()
    local t, err = cron.next_fire("61 9 * * *", 0, "UTC")
    eq({ t, err.code, err.field }, { nil, "bad_cron", "minute" })
    t, err = cron.next_fire("0 9 * * *", 0, "Europe/Berlin")
    eq({ t, err.code }, { nil, "bad_tz" })
    t, err = cron.next_fire("0 9 * * *", 0)
    eq({ t, err.code }, { nil, "bad_tz" })
  end)

  it("takes a parsed spec as well as the text", function()
    local spec = assert(cron.parse("0 9 * * 1-5"))
    eq(cron.next_fire(spec, utc("2025-11-21 09:30"), "UTC"), utc("2025-11-24 09:00"))
  end)

  it("raises on wrong argument types", function()
    raises(function() cron.next_fire("0 9 * * *", "now", "UTC") end, "cron.next_fire: after_epoch must be a number")
    raises(function() cron.next_fire("0 9 * * *", 0 / 0, "UTC") end, "after_epoch must be a number")
    raises(function() cron.next_fire("0 9 * * *", 1 / 0, "UTC") end, "after_epoch must be a number")
    raises(function() cron.next_fire(42, 0, "UTC") end, "cron.next_fire: spec must be an expression or a table")
    raises(function() cron.next_fire({}, 0, "UTC") end, "spec must be an expression or a table from cron.parse")
  end)
end)

-- A naive matcher on os.date("!*t"), to compare against over whole windows of minutes.
local function naive(spec, t, off)
  local c, set = os.date("!*t", t + off), {}
  for _, k in ipairs({ "minute", "hour", "dom", "month", "dow" }) do
    set[k] = {}
    for _, v in ipairs(spec[k]) do set[k][v] = true end
  end
  local dom, dow = set.dom[c.day], set.dow[c.wday - 1]
  local day
  if spec.dom_star or spec.dow_star then day = dom and dow else day = dom or dow end
  return (set.minute[c.min] and set.hour[c.hour] and set.month[c.month] and day) and true or false
end

describe("cron.matches", function()
  it("matches the minute holding the instant", function()
    eq(cron.matches("0 9 * * 1-5", utc("2025-11-24 09:00:30"), "UTC"), true)
    eq(cron.matches("0 9 * * 1-5", utc("2025-11-24 09:01"), "UTC"), false)
    eq(cron.matches("0 9 * * 1-5", utc("2025-11-22 09:00"), "UTC"), false)
    eq(cron.matches("0 9 * * 1-5", utc("2025-11-24 07:00"), "+02:00"), true)
    eq(cron.matches("0 9 * * 1-5", utc("2025-11-24 09:00"), "+02:00"), false)
    eq(cron.matches("0 0 * * 3", -86400, "UTC"), true) -- 1969-12-31 was a Wednesday
  end)

  it("uses the either-day rule", function()
    eq(cron.matches("0 0 13 * 5", utc("2025-11-07 00:00"), "UTC"), true)
    eq(cron.matches("0 0 13 * 5", utc("2025-11-13 00:00"), "UTC"), true)
    eq(cron.matches("0 0 13 * 5", utc("2025-11-12 00:00"), "UTC"), false)
    eq(cron.matches("0 0 */2 * 5", utc("2025-11-14 00:00"), "UTC"), false)
  end)

  it("returns nil, err for a bad expression or zone", function()
    local r, err = cron.matches("0 9 * *", 0, "UTC")
    eq({ r, err.code }, { nil, "bad_cron" })
    r, err = cron.matches("0 9 * * *", 0, "CET")
    eq({ r, err.code }, { nil, "bad_tz" })
  end)

  -- Every minute of each window: matches() equals the naive matcher, and chaining next_fire
  -- from the window start visits exactly the matching minutes.
  local WINDOWS = { { "0 9 * * 1-5", "2025-11-20 00:00", "UTC" }, { "*/20 8-10 * * sat", "2025-11-21 00:00", "+02:00" },
    { "5 0 13 * 5", "2026-02-11 00:00", "-05:30" }, { "0 */6 */2 * 5", "2025-11-20 00:00", "+14:00" },
    { "59 23 28-29 2 *", "2028-02-27 00:00", "-14:00" }, { "0,30 0 1 jan,mar *", "2027-12-30 00:00", "+05:45" } }
  for _, w in ipairs(WINDOWS) do
    it("agrees with a minute-by-minute scan: " .. w[1] .. " from " .. w[2] .. " " .. w[3], function()
      local spec, off, t0 = assert(cron.parse(w[1])), assert(cron.parse_tz(w[3])), utc(w[2])
      local want, got, hits = {}, {}, 0
      for t = t0 + 60, t0 + 4 * 86400, 60 do
        local m = naive(spec, t, off)
        eq(cron.matches(spec, t, w[3]), m, show(t))
        if m then want[#want + 1], hits = show(t), hits + 1 end
      end
      ok(hits > 0, "the window has fires")
      local t = t0
      for _ = 1, hits + 1 do
        local nt = assert(cron.next_fire(spec, t, w[3]))
        ok(nt > t, "next_fire moves forward")
        t = nt
        if t > t0 + 4 * 86400 then break end
        got[#got + 1] = show(t)
      end
      eq(got, want)
    end)
  end
end)

describe("cron calendar", function()
  it("days_from_civil and civil_from_days agree with os.date from 1901 to 2400", function()
    eq(cron.days_from_civil(1970, 1, 1), 0)
    eq(cron.days_from_civil(2000, 3, 1), 11017)
    eq({ cron.civil_from_days(-1) }, { 1969, 12, 31 })
    local seed = 12345
    for _ = 1, 3000 do
      seed = (seed * 1103515245 + 12345) % 2147483648
      local days = -25000 + seed % 171000
      local c = os.date("!*t", days * 86400)
      eq({ cron.civil_from_days(days) }, { c.year, c.month, c.day }, days)
      eq(cron.days_from_civil(c.year, c.month, c.day), days)
    end
    eq({ cron.civil_from_days(cron.days_from_civil(2100, 2, 28) + 1) }, { 2100, 3, 1 })
    eq({ cron.civil_from_days(cron.days_from_civil(2400, 2, 28) + 1) }, { 2400, 2, 29 })
  end)
end)

describe("cron.describe", function()
  local CASES = { { "0 9 * * 1-5", "at 09:00 on Mon-Fri" }, { "*/15 * * * *", "every 15 minutes" },
    { "0 9,17 * * *", "at 09:00, 17:00" }, { "@hourly", "at minute 0 of every hour" },
    { "@weekly", "at 00:00 on Sun" }, { "0 0 29 2 *", "at 00:00 on day 29 in Feb" },
    { "0 9 1,15 * mon", "at 09:00 on day 1,15 or on Mon" }, { "0 9 */10 * 5", "at 09:00 on day 1,11,21,31 if a Fri" },
    { "5-10 * * jan-mar,dec *", "at minute 5-10 of every hour in Jan-Mar,Dec" },
    { "* 9-17 * * *", "every minute during hour 9-17" } }
  for _, c in ipairs(CASES) do
    it(c[1] .. " reads '" .. c[2] .. "'", function() eq(cron.describe(c[1]), c[2]) end)
  end
  it("returns the parse error", function()
    local r, err = cron.describe("0 9 * * 8")
    eq({ r, err.code, err.field }, { nil, "bad_cron", "day-of-week" })
  end)
end)

describe("cron module", function()
  it("loads as a pure module (no io/os/debug, no globals)", function()
    local pure = T.load_pure("workflows/lib/cron.lua")
    eq(pure.next_fire("0 9 * * 1-5", utc("2025-11-21 09:30"), "UTC"), utc("2025-11-24 09:00"))
  end)
end)
