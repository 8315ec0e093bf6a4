-- inbox_task_render: an inbox task back into the text of a .task.md
-- (docs/task-file-inbox.md), and the sample task of `orch-host create-sample`.
-- Called through lib/inbox_task (M is that module):
-- render(M, t) -> text | nil, err: t is a task of the model (inbox_task.parse's,
--   or one built by hand: id, type, instruction, title, priority, and
--   t.inbox.target_files / context / cwd / created / success_criteria, else
--   acceptance_criteria, verify and deliverables as criteria, description as
--   the context). The text is read back before it is returned: a prompt or a
--   context with a line that would read as a section header is refused, so
--   parse(render(t)) gives t's fields back.
-- sample(M [, opts]) -> text: a summarize task that runs as is (opts.now: its created time)
local errors = require("orch.errors")

local R = {}

local format, concat, find = string.format, table.concat, string.find

local function bad(fmt, ...)
  return nil, errors.new("bad_input", "inbox_task.render: " .. format(fmt, ...))
end

local function one_line(v) return type(v) == "string" and v ~= "" and not find(v, "[\r\n]") end

-- Leading and trailing blank lines off, line ends as "\n" (what parse keeps).
local function text_of(s)
  if type(s) ~= "string" then return nil end
  s = s:gsub("\r\n?", "\n")
  local lines = {}
  for l in (s .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  local i, j = 1, #lines
  while i <= j and not find(lines[i], "%S") do i = i + 1 end
  while j >= i and not find(lines[j], "%S") do j = j - 1 end
  return i <= j and concat(lines, "\n", i, j) or nil
end

-- The criteria: the inbox's own, else the model's lists, each check once.
local function criteria_of(t)
  local inbox = t.inbox or {}
  if inbox.success_criteria then return inbox.success_criteria end
  local out, named = {}, {}
  for _, c in ipairs(t.acceptance_criteria or {}) do
    local text = type(c) == "table" and c.text or c
    out[#out + 1] = { text = text, done = type(c) == "table" and c.done == true }
    named[text] = true
  end
  for _, cmd in ipairs(t.verify or {}) do
    local text = "`" .. cmd .. "` passes"
    if not named[text] then out[#out + 1] = { text = text } end
  end
  for _, p in ipairs(t.deliverables or {}) do
    local text = "`" .. p .. "` is written"
    if not named[text] then out[#out + 1] = { text = text } end
  end
  return out
end

function R.render(M, t)
  if type(t) ~= "table" then return bad("the task must be a table, not %s", type(t)) end
  local inbox = t.inbox or {}
  local id, ty = t.id, t.type
  if not one_line(id) then return bad("id must be a one-line string") end
  if not one_line(ty) then return bad("type must be a one-line string") end
  local prompt = text_of(t.instruction)
  if not prompt then return bad("task %s has no prompt (instruction)", id) end
  local title = t.title or id
  if not one_line(title) then return bad("task %s: the title must be one line", id) end
  local out = { "---", "id: " .. id, "type: " .. ty, "priority: " .. (t.priority or M.DEFAULT_PRIORITY) }
  if inbox.created then out[#out + 1] = "created: " .. os.date("!%Y-%m-%dT%H:%M:%SZ", inbox.created) end
  if inbox.cwd then
    if not one_line(inbox.cwd) then return bad("task %s: cwd must be a one-line string", id) end
    out[#out + 1] = "cwd: " .. orch.json.encode(inbox.cwd)
  end
  if t.requires_approval == true then out[#out + 1] = "requires_approval: true" end
  if inbox.parsed_by == "ollama" or inbox.parsed_by == "plain" then out[#out + 1] = "parsed_by: " .. inbox.parsed_by end
  out[#out + 1] = "---"
  out[#out + 1] = ""
  out[#out + 1] = "# " .. title
  local files = inbox.target_files or {}
  if #files > 0 then
    out[#out + 1] = ""
    out[#out + 1] = "**Target Files:**"
    for _, p in ipairs(files) do
      if not one_line(p) then return bad("task %s: a target file must be a one-line path", id) end
      out[#out + 1] = "- " .. p
    end
  end
  out[#out + 1] = ""
  out[#out + 1] = "**Prompt:**"
  out[#out + 1] = prompt
  local crit = criteria_of(t)
  if #crit > 0 then
    out[#out + 1] = ""
    out[#out + 1] = "**Success Criteria:**"
    for _, c in ipairs(crit) do
      if not one_line(c.text) then return bad("task %s: a success criterion must be one line", id) end
      out[#out + 1] = (c.done and "- [x] " or "- [ ] ") .. c.text
    end
  end
  local context = text_of(inbox.context or t.description)
  if context then
    out[#out + 1] = ""
    out[#out + 1] = "**Context:**"
    out[#out + 1] = context
  end
  local text = concat(out, "\n") .. "\n"
  -- read back: what would not come back the same is refused, naming why
  local back, err = M.parse(text, (inbox.name or id) .. M.SUFFIX)
  if not back then return bad("task %s cannot be written as a task file: %s", id, tostring(err)) end
  if back.instruction ~= prompt then
    return bad("task %s: a line of its prompt reads as a section header (**Name:**); put it in a ``` fence", id)
  end
  if back.inbox.context ~= context then
    return bad("task %s: a line of its context reads as a section header (**Name:**); put it in a ``` fence", id)
  end
  return text
end

R.SAMPLE = [[
---
# The inbox task file: drop a NAME.task.md in the tasks folder and it runs.
# docs/task-file-inbox.md describes every field and section.
id: sample
type: summarize        # %s
priority: medium       # high | medium | low
created: %s
---

# Summarize the project for a newcomer

**Target Files:**
- README.md

**Prompt:**
Read README.md (if there is none, look at the files in the working folder) and
write a summary of the project for someone who has never seen it to SUMMARY.md:
what it does, how to start it, where to look first. Ten lines at most. Do not
change any other file.

**Success Criteria:**
- [ ] `SUMMARY.md` is written
- [ ] The summary is at most ten lines and names how to start the project

**Context:**
The sample task of `orch-host create-sample`. A criterion that names a
`backticked` command followed by "passes" is run after the agent stops; one
that names a `backticked` path followed by "is written" (or "is created")
must have been written by the task then, one followed by "exists" must be
there.
]]

function R.sample(M, opts)
  local now = opts and opts.now or os.time()
  return format(R.SAMPLE, concat(M.TYPES, " | "), os.date("!%Y-%m-%dT%H:%M:%SZ", now))
end

return R
