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
--   M.fence_of: lib/tasks_md_lines's, shared with the other pure parsers of user
--   files (lib/feedback, lib/inbox_task). M.render, M.literal: lib/tasks_md_render's.
-- Pure: text in, tables out; no io/os/debug, no globals; linear time.
local M = {}

local byte, sub, find, match, lower = string.byte, string.sub, string.find, string.match, string.lower
local concat = table.concat

M.DEFAULT_MAX_BYTES = 5 * 1024 * 1024

local errors = require("orch.errors")
local lines = require("lib.tasks_md_lines")
local render = require("lib.tasks_md_render")
local LABELS, trim, each_line, fail, check_utf8 = lines.LABELS, lines.trim, lines.each_line, lines.fail,
  lines.check_utf8
local field_of, fence_of, is_task_heading, is_separator =
  lines.field_of, lines.fence_of, lines.is_task_heading, lines.is_separator
local FIELDS = {} -- lower-cased label -> key
for key, label in pairs(LABELS) do FIELDS[lower(label)] = key end
local KNOWN_LIST = "Type, Priority, Requires Approval, Depends On, Module, Complexity, Branch, Description, "
  .. "Acceptance Criteria, Acceptance Command, Context Files, Deliverables, Claude Instruction"
local LISTS = { acceptance_criteria = true, context_files = true, deliverables = true } -- "- item" fields
local PRIORITIES = { high = true, medium = true, low = true } -- also the complexities
local BOOLS = { ["true"] = true, yes = true, ["false"] = false, no = false }

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
M.utf8_error = lines.utf8_error
M.render = render.render
M.literal = render.literal

function M.parse(text, filename, opts)
  filename = filename or "<tasks>"
  return errors.catch(parse_impl, text, filename, opts or {})
end

return M
