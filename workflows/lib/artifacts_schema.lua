-- artifacts_schema: the result schema and the check of result files
-- (lib/artifacts', installed into its table: callers use lib.artifacts).
-- Policy: edit freely.
--
-- M.schema() -> the schema (decoded once), its path | nil, err
-- M.validate(path_or_dir) -> { {file=, pointer=, message=}... }, the files
--     checked (lib/artifacts says more of both)
local json_schema = require("lib.json_schema")
local acceptance = require("lib.acceptance")
local errors = require("orch.errors")

local format = string.format

return { install = function(M)

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

end }
