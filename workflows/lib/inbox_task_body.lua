-- inbox_task_body: the body of an inbox task file (docs/task-file-inbox.md),
-- after its front matter: the `# Title` and the sections. Used by
-- lib/inbox_task.lua, which owns the format; here are its section rules.
-- B.body(lines, from, file) -> {title=, title_line=, seen={key = line},
--   target_files={ {text=, line=} }, prompt=, success_criteria={...}, context=}
-- B.target_files(items, file) -> {paths}; B.criteria(items, file, t) -> the
--   inbox's success_criteria, filling t.verify, t.deliverables, t.acceptance_criteria
-- B.check_of(text) -> "command" | "path", what | nil   (a criterion's check)
-- B.fail(code, file, line, field, fmt, ...) raises "FILE:LINE: field: what"
-- Pure: no io/os/debug, no globals.
local errors = require("orch.errors")
local md = require("lib.tasks_md")

local B = {}

local find, match, sub, lower, format, concat = string.find, string.match, string.sub, string.lower, string.format,
  table.concat
local trim = md.trim

-- The sections, by their label; lists hold "- item" lines, the others text.
B.SECTIONS = { { "target_files", "Target Files" }, { "prompt", "Prompt" },
  { "success_criteria", "Success Criteria" }, { "context", "Context" } }
local LABEL, SECTION, KNOWN = {}, {}, {}
for i, s in ipairs(B.SECTIONS) do
  LABEL[s[1]], SECTION[lower(s[2])], KNOWN[i] = s[2], s[1], s[2]
end
KNOWN = concat(KNOWN, ", ")
local LISTS = { target_files = true, success_criteria = true }

-- fail(code, file, line, field, fmt, ...) raises "FILE:LINE: field: what"
local function fail(code, file, line, field, fmt, ...)
  local at = line and (file .. ":" .. line) or file
  error(errors.new(code, at .. ": " .. (field and (field .. ": ") or "") .. format(fmt, ...),
    { file = file, line = line, field = field }), 0)
end
B.fail = fail

-- A criterion's check: its first `backticked` text is a path that must exist
-- when the words after it (up to the next backtick; none there: the words
-- before it) say exists/created/written and it is a relative path, a command
-- when they say pass(es)/succeed(s)/exits 0/returns 0.
local function has(s, pats)
  for _, p in ipairs(pats) do if find(s, p) then return true end end
  return false
end
local WRITE_WORDS = { "%f[%w]created%f[%W]", "%f[%w]written%f[%W]" }
local PATH_WORDS = { "%f[%w]exists?%f[%W]", WRITE_WORDS[1], WRITE_WORDS[2] }
local CMD_WORDS = { "%f[%w]pass%f[%W]", "%f[%w]passes%f[%W]", "%f[%w]succeeds?%f[%W]",
  "%f[%w]exits?[%s%a]-%f[%d]0%f[%D]", "%f[%w]returns?%s+0%f[%D]" }
local function relative_path(p)
  return not find(p, "[%s\"'$*?;|&<>]") and sub(p, 1, 1) ~= "/" and sub(p, 1, 1) ~= "~"
    and not find("/" .. p .. "/", "/%.%./")
end
function B.check_of(text)
  local before, span, after = match(text, "^([^`]*)`([^`]+)`([^`]*)")
  if not span then return nil end
  span = trim(span)
  if span == "" then return nil end
  local words = lower(find(after, "%a") and after or before)
  if has(words, PATH_WORDS) and relative_path(span) then
    -- "exists" asks for the file only; "created"/"written" for the task's own write
    return "path", span, has(words, { "%f[%w]exists?%f[%W]" }) and not has(words, WRITE_WORDS)
  end
  if has(words, CMD_WORDS) then return "command", span end
  return nil
end

-- The body: the title, then the sections (lines after the front matter).
function B.body(lines, from, file)
  local out = { seen = {} }
  local key, buf, fence, fence_ch, fence_len  -- the open section; its lines; an open code fence
  local function close()
    if not key then return end
    if fence then fail("unclosed_fence", file, fence, LABEL[key], "the code fence opened here is never closed") end
    if not LISTS[key] then
      local i, j = 1, #buf
      while i <= j and trim(buf[i]) == "" do i = i + 1 end
      while j >= i and trim(buf[j]) == "" do j = j - 1 end
      out[key] = i <= j and concat(buf, "\n", i, j) or nil
    end
    key = nil
  end
  for ln = from, #lines do
    local line = lines[ln]
    local name, rest
    if fence then
      buf[#buf + 1] = line
      local ch, len, after = md.fence_of(line)
      if ch == fence_ch and len >= fence_len and not find(after, "%S") then fence = nil end
      goto continue
    end
    name, rest = md.field_of(line)
    if name then
      local k = SECTION[lower(name)]
      if k then
        close()
        if out.seen[k] then fail("duplicate_section", file, ln, nil, "**%s:** given twice (first at line %d)",
          LABEL[k], out.seen[k]) end
        key, out.seen[k], buf = k, ln, {}
        if LISTS[k] then out[k] = {} end
        rest = trim(rest)
        if rest == "" then goto continue end
        line = LISTS[k] and (match(rest, "^[-*+]%s") and rest or ("- " .. rest)) or rest
      elseif not (key and not LISTS[key] and find(rest, "%S")) then
        fail("unknown_section", file, ln, nil, "unknown section **%s:** (known sections: %s)", name, KNOWN)
      end
    end
    if not key then
      if not find(line, "%S") then goto continue end
      local title = match(line, "^#%s+(.*)$")
      title = title and trim(title):gsub("%s+#+$", "")  -- "# Title #": the closing #s are not the title's
      if title and not out.title and title ~= "" then
        out.title, out.title_line = title, ln
        goto continue
      end
      fail("unexpected_text", file, ln, nil, "text before the first section (want '# Title', then **%s:**): %q",
        "Prompt", sub(line, 1, 60))
    elseif LISTS[key] then
      if not find(line, "%S") then goto continue end
      local list, item = out[key], match(line, "^%s*[-*+]%s+(.*)$")
      if item then
        list[#list + 1] = { text = trim(item), line = ln }
      elseif #list > 0 and key == "success_criteria" and find(line, "^%s") then
        list[#list].text = list[#list].text .. " " .. trim(line)
      else
        fail("unexpected_text", file, ln, LABEL[key], "expected a '- %s' line, not %q",
          key == "target_files" and "path" or "[ ] criterion", sub(line, 1, 60))
      end
    else
      local ch, len = md.fence_of(line)
      if ch then fence, fence_ch, fence_len = ln, ch, len end
      buf[#buf + 1] = line
    end
    ::continue::
  end
  close()
  return out
end

-- The target files: paths, one `backticked` pair taken off.
function B.target_files(items, file)
  local out = {}
  for i, it in ipairs(items or {}) do
    local p = match(it.text, "^`([^`]+)`$") or it.text
    if p == "" then fail("empty_field", file, it.line, LABEL.target_files, "item %d is empty", i) end
    out[i] = p
  end
  return out
end

function B.criteria(items, file, t)
  local out = {}
  for i, it in ipairs(items or {}) do
    local box, rest = match(it.text, "^%[([ xX])%]%s*(.*)$")
    local text = trim(box and rest or it.text)
    if text == "" then fail("empty_field", file, it.line, LABEL.success_criteria, "criterion %d is empty", i) end
    local c = { text = text, done = box ~= nil and box ~= " ", line = it.line }
    local kind, what, exists = B.check_of(text)
    if kind == "command" then
      c.command = what
      t.verify[#t.verify + 1] = what
    elseif kind == "path" then
      c.path, c.exists = what, exists or nil  -- (lib/acceptance: being there is enough)
      t.deliverables[#t.deliverables + 1] = what
    end
    t.acceptance_criteria[i] = text
    out[i] = c
  end
  return out
end

return B
