-- inbox_task: the inbox task file (`NAME.task.md`, docs/task-file-inbox.md)
-- into the task model of lib/task_model.lua.
--   ---                                 YAML front matter (orch.yaml.decode):
--   id: fix-login                       optional (else the file's NAME), a safe name
--   type: fix                           required, one of M.TYPES
--   priority: high                      high | medium | low (default medium)
--   created: 2026-12-01T10:30:00Z       ISO 8601, optional; also title, cwd, requires_approval,
--                                       parsed_by (ollama | plain: a request's reader, /task's)
--   ---
--   # Title
--   **Target Files:**      "- path" lines
--   **Prompt:**            required: free text, verbatim, up to the next section
--   **Success Criteria:**  "- [ ] text" / "- [x] text" lines
--   **Context:**           free text, verbatim
-- M.load(path [, opts]) -> task | nil, err   opts.root: the folder it must
--   resolve inside (a symlink out of it is refused); at most M.MAX_BYTES;
--   opts.info: the file's orch.file_info is left there (its mtime, not asked again)
-- M.parse(text, file) -> task | nil, err
--   err = {code=, message="FILE:LINE: field: what", file=, line=, field=}
--   task: the model's fields (instruction = the prompt, description = the
--   context, acceptance_criteria = the criteria's texts, verify and
--   deliverables = the ones they name, line = the title's) + inbox = {id= (the
--   file's, which a session's row of a later version does not keep), file=,
--   name=, sha= (SHA-256 of the bytes), created= (epoch s), priority_rank=,
--   target_files=, context=, cwd=, success_criteria={ {text=, done=, command=,
--   path=, line=} }}
-- M.render(t) -> text | nil, err; M.sample([opts]) -> text (lib/inbox_task_render.lua)
-- M.name_of(file) -> NAME (the base name without .task.md), at most M.MAX_NAME bytes
-- M.iso_time(s) -> epoch | nil; M.check_of(text) -> "command" | "path", what | nil
local errors = require("orch.errors")
local model = require("lib.task_model")
local md = require("lib.tasks_md")
local yaml_file = require("lib.tasks_yaml")
local B = require("lib.inbox_task_body")
local cron = require("lib.cron")
local acceptance = require("lib.acceptance")
local files = require("lib.inbox_files")

local M = {}

local DANGLING = "a symlink whose target does not exist"

local find, match, sub, lower, format, concat = string.find, string.match, string.sub, string.lower, string.format,
  table.concat

M.MAX_BYTES = 1024 * 1024
M.SUFFIX = files.SUFFIX
-- bytes of NAME: the files named after it fit a file name's 255 bytes
-- (failed/NAME.task.md.reason is the longest; NAME_result.json and
-- NAME_summary.txt, lib/artifacts' MAX_NAME, fit then too; a later
-- version's NAME-100 is cut to fit there: lib/artifacts' fit)
M.MAX_NAME = 255 - #(M.SUFFIX .. ".reason")
-- The known types: the one list (add a type here, and say what it is for in
-- docs/task-file-inbox.md). The approval policy compares them with
-- orchestrator.auto_approve and checkpoint_after.
M.TYPES = { "fix", "code_review", "analyze", "summarize", "implement", "refactor", "test", "document" }
M.DEFAULT_PRIORITY = "medium"
M.PRIORITY_RANK = { high = 1, medium = 2, low = 3 }

local TYPE_SET = {}
for _, t in ipairs(M.TYPES) do TYPE_SET[t] = true end

