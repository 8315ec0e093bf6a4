-- tasks_md: the markdown day file (docs/task-file-markdown.md).
--   # Tasks - 2025-11-20          optional: doc.title (and doc.date when dated)
--   ## Task 1: Title              a task: whole-number id, non-empty title
--   **Type:** database            free-form, lower-cased
--   **Priority:** high            high | medium | low
--   **Requires Approval:** true   true | false | yes | no (default false)
--   **Depends On:** 1, 3          task numbers, comma or space separated
--   **Module:** baptisms          free-form, lower-cased
--   **Complexity:** medium        low | medium | high
--   **Branch:** feature/x         the task's git branch
--   **Acceptance Command:** make  a command run after the agent; may repeat
--   **Context Files:**            then "- path" lines (so **Deliverables:**)
--   **Description:** text         may continue on the following lines
--   **Acceptance Criteria:**      then "- item" lines
--   **Claude Instruction:**       required; all lines up to "---", the next
--   ---                           "## Task" or a known field (fences kept intact)
-- M.parse(text, filename, opts) -> doc | nil, err   (opts.max_bytes, default 5 MB)
--   doc = {title=, date=, tasks={ {id=, title=, type=, priority=, requires_approval=,
--          depends_on={"1","3"} (strings, when given), module=, complexity=, branch=,
--          verify={commands}, context_files={...}, deliverables={...} (when given),
--          description=, acceptance_criteria={...}, instruction=, line=} }}
--   opts.field_lines: a table to fill, field_lines[task] = {key = line of its field}
--   err = {code=, message="file:line: task N 'Title': ...", file=, line=, task=}
-- M.render(doc) -> text; parse(render(doc)) equals doc except for `line`.
-- M.literal(text) -> text as a multi-line field's value that reads back as is.
-- M.trim(s), M.utf8_error(text, file) -> err | nil, M.each_line, M.field_of,
--   M.fence_of: shared with the other pure parsers of user files (lib/feedback,
--   lib/inbox_task).
-- Pure: text in, tables out; no io/os/debug, no globals; linear time.
local M = {}

local byte, sub, find, match, lower = string.byte, string.sub, string.find, string.match, string.lower
local format, concat = string.format, table.concat

M.DEFAULT_MAX_BYTES = 5 * 1024 * 1024

local LABELS = { type = "Type", priority = "Priority", requires_approval = "Requires Approval",
  depends_on = "Depends On", module = "Module", complexity = "Complexity", branch = "Branch",
  verify = "Acceptance Command", context_files = "Context Files", deliverables = "Deliverables",
  description = "Description", acceptance_criteria = "Acceptance Criteria", instruction = "Claude Instruction" }
local FIELDS = {} -- lower-cased label -> key
for key, label in pairs(LABELS) do FIELDS[lower(label)] = key end
local KNOWN_LIST = "Type, Priority, Requires Approval, Depends On, Module, Complexity, Branch, Description, "
  .. "Acceptance Criteria, Acceptance Command, Context Files, Deliverables, Claude Instruction"
local LISTS = { acceptance_criteria = true, context_files = true, deliverables = true } -- "- item" fields
local PRIORITIES = { high = true, medium = true, low = true } -- also the complexities
local BOOLS = { ["true"] = true, yes = true, ["false"] = false, no = false }

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

