-- inbox_files: the inbox's task files in their folder, and their moves to
-- processed/ and failed/ (lib/inbox_queue after a run, `orch-host clean
-- tasks`).
--
-- M.SUFFIX, M.is_task_file(name) -> a task file's name (not hidden, no "/")
-- M.move(dir, name, sub [, reason [, made]]) -> dest | nil, "gone" | nil, err
--   moves dir/name into dir/sub (made when missing; again when it was removed
--   meanwhile), never over an earlier file of that name: the name gets a
--   number before .task.md (x.1.task.md, x.2.task.md, ...). With reason, the
--   text goes to `<dest>.reason` beside it, and a name whose reason file is
--   taken is skipped too; a name too long for its reason's is cut to fit. A symlink is moved itself (rename(2)), never
--   followed, except one resolving inside dir that no longer resolves from
--   its new place (a relative target, ln -s sub/t.md): the text it led to
--   takes its place, so what ran is still there to read; a subfolder that
--   is a symlink out of dir is refused. "gone":
--   the file vanished first. made: a table remembering the
--   subfolders made. A reason that cannot be written (or a symlink's text not
--   copied) is the third value, a text naming its file.
-- M.archive(dir, name, sub, reason, made, log) -> dest | nil
--   move, logging a vanished file (info) or a failed move (error)
-- M.reason(message, status, now) -> "<message>\n<status> at <UTC time>\n"
local errors = require("orch.errors")
local within = require("lib.acceptance").within

local M = {}

M.SUFFIX = ".task.md"
local NAME_MAX = 255  -- bytes of a file name (Linux's NAME_MAX)

function M.is_task_file(name)
  return type(name) == "string" and #name > #M.SUFFIX and name:sub(-#M.SUFFIX) == M.SUFFIX
    and name:sub(1, 1) ~= "." and not name:find("/", 1, true)
end

function M.reason(message, status, now)
  return string.format("%s\n%s at %s\n", message, status, os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(now)))
end

-- dir/sub, made when missing; a symlink there that resolves out of dir is
-- refused (nothing moves through it)
local function subdir(dir, sub, made, again)
  local path = dir .. "/" .. sub
  if again or not made[sub] then
    local ok, err = orch.make_dir(path)
    if not ok then return nil, err end
    local info, top = orch.file_info(path), orch.file_info(dir)
    if info and info.link and info.real and top and top.real and not within(info.real, top.real) then
      return nil, errors.new("outside", string.format("%s is a symlink to %s, out of %s: nothing moves into it",
        path, info.real, top.real))
    end
    made[sub] = true
  end
  return path
end

-- the file symlink src leads to, when it is one that resolves inside dir
local function link_inside(dir, src)
  local info, top = orch.file_info(src), orch.file_info(dir)
  if info and info.link and info.real and top and top.real and within(info.real, top.real) then return info.real end
end

-- dest, a symlink moved there from src that led to file real: its text in
-- its place when it no longer resolves (a relative target) -> true | nil, err
local function keep_resolving(dest, real)
  if not real or orch.file_info(dest) then return true end
  local text, err = orch.read_file(real)
  if not text then return nil, err end
  return orch.write_file(dest, text)  -- atomic: the dangling link is replaced, never followed
end

function M.move(dir, name, sub, reason, made)
  made = made or {}
  local to, derr = subdir(dir, sub, made)
  if not to then return nil, derr end
  local src = dir .. "/" .. name
  local real = link_inside(dir, src)
  local stem, ext = name, ""
  if name:sub(-#M.SUFFIX) == M.SUFFIX then stem, ext = name:sub(1, -#M.SUFFIX - 1), M.SUFFIX end
  local n, remade = 0, false
  while true do
    local num = n == 0 and "" or ("." .. n)
    -- with a reason beside it, both must fit a file name (255 bytes): a
    -- longer stem is cut
    local keep = reason and (NAME_MAX - #".reason" - #num - #ext) or #stem
    local dest = to .. "/" .. ((n == 0 and keep >= #stem) and name or (stem:sub(1, keep) .. num .. ext))
    if not (reason and orch.file_info(dest .. ".reason")) then
      local ok, err = orch.rename(src, dest, { replace = false })
      if ok then
        local lok, lerr = keep_resolving(dest, real)
        if not lok then
          lerr = dest .. ": a dangling symlink, the text of " .. real .. " not copied: " .. tostring(lerr)
        end
        if not reason then return dest, nil, lerr end
        local wok, werr = orch.write_file(dest .. ".reason", reason)
        return dest, nil, (not wok and (dest .. ".reason: " .. tostring(werr))) or lerr
      end
      local code = type(err) == "table" and err.code
      if code == "not_found" then
        if remade then return nil, "gone" end
        remade = true                          -- the subfolder may have been removed: make it again
        to, derr = subdir(dir, sub, made, true)
        if not to then return nil, derr end
        n = n - 1
      elseif code ~= "exists" then
        return nil, err
      end
    end
    n = n + 1
  end
end

function M.archive(dir, name, sub, reason, made, log)
  local dest, err, rerr = M.move(dir, name, sub, reason, made)
  local path = dir .. "/" .. name
  if err == "gone" then
    log("info", "inbox: " .. path .. " vanished before it could move to " .. sub .. "/")
  elseif not dest then
    log("error", "inbox: " .. path .. " could not move to " .. sub .. "/: " .. tostring(err))
  elseif rerr then
    log("error", "inbox: " .. tostring(rerr))
  end
  return dest, err
end

return M
