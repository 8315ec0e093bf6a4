-- artifacts: what an inbox task leaves behind after its run, beside its task
-- file moving to processed/ or failed/:
--   results/<name>_result.json    (paths.results_dir) the task's result,
--       following docs/schema/task-result.schema.json (every property always
--       there, null where not known)
--   summaries/<name>_summary.txt  (paths.summaries_dir) a header line (the
--       task, its status, its cost, what made the summary), then the summary
-- <name> is the task file's name without .task.md (t.inbox.name), else the
-- task id; a later version of the task (info.version, 2, 3, ...: its file
-- edited after it ran) is <name>-<version> when <name>'s result is there (an
-- earlier version's), so the earlier run's stay.
-- Policy: edit freely (the schema follows what result() builds).
--
-- M.result(t, info) -> the result table (orch.json.null for nulls) | nil, err
--     (a task that has not finished has no result)
-- M.write(cfg, t, info) -> { result = path, summary = path } | nil, err
--     Both files or neither: each is written atomically (orch.write_file),
--     the summary first; when either fails (a full disk) both are removed,
--     so no half-written file and no stale one from an earlier run of the
--     same name is left, and err names the path. The result follows the
--     schema by construction (result() never gives a value the schema
--     refuses; tests/lua/artifacts_spec checks each kind of task, odd fields
--     too), so it is not checked again here: `orch-host validate-artifacts`
--     and M.validate check the files.
-- M.validate(path_or_dir) -> { {file=, pointer=, message=}... } (empty: valid)
--     every *_result.json of a folder, or one file, against the schema; a
--     file that cannot be read or is not JSON is one entry (pointer nil), and
--     so is one that resolves out of its folder (a symlink): it is not read
-- M.schema() -> the schema (decoded once), its path | nil, err
--     M.SCHEMA under the project (orch.root), else the one shipped beside the
--     orch scripts this host loads (the source tree the binary was built
--     from, when the project has no scripts/ of its own), as those scripts
--     are found; err names both places when neither has it
-- t: the finished session task (lib/session): status, agent_runs and
-- first_started_at (else started_at and attempts), completed_at, cost_usd, tokens (a number, or a usage table
-- {input_tokens=, output_tokens=, cache_read_input_tokens=,
-- cache_creation_input_tokens=}; t.usage, when kept, gives the parts),
-- attempts, result, error, claude_session, num_turns, files_touched,
-- files_changed / changes / changes_error (lib/workspaces after),
-- deliverables, deliverables_missing, verify_results (lib/acceptance), inbox
-- (lib/inbox_task). info = { summary = {text=, via=, model=}, parsed_by =
-- "ollama"|"plain"|"file" (default "file"), session = id, version = n (default 1) }.
local S = require("lib.session")
local fmt = require("lib.format")
local json_schema = require("lib.json_schema")
local acceptance = require("lib.acceptance")
local errors = require("orch.errors")

local M = {}

M.SCHEMA = "docs/schema/task-result.schema.json"  -- under orch.root, else the shipped tree (M.schema)
M.SCHEMA_VERSION = 1
M.RESULT_SUFFIX, M.SUMMARY_SUFFIX = "_result.json", "_summary.txt"
M.MAX_NAME = 243  -- bytes: <name>_result.json stays within a file name's 255

local format, floor = string.format, math.floor
local null = orch.json.null

local function array(t) return orch.json.array(t or {}) end
local function list(v) return type(v) == "table" and v or {} end
local function text(v) return (type(v) == "string" and v ~= "") and v or null end
local function count(v)
  v = tonumber(v)
  if not v or v ~= v or v < 0 or v == math.huge then return null end
  return floor(v)
end

-- a cost: a finite number >= 0, else 0
local function money(v)
  v = tonumber(v)
  if not v or v ~= v or v < 0 or v == math.huge then return 0 end
  return v
end

-- iso(epoch) -> "2026-12-01T09:30:00.250Z" | null
function M.iso(epoch)
  epoch = tonumber(epoch)
  if not epoch or epoch <= 0 then return null end
  local secs = floor(epoch)
  return os.date("!%Y-%m-%dT%H:%M:%S", secs) .. format(".%03dZ", floor((epoch - secs) * 1000))
end

function M.name(t)
  return tostring(type(t.inbox) == "table" and t.inbox.name or t.id)
end

local function tokens(t)
  local usage = type(t.usage) == "table" and t.usage or type(t.tokens) == "table" and t.tokens or nil
  local total = type(t.tokens) == "table" and S.tokens(t.tokens) or tonumber(t.tokens) or S.tokens(usage)
  usage = usage or {}
  total = count(total)
  return { total = total ~= null and total or 0, input = count(usage.input_tokens),
    output = count(usage.output_tokens), cache_read = count(usage.cache_read_input_tokens),
    cache_creation = count(usage.cache_creation_input_tokens) }