local function parse_impl(text, file, opts)
  if type(text) ~= "string" then fail("bad_input", file, nil, nil, "text must be a string, not %s", type(text)) end
  local max = opts.max_bytes or M.DEFAULT_MAX_BYTES
  if #text > max then
    fail("too_large", file, nil, nil, "file is %d bytes, over the limit of %d bytes (opts.max_bytes)", #text, max)
  end
  if sub(text, 1, 3) == "\239\187\191" then text = sub(text, 4) end
  check_utf8(text, file)

  local doc, tasks, seen = { tasks = {} }, {}, {}
  doc.tasks = tasks
  local cur, mode, buf, buf_line = nil, "preamble", nil, nil
  local fence, fence_ch, fence_len -- line, char and length of an open code fence

  local function close_field()
    if mode == "description" or mode == "instruction" then
      if fence then fail("unclosed_fence", file, fence, cur, "code fence opened here is never closed") end
      local v = trim(concat(buf, "\n"))
      if v == "" then fail("empty_field", file, buf_line, cur, "empty **%s:**", LABELS[mode]) end
      cur[mode] = v
    elseif mode == "list" and #cur[buf] == 0 then
      fail("empty_field", file, buf_line, cur, "**%s:** has no '- item' lines", LABELS[buf])
    end
    buf = nil
    mode = "fields"
  end

  local function finish_task()
    if not cur then return end
    close_field()
    if not cur.instruction then
      fail("missing_instruction", file, cur.line, cur, "missing **Claude Instruction:**")
    end
    if opts.field_lines then opts.field_lines[cur] = cur.seen end
    cur.seen = nil
    tasks[#tasks + 1] = cur
    cur = nil
  end

  local function start_task(line, ln)
    finish_task()
    local rest = match(line, "^##%s+[Tt][Aa][Ss][Kk](.*)$")
    local colon = find(rest, ":", 1, true)
    local idtxt, title = colon and trim(sub(rest, 1, colon - 1)), colon and trim(sub(rest, colon + 1))
    if not idtxt then
      fail("bad_heading", file, ln, nil, "malformed task heading %q (expected '## Task N: Title')", line)
    elseif idtxt == "" then
      fail("bad_id", file, ln, nil, "task heading %q has no task number", line)
    elseif not match(idtxt, "^%d+$") or #idtxt > 9 then
      fail("bad_id", file, ln, nil, "task number %q is not a whole number of 1 to 9 digits (heading %q)", idtxt, line)
    end
    local id = tonumber(idtxt)
    if title == "" then
      fail("missing_title", file, ln, { id = id }, "missing title (expected '## Task %d: Title')", id)
    end
    if seen[id] then
      fail("duplicate_id", file, ln, { id = id, title = title },
        "duplicate task number %d (already used at %s:%d)", id, file, seen[id])
    end
    seen[id] = ln
    cur = { id = id, title = title, requires_approval = false, acceptance_criteria = {}, line = ln, seen = {} }
    mode = "fields"
  end

  local function set_field(name, value, ln)
    local key = FIELDS[lower(name)]
    if not key then
      fail("unknown_field", file, ln, cur, "unknown field **%s:** (known fields: %s)", name, KNOWN_LIST)
    end
    close_field()
    if cur.seen[key] and key ~= "verify" then
      fail("duplicate_field", file, ln, cur, "**%s:** given twice (first at line %d)", LABELS[key], cur.seen[key])
    end
    cur.seen[key] = cur.seen[key] or ln
    value = trim(value)
    if key == "description" or key == "instruction" then
      mode, buf, buf_line = key, { value }, ln return
    elseif LISTS[key] then
      mode, buf, buf_line = "list", key, ln
      cur[key] = cur[key] or {}
      if value ~= "" then cur[key][1] = match(value, "^[-*+]%s+(.*)$") or value end
      return
    end
    if value == "" then fail("empty_field", file, ln, cur, "empty **%s:**", LABELS[key]) end
    if key == "depends_on" then
      local ids = {}
      for id in string.gmatch(value, "[^,%s]+") do
        if not match(id, "^%d+$") or #id > 9 then
          fail("bad_depends_on", file, ln, cur,
            "invalid Depends On %q (expected task numbers separated by commas or spaces)", id)
        end
        ids[#ids + 1] = tostring(tonumber(id))
      end
      if #ids == 0 then fail("empty_field", file, ln, cur, "empty **%s:**", LABELS[key]) end
      cur.depends_on = ids
      return
    elseif key == "verify" or key == "branch" then
      local list = cur.verify or {}
      if key == "verify" then list[#list + 1] = value cur.verify = list else cur.branch = value end
      return
    end
    local v = lower(value)
    if key == "priority" and not PRIORITIES[v] then
      fail("bad_priority", file, ln, cur, "invalid Priority %q (expected high, medium or low)", value)
    elseif key == "complexity" and not PRIORITIES[v] then
      fail("bad_complexity", file, ln, cur, "invalid Complexity %q (expected low, medium or high)", value)
    elseif key == "requires_approval" then
      v = BOOLS[v]
      if v == nil then
        fail("bad_bool", file, ln, cur, "invalid Requires Approval %q (expected true, false, yes or no)", value)
      end
    end
    cur[key] = v
  end

  local function handle(line, ln)
    if buf and fence then -- inside a code fence of a multi-line field: verbatim
      buf[#buf + 1] = line
      local ch, len, rest = fence_of(line)
      if ch == fence_ch and len >= fence_len and find(rest, "^%s*$") then fence = nil end
      return
    end
    if byte(line, 1) == 35 and is_task_heading(line) then return start_task(line, ln) end
    if mode == "description" or mode == "instruction" then
      if is_separator(line) then finish_task() mode = "between" return end
      local name, value = field_of(line)
      if name and (mode == "description" or FIELDS[lower(name)]) then return set_field(name, value, ln) end
      local ch, len = fence_of(line)
      if ch then fence, fence_ch, fence_len = ln, ch, len end
      buf[#buf + 1] = line
      return
    end
    if mode == "preamble" then
      if field_of(line) then
        fail("unexpected_text", file, ln, nil, "field outside a task (add a '## Task N: Title' heading first)")
      elseif not doc.title and find(line, "^#%s") then -- "# Tasks - YYYY-MM-DD" or any title
        doc.title = trim(sub(line, 2))
        local y, mo, d = match(doc.title, "^[Tt]asks%s*[-:]%s*(%d%d%d%d)%-(%d%d)%-(%d%d)$")
        doc.date = y and (y .. "-" .. mo .. "-" .. d)
        mo, d = tonumber(mo), tonumber(d)
        if y and (mo < 1 or mo > 12 or d < 1 or d > 31) then
          fail("bad_date", file, ln, nil, "invalid date %q", doc.date)
        end
      end
      return
    end
    if not find(line, "%S") then return end
    if mode == "between" then
      if is_separator(line) then return end
      fail("unexpected_text", file, ln, tasks[#tasks],
           "unexpected text after the task's '---' (want '## Task N: Title'): %q",
           sub(line, 1, 60))
    end
    if is_separator(line) then finish_task() mode = "between" return end
    local name, value = field_of(line)
    if name then return set_field(name, value, ln) end
    if mode == "list" then
      local item = match(line, "^%s*[-*+]%s+(.*)$")
      item = item and trim(item)
      local list = cur[buf]
      if item then list[#list + 1] = item return end
      if #list > 0 and find(line, "^%s") then list[#list] = list[#list] .. " " .. trim(line) return end
    end
    fail("unexpected_text", file, ln, cur, "unexpected text %q (expected a **Field:** line%s)",
      sub(line, 1, 60), mode == "list" and " or a '- item'" or "")
  end

  local ln = each_line(text, handle)
  finish_task()
  if #tasks == 0 then
    fail("no_tasks", file, math.max(ln, 1), nil, "no tasks by end of file (want '## Task N: Title')")
  end
  return doc
end

M.trim = trim
M.each_line = each_line
M.field_of = field_of  -- "**Name:** rest" -> name, rest (also lib/inbox_task's section headers)
M.fence_of = fence_of  -- a code fence line -> its char, length, the rest

function M.utf8_error(text, file)
  local _, err = errors.catch(check_utf8, text, file)
  return err
end

function M.parse(text, filename, opts)
  filename = filename or "<tasks>"
  return errors.catch(parse_impl, text, filename, opts or {})
end

local function one_line(v, what)
  v = tostring(v)
  if find(v, "[\r\n]") then error("tasks_md.render: " .. what .. " must be a single line", 2) end
  return v
end

-- literal(text) -> a value for a multi-line field (description, instruction)
-- that parse reads back unchanged: the text itself (trimmed) when no line of it
-- would read as a task heading, a separator, a **Field:** or a code fence;
-- else the text inside a ``` fence longer than any backtick run in it.
function M.literal(text)
  text = trim((tostring(text):gsub("\r\n?", "\n")))
  local plain = true
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    if is_task_heading(line) or is_separator(line) or field_of(line) or fence_of(line) then plain = false break end
  end
  if plain then return text end
  local longest = 2
  for run in text:gmatch("`+") do if #run > longest then longest = #run end end
  local fence = string.rep("`", longest + 1)
  return fence .. "\n" .. text .. "\n" .. fence
end

-- Writes the canonical layout: render(parse(tasks/example-tasks.md)) is byte-identical.
function M.render(doc)
  local out = {}
  local function add(...) for i = 1, select("#", ...) do out[#out + 1] = select(i, ...) end end
  local title = doc.title or (doc.date and ("Tasks - " .. doc.date))
  if title then add("# " .. one_line(title, "title"), "") end
  for i, t in ipairs(doc.tasks or {}) do
    if i > 1 then add("") end
    add(format("## Task %d: %s", t.id, one_line(t.title, "task title")))
    if t.type then add("**Type:** " .. one_line(t.type, "type")) end
    if t.priority then add("**Priority:** " .. one_line(t.priority, "priority")) end
    add("**Requires Approval:** " .. tostring(t.requires_approval == true))
    if t.depends_on and #t.depends_on > 0 then
      local ids = {}
      for k, id in ipairs(t.depends_on) do ids[k] = one_line(id, "depends_on id") end
      add("**Depends On:** " .. concat(ids, ", "))
    end
    if t.module then add("**Module:** " .. one_line(t.module, "module")) end
    if t.complexity then add("**Complexity:** " .. one_line(t.complexity, "complexity")) end
    if t.branch then add("**Branch:** " .. one_line(t.branch, "branch")) end
    if t.description then add("**Description:** " .. t.description) end
    if t.acceptance_criteria and #t.acceptance_criteria > 0 then add("**Acceptance Criteria:**") end
    for _, item in ipairs(t.acceptance_criteria or {}) do add("- " .. one_line(item, "criterion")) end
    for _, key in ipairs({ "context_files", "deliverables" }) do
      if t[key] and #t[key] > 0 then add("**" .. LABELS[key] .. ":**") end
      for _, item in ipairs(t[key] or {}) do add("- " .. one_line(item, key)) end
    end
    for _, cmd in ipairs(t.verify or {}) do add("**Acceptance Command:** " .. one_line(cmd, "acceptance command")) end
    add("", "**Claude Instruction:**", t.instruction or "", "", "---")
  end
  return concat(out, "\n") .. "\n"
end

return M
