-- instructions_md: the standing instructions file (feedback/instructions.md,
-- docs/feedback.md), which lib/feedback fills from feedback files and the user
-- reads and edits:
--   # Standing instructions          free text above the first '## ' is kept as is
--   Absorbed: 2025-11-17, 2025-11-18 the feedback files already read (each once)
--   ## Global                        a scope: Global | Module: NAME | Type: NAME | Task: ID
--   - Always run the tests           an instruction (indented lines continue it)
--     from: feedback/2025-11-18.md:9 (2025-11-18)    where it came from, optional
-- M.parse(text, file) -> doc | nil, err      doc = {preamble={lines}, absorbed={dates},
--   items={ {text=, scope=, value=, source=, date=} }}   err names file:line and the field
-- M.render(doc) -> text; parse(render(doc)) equals doc (scopes grouped and sorted).
-- Pure: text in, tables out; no io/os/debug, no globals; linear time.
local M = {}

local errors = require("orch.errors")
local tasks_md = require("lib.tasks_md")

local byte, sub, find, match, lower, format, concat = string.byte, string.sub, string.find, string.match,
  string.lower, string.format, table.concat
local trim = tasks_md.trim

M.DEFAULT_MAX_BYTES = 1024 * 1024
M.SCOPE_ORDER = { "global", "module", "type", "task" }
M.DEFAULT_PREAMBLE = {
  "# Standing instructions",
  "",
  "Added to the prompt of every task they apply to. They come from the Action lines",
  "of feedback/YYYY-MM-DD.md files; edit, move or delete them freely (a feedback file",
  "is read once, so a deleted instruction stays deleted).",
}
local LABEL = { global = "Global", module = "Module", type = "Type", task = "Task" }

