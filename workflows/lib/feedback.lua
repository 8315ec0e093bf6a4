-- feedback: the user's daily feedback files and the standing instructions they
-- leave for the next days' agents (docs/feedback.md).
--   feedback/YYYY-MM-DD.md:
--     # Feedback - 2025-11-18           optional: doc.title (and doc.date)
--     ## task-001: Title                a task section ("## Task 3: ..." is task "3")
--     ## Orchestrator Performance       a heading without ':' is a general section
--     Rating: 4/5                       1..5, once per task section
--     ✅ what went well                 ⚠️ what to improve (list markers "- " allowed)
--     Action: text                      default scope: the task's module, else its
--     Action (module: auth): text       type, else global; or named: global,
--                                       module: NAME, type: NAME, task: ID
--   Any other line is free text, kept in the file and not read.
-- M.parse(text, file, opts) -> doc | nil, err     (opts.max_bytes, default 1 MB)
--   doc = {file=, title=, date=, sections={ {id=, title=, line=, rating=,
--          went_well={...}, to_improve={...}, actions={ {text=, scope=, value=, line=} }} }}
--   err = {code=, message="file:line: Field: ...", file=, line=, field=}
--   (lib/feedback_md's, the parser)
-- M.parse_instructions, render_instructions, new_instructions: lib/instructions_md's.
-- M.absorb(instructions, doc, date [, tasks]) -> instructions, added
-- M.applicable(instructions, task) -> { item, ... }
-- M.for_day(cfg, date [, opts]) -> instructions | nil, err   (reads and writes files)
-- Everything but for_day is pure: text in, tables out; linear time.
local M = {}

local errors = require("orch.errors")
local imd = require("lib.instructions_md")
local feedback_md = require("lib.feedback_md")

local match, lower, format = string.match, string.lower, string.format
local valid_date = imd.valid_date

M.DEFAULT_MAX_BYTES = feedback_md.DEFAULT_MAX_BYTES
M.parse = feedback_md.parse
M.DEFAULT_DIR = "feedback"
M.INSTRUCTIONS_FILE = "instructions.md"
M.parse_instructions, M.render_instructions, M.new_instructions = imd.parse, imd.render, imd.new
M.parse_scope, M.valid_date = imd.parse_scope, imd.valid_date

-- tasks: a list of task records (or a map id -> task); by id as a string
local function by_id(tasks)
  local out = {}
  for k, t in pairs(tasks or {}) do
    if type(t) == "table" then out[tostring(t.id ~= nil and t.id or k)] = t end
  end
  return out
end

-- The scope an Action without one gets: its task's module, else its type, else global.
local function default_scope(t)
  if t and type(t.module) == "string" and t.module ~= "" then return "module", lower(t.module) end
  if t and type(t.type) == "string" and t.type ~= "" then return "type", lower(t.type) end
  return "global"
end

-- absorb(instructions, doc, date [, tasks]) -> instructions, added: the doc's
-- Actions join the instructions (in place), except those already there in the
-- same scope (compared ignoring case, spacing and a final '.'); date is marked absorbed.
function M.absorb(instr, doc, date, tasks)
  local known, ids, added = {}, by_id(tasks), 0
  for _, it in ipairs(instr.items) do known[imd.key(it)] = true end
  for _, s in ipairs(doc.sections) do
    for _, a in ipairs(s.actions) do
      local scope, value = a.scope, a.value
      if not scope then
        if s.id then scope, value = default_scope(ids[s.id]) else scope = "global" end
      end
      local item = { text = a.text, scope = scope, value = value,
        source = format("%s:%d", doc.file, a.line), date = date }
      local k = imd.key(item)
      if not known[k] then
        known[k] = true
        instr.items[#instr.items + 1] = item
        added = added + 1
      end
    end
  end
  imd.mark_absorbed(instr, date)
  return instr, added
end

-- applicable(instructions, task) -> the items for this task: global ones, then
-- its module's (a task without a module: its type's), its type's and its id's;
-- each text once.
function M.applicable(instr, t)
  local module = type(t.module) == "string" and t.module ~= "" and t.module or t.type
  local want = { global = { [""] = true },
    module = { [lower(tostring(module or ""))] = module ~= nil },
    type = { [lower(tostring(t.type or ""))] = t.type ~= nil },
    task = { [tostring(t.id)] = t.id ~= nil } }
  local out, seen = {}, {}
  for _, scope in ipairs(imd.SCOPE_ORDER) do
    for _, it in ipairs(instr and instr.items or {}) do
      if it.scope == scope and want[scope][it.value or ""] then
        local k = imd.norm(it.text)
        if not seen[k] then seen[k] = true out[#out + 1] = it end
      end
    end
  end
  return out
end

-- The tasks of a past day for default scopes: its day file in any of the
-- three formats (lib/session's day_file names), then the task files of that
-- day's stored sessions, newest first (a file not named by its date: a team
-- day's tasks/tasks.json, a REST list; a session's day is its file's date,
-- else the day it started, as the report files it): the first task of each id
M.SESSIONS_LOOKED = 200
local function session_day(row)
  if valid_date(row.date) then return row.date end
  return row.started_at and os.date("%Y-%m-%d", math.floor(tonumber(row.started_at) or 0)) or nil
end
local function day_tasks(cfg, date)
  local S = require("lib.session")
  local files, seen = {}, {}
  local function add(f)
    if type(f) == "string" and not seen[f] then seen[f], files[#files + 1] = true, f end
  end
  add(S.day_file(cfg.paths and cfg.paths.tasks_dir or "tasks", date))
  local okl, rows = pcall(orch.list_sessions, M.SESSIONS_LOOKED)  -- none before the first run (check)
  for _, row in ipairs(okl and rows or {}) do
    if row.kind ~= "inbox" and session_day(row) == date then add(row.task_file) end
  end
  local out, ids = {}, {}
  for _, file in ipairs(files) do
    local doc = require("lib.tasks").load(file)
    for _, t in ipairs(doc and doc.tasks or {}) do
      local id = tostring(t.id)
      if not ids[id] then ids[id], out[#out + 1] = true, t end
    end
  end
  return #out > 0 and out or nil
end

-- for_day(cfg, date [, opts]) -> instructions | nil, err: reads
-- <paths.feedback_dir>/instructions.md, absorbs every YYYY-MM-DD.md there dated
-- before `date` and not absorbed yet (oldest first), and writes the file back
-- (atomically) when any was. A feedback file that does not read or parse is
-- left out, not absorbed (read again once it is fixed), and listed in
-- instructions.unread = { {file=, error=} }: the others and the file's
-- instructions apply. A bad instructions.md stops it with its error.
-- opts.tasks_for(date) -> tasks of that day (default: day_tasks');
-- opts.write = false: absorbed in memory only (`orch-host check`).
function M.for_day(cfg, date, opts)
  opts = opts or {}
  if not valid_date(date) then
    return nil, errors.new("bad_date", format("feedback.for_day: date %q is not YYYY-MM-DD", tostring(date)))
  end
  local dir = cfg.paths and cfg.paths.feedback_dir or M.DEFAULT_DIR
  local path = dir .. "/" .. M.INSTRUCTIONS_FILE
  local text, err = orch.read_file(path, M.DEFAULT_MAX_BYTES)
  local instr
  if text then
    instr, err = imd.parse(text, path)
    if not instr then return nil, err end
  elseif err.code == "not_found" then
    instr = imd.new()
  else
    return nil, err
  end
  local names, lerr = orch.list_dir(dir)
  if not names then
    if lerr.code == "not_found" then return instr end
    return nil, lerr
  end
  local done, due = {}, {}
  for _, d in ipairs(instr.absorbed) do done[d] = true end
  for _, name in ipairs(names) do
    local d = match(name, "^(%d%d%d%d%-%d%d%-%d%d)%.md$")
    if d and d < date and not done[d] and valid_date(d) then due[#due + 1] = d end
  end
  if #due == 0 then return instr end
  table.sort(due)
  for _, d in ipairs(due) do
    local file = dir .. "/" .. d .. ".md"
    local ftext, ferr = orch.read_file(file, M.DEFAULT_MAX_BYTES)
    local doc, perr
    if ftext then doc, perr = M.parse(ftext, file) end
    if doc then
      local tasks
      if opts.tasks_for then tasks = opts.tasks_for(d) else tasks = day_tasks(cfg, d) end
      M.absorb(instr, doc, d, tasks)
    else  -- this file only: not absorbed (read again once it is fixed), the rest apply
      instr.unread = instr.unread or {}
      instr.unread[#instr.unread + 1] = { file = file, error = tostring(ferr or perr) }
    end
  end
  if opts.write == false then return instr end
  local ok, werr = orch.write_file(path, imd.render(instr))
  if not ok then return nil, werr end
  return instr
end

return M
