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
-- Its parts, installed into this table (callers use lib.artifacts alone):
-- lib/artifacts_result (M.result, M.iso) and lib/artifacts_schema (M.schema,
-- M.validate).
local fmt = require("lib.format")
local json_schema = require("lib.json_schema")
local errors = require("orch.errors")

local M = {}

M.SCHEMA = "docs/schema/task-result.schema.json"  -- under orch.root, else the shipped tree (M.schema)
M.SCHEMA_VERSION = 1
M.RESULT_SUFFIX, M.SUMMARY_SUFFIX = "_result.json", "_summary.txt"
M.MAX_NAME = 243  -- bytes: <name>_result.json stays within a file name's 255

local format, floor = string.format, math.floor
local null = orch.json.null

function M.name(t)
  return tostring(type(t.inbox) == "table" and t.inbox.name or t.id)
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

-- the result table (M.result, M.iso): its own file, the same table
require("lib.artifacts_result").install(M, summary_path)


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

-- the schema and the files' check (M.schema, M.validate): their own file, the same table
require("lib.artifacts_schema").install(M)


return M