-- a new, empty instructions doc (the default preamble, then the Absorbed line)
function M.new()
  local pre = {}
  for i, line in ipairs(M.DEFAULT_PREAMBLE) do pre[i] = line end
  pre[#pre + 1] = ""
  pre[#pre + 1] = false
  return { preamble = pre, absorbed = {}, items = {} }
end

-- parse_scope("global" | "module: NAME" | "type: NAME" | "task: ID") -> scope, value | nil
-- (case-insensitive; module and type names lower-cased)
function M.parse_scope(text)
  text = trim(text)
  if lower(text) == "global" then return "global" end
  local kind, value = match(text, "^(%a+)%s*:%s*(%S+)$")
  kind = kind and lower(kind)
  if not value or not match(value, "^[%w][%w._/-]*$") or #value > 64 then return nil end
  if kind == "module" or kind == "type" then return kind, lower(value) end
  if kind == "task" then return kind, value end
  return nil
end

function M.valid_date(d)
  local y, mo, da = match(tostring(d), "^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  mo, da = tonumber(mo), tonumber(da)
  return y ~= nil and mo >= 1 and mo <= 12 and da >= 1 and da <= 31
end

-- label(item) -> the heading of its scope: "Global", "Module: auth"
function M.label(it)
  if it.scope == "global" then return "Global" end
  return LABEL[it.scope] .. ": " .. tostring(it.value)
end

-- norm(text): the text compared for duplicates (case, spacing and a final '.' ignored)
function M.norm(text)
  local s = lower(trim((string.gsub(text, "%s+", " "))))
  if byte(s, -1) == 46 then s = sub(s, 1, -2) end
  return s
end
function M.key(it) return it.scope .. "\0" .. (it.value or "") .. "\0" .. M.norm(it.text) end

function M.mark_absorbed(doc, date)
  for _, d in ipairs(doc.absorbed) do if d == date then return end end
  doc.absorbed[#doc.absorbed + 1] = date
  table.sort(doc.absorbed)
end

local function fail(code, file, line, field, fmt, ...)
  error(errors.new(code, format("%s:%d: %s: ", file, line, field) .. format(fmt, ...),
    { file = file, line = line, field = field }), 0)
end

local function parse_impl(text, file)
  if type(text) ~= "string" then error(errors.new("bad_input", file .. ": text must be a string"), 0) end
  if #text > M.DEFAULT_MAX_BYTES then
    error(errors.new("too_large", format("%s: file is %d bytes, over the limit of %d bytes", file, #text,
      M.DEFAULT_MAX_BYTES), { file = file }), 0)
  end
  if sub(text, 1, 3) == "\239\187\191" then text = sub(text, 4) end
  local bad = tasks_md.utf8_error(text, file)
  if bad then error(bad, 0) end

  local doc = { preamble = {}, absorbed = {}, items = {} }
  local scope, value, item, absorbed_line -- the current scope and the item lines continue

  local function preamble_line(line, ln)
    local rest = match(line, "^[Aa]bsorbed%s*:(.*)$")
    if not rest then doc.preamble[#doc.preamble + 1] = line return end
    if absorbed_line then
      fail("duplicate_field", file, ln, "Absorbed", "given twice (first at line %d)", absorbed_line)
    end
    absorbed_line = ln
    doc.preamble[#doc.preamble + 1] = false -- where the Absorbed line goes back
    local seen, list = {}, doc.absorbed
    for d in string.gmatch(rest, "[^,]+") do
      d = trim(d)
      if d ~= "" and not seen[d] then
        if not M.valid_date(d) then
          fail("bad_date", file, ln, "Absorbed", "%q is not a date YYYY-MM-DD", sub(d, 1, 40))
        end
        seen[d] = true
        list[#list + 1] = d
      end
    end
    table.sort(list)
  end

  local function handle(line, ln)
    if byte(line, 1) == 35 and (find(line, "^##%s") or line == "##") then
      local head = trim(sub(line, 3))
      local colon = find(head, ":", 1, true)
      local named = colon and (trim(sub(head, 1, colon - 1)) .. ": " .. trim(sub(head, colon + 1))) or head
      scope, value = M.parse_scope(named)
      if not scope then
        fail("unknown_scope", file, ln, "scope",
          "unknown heading %q (want Global, Module: NAME, Type: NAME or Task: ID)", sub(head, 1, 60))
      end
      item = nil
      return
    end
    if not scope then return preamble_line(line, ln) end
    if not find(line, "%S") then item = nil return end
    local what = match(line, "^[-*+]%s+(.*)$")
    if what then
      what = trim(what)
      if what == "" then fail("empty_field", file, ln, "instruction", "empty '- ' line") end
      item = { text = what, scope = scope, value = value }
      doc.items[#doc.items + 1] = item
      return
    end
    if item and find(line, "^%s") then
      local from = match(line, "^%s+[Ff]rom%s*:(.*)$")
      if not from then item.text = item.text .. " " .. trim(line) return end
      if item.source then fail("duplicate_field", file, ln, "from", "given twice for this instruction") end
      from = trim(from)
      local date = match(from, "%((%d%d%d%d%-%d%d%-%d%d)%)$")
      if date then from = trim(sub(from, 1, -13)) end
      if from == "" then fail("empty_field", file, ln, "from", "no source (want 'from: FILE:LINE (YYYY-MM-DD)')") end
      item.source, item.date = from, date
      return
    end
    fail("unexpected_text", file, ln, "instruction", "%q is not a '- instruction' line or an indented "
      .. "continuation or 'from:' line below one (it would be lost when the file is rewritten)", sub(line, 1, 60))
  end

  tasks_md.each_line(text, handle)
  local pre = doc.preamble
  while #pre > 0 and pre[#pre] ~= false and not find(pre[#pre], "%S") do pre[#pre] = nil end
  return doc
end

function M.parse(text, file)
  file = file or "<instructions>"
  return errors.catch(parse_impl, text, file)
end

local function one_line(v, what)
  v = tostring(v)
  if find(v, "[\r\n]") then error("instructions_md.render: " .. what .. " must be a single line", 3) end
  return v
end

-- The items grouped by scope: global, then modules, types and tasks by name; in
-- each group in their order.
local function groups(items)
  local by, labels = {}, {}
  local rank = {}
  for i, s in ipairs(M.SCOPE_ORDER) do rank[s] = i end
  for _, it in ipairs(items) do
    local l = M.label(it)
    if not by[l] then by[l] = {} labels[#labels + 1] = { label = l, rank = rank[it.scope], value = it.value or "" } end
    local g = by[l]
    g[#g + 1] = it
  end
  table.sort(labels, function(a, b)
    if a.rank ~= b.rank then return a.rank < b.rank end
    return a.value < b.value
  end)
  return labels, by
end

function M.render(doc)
  local out = {}
  local absorbed = "Absorbed:" .. (#(doc.absorbed or {}) > 0 and (" " .. concat(doc.absorbed, ", ")) or "")
  local placed = false
  for _, line in ipairs(doc.preamble or M.DEFAULT_PREAMBLE) do
    if line == false then out[#out + 1] = absorbed placed = true else out[#out + 1] = one_line(line, "preamble") end
  end
  if not placed then
    if #out > 0 then out[#out + 1] = "" end
    out[#out + 1] = absorbed
  end
  local labels, by = groups(doc.items or {})
  for _, g in ipairs(labels) do
    out[#out + 1] = ""
    out[#out + 1] = "## " .. one_line(g.label, "scope")
    for _, it in ipairs(by[g.label]) do
      out[#out + 1] = "- " .. one_line(it.text, "instruction")
      if it.source then
        out[#out + 1] = "  from: " .. one_line(it.source, "source") .. (it.date and (" (" .. it.date .. ")") or "")
      end
    end
  end
  return concat(out, "\n") .. "\n"
end

return M