M.FIELDS = model.fields({
  { "id", "id", "id" },
  { "type", "type", "string", { required = true, one_line = true, lower = true, enum = TYPE_SET } },
  { "priority", "priority", "string", { lower = true, enum = model.LEVELS } },
  { "created", "created", "string", { one_line = true } },
  { "title", "title", "string", { one_line = true } },
  { "cwd", "cwd", "string", { one_line = true } },
  { "requires_approval", "requires_approval", "boolean" },
  -- what structured the task: a free-text request's reader (/task writes it);
  -- absent, the file itself (the result's parsed_by)
  { "parsed_by", "parsed_by", "string", { one_line = true, lower = true, enum = { ollama = true, plain = true } } },
})

M.SECTIONS = B.SECTIONS
M.check_of = B.check_of
local fail = B.fail

function M.name_of(file)
  local base = match(tostring(file), "([^/]*)$")
  local l = lower(base)
  if sub(l, -#M.SUFFIX) == M.SUFFIX and #base > #M.SUFFIX then return sub(base, 1, -#M.SUFFIX - 1) end
  if sub(l, -3) == ".md" and #base > 3 then return sub(base, 1, -4) end
  return base
end

-- iso_time(s) -> epoch seconds | nil: ISO 8601, a date or a date and time
-- (T or a space, HH:MM[:SS[.fraction]]), with Z or an offset (lib/cron's
-- parse_tz), UTC when none is given; a fraction of a second is dropped.
local MONTH_DAYS = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
function M.iso_time(s)
  local y, mo, d, rest = match(s, "^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo < 1 or mo > 12 or d < 1 or d > MONTH_DAYS[mo] or (mo == 2 and d == 29 and
    not (y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0))) then return nil end
  local h, mi, sec, off = 0, 0, 0, 0
  if rest ~= "" then
    local hh, mm, tail = match(rest, "^[Tt ](%d%d):(%d%d)(.*)$")
    if not hh then return nil end
    h, mi = tonumber(hh), tonumber(mm)
    local ss, t2 = match(tail, "^:(%d%d)(.*)$")
    if ss then sec, tail = tonumber(ss), match(t2, "^[.,]%d+(.*)$") or t2 end
    if tail ~= "" then
      off = tail ~= "UTC" and cron.parse_tz(tail) or nil  -- Z, +01:00, -0500, +01
      if not off then return nil end
    end
    if h > 23 or mi > 59 or sec > 59 then return nil end
  end
  return cron.days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off
end

local ID_FIELD = model.fields({ { "id", "id", "id" } })

-- The front matter: lines 2..close-1 as YAML, checked field by field. known.id:
-- its id field's value once that is a valid id (a refused file's error names it)
local function front_matter(lines, file, known)
  if not lines[1] or not find(lines[1], "^%-%-%-%s*$") then
    fail("no_front_matter", file, 1, nil, "no front matter: the file must start with a '---' line, the fields "
      .. "(type: ..., and id, priority, created), and another '---' line")
  end
  local close
  for i = 2, #lines do if find(lines[i], "^%-%-%-%s*$") then close = i break end end
  if not close then
    fail("unterminated_front_matter", file, 1, nil, "the front matter opened here has no closing '---' line")
  end
  local root, lm = orch.yaml.decode(concat(lines, "\n", 2, close - 1) .. "\n", { lines = true })
  if root == nil then
    -- the YAML is the file from its line 2: every line the reader names (its
    -- position, and a duplicate key's "first at line N") is one more in the file
    local line = lm.line and lm.line + 1 or 1
    local what = lm.line and lm.message:gsub("^line %d+, column %d+: ", "") or lm.message
    what = what:gsub("%(first at line (%d+)%)", function(n) return "(first at line " .. (tonumber(n) + 1) .. ")" end)
    error(errors.new(lm.code, format("%s:%d:%s front matter: %s", file, line, lm.column and (lm.column .. ":") or "",
      what), { file = file, line = line, column = lm.column }), 0)
  end
  if type(root) == "userdata" then root = {} end  -- empty: the missing fields are named
  if model.kind(root) ~= "mapping" then
    fail("bad_type", file, 2, nil, "front matter must be a mapping of fields (type: fix, ...), not %s",
      model.kind(root))
  end
  local r = model.reader(file, function(path)
    return #path == 0 and 1 or yaml_file.line_at(root, lm, path) + 1
  end)
  -- the id alone first, by the id rule: another field may be what is refused
  if root.id ~= nil and type(root.id) ~= "userdata" then
    local id = {}
    known.id = pcall(model.check, r, { id = root.id }, {}, ID_FIELD, nil, id) and id.id or nil
  end
  local fm = {}
  model.check(r, root, {}, M.FIELDS, nil, fm)
  if fm.created then
    local epoch = M.iso_time(fm.created)
    if not epoch then r:fail({ "created" }, "bad_date", nil, "%q is not an ISO 8601 time (2026-12-01T09:30:00Z, "
      .. "2026-12-01T10:30:00+01:00 or 2026-12-01)", fm.created) end
    fm.created_at = epoch
  end
  return fm, close
end

-- the id a file without an id field has: its name, when that is an id | nil
local function name_id(name)
  if #name <= model.MAX_ID and find(name, model.ID_PATTERN) then return name end
end

local function parse_impl(text, file, known)
  if type(text) ~= "string" then fail("bad_input", file, nil, nil, "text must be a string, not %s", type(text)) end
  if #text > M.MAX_BYTES then
    fail("too_large", file, nil, nil, "%d bytes, the limit is %d MB", #text, M.MAX_BYTES / 1048576)
  end
  local sha = orch.sha256(text)
  local nul = find(text, "%z")
  if nul then
    local _, nl = sub(text, 1, nul - 1):gsub("\n", "")
    fail("nul_byte", file, nl + 1, nil, "a NUL byte (a binary file, not a task file)")
  end
  if sub(text, 1, 3) == "\239\187\191" then text = sub(text, 4) end
  local uerr = md.utf8_error(text, file)
  if uerr then error(uerr, 0) end
  local lines = {}
  md.each_line(text, function(l) lines[#lines + 1] = l end)
  known.id = name_id(M.name_of(file))
  local fm, close = front_matter(lines, file, known)
  local b = B.body(lines, close + 1, file)
  if not b.seen.prompt then
    fail("missing_prompt", file, math.max(#lines, 1), nil, "no **Prompt:** section (the agent's instruction)")
  elseif not b.prompt then
    fail("empty_prompt", file, b.seen.prompt, "Prompt", "empty: nothing to tell the agent")
  end
  local name = M.name_of(file)
  if #name > M.MAX_NAME then
    fail("bad_name", file, 1, nil, "the file name is %d bytes, at most %d: its result, summary and reason files "
      .. "are named after it; rename the file", #name + #M.SUFFIX, M.MAX_NAME + #M.SUFFIX)
  end
  if md.utf8_error(name, file) then  -- the state and the events hold the name as JSON text
    fail("bad_name", file, 1, nil, "the file name is not valid UTF-8: its result, summary and reason files "
      .. "are named after it; rename the file")
  end
  local id = fm.id
  if not id then
    if not name_id(name) then
      fail("bad_id", file, 1, "id", "no id: field, and the file name %q is not an id (letters, digits, '.', '_', "
        .. "'-', starting with a letter or digit, at most %d characters): add one", sub(name, 1, 80), model.MAX_ID)
    end
    id = name
  end
  local t = { id = id, title = fm.title or b.title or id, type = fm.type, priority = fm.priority or M.DEFAULT_PRIORITY,
    instruction = b.prompt, description = b.context, requires_approval = fm.requires_approval == true,
    acceptance_criteria = {}, context_files = {}, deliverables = {}, verify = {}, depends_on = {},
    line = b.title_line or 1 }
  t.inbox = { id = id, file = file, name = name, sha = sha, created = fm.created_at, cwd = fm.cwd,
    parsed_by = fm.parsed_by,
    priority_rank = M.PRIORITY_RANK[t.priority], target_files = B.target_files(b.target_files, file),
    context = b.context }
  t.inbox.success_criteria = B.criteria(b.success_criteria, file, t)
  return t
end

-- parse(text [, file]) -> task | nil, err; err.id: the task id the file
-- gives (its front matter's id, else its name), when it was read before the
-- refusal (the inbox's event task_received names it)
function M.parse(text, file)
  local known = {}
  local t, err = errors.catch(parse_impl, text, file or "<task>", known)
  if not t then err.id = known.id end
  return t, err
end

-- load: the size and the folder checked before the file is read.
function M.load(path, opts)
  opts = opts or {}
  local info, err = orch.file_info(path)
  if not info then
    -- not found, yet there (tree_info does not follow a link): a symlink to nothing
    local what = err.code == "not_found" and orch.tree_info(path) and (path .. ": " .. DANGLING) or tostring(err)
    return nil, errors.new(err.code or "io", what, { file = path, stage = "read" })
  end
  if type(opts.info) == "table" then opts.info.of = info end
  if info.type ~= "file" then  -- orch.read_file words what it is ("not a regular file: a FIFO"), reading nothing
    local _, what = orch.read_file(path, 0)
    return nil, errors.new("not_a_file", what and tostring(what) or (path .. ": not a regular file"), { file = path })
  end
  if opts.root then
    local root, rerr = orch.file_info(opts.root)
    if not root then return nil, errors.new(rerr.code or "io", tostring(rerr), { file = path, stage = "read" }) end
    local out = acceptance.outside(info, root)
    if out then return nil, errors.new("outside_root", path .. ": " .. out, { file = path }) end
  end
  if info.size > M.MAX_BYTES then
    return nil, errors.new("too_large", format("%s: %d bytes, the limit is %d MB", path, info.size,
      M.MAX_BYTES / 1048576), { file = path })
  end
  local text, rerr = orch.read_file(path, M.MAX_BYTES)
  if not text then
    if rerr.code == "too_large" then
      return nil, errors.new("too_large", format("%s: over %d bytes, the limit is %d MB", path, M.MAX_BYTES,
        M.MAX_BYTES / 1048576), { file = path })
    end
    return nil, errors.new(rerr.code or "io", tostring(rerr), { file = path, stage = "read" })
  end
  return M.parse(text, path)
end

local R = require("lib.inbox_task_render")
M.render = function(t) return R.render(M, t) end
M.sample = function(opts) return R.sample(M, opts) end

return M
