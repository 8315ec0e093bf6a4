-- feedback_md: the parser of the user's daily feedback files (docs/feedback.md;
-- the format: lib/feedback's header).
-- M.parse(text, file, opts) -> doc | nil, err     (opts.max_bytes, default 1 MB)
--   doc = {file=, title=, date=, sections={ {id=, title=, line=, rating=,
--          went_well={...}, to_improve={...}, actions={ {text=, scope=, value=, line=} }} }}
--   err = {code=, message="file:line: Field: ...", file=, line=, field=}
-- M.parse is lib/feedback's too. Pure: text in, tables out; no io/os/debug, no globals;
-- linear time.
local M = {}

local errors = require("orch.errors")
local tasks_md = require("lib.tasks_md")
local imd = require("lib.instructions_md")

local byte, sub, find, match, format = string.byte, string.sub, string.find, string.match, string.format
local trim, valid_date = tasks_md.trim, imd.valid_date

M.DEFAULT_MAX_BYTES = 1024 * 1024

local CHECK = "\226\156\133"    -- ✅ U+2705
local WARN = "\226\154\160"     -- ⚠ U+26A0 (then U+FE0F, the emoji form, or not)
local VS16 = "\239\184\143"

local function fail(code, file, line, field, fmt, ...)
  local where = line and (file .. ":" .. line) or file
  error(errors.new(code, where .. ": " .. (field and (field .. ": ") or "") .. format(fmt, ...),
    { file = file, line = line, field = field }), 0)
end

local SCOPES = "global, module: NAME, type: NAME or task: ID"

local function parse_impl(text, file, opts)
  if type(text) ~= "string" then fail("bad_input", file, nil, nil, "text must be a string, not %s", type(text)) end
  local max = opts.max_bytes or M.DEFAULT_MAX_BYTES
  if #text > max then
    fail("too_large", file, nil, nil, "file is %d bytes, over the limit of %d bytes", #text, max)
  end
  if sub(text, 1, 3) == "\239\187\191" then text = sub(text, 4) end
  local bad = tasks_md.utf8_error(text, file)
  if bad then error(bad, 0) end

  local doc, seen = { file = file, sections = {} }, {}
  local cur -- the section lines go to (a general one is opened for text before any heading)
  local function section(ln)
    if not cur then
      cur = { line = ln, went_well = {}, to_improve = {}, actions = {} }
      doc.sections[#doc.sections + 1] = cur
    end
    return cur
  end

  local function heading(rest, ln)
    rest = trim(rest)
    if rest == "" then fail("bad_heading", file, ln, "heading", "empty '## ' heading (want '## task-id: Title')") end
    cur = nil
    local s = section(ln)
    local colon = find(rest, ":", 1, true)
    if not colon then s.title = rest return end
    local id, title = trim(sub(rest, 1, colon - 1)), trim(sub(rest, colon + 1))
    if id == "" then fail("bad_id", file, ln, "task id", "heading %q has no task id before ':'", rest) end
    id = match(id, "^[Tt][Aa][Ss][Kk]%s+(%d+)$") or id
    if not match(id, "^[%w][%w._-]*$") or #id > 64 then
      fail("bad_id", file, ln, "task id", "%q is not a task id (letters, digits, '.', '_', '-'; a heading "
        .. "without ':' is a general section)", sub(id, 1, 60))
    end
    if seen[id] then
      fail("duplicate_id", file, ln, "task id", "task %s has a section already (line %d)", id, seen[id])
    end
    seen[id] = ln
    s.id, s.title = id, title ~= "" and title or nil
  end

  local function action(rest, ln)
    local scope, value
    if byte(rest, 1) == 40 then -- "(scope): text"
      local close = find(rest, ")", 1, true)
      if not close then fail("bad_action", file, ln, "Action", "'(' without ')' (want 'Action (%s): text')", SCOPES) end
      local named = sub(rest, 2, close - 1)
      scope, value = imd.parse_scope(named)
      if not scope then
        fail("unknown_scope", file, ln, "Action", "unknown scope %q (want %s)", sub(trim(named), 1, 60), SCOPES)
      end
      rest = match(rest, "^%s*:(.*)$", close + 1)
      if not rest then
        fail("bad_action", file, ln, "Action", "no ':' after the scope (want 'Action (%s): text')", trim(named))
      end
    else
      rest = sub(rest, 2)
    end
    local what = trim(rest)
    if what == "" then fail("empty_field", file, ln, "Action", "empty instruction") end
    local list = section(ln).actions
    list[#list + 1] = { text = what, scope = scope, value = value, line = ln }
  end

  local function handle(line, ln)
    if byte(line, 1) == 35 then -- '#'
      if find(line, "^##%s") or line == "##" then return heading(sub(line, 3), ln) end
      if not doc.title and find(line, "^#%s") then
        doc.title = trim(sub(line, 2))
        local d = match(doc.title, "^[Ff]eedback%s*[-:]%s*(%d%d%d%d%-%d%d%-%d%d)$")
        if d and not valid_date(d) then fail("bad_date", file, ln, "title", "invalid date %q", d) end
        doc.date = d
      end
      return
    end
    local i = find(line, "%S")
    if not i then return end
    local body = match(line, "^[-*+]%s+(.*)$", i) or sub(line, i)
    local b = byte(body, 1)
    if b == 226 then -- the lead byte of ✅ and ⚠
      local mark = sub(body, 1, 3)
      if mark ~= CHECK and mark ~= WARN then return end
      local rest = sub(body, 4)
      if mark == WARN and sub(rest, 1, 3) == VS16 then rest = sub(rest, 4) end
      local what, field = trim(rest), mark == CHECK and "\226\156\133" or "\226\154\160\239\184\143"
      if what == "" then fail("empty_field", file, ln, field, "nothing after the mark") end
      local list = mark == CHECK and section(ln).went_well or section(ln).to_improve
      list[#list + 1] = what
    elseif b == 82 or b == 114 then -- R r
      local rest = match(body, "^[Rr][Aa][Tt][Ii][Nn][Gg]%s*:(.*)$")
      if not rest then return end
      rest = trim(rest)
      local n = tonumber(match(rest, "^(%d+)%s*/%s*5$"))
      if not n or n < 1 or n > 5 then
        fail("bad_rating", file, ln, "Rating", "%q is not N/5 with N from 1 to 5", sub(rest, 1, 60))
      end
      if not (cur and cur.id) then
        fail("misplaced_rating", file, ln, "Rating", "outside a '## task-id: Title' section")
      elseif cur.rating then
        fail("duplicate_field", file, ln, "Rating", "given twice in this section (first at line %d)", cur.rating_line)
      end
      cur.rating, cur.rating_line = n, ln
    elseif b == 65 or b == 97 then -- A a
      local rest = match(body, "^[Aa][Cc][Tt][Ii][Oo][Nn]%s*([(:].*)$")
      if rest then return action(rest, ln) end
    end
  end

  tasks_md.each_line(text, handle)
  for _, s in ipairs(doc.sections) do s.rating_line = nil end
  return doc
end

function M.parse(text, file, opts)
  file = file or "<feedback>"
  return errors.catch(parse_impl, text, file, opts or {})
end

return M
