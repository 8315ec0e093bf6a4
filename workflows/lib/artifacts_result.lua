-- artifacts_result: the result table of a finished inbox task, following
-- docs/schema/task-result.schema.json (every property always there, null
-- where not known): lib/artifacts', installed into its table (callers use
-- lib.artifacts). Policy: edit freely (the schema follows what result() builds).
--
-- M.result(t, info [, summary_file]) -> the result table (orch.json.null for
--     nulls) | nil, err (a task that has not finished has no result); t and
--     info as lib/artifacts says
-- M.iso(epoch) -> "2026-12-01T09:30:00.250Z" | null
-- M.OUTPUT_CHARS: of a failed command's output, its end, in its criterion
-- install(M, summary_path): summary_path(cfg, name), lib/artifacts', the
-- summary file's path the result names
local S = require("lib.session")
local errors = require("orch.errors")

local format, floor = string.format, math.floor
local null = orch.json.null

return { install = function(M, summary_path)

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

end }