end

-- the agent's own list, then what its worktree changed; each path once
local function files_touched(t)
  local out, seen = array(), {}
  for _, from in ipairs({ list(t.files_touched), list(t.files_changed) }) do
    for _, p in ipairs(from) do
      if type(p) == "string" and p ~= "" and not seen[p] then seen[p], out[#out + 1] = true, p end
    end
  end
  return out
end

local function diff(t)
  local ch = type(t.changes) == "table" and t.changes or nil
  if not ch and t.changes_error == nil and type(t.files_changed) ~= "table" then return null end
  local files = array()
  if ch then
    for _, f in ipairs(list(ch.files)) do
      if type(f) == "table" and type(f.path) == "string" and f.path ~= "" then
        files[#files + 1] = { path = f.path, added = count(f.added), removed = count(f.removed),
          binary = f.binary == true }
      end
    end
  else
    for _, p in ipairs(list(t.files_changed)) do
      if type(p) == "string" and p ~= "" then
        files[#files + 1] = { path = p, added = null, removed = null, binary = false }
      end
    end
  end
  return { files = files, stat = text(ch and ch.stat or t.diff_stat), error = text(t.changes_error) }
end

-- lib/inbox_task's criteria, each with what lib/acceptance found: a
-- command's verify result (same command), a path's deliverables_missing
M.OUTPUT_CHARS = 1000  -- of a failed command's output, its end, in its criterion

-- the end of a failed command's output, at most M.OUTPUT_CHARS bytes (on a
-- UTF-8 boundary) | null
local function output_tail(s)
  if type(s) ~= "string" or s == "" then return null end
  if #s <= M.OUTPUT_CHARS then return s end
  local i = #s - M.OUTPUT_CHARS + 1
  while i <= #s and s:byte(i) >= 0x80 and s:byte(i) < 0xC0 do i = i + 1 end  -- not inside a character
  return "..." .. s:sub(i)
end

local function criteria(t)
  local ran, failed = {}, {}
  for _, r in ipairs(list(t.verify_results)) do
    -- a command given twice passes when every run of it did; its first failed run says why
    if type(r) == "table" and r.cmd ~= nil then
      ran[r.cmd] = ran[r.cmd] ~= false and r.ok == true
      if r.ok ~= true and not failed[r.cmd] then failed[r.cmd] = r end
    end
  end
  local looked = type(t.deliverables_missing) == "table"
  local wanted, missing = {}, {}
  for _, p in ipairs(list(t.deliverables)) do wanted[p] = true end
  for _, p in ipairs(list(t.deliverables_missing)) do missing[p] = true end
  local given = type(t.inbox) == "table" and t.inbox.success_criteria
  local out = array()
  if type(given) ~= "table" then  -- no inbox criteria: the task model's, as text only
    given = {}
    for i, c in ipairs(list(t.acceptance_criteria)) do given[i] = { text = tostring(c) } end
  end
  for _, c in ipairs(list(given)) do
    if type(c) ~= "table" then c = { text = tostring(c) } end
    local cmd, path = text(c.command), text(c.path)
    local checked, passed = false, true
    if cmd ~= null and ran[cmd] ~= nil then checked, passed = true, passed and ran[cmd] end
    if path ~= null and looked and (t.deliverables == nil or wanted[path]) then
      checked, passed = true, passed and not missing[path]
    end
    if not checked then passed = null end
    local e = { text = tostring(c.text or ""), done = c.done == true, command = cmd, path = path,
      checked = checked, passed = passed }
    local f = cmd ~= null and failed[cmd]
    if f then  -- why it failed: its exit code (null: it timed out or could not start) and its output's end
      e.exit_code, e.output = count(f.exit_code), output_tail(f.output)
    end
    out[#out + 1] = e
  end
  return out
end

-- (a cfg without the folders: their defaults)
local function summary_path(cfg, name)
  return (cfg.paths and cfg.paths.summaries_dir or "summaries") .. "/" .. name .. M.SUMMARY_SUFFIX
end
local function result_path(cfg, name)
  return (cfg.paths and cfg.paths.results_dir or "results") .. "/" .. name .. M.RESULT_SUFFIX
end

-- the task file's id of the result at name in cfg's folders, false when none is there
local function owner(cfg, name)
  local body = orch.read_file(result_path(cfg, name))
  if not body then return false end
  local r = orch.json.decode(body)
  return type(r) == "table" and tostring(r.task_id) or ""
end

-- fit(name, tail) -> name .. tail, within M.MAX_NAME bytes: a name too long
-- for its tail (a version's "-100", a clash's ".2") is cut on a UTF-8 boundary
-- and marked "~" and the first 8 hex digits of the whole name's sha256, so two
-- long names that start alike stay apart; the tail is kept whole
function M.fit(name, tail)
  if #name + #tail <= M.MAX_NAME then return name .. tail end
  local mark = "~" .. orch.sha256(name):sub(1, 8)
  return fmt.cut_bytes(name, M.MAX_NAME - #tail - #mark) .. mark .. tail
end

-- the name its files take in cfg's folders: M.name, with "-<version>" for a
-- later version (info.version) when M.name's result is there already; a name
-- another task file's result holds (one named like a later version,
-- a-3.task.md beside a's third) is not taken: ".2", ".3", ... after it. Each
-- made to fit (M.fit): a name near the limit with its tail is cut, not refused
function M.file_name(cfg, t, info)
  local v, name = tonumber(info and info.version), M.name(t)
  local tail = ""
  if v and v > 1 and orch.file_info(result_path(cfg, M.fit(name, ""))) then tail = "-" .. floor(v) end
  local id = tostring(type(t.inbox) == "table" and t.inbox.id or t.id)
  for k = 1, 1000 do
    local try = M.fit(name, k == 1 and tail or (tail .. "." .. k))
    local who = owner(cfg, try)
    if not who or who == id then return try end
  end
  return M.fit(name, tail)  -- (a thousand others: M.write's own check names the clash)
end

-- result(t, info [, summary_file]) -> the result table | nil, err
function M.result(t, info, summary_file)
  info = info or {}
  if not S.FINISHED[t.status] then
    return nil, errors.new("unfinished", format("task %s: status %s has no result (not finished)", tostring(t.id),
      tostring(t.status)))
  end
  local inbox = type(t.inbox) == "table" and t.inbox or {}
  local sum = type(info.summary) == "table" and info.summary or {}
  -- its agent's runs and first start (lib/session agent_started_fields); a
  -- task without the count (built by hand, stored by an older host) has its
  -- last run's start and its retries' count
  local runs = count(t.agent_runs)
  local started = tonumber(runs == null and t.started_at or t.first_started_at)
  local completed = tonumber(t.completed_at)
  if started and started <= 0 then started = nil end
  if completed and completed <= 0 then completed = nil end
  local name = M.name(t)
  return {
    schema_version = M.SCHEMA_VERSION,
    -- the task file's id: a session's row of a later version of it is "id-2"
    task_id = tostring(inbox.id or t.id), name = name, title = text(t.title), type = text(t.type),
    priority = (t.priority == "high" or t.priority == "medium" or t.priority == "low") and t.priority or null,
    source_file = text(inbox.file), session = text(info.session or t.session),
    status = t.status,
    started_at = M.iso(started), completed_at = M.iso(completed),
    duration_s = (started and completed and completed >= started) and S.task_time(t) or null,
    cost_usd = money(t.cost_usd),
    tokens = tokens(t),
    attempts = runs ~= null and runs
      or (type(count(t.attempts)) == "number" and count(t.attempts) or (started and 1 or 0)),
    result = text(t.result),
    files_touched = files_touched(t),
    diff = diff(t),
    success_criteria = criteria(t),
    error = (type(t.error) == "string" or type(t.error) == "table") and text(tostring(t.error)) or null,
    parsed_by = (info.parsed_by == "ollama" or info.parsed_by == "plain") and info.parsed_by or "file",
    summary = { path = summary_file or summary_path(orch.config or {}, M.file_name(orch.config or {}, t, info)),
      via = sum.via == "ollama" and "ollama" or "plain", model = text(sum.model),
      -- why the plain summary (lib/summarize's reason: the model off, down, slow, its answer refused)
      fallback = sum.via ~= "ollama" and text(sum.fallback) or null },
    claude = { session_id = text(t.claude_session), num_turns = count(t.num_turns) },
  }
end

-- the folder holding the orch scripts this host loads (scripts/orch/init.lua
-- on package.path): the project's own, else the source tree's
local function shipped_root()
  local init = package.searchpath("orch.init", package.path)
  return init and init:match("^(.*)/scripts/orch/init%.lua$")
end

local schema_cache, schema_file
function M.schema()
  if schema_cache then return schema_cache, schema_file end
  local path = orch.root .. "/" .. M.SCHEMA
  if not orch.file_info(path) then
    local shipped = shipped_root()
    local there = shipped and shipped ~= orch.root and shipped .. "/" .. M.SCHEMA
    if not (there and orch.file_info(there)) then
      return nil, errors.new("schema", format("%s is missing: not in the project (%s)%s", M.SCHEMA, orch.root,
        there and (" nor in " .. shipped) or ""))
    end
    path = there
  end
  local body, err = orch.read_file(path)
  if not body then return nil, err end
  local s, derr = orch.json.decode(body, { nulls = true })
  if s == nil then return nil, errors.new("schema", path .. ": not JSON: " .. tostring(derr)) end
  local ok, cerr = errors.catch(json_schema.check_schema, s)
  if not ok then return nil, errors.new("schema", path .. ": " .. tostring(cerr)) end
  schema_cache, schema_file = s, path
  return s, path
end

-- "task ID[ (NAME)][ 'TITLE']: STATUS, cost $X, summary by VIA[ (MODEL)]"
local function summary_text(r, sum)
  local who = r.task_id .. (r.name ~= r.task_id and (" (" .. r.name .. ")") or "")
    .. (r.title ~= null and (" '" .. r.title:gsub("%c", " ") .. "'") or "")
  local head = format("task %s: %s, cost %s, summary by %s%s", who, r.status, fmt.money(r.cost_usd),
    r.summary.via, r.summary.model ~= null and (" (" .. r.summary.model .. ")") or "")
  -- the model's (or the result's) text shown as printable: the file is read on terminals
  local body = type(sum.text) == "string" and fmt.printable(sum.text) or ""
  return head .. "\n\n" .. body .. (body:sub(-1) == "\n" and "" or "\n")
end

local function fail(paths, path, err)
  for _, p in ipairs(paths) do orch.remove_file(p) end
  local message = tostring(err)  -- orch.write_file's names the file already
  if not message:find(path, 1, true) then message = path .. ": " .. message end
  return nil, errors.new("artifact", message, { path = path })
end

local OFF_LOOP = { off_loop = true }  -- the fsyncs on the writer thread; the task waits, the loop goes on
function M.write(cfg, t, info)
  info = info or {}
  local name = M.file_name(cfg, t, info)
  if name == "" or name == "." or name == ".." or name:find("/", 1, true) or #name > M.MAX_NAME then
    return nil, errors.new("artifact", format("task %s: %q cannot name an artifact file", tostring(t.id), name))
  end
  local spath, rpath = summary_path(cfg, name), result_path(cfg, name)
  local r, rerr = M.result(t, info, spath)
  if not r then return nil, rerr end
  local pair = { spath, rpath }
  local sum = type(info.summary) == "table" and info.summary or {}
  -- the result is checked against the schema before anything is written (as
  -- the file will read: encoded, then decoded), so a task is never reported
  -- done with a result validate-artifacts would refuse
  local body = orch.json.encode(r, { pretty = true }) .. "\n"
  local schema, serr = M.schema()
  if not schema then return nil, serr end
  local bad = json_schema.validate(orch.json.decode(body, { nulls = true }), schema, true)
  if #bad > 0 then
    return nil, errors.new("schema", format("%s: the result does not follow %s: %s: %s", rpath, M.SCHEMA,
      bad[1].pointer, bad[1].message), { path = rpath, violations = bad })
  end
  local ok, err = orch.write_file(spath, summary_text(r, sum), OFF_LOOP)
  if not ok then return fail(pair, spath, err) end
  ok, err = orch.write_file(rpath, body, OFF_LOOP)
  if not ok then return fail(pair, rpath, err) end
  return { result = rpath, summary = spath }
end

local function suffix(s, x) return #s > #x and s:sub(-#x) == x end

function M.validate(path)
  local schema, serr = M.schema()
  if not schema then return { { file = M.SCHEMA, message = tostring(serr) } } end
  local files = {}
  local info = orch.file_info(path)
  local dir = path  -- the folder the results are in: the one file's own
  if info and info.type == "dir" then
    for _, n in ipairs(orch.list_dir(path) or {}) do
      if suffix(n, M.RESULT_SUFFIX) then files[#files + 1] = path .. "/" .. n end
    end
  else
    files[1] = path
    dir = tostring(path):match("^(.*)/[^/]*$") or "."
  end
  local home = orch.file_info(dir)
  local out = {}
  for _, f in ipairs(files) do
    -- a result that resolves out of its folder (a symlink) is not read: its target is not a result
    local at = home and orch.file_info(f)
    local away = at and acceptance.outside(at, home)
    local body, err
    if not away then body, err = orch.read_file(at and at.real or f) end
    local v, derr
    if body then v, derr = orch.json.decode(body, { nulls = true }) end
    if away then
      out[#out + 1] = { file = f, message = away .. ": not read" }
    elseif not body then
      out[#out + 1] = { file = f, message = "cannot read: " .. tostring(err) }
    elseif v == nil then
      out[#out + 1] = { file = f, message = "not JSON: " .. tostring(derr) }
    else
      for _, p in ipairs(json_schema.validate(v, schema)) do
        out[#out + 1] = { file = f, pointer = p.pointer, message = p.message }
      end
    end
  end
  return out, #files
end

return M
