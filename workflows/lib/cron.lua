-- cron: when a cron-started session fires ("0 9 * * 1-5" = weekdays at 09:00).
--
-- M.parse(expr)                 -> spec | nil, err {code="bad_cron", field=, token=, message=}
-- M.next_fire(spec, after, tz)  -> epoch | nil, err   first matching minute strictly after `after`
-- M.matches(spec, epoch, tz)    -> bool | nil, err    does the minute holding `epoch` match
-- M.parse_tz(tz)                -> offset_seconds | nil, err {code="bad_tz", message=}
-- M.describe(expr)              -> text | nil, err    "at 09:00 on Mon-Fri"
-- M.days_from_civil(y, m, d) -> days; M.civil_from_days(days) -> y, m, d  (1970-01-01 = 0)
-- `spec` is an expression or a table from M.parse; epochs are seconds since 1970 UTC. Wrong
-- argument types raise; bad expressions/zones and never-firing ones return nil, err.
-- Expressions: five fields, minute hour day-of-month month day-of-week, each a comma list of
-- `*`, `n`, `a-b`, `*/s` and `a-b/s`; months jan..dec and days sun..sat by name, any case;
-- day-of-week 0-7 where 0 and 7 are Sunday. `a/s` (cronie's "a to the end") is refused: write
-- the range. Macros: @hourly, @daily = @midnight, @weekly (Sunday 00:00), @monthly, @yearly =
-- @annually. Day rule, as Vixie cron's entry.c/cron.c (DOM_STAR, DOW_STAR): when day-of-month
-- and day-of-week are both restricted a day matches if EITHER does; a field that starts with
-- `*` (so `*/2` too, as in cron itself) is unrestricted, and then both must match.
-- A spec is plain data: { expr=, fields={5 texts}, minute={sorted values}, hour=, dom=, month=,
-- dow= (0-6), dom_star=, dow_star=, set={minute={[v]=true}, hour=, dom=, month=, dow=} }.
-- Time zones are explicit, never the machine's: "UTC" (or "Z"), a fixed offset "+02:00",
-- "-0530", "+02", or {offset_seconds=N}; no DST rules. Named zones and "UTC+2" (POSIX reads
-- it as -02:00) are refused. Calendar math is Hinnant's civil algorithms, not os.date.
-- next_fire skips months, days and hours that cannot match. One that can never fire
-- (0 0 31 2 *) is answered without searching; the search gives up after 8 years (Feb 29 from
-- 2096 is 2104), or 400 when a weekday must fall on a day-of-month (Feb 29 on a Monday): the
-- Gregorian weekday pattern repeats every 400 years. Pure: no io/os/debug, no globals.
local M = {}
local floor, fmt, concat = math.floor, string.format, table.concat

local errors = require("orch.errors")
local function fail(code, message, field, token)
  return nil, errors.new(code, message, { field = field, token = token })
end

local MONTHS = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }
local DAYS = { [0] = "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" }
local MONTH_NUM, DAY_NUM = {}, {}
for i = 1, 12 do MONTH_NUM[MONTHS[i]:lower()] = i end
for i = 0, 6 do DAY_NUM[DAYS[i]:lower()] = i end

local FIELDS = {
  { key = "minute", name = "minute", min = 0, max = 59 },
  { key = "hour", name = "hour", min = 0, max = 23 },
  { key = "dom", name = "day-of-month", min = 1, max = 31 },
  { key = "month", name = "month", min = 1, max = 12, names = MONTH_NUM, kind = "month name (jan-dec)" },
  { key = "dow", name = "day-of-week", min = 0, max = 7, names = DAY_NUM, kind = "day name (sun-sat)" },
}

M.MACROS = { ["@hourly"] = "0 * * * *", ["@daily"] = "0 0 * * *", ["@midnight"] = "0 0 * * *",
  ["@weekly"] = "0 0 * * 0", ["@monthly"] = "0 0 1 * *", ["@yearly"] = "0 0 1 1 *",
  ["@annually"] = "0 0 1 1 *" }
local MACRO_LIST = "@hourly @daily @midnight @weekly @monthly @yearly @annually"

-- One number or name -> value | nil, bad token, problem.
local function value(f, tok, item)
  if tok == "" then return nil, item, "is missing a number" end
  local n = tok:match("^%d+$") and tonumber(tok) or f.names and f.names[tok:lower()]
  if not n then return nil, tok, "is not a number" .. (f.names and (" or " .. f.kind) or "") end
  if n < f.min or n > f.max then return nil, tok, fmt("is out of range %d-%d", f.min, f.max) end
  return n
end

