-- format_words: the words and numbers every text uses (lib/format's,
-- installed into its table: callers use lib.format): cut_bytes(s, max),
-- truncate(s [, max]), duration(sec), percent(part, whole), bar(done, total
-- [, width]), plural(n, one [, many]), money(usd [, estimated]), ESTIMATED,
-- thousands(n), tokens(v), clock(epoch [, utc_offset]), when(epoch [, now]).
-- install(M) returns { excerpt = excerpt(text [, max]) }, the trimmed excerpt
-- the messages share. Pure, like lib/format. Policy: edit freely.
local S = require("lib.session")

local format, floor = string.format, math.floor

return { install = function(M)

local function char_len(c) return c < 0xC0 and 1 or c < 0xE0 and 2 or c < 0xF0 and 3 or 4 end -- UTF-8 lead byte

local function trim(s)
  local i, j = s:find("%S"), #s
  if not i then return "" end
  while s:find("^%s", j) do j = j - 1 end
  return s:sub(i, j)
end

-- cut_bytes(s, max) -> the first at most max bytes of s, cut back to a UTF-8
-- boundary (no half character left: the kept text stays valid)
function M.cut_bytes(s, max)
  s = tostring(s or "")
  if #s <= max then return s end
  local cut = math.max(max, 0)
  while cut > 0 and s:byte(cut + 1) >= 0x80 and s:byte(cut + 1) < 0xC0 do cut = cut - 1 end
  return s:sub(1, cut)
end

-- At most `max` characters; cut on a UTF-8 boundary and marked with "…".
function M.truncate(s, max)
  s, max = tostring(s or ""), max or M.RESULT_CHARS
  if #s <= max then return s end -- bytes bound characters
  local i, chars, cut = 1, 0, 1 -- cut: first byte after max-1 characters
  while i <= #s and chars < max do
    i, chars = i + char_len(s:byte(i)), chars + 1
    if chars == max - 1 then cut = i end
  end
  if i > #s then return s end
  return trim(s:sub(1, cut - 1)) .. "…"
end

local function excerpt(text, max) return M.truncate(trim(tostring(text or "")), max) end

function M.duration(sec)
  if type(sec) ~= "number" or sec ~= sec then return "?" end
  sec = floor(math.max(sec, 0))
  if sec < 60 then return sec .. "s" end
  if sec < 3600 then return format("%dm %02ds", floor(sec / 60), sec % 60) end
  if sec < 86400 then return format("%dh %02dm", floor(sec / 3600), floor(sec % 3600 / 60)) end
  return format("%dd %dh", floor(sec / 86400), floor(sec % 86400 / 3600))
end

-- percent(part, whole) -> part's share of whole in whole percent, the one rate
-- every text shows (progress, the report's success rate, the budget used):
-- rounded to the nearest (2 of 3 is 67), but 100 only for all of it and 0
-- only for none (199 of 200 is 99, 1 of 300 is 1); over the whole, over 100
-- (a budget overspent); 0 of 0 is 0
function M.percent(part, whole)
  if type(whole) ~= "number" or type(part) ~= "number" or whole <= 0 then return 0 end
  local share = part / whole
  if share ~= share or share <= 0 then return 0 end  -- NaN too
  local p = floor(100 * share + 0.5)
  return part < whole and math.min(99, math.max(1, p)) or math.max(100, p)
end

function M.bar(done, total, width) -- "▓▓▓░░░░░░░"
  local w = width or 10
  local full = math.min(w, floor(w * M.percent(done, total) / 100))
  return string.rep("▓", full) .. string.rep("░", w - full)
end

-- plural(n, one [, many]) -> "1 file", "3 files" (many: the plural when it
-- is not one .. "s")
function M.plural(n, one, many) return format("%d %s", n, n == 1 and one or (many or one .. "s")) end

-- money(usd [, estimated]) -> "$0.0342", "$12.50"; "~$0.0342" when estimated
-- (the part of usd that is an estimate, M.ESTIMATED) is above 0
function M.money(x, est)
  if type(x) ~= "number" then return nil end
  return ((tonumber(est) or 0) > 0 and "~" or "") .. format(x >= 1 and "$%.2f" or "$%.4f", x)
end
-- what "~" before a cost means
M.ESTIMATED = "~ includes an estimate: an agent stopped before claude reported its cost, priced from its tokens " ..
  "(budget.prices)"

function M.thousands(n) -- 123456 -> "123,456"
  return (format("%.0f", floor(n)):reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^(%-?),", "%1"))
end

function M.tokens(v) -- a number, or a usage table {input_tokens=, output_tokens=, ...}; nil for neither
  if type(v) ~= "table" and type(v) ~= "number" then return nil end
  return S.tokens(v)
end

function M.clock(epoch, utc_offset) -- "9:30 AM", epoch shifted by utc_offset seconds
  local secs = floor(epoch + (utc_offset or 0)) % 86400
  local h, m = floor(secs / 3600), floor(secs % 3600 / 60)
  return format("%d:%02d %s", (h + 11) % 12 + 1, m, h < 12 and "AM" or "PM")
end

-- "9:30 AM UTC" within the next 20 hours, else with its date: "2026-12-05 9:30 AM UTC"
function M.when(epoch, now)
  now = now or orch.now()
  local t = M.clock(epoch) .. " UTC"
  if epoch - now < 20 * 3600 and epoch >= now then return t end
  return os.date("!%Y-%m-%d ", floor(epoch)) .. t
end

return { excerpt = excerpt }
end }
