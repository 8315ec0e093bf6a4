-- tasks_md_render: writes a markdown day file (lib/tasks_md's doc) back as text.
-- M.render(doc) -> text; parse(render(doc)) equals doc except for `line`.
-- M.literal(text) -> text as a multi-line field's value that reads back as is.
-- Both are lib/tasks_md's too. Pure: tables in, text out; no io/os/debug, no globals.
local M = {}

local find, format, concat = string.find, string.format, table.concat
local lines = require("lib.tasks_md_lines")
local LABELS, trim = lines.LABELS, lines.trim
local is_task_heading, is_separator, field_of, fence_of =
  lines.is_task_heading, lines.is_separator, lines.field_of, lines.fence_of

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
