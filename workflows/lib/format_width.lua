-- format_width: the columns a text takes on a terminal (lib/format_status's
-- tables line up by them: a CJK character or an emoji takes 2, a combining
-- mark 0, an emoji sequence joined by ZWJ one glyph). Pure: no orch calls.
--   width(s) -> columns
--   pad(s, w) -> s in exactly w columns: cut with "…" when wider, else padded with spaces
local floor, concat = math.floor, table.concat

local M = {}

-- The terminal columns of a code point, as wcwidth counts them (in short):
-- 2 for East Asian wide and full-width forms and emoji, 0 for combining
-- marks, zero-width characters and variation selectors, else 1. (chars
-- below joins an emoji sequence into one glyph.)
local WIDE = { 0x1100, 0x115F, 0x231A, 0x231B, 0x2329, 0x232A, 0x23E9, 0x23EC, 0x23F0, 0x23F0, 0x23F3, 0x23F3,
  0x25FD, 0x25FE, 0x2614, 0x2615, 0x2648, 0x2653, 0x267F, 0x267F, 0x2693, 0x2693, 0x26A1, 0x26A1, 0x26AA, 0x26AB,
  0x26BD, 0x26BE, 0x26C4, 0x26C5, 0x26CE, 0x26CE, 0x26D4, 0x26D4, 0x26EA, 0x26EA, 0x26F2, 0x26F3, 0x26F5, 0x26F5,
  0x26FA, 0x26FA, 0x26FD, 0x26FD, 0x2705, 0x2705, 0x270A, 0x270B, 0x2728, 0x2728, 0x274C, 0x274C, 0x274E, 0x274E,
  0x2753, 0x2755, 0x2757, 0x2757, 0x2795, 0x2797, 0x27B0, 0x27B0, 0x27BF, 0x27BF, 0x2B1B, 0x2B1C, 0x2B50, 0x2B50,
  0x2B55, 0x2B55, 0x2E80, 0x303E, 0x3041, 0x33FF, 0x3400, 0x4DBF, 0x4E00, 0x9FFF, 0xA000, 0xA4CF, 0xA960, 0xA97F,
  0xAC00, 0xD7A3, 0xF900, 0xFAFF, 0xFE10, 0xFE19, 0xFE30, 0xFE6F, 0xFF00, 0xFF60, 0xFFE0, 0xFFE6, 0x1F004, 0x1F004,
  0x1F0CF, 0x1F0CF, 0x1F18E, 0x1F18E, 0x1F191, 0x1F19A, 0x1F200, 0x1F251, 0x1F300, 0x1F64F, 0x1F680, 0x1F6FF,
  0x1F7E0, 0x1F7EB, 0x1F900, 0x1F9FF, 0x1FA70, 0x1FAFF, 0x20000, 0x3FFFD }
local ZERO = { 0x0300, 0x036F, 0x0483, 0x0489, 0x0591, 0x05BD, 0x0610, 0x061A, 0x064B, 0x065F, 0x1AB0, 0x1AFF,
  0x1DC0, 0x1DFF, 0x200B, 0x200F, 0x20D0, 0x20FF, 0xFE00, 0xFE0F, 0xFE20, 0xFE2F, 0xE0100, 0xE01EF }
local function within(ranges, cp)  -- ranges: sorted pairs lo, hi
  local lo, hi = 1, #ranges / 2
  while lo <= hi do
    local mid = floor((lo + hi) / 2)
    if cp < ranges[2 * mid - 1] then hi = mid - 1
    elseif cp > ranges[2 * mid] then lo = mid + 1
    else return true end
  end
  return false
end
local function cp_width(cp)
  if cp < 0x300 then return 1 end
  if within(ZERO, cp) then return 0 end
  return within(WIDE, cp) and 2 or 1
end

-- the character at byte i of s (a byte that starts none counts as one): its last byte and code point
local function decode(s, i)
  local _, e = s:find("^.[\128-\191]*", i)
  local b, n = s:byte(i), e - i + 1
  if n == 1 then return e, b end
  local cp = b % (2 ^ (7 - n)) -- the lead byte's bits, then 6 from each continuation
  for k = i + 1, e do cp = cp * 64 + s:byte(k) % 64 end
  return e, cp
end

-- each glyph of UTF-8 s with its columns: a character with what joins it --
-- zero-width marks, VS16 (U+FE0F: the emoji form, 2 columns), a skin tone
-- (U+1F3FB..1F3FF), ZWJ (U+200D) and the character after it (one emoji of
-- several: a family is 2 columns, not 6)
local VS16, ZWJ = 0xFE0F, 0x200D
local function chars(s)
  local i, len = 1, #s
  return function()
    if i > len then return nil end
    local start = i
    local e, cp = decode(s, i)
    local w = cp_width(cp)
    i = e + 1
    while i <= len do
      local e2, cp2 = decode(s, i)
      if cp2 == ZWJ and e2 < len then e2 = decode(s, e2 + 1)
      elseif cp2 == VS16 then w = w == 1 and 2 or w
      elseif (cp2 < 0x1F3FB or cp2 > 0x1F3FF) and (cp2 < 0x300 or cp_width(cp2) ~= 0) then break
      end
      i = e2 + 1
    end
    return s:sub(start, i - 1), w
  end
end

-- the terminal columns of s
local function width(s)
  if not s:find("[\128-\255]") then return #s end
  local w = 0
  for _, cw in chars(s) do w = w + cw end
  return w
end
M.width = width

-- s in exactly w columns: cut with "…" when it is wider, padded with spaces
-- (by the columns it takes on a terminal: an emoji or a CJK character takes 2)
local function pad(s, w)
  local sw = width(s)
  if sw <= w then return s .. string.rep(" ", w - sw) end
  local out, used = {}, 0
  for c, cw in chars(s) do
    if used + cw > w - 1 then break end
    out[#out + 1], used = c, used + cw
  end
  local cut = concat(out):gsub("%s+$", "")
  return cut .. "…" .. string.rep(" ", w - width(cut) - 1)
end
M.pad = pad

return M
