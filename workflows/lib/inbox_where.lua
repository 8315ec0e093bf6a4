-- inbox_where: the working directory a free-text request names (README,
-- "The local model (optional)"). The first "in <folder>" whose folder starts
-- with "/" (or looks like a path: ~, ./, ../, C:\) is read:
--   "in /project-name"  (one name)    -> <claude.base_cwd>/project-name, which must exist
--   "in /project-name/sub"            -> that folder of the project, when the project is there
--   "in /home/me/x"     (a full path) -> allowed only inside claude.allowed_root
--                                        (CLAUDE_ALLOWED_ROOT); refused when that is unset
--   anything else that looks like a path (~/x, ./x, ../x, C:\x, /) -> refused
-- With claude.allowed_root set, a project folder must lie inside it too.
-- Paths are compared after ".." and symlinks are resolved (realpath -e through
-- orch.exec, inside a task); outside a task (orch.exec cannot wait there) the
-- check is lexical: ".." resolved, symlinks not, and the folder must exist.
--
-- M.token(text) -> the folder as written | nil
-- M.without(text [, tok]) -> text with its "in <folder>" phrase taken out (the folder tok, M.token's)
-- M.resolve(cfg, text) -> path | false (the request names no folder) | nil, err ("cwd_refused")
local acceptance = require("lib.acceptance")

local M = {}

M.REALPATH_TIMEOUT = 10

local TAIL = "[%.,;:!%?%)%]\"'`]+$"

local function path_start(tok)
  return tok:sub(1, 1) == "/" or tok:sub(1, 1) == "~" or tok:sub(1, 2) == "./" or tok:sub(1, 3) == "../"
    or tok:match("^%a:[\\/]") ~= nil or tok:sub(1, 2) == "\\\\"
end

function M.token(text)
  text = tostring(text or "")
  local lower, from = text:lower(), 1
  while true do
    local s, e = lower:find("%f[%w]in%s+", from)
    if not s then return nil end
    local tok = text:sub(e + 1):match("^[\"'`]?(%S+)")
    if tok then
      -- a sentence's end off ("in /proj."), a path's own "/.." or "/." kept ("in /proj/..")
      local dots = tok:match("(/%.%.?)[%)%]\"'`,;:!%?]*$")
      tok = dots and (tok:gsub("[%)%]\"'`,;:!%?]+$", "")) or tok:gsub(TAIL, "")
      if path_start(tok) then return tok end
    end
    from = e + 1
  end
end

local function refuse(tok, why) return nil, orch.err("cwd_refused", "in " .. tok .. ": " .. why, { folder = tok }) end

local function absolute(p)
  if p:sub(1, 1) == "/" then return acceptance.resolve(p) end
  return acceptance.resolve(p, orch.root)
end

-- the folder with ".." and symlinks resolved | nil when it is not a folder
local function real_dir(p)
  p = absolute(p)
  if orch.task_id() then
    local r = orch.exec({ cmd = { "realpath", "-e", "--", p }, timeout = M.REALPATH_TIMEOUT })
    if not (r and r.ok) then return nil end
    p = (r.stdout:gsub("\n$", ""))
  end
  local info = orch.file_info(p)
  return info and info.type == "dir" and p or nil
end

local function inside_root(cfg, tok, dir)
  local root = (cfg.claude or {}).allowed_root or ""
  if root == "" then return dir end
  local real_root = real_dir(root)
  if not real_root then return refuse(tok, "the allowed root " .. root .. " (CLAUDE_ALLOWED_ROOT) is not a folder") end
  if not acceptance.within(dir, real_root) then
    return refuse(tok, dir .. " is outside the allowed root " .. root .. " (CLAUDE_ALLOWED_ROOT)")
  end
  return dir
end

function M.resolve(cfg, text)
  local tok = M.token(text)
  if not tok then return false end
  cfg = cfg or {}
  if tok:sub(1, 1) ~= "/" then
    return refuse(tok, "give /project-name (a folder under CLAUDE_BASE_CWD) or an absolute path inside "
      .. "CLAUDE_ALLOWED_ROOT")
  end
  local parts = {}
  for p in tok:gmatch("[^/]+") do parts[#parts + 1] = p end
  if #parts == 0 then return refuse(tok, "names no folder") end
  if #parts == 1 then
    local name = parts[1]
    if name == "." or name == ".." then return refuse(tok, "a project is a folder name under CLAUDE_BASE_CWD") end
    local base = (cfg.claude or {}).base_cwd or "."
    local dir = real_dir(absolute(base) .. "/" .. name)
    if not dir then return refuse(tok, "no folder " .. name .. " under CLAUDE_BASE_CWD (" .. absolute(base) .. ")") end
    -- a project is a folder of CLAUDE_BASE_CWD: a symlink there to elsewhere is no way out
    local real_base = real_dir(absolute(base))
    if not real_base or not acceptance.within(dir, real_base) then
      return refuse(tok, name .. " under CLAUDE_BASE_CWD (" .. absolute(base) .. ") leads to " .. dir
        .. ", outside it")
    end
    return inside_root(cfg, tok, dir)
  end
  local root = (cfg.claude or {}).allowed_root or ""
  -- /project-name/sub: a folder of a project under CLAUDE_BASE_CWD, when that project is there
  local base = absolute((cfg.claude or {}).base_cwd or ".")
  local real_base = real_dir(base)
  if real_base and parts[1] ~= ".." and parts[1] ~= "." and real_dir(base .. "/" .. parts[1]) then
    local dir = real_dir(base .. tok)
    if dir and acceptance.within(dir, real_base) then return inside_root(cfg, tok, dir) end
    if dir then return refuse(tok, tok:sub(2) .. " under CLAUDE_BASE_CWD (" .. base .. ") leads to " .. dir
      .. ", outside it") end
    if root == "" or not real_dir(tok) then
      return refuse(tok, "no folder " .. tok:sub(2) .. " under CLAUDE_BASE_CWD (" .. base .. ")")
    end
  end
  if root == "" then
    return refuse(tok, "an absolute path is allowed only inside CLAUDE_ALLOWED_ROOT (claude.allowed_root), "
      .. "which is not set")
  end
  local dir = real_dir(tok)
  if not dir then return refuse(tok, "no such folder") end
  return inside_root(cfg, tok, dir)
end

-- the text around the folder phrase, joined: "Fix the typo in /proj, then stop" -> "Fix the typo, then stop"
function M.without(text, tok)
  tok = tok or M.token(text)
  if not tok then return text end
  local a, b = text:find(tok, 1, true)
  if not a then return text end
  local left = text:sub(1, a - 1):gsub("%f[%w][Ii][Nn]%s*[\"'`]?$", ""):gsub("%s+$", "")
  local right = text:sub(b + 1):gsub("^[\"'`]", "")
  return left .. ((right:match("^[%s%p]") or right == "" or left == "") and "" or " ") .. right
end

return M
