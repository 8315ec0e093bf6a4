-- tasks_md_lines: the lines of the markdown day file (lib/tasks_md reads them,
-- lib/tasks_md_render writes them) and the line helpers the other pure parsers of
-- user files share through lib/tasks_md (lib/feedback, lib/instructions_md,
-- lib/inbox_task).
-- M.LABELS: task key -> its field's label ("Requires Approval").
-- M.trim(s) -> s without surrounding white space.
-- M.each_line(text, fn) -> number of lines; fn(line, number) for each.
-- M.fail(code, file, line, task, fmt, ...): raises the parser's error table.
-- M.check_utf8(text, file): raises "bad_utf8" at the first invalid byte.
-- M.utf8_error(text, file) -> err | nil
-- M.field_of(line) -> name, rest | nil      "**Name:** rest"
-- M.fence_of(line) -> char, length, rest | nil   a code fence line
-- M.is_task_heading(line), M.is_separator(line) -> boolean
-- Pure: text in, tables out; no io/os/debug, no globals; linear time.
local M = {}

local byte, sub, find, match = string.byte, string.sub, string.find, string.match
local format = string.format

M.LABELS = { type = "Type", priority = "Priority", requires_approval = "Requires Approval",
  depends_on = "Depends On", module = "Module", complexity = "Complexity", branch = "Branch",
  verify = "Acceptance Command", context_files = "Context Files", deliverables = "Deliverables",
  description = "Description", acceptance_criteria = "Acceptance Criteria", instruction = "Claude Instruction" }

local errors = require("orch.errors")
-- No lazy patterns on untrusted lines: "(.-)%s*$" is quadratic on long blank runs.
local function trim(s)
  local i, j = find(s, "%S"), #s
  if not i then return "" end
  local b = byte(s, j)
  while b == 32 or (b >= 9 and b <= 13) do j = j - 1 b = byte(s, j) end
  return sub(s, i, j)
end

-- each_line(text, fn): fn(line, number) for every line of text, numbered from
-- 1, without its "\n" or "\r\n" (the one line walker of the markdown
-- readers); returns the number of lines
local function each_line(text, fn)
  local pos, n, ln = 1, #text, 0
  while pos <= n do
    local e = find(text, "\n", pos, true)
    local line
    if e then line, pos = sub(text, pos, e - 1), e + 1 else line, pos = sub(text, pos), n + 1 end
    ln = ln + 1
    if byte(line, -1) == 13 then line = sub(line, 1, -2) end
    fn(line, ln)
  end
  return ln
end

-- Raises an error table; parse() turns it into `nil, err`.
local function fail(code, file, line, task, fmt, ...)
  local where = line and (file .. ":" .. line) or file
  local who = task and format("task %s%s: ", tostring(task.id), task.title and (" '" .. task.title .. "'") or "") or ""
  error(errors.new(code, where .. ": " .. who .. format(fmt, ...),
    { file = file, line = line, task = task and task.id }), 0)
end

-- Lead byte -> number of continuation bytes and the range allowed for the first
-- one (this rules out overlongs, surrogates and code points above U+10FFFF).
local function utf8_lead(c)
  if c >= 0xC2 and c <= 0xDF then return 1, 0x80, 0xBF end
  if c >= 0xE0 and c <= 0xEF then return 2, c == 0xE0 and 0xA0 or 0x80, c == 0xED and 0x9F or 0xBF end
  if c >= 0xF0 and c <= 0xF4 then return 3, c == 0xF0 and 0x90 or 0x80, c == 0xF4 and 0x8F or 0xBF end
  return 0
end

-- ASCII runs are skipped by one anchored match in C (twice as fast as find).
local function check_utf8(text, file)
  local pos, n = 1, #text
  while true do
    local i = match(text, "^[%z\1-\127]*()", pos)
    if i > n then return end
    local c = byte(text, i)
    local need, lo, hi = utf8_lead(c)
    local good = need > 0
    for k = 1, need do
      local b = byte(text, i + k)
      if not b or b < (k == 1 and lo or 0x80) or b > (k == 1 and hi or 0xBF) then good = false break end
    end
    if not good then
      local _, nl = string.gsub(sub(text, 1, i - 1), "\n", "")
      local bol = i
      while bol > 1 and byte(text, bol - 1) ~= 10 do bol = bol - 1 end
      fail("bad_utf8", file, nl + 1, nil, "invalid UTF-8 (byte 0x%02X at column %d)", c, i - bol + 1)
    end
    pos = i + need + 1
  end
end

-- "**Name:** rest" or "**Name**: rest" -> name, rest
local function field_of(line)
  if byte(line, 1) ~= 42 or byte(line, 2) ~= 42 then return nil end
  local name, rest = match(line, "^%*%*([^*]+)%*%*(.*)$")
  if not name then return nil end
  if sub(name, -1) == ":" then return trim(sub(name, 1, -2)), rest end
  local r = match(rest, "^%s*:(.*)$")
  if r then return trim(name), r end
  return nil
end

-- Opening/closing code fence: ``` or ~~~ (3+), indented at most 3 spaces.
local function fence_of(line)
  local b = byte(line, 1)
  if b ~= 96 and b ~= 126 and b ~= 32 then return nil end -- fast path: ` ~ or space
  local ind, ch = match(line, "^( *)([`~])")
  if not ind or #ind > 3 then return nil end
  local run = match(line, ch == "`" and "^`+" or "^~+", #ind + 1)
  if #run < 3 then return nil end
  return ch, #run, sub(line, #ind + #run + 1)
end

local function is_task_heading(line) return find(line, "^##%s+[Tt][Aa][Ss][Kk]%f[^%w]") ~= nil end

local function is_separator(line) return byte(line, 1) == 45 and find(line, "^%-%-%-+%s*$") ~= nil end

function M.utf8_error(text, file)
  local _, err = errors.catch(check_utf8, text, file)
  return err
end

M.trim = trim
M.each_line = each_line
M.fail = fail
M.check_utf8 = check_utf8
M.field_of = field_of  -- "**Name:** rest" -> name, rest (also lib/inbox_task's section headers)
M.fence_of = fence_of  -- a code fence line -> its char, length, the rest
M.is_task_heading = is_task_heading
M.is_separator = is_separator

return M