-- One list item (`*`, `n`, `a-b`, `*/s`, `a-b/s`) -> lo, hi, step | nil, bad token, problem.
local function item(f, it)
  local base, step = it:match("^([^/]*)/(.*)$")
  base = base or it
  local lo, hi, bad, problem
  if base == "*" then
    lo, hi = f.min, f.max
  else
    local a, b = base:match("^([^-]*)-(.*)$")
    lo, bad, problem = value(f, a or base, it)
    if not lo then return nil, bad, problem end
    if not a then
      if step then return nil, it, fmt("has a step but no range (write %s-%d/%s)", base, f.max, step) end
      return lo, lo, 1
    end
    hi, bad, problem = value(f, b, it)
    if not hi then return nil, bad, problem end
    if lo > hi then return nil, it, "is a backwards range" end
  end
  if not step then return lo, hi, 1 end
  local span, s = f.max - f.min + 1, step:match("^%d+$") and tonumber(step)
  if not s then return nil, it, "has a step that is not a number" end
  if s < 1 or s > span then return nil, it, fmt("has step %s, out of range 1-%d", step, span) end
  return lo, hi, s
end

-- A whole field -> set, sorted list | nil, bad token, problem.
local function field(f, text)
  local set, list = {}, {}
  for it in (text .. ","):gmatch("([^,]*),") do
    if it == "" then return nil, text, "has an empty list entry" end
    local lo, hi, step = item(f, it)
    if not lo then return nil, hi, step end
    for v = lo, hi, step do set[f.key == "dow" and v % 7 or v] = true end
  end
  for v = f.min, f.max do if set[v] then list[#list + 1] = v end end
  return set, list
end

function M.parse(expr)
  if type(expr) ~= "string" then return fail("bad_cron", "cron: expression must be a string, got " .. type(expr)) end
  local text = expr:match("^%s*(.-)%s*$")
  local fields_text = text
  if text:sub(1, 1) == "@" then
    fields_text = M.MACROS[text:lower()]
    if not fields_text then
      return fail("bad_cron", fmt("cron: unknown macro %s (known: %s)", text, MACRO_LIST), nil, text)
    end
  end
  local parts = {}
  for p in fields_text:gmatch("%S+") do parts[#parts + 1] = p end
  if #parts ~= 5 then
    return fail("bad_cron", fmt("cron: expected 5 fields (minute hour day-of-month month day-of-week), "
      .. "got %d in '%s'", #parts, text))
  end
  local spec = { expr = text, fields = parts, set = {},
    dom_star = parts[3]:sub(1, 1) == "*", dow_star = parts[5]:sub(1, 1) == "*" }
  for i, f in ipairs(FIELDS) do
    local set, list, problem = field(f, parts[i])
    if not set then
      return fail("bad_cron", fmt("cron: %s field: %s %s in '%s'", f.name, list, problem, text), f.name, list)
    end
    spec.set[f.key], spec[f.key] = set, list
  end
  return spec
end

-- Calendar (Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms").
function M.days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy - 719468
end

function M.civil_from_days(z)
  z = z + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  return yoe + era * 400 + (m <= 2 and 1 or 0), m, d
end

local MAX_DIM = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
local function days_in_month(y, m)
  local leap = y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)
  return (m == 2 and not leap) and 28 or MAX_DIM[m]
end

local MAX_OFFSET, TZ_HELP = 14 * 3600, "use 'UTC' or a fixed offset like '+02:00' (DST is not modelled)"
function M.parse_tz(tz)
  if type(tz) == "table" then
    local n = tz.offset_seconds
    if type(n) == "number" and n % 1 == 0 and n >= -MAX_OFFSET and n <= MAX_OFFSET then return n end
    return fail("bad_tz", "cron: offset_seconds must be whole seconds within 14 hours, got " .. tostring(n))
  end
  if type(tz) ~= "string" then
    return fail("bad_tz", "cron: a time zone is required (the machine's is never used), got " .. type(tz)
      .. ": use 'UTC', a fixed offset like '+02:00' or {offset_seconds=N}")
  end
  local s = tz:match("^%s*(.-)%s*$"):upper()
  if s == "UTC" or s == "Z" then return 0 end
  local sign, hh, mm = s:match("^([+-])(%d%d):?(%d%d)$")
  if not sign then sign, hh = s:match("^([+-])(%d%d)$"); mm = "00" end
  if not sign then return fail("bad_tz", fmt("cron: time zone '%s' is not supported: %s", tz, TZ_HELP)) end
  local n = (tonumber(hh) * 3600 + tonumber(mm) * 60) * (sign == "-" and -1 or 1)
  if tonumber(mm) > 59 or n < -MAX_OFFSET or n > MAX_OFFSET then
    return fail("bad_tz", fmt("cron: time zone offset '%s' is out of range -14:00..+14:00", tz))
  end
  return n
end

-- The arguments of next_fire and matches -> spec, offset | nil, err (raises on wrong types).
local function prepare(spec, t, tz, who, name)
  if type(t) ~= "number" or t ~= t or t - t ~= 0 then -- NaN and +-inf
    error(fmt("cron.%s: %s must be a number of seconds, got %s", who, name, tostring(t)), 3)
  end
  local err
  if type(spec) == "string" then
    spec, err = M.parse(spec)
    if not spec then return nil, err end
  elseif type(spec) ~= "table" or type(spec.set) ~= "table" then
    error("cron." .. who .. ": spec must be an expression or a table from cron.parse, got " .. type(spec), 3)
  end
  local off
  off, err = M.parse_tz(tz)
  if not off then return nil, err end
  return spec, off
end

local function day_ok(spec, y, m, d)
  local s = spec.set
  local dom, dow = s.dom[d], s.dow[(M.days_from_civil(y, m, d) + 4) % 7] -- 1970-01-01 was a Thursday
  if spec.dom_star or spec.dow_star then return dom and dow end
  return dom or dow
end

-- Can any day ever match? With the either-rule the weekday alone fires every week; otherwise
-- some listed day-of-month must exist in some listed month (Feb counts 29 days).
local function can_fire(spec)
  if not spec.dom_star and not spec.dow_star then return true end
  for _, m in ipairs(spec.month) do if spec.dom[1] <= MAX_DIM[m] then return true end end
  return false
end

local function first_at_least(list, x)
  for _, v in ipairs(list) do if v >= x then return v end end
end

function M.next_fire(spec, after, tz)
  local off
  spec, off = prepare(spec, after, tz, "next_fire", "after_epoch")
  if not spec then return nil, off end
  if not can_fire(spec) then
    return fail("never_fires", fmt("cron: '%s' never fires: day-of-month %s does not occur in month %s",
      spec.expr, spec.fields[3], spec.fields[4]))
  end
  local t = (floor((after + off) / 60) + 1) * 60 -- local time, first minute strictly after
  local day = floor(t / 86400)
  local h, mi = floor((t - day * 86400) / 3600), floor((t % 3600) / 60)
  local y, m, d = M.civil_from_days(day)
  local years = ((spec.dom_star or spec.dow_star) and #spec.dow < 7) and 400 or 8
  local s, last = spec.set, y + years
  while y <= last do
    if not s.month[m] or d > days_in_month(y, m) then
      m, d, h, mi = m + 1, 1, 0, 0
      if m > 12 then y, m = y + 1, 1 end
    elseif not day_ok(spec, y, m, d) then
      d, h, mi = d + 1, 0, 0
    else
      local nh = first_at_least(spec.hour, h)
      if not nh then
        d, h, mi = d + 1, 0, 0
      else
        if nh > h then h, mi = nh, 0 end
        local nm = first_at_least(spec.minute, mi)
        if nm then return M.days_from_civil(y, m, d) * 86400 + h * 3600 + nm * 60 - off end
        h, mi = h + 1, 0
      end
    end
  end
  return fail("never_fires", fmt("cron: '%s' does not fire within %d years after %d", spec.expr, years, after))
end

function M.matches(spec, epoch, tz)
  local off
  spec, off = prepare(spec, epoch, tz, "matches", "epoch")
  if not spec then return nil, off end
  local minute = floor((epoch + off) / 60) -- local minutes since the epoch
  local day, s = floor(minute / 1440), spec.set
  local y, m, d = M.civil_from_days(day)
  return (s.minute[minute % 60] and s.hour[floor(minute / 60) % 24] and s.month[m]
    and day_ok(spec, y, m, d)) and true or false
end

-- {1,2,3,5} -> "1-3,5"; with names, {1,2,3,4,5} -> "Mon-Fri".
local function ranges(list, names)
  local out, i = {}, 1
  local function show(v) return names and names[v] or tostring(v) end
  while i <= #list do
    local j = i
    while list[j + 1] == list[j] + 1 do j = j + 1 end
    if j - i >= 2 then out[#out + 1] = show(list[i]) .. "-" .. show(list[j])
    else for k = i, j do out[#out + 1] = show(list[k]) end end
    i = j + 1
  end
  return concat(out, ",")
end

function M.describe(expr)
  local spec, err = M.parse(expr)
  if not spec then return nil, err end
  local f, out = spec.fields, {}
  if #spec.minute == 1 and #spec.hour <= 6 and f[2]:sub(1, 1) ~= "*" then
    for i, h in ipairs(spec.hour) do out[i] = fmt("%02d:%02d", h, spec.minute[1]) end
    out = { "at " .. concat(out, ", ") }
  else
    local every = f[1]:match("^%*/(%d+)$")
    out[1] = f[1] == "*" and "every minute" or every and ("every " .. every .. " minutes")
      or ("at minute " .. ranges(spec.minute))
    if #spec.hour < 24 then out[2] = "during hour " .. ranges(spec.hour)
    elseif not (f[1] == "*" or every) then out[2] = "of every hour" end
  end
  local dom, dow = #spec.dom < 31 and ("on day " .. ranges(spec.dom)), #spec.dow < 7 and ranges(spec.dow, DAYS)
  if dom and dow then dow = ((spec.dom_star or spec.dow_star) and "if a " or "or on ") .. dow
  elseif dow then dow = "on " .. dow end
  out[#out + 1] = dom or nil
  out[#out + 1] = dow or nil
  if #spec.month < 12 then out[#out + 1] = "in " .. ranges(spec.month, MONTHS) end
  return concat(out, " ")
end

return M
