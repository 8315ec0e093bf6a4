-- git: the git commands lib/worktree runs, each through orch.exec (so the
-- host logs, times out and stops them like any other process). Every call
-- returns its result or nil, err with err.code "git" and a message naming
-- the command, the folder and git's own first line of complaint.
-- Policy: edit freely (M.binary, M.timeout).
local M = {}

M.binary = "git"
M.timeout = 120          -- seconds per git command (push: M.push_timeout)
M.push_timeout = 600
M.max_patch = 256 * 1024 * 1024  -- a dependency's changes larger than this are refused

-- git's messages in English (they are parsed) and never a prompt for a password
local ENV = { LC_ALL = "C", GIT_TERMINAL_PROMPT = "0" }

local function first_line(s)
  s = (s or ""):gsub("^%s+", "")
  return s:match("^[^\n]*") or ""
end

local function with_env(extra)
  local env = {}
  for k, v in pairs(ENV) do env[k] = v end
  for k, v in pairs(extra or {}) do env[k] = v end
  return env
end

-- run(cwd, args [, opts]) -> {ok, code, stdout, stderr} | nil, err
-- opts: stdin=, env=, timeout=, max_output=, any_code=true (a non-zero exit
-- is returned, not an error: the caller reads r.code)
function M.run(cwd, args, opts)
  opts = opts or {}
  local cmd = { M.binary }
  for _, a in ipairs(args) do cmd[#cmd + 1] = a end
  local r, err = orch.exec({ cmd = cmd, cwd = cwd, stdin = opts.stdin, env = with_env(opts.env),
                             timeout = opts.timeout or M.timeout, max_output = opts.max_output })
  local what = "git " .. table.concat(args, " ")
  if not r then return nil, orch.err(err.code or "git", what .. " (in " .. cwd .. "): " .. tostring(err)) end
  if r.truncated then return nil, orch.err("git", what .. " (in " .. cwd .. "): its output is too large") end
  if r.ok or (opts.any_code and r.code) then return r end
  local why = r.timed_out and "timed out" or first_line(r.stderr)
  if why == "" then why = "exit " .. tostring(r.code or r.signal) end
  return nil, orch.err("git", what .. " (in " .. cwd .. "): " .. why, { stderr = r.stderr, exit = r.code })
end

-- out(cwd, args [, opts]) -> stdout without its last newline | nil, err
function M.out(cwd, args, opts)
  local r, err = M.run(cwd, args, opts)
  if not r then return nil, err end
  return (r.stdout:gsub("\n$", ""))
end

-- ignored(cwd, path) -> whether git ignores path there (.gitignore, info/exclude)
function M.ignored(cwd, path)
  local r = M.run(cwd, { "check-ignore", "-q", "--", path }, { any_code = true })
  return r ~= nil and r.code == 0
end

-- lines(text) -> the non-empty lines
function M.lines(text)
  local out = {}
  for l in (text or ""):gmatch("[^\n]+") do out[#out + 1] = l end
  return out
end

-- worktrees(repo) -> { {path=, head=, branch= (short name), detached=, locked=, prunable=}, ... }
-- (`git worktree list --porcelain`; the first is the main worktree)
function M.worktrees(repo)
  local text, err = M.out(repo, { "worktree", "list", "--porcelain" })
  if not text then return nil, err end
  local list, cur = {}, nil
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    local key, value = line:match("^(%S+) ?(.*)$")
    if key == "worktree" then
      cur = { path = value }
      list[#list + 1] = cur
    elseif cur and key == "HEAD" then cur.head = value
    elseif cur and key == "branch" then cur.branch = value:gsub("^refs/heads/", "")
    elseif cur and key == "detached" then cur.detached = true
    elseif cur and key == "bare" then cur.bare = true
    elseif cur and key == "prunable" then cur.prunable = true
    elseif cur and key == "locked" then cur.locked = true
    end
  end
  return list
end

-- valid_branch(repo, name) -> true | nil, reason   (`git check-ref-format --branch`)
function M.valid_branch(repo, name)
  if type(name) ~= "string" or name == "" or name:sub(1, 1) == "-" then
    return nil, "not a valid branch name"
  end
  local r = M.run(repo, { "check-ref-format", "--branch", name }, { any_code = true })
  if r and r.code == 0 then return true end
  return nil, "not a valid branch name (git check-ref-format --branch refuses it)"
end

-- add_all(worktree, exclude [, env]) -> true | nil, err: stages every change
-- (new files too) but the paths in `exclude` (those keep HEAD's version)
function M.add_all(worktree, exclude, env)
  local ok, err = M.run(worktree, { "add", "-A", "--", "." }, { env = env })
  if ok and exclude and #exclude > 0 then
    local reset = { "reset", "-q", "--" }
    for _, p in ipairs(exclude) do reset[#reset + 1] = p end
    ok, err = M.run(worktree, reset, { env = env })
  end
  return ok and true, err
end

-- snapshot(worktree, exclude) -> tree id | nil, err
-- The tree of everything in the worktree as it is now: tracked files as
-- edited and new untracked ones (not the ignored ones, nor the paths in
-- `exclude`), written through a scratch index so the worktree's own index,
-- and so what `git status` shows there, is left alone. Nothing is committed.
local scratch_n = 0
function M.snapshot(worktree, exclude)
  local gitdir, err = M.out(worktree, { "rev-parse", "--absolute-git-dir" })
  if not gitdir then return nil, err end
  scratch_n = scratch_n + 1
  local index = string.format("%s/orch-snapshot-%d-%d.index", gitdir, orch.pid, scratch_n)
  local env = { GIT_INDEX_FILE = index }
  -- a copy of the real index keeps its file stat data: only edited files are read again
  local copied = orch.exec({ cmd = { "cp", gitdir .. "/index", index }, timeout = M.timeout })
  local ok = copied and copied.ok
  if not ok then ok, err = M.run(worktree, { "read-tree", "HEAD" }, { env = env }) end
  local tree
  if ok then
    ok, err = M.add_all(worktree, exclude, env)
    if ok then tree, err = M.out(worktree, { "write-tree" }, { env = env }) end
  end
  orch.exec({ cmd = { "rm", "-f", index, index .. ".lock" }, timeout = M.timeout })
  return tree, err
end

-- diff_stat(cwd, from, to) -> { {path=, added=, removed=, binary=} }, stat text | nil, err
function M.diff_stat(cwd, from, to)
  local num, err = M.out(cwd, { "diff", "--no-renames", "--numstat", "-z", from, to })
  if not num then return nil, err end
  local files = {}
  for added, removed, path in num:gmatch("([%d-]+)\t([%d-]+)\t([^%z]*)%z") do
    local binary = added == "-"
    files[#files + 1] = { path = path, added = tonumber(added) or 0, removed = tonumber(removed) or 0,
                          binary = binary or nil }
  end
  local stat
  stat, err = M.out(cwd, { "diff", "--no-renames", "--stat=200", from, to })
  if not stat then return nil, err end
  return files, stat
end

-- the identity of the commit objects lib/worktree makes to combine several
-- dependencies' changes (objects only: no branch ever points at them)
M.ident = { GIT_AUTHOR_NAME = "orch-host", GIT_AUTHOR_EMAIL = "orch-host@localhost",
            GIT_COMMITTER_NAME = "orch-host", GIT_COMMITTER_EMAIL = "orch-host@localhost" }

return M
