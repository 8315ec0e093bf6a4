-- artifacts_cli: the maintenance commands of the inbox's artifacts
-- (lib/artifacts), called by host/cli/artifacts.cpp. Each returns
-- {exit=, out= (stdout, as it is), err= (stderr, after "orch-host CMD: ")}.
--   validate{path=, shown=}: `orch-host validate-artifacts [DIR|FILE]`: every
--     *_result.json of paths.results_dir (or DIR, or the one FILE) against
--     docs/schema/task-result.schema.json; a line `FILE: POINTER: MESSAGE`
--     per violation (`FILE: not JSON: ...` for one that does not decode,
--     `FILE: a symlink to ..., outside the folder ...: not read` for one out of its folder),
--     then a count line. Exit 0: all valid (or none; paths.results_dir may
--     not exist yet); 1: one is not; 2: no such DIR or FILE, or the schema
--     cannot be read.
--   clean{days=, dry_run=, force=}: `orch-host clean artifacts --days N
--     [--dry-run]`: removes the *_result.json of paths.results_dir and the
--     *_summary.txt of paths.summaries_dir last modified more than N days
--     ago (nothing else there: the reports stay), a line per file removed
--     (with --dry-run: that would be) and a count. N: a whole number >= 1,
--     else exit 2. A file that cannot be removed: named on stderr, exit 1.
-- Policy: edit freely.
local artifacts = require("lib.artifacts")

local M = {}

local EXIT = { ok = 0, invalid = 1, bad_input = 2 }
M.DAY = 86400

local format, concat = string.format, table.concat

local plural = require("lib.format").plural

function M.validate(req)
  local path = req.path or orch.config.paths.results_dir
  local shown = req.shown or path
  local info = orch.file_info(path)
  if not info and not req.path then  -- nothing has written a result yet
    return { exit = EXIT.ok, out = format("no *%s in %s (it does not exist yet)\n", artifacts.RESULT_SUFFIX, shown) }
  end
  if not info or (info.type ~= "dir" and info.type ~= "file") then
    return { exit = EXIT.bad_input, err = format("%s: no such folder or file (the results are in %s)", shown,
      orch.config.paths.results_dir) }
  end
  local schema, serr = artifacts.schema()
  if not schema then return { exit = EXIT.bad_input, err = "cannot use the schema: " .. tostring(serr) } end
  local found, n = artifacts.validate(path)
  local lines, bad = {}, {}
  for _, v in ipairs(found) do
    local file = v.file
    if info.type == "dir" and file:sub(1, #path + 1) == path .. "/" then file = shown .. file:sub(#path + 1) end
    if info.type == "file" then file = shown end
    bad[file] = true
    lines[#lines + 1] = v.pointer and format("%s: %s: %s", file, v.pointer == "" and "(root)" or v.pointer, v.message)
      or format("%s: %s", file, v.message)
  end
  local invalid = 0
  for _ in pairs(bad) do invalid = invalid + 1 end
  if n == 0 then
    lines[#lines + 1] = format("no *%s in %s", artifacts.RESULT_SUFFIX, shown)
  elseif invalid == 0 then
    lines[#lines + 1] = format("%s checked against %s: all valid", plural(n, "result"), artifacts.SCHEMA)
  else
    lines[#lines + 1] = format("%s checked against %s: %d invalid (%s)", plural(n, "result"), artifacts.SCHEMA,
      invalid, plural(#found, "violation"))
  end
  return { exit = invalid == 0 and EXIT.ok or EXIT.invalid, out = concat(lines, "\n") .. "\n" }
end

local function suffix(s, x) return #s > #x and s:sub(-#x) == x end

-- days(value, what) -> N | nil, the error: clean's --days N (a whole number
-- >= 1; what: what is removed, for the message when it is missing). Also
-- lib/agents_clean's.
function M.days(value, what)
  if value == nil or value == "" or value == true or value == false then
    return nil, "--days N is needed: " .. what .. " older than N days are removed"
  end
  local n = tostring(value):match("^%d+$") and tonumber(value)
  if not n or n < 1 then
    return nil, format("--days must be a whole number of days, 1 or more, got '%s'", tostring(value))
  end
  return n
end

-- clean{days=, dry_run=}: the results and summaries older than N days. A
-- task's pair (NAME_result.json, NAME_summary.txt) goes or stays together,
-- by the newer of its two files: a summary is never left without its result,
-- nor a result without its summary
function M.clean(req)
  local n, derr = M.days(req.days, "results and summaries")
  if not n then return { exit = EXIT.bad_input, err = derr } end
  local cutoff = orch.now() - n * M.DAY
  local paths = orch.config.paths
  local lines, errs, count = {}, {}, 0
  local verb = req.dry_run and "would remove" or "removed"
  local files, newest = {}, {}  -- the artifacts in folder order; name -> its pair's newest mtime
  for _, place in ipairs({ { paths.results_dir, artifacts.RESULT_SUFFIX },
                           { paths.summaries_dir, artifacts.SUMMARY_SUFFIX } }) do
    local dir, ending = place[1], place[2]
    for _, name in ipairs(orch.list_dir(dir) or {}) do
      local p = dir .. "/" .. name
      local info = suffix(name, ending) and orch.file_info(p)
      if info and info.type == "file" then
        local key = name:sub(1, -#ending - 1)
        files[#files + 1] = { path = p, key = key }
        newest[key] = math.max(newest[key] or 0, info.mtime)
      end
    end
  end
  for _, f in ipairs(files) do
    if newest[f.key] < cutoff then
      local ok, err = true, nil
      if not req.dry_run then ok, err = orch.remove_file(f.path) end
      if ok then
        count = count + 1
        lines[#lines + 1] = verb .. " " .. f.path
      else
        errs[#errs + 1] = "cannot remove " .. tostring(err)
      end
    end
  end
  local what = format("older than %s (in %s, %s)", plural(n, "day"), paths.results_dir, paths.summaries_dir)
  if count == 0 and #errs == 0 then
    lines[#lines + 1] = "nothing " .. what
  else
    lines[#lines + 1] = format("%s %s %s%s", verb, plural(count, "file"), what,
      req.dry_run and "; --dry-run: nothing removed" or "")
  end
  return { exit = #errs > 0 and EXIT.invalid or EXIT.ok, out = concat(lines, "\n") .. "\n",
    err = #errs > 0 and concat(errs, "\n") or nil }
end

return M
