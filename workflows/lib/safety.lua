-- safety: what an agent must not do (seeds 002/004: no git stage/commit/push,
-- no database migrations run, no deletes, nothing outside the project).
-- The host enforces it three ways: claude.disallowed_tools in config (claude
-- refuses), this live check on every tool_use in the stream (the host stops
-- the agent's whole process tree), and the working directory it gives agents.
--
-- M.check(event, opts) -> nil | reason    opts = {allowed_root=, rules=}
local M = {}

-- git subcommands an agent may not run; "reset" only with --hard.
M.forbidden_git = { commit = "git commit", push = "git push", add = "git add", stage = "git add",
                    ["reset --hard"] = "git reset --hard", ["rm"] = "git rm" }

-- Lua patterns matched against each shell command (lower-cased, spaces collapsed).
M.forbidden_commands = {
  { "rm -rf", "%f[%w]rm%s+%-[a-z]*r[a-z]*f" },
  { "rm -rf", "%f[%w]rm%s+%-[a-z]*f[a-z]*r" },
  { "rm -rf", "%f[%w]rm%s+%-%-recursive" },
  { "database migration", "supabase%s+db%s+push" },
  { "database migration", "supabase%s+db%s+reset" },
  { "database migration", "supabase%s+migration%s+up" },
  { "database migration", "prisma%s+migrate%s+deploy" },
  { "database migration", "prisma%s+migrate%s+dev" },
  { "database migration", "prisma%s+db%s+push" },
  { "database migration", "alembic%s+upgrade" },
  { "database migration", "manage%.py%s+migrate" },
  { "database migration", "rails%s+db:migrate" },
  { "database migration", "knex%s+migrate:latest" },
}

-- git options that take a separate value: `git -C dir commit`
local git_valued = { ["-c"] = true, ["-C"] = true, ["--git-dir"] = true, ["--work-tree"] = true,
                     ["--namespace"] = true, ["--exec-path"] = true }

-- The git subcommand of one simple command (its words), if it is git.
local function git_subcommand(words)
  local i = 1
  while words[i] and words[i]:find("^%w+=") do i = i + 1 end  -- VAR=x git ...
  local prog = words[i] and words[i]:match("([^/]+)$")
  if prog ~= "git" then return nil end
  i = i + 1
  while words[i] and words[i]:sub(1, 1) == "-" do
    i = i + (git_valued[words[i]] and 2 or 1)
  end
  local sub = words[i]
  if sub == "reset" then
    for j = i + 1, #words do if words[j] == "--hard" then return "reset --hard" end end
  end
  return sub
end

-- Shell text -> simple commands (split on ; & | && || newlines and $( ` ).
local function simple_commands(cmd)
  local out = {}
  for part in (cmd .. "\n"):gmatch("([^;&|\n`()]*)[;&|\n`()]") do
    local words = {}
    for w in part:gmatch("%S+") do words[#words + 1] = (w:gsub("^[\"']", ""):gsub("[\"']$", "")) end
    if #words > 0 then out[#out + 1] = words end
  end
  return out
end

local function check_command(command, opts)
  for _, words in ipairs(simple_commands(command)) do
    local sub = git_subcommand(words)
    local what = sub and (opts.git or M.forbidden_git)[sub]
    if what then return string.format("forbidden command (%s): %s", what, command:sub(1, 200)) end
  end
  local cmd = command:lower():gsub("%s+", " ")
  for _, rule in ipairs(opts.rules or M.forbidden_commands) do
    if cmd:find(rule[2]) then
      return string.format("forbidden command (%s): %s", rule[1], command:sub(1, 200))
    end
  end
end

local path_tools = { Write = "file_path", Edit = "file_path", MultiEdit = "file_path", NotebookEdit = "notebook_path" }

local function normalize(path)
  local parts = {}
  for p in path:gmatch("[^/]+") do
    if p == ".." then parts[#parts] = nil elseif p ~= "." then parts[#parts + 1] = p end
  end
  return "/" .. table.concat(parts, "/")
end

local function inside(path, root)
  if root == nil or root == "" or path:sub(1, 1) ~= "/" then return true end
  path, root = normalize(path), normalize(root)
  return path == root or path:sub(1, #root + 1) == root .. "/"
end

local function check_tool(use, opts)
  local input = use.input or {}
  if use.name == "Bash" and type(input.command) == "string" then
    local reason = check_command(input.command, opts)
    if reason then return reason end
  end
  local key = path_tools[use.name]
  if key and type(input[key]) == "string" and not inside(input[key], opts.allowed_root) then
    return string.format("%s outside the allowed root %s: %s", use.name, opts.allowed_root, input[key])
  end
end

-- event: one stream-json line from claude
function M.check(event, opts)
  if event.type ~= "assistant" or type(event.message) ~= "table" then return nil end
  for _, block in ipairs(event.message.content or {}) do
    if type(block) == "table" and block.type == "tool_use" then
      local reason = check_tool(block, opts or {})
      if reason then return reason end
    end
  end
end

M.inside = inside
M.check_command = function(command, opts) return check_command(command, opts or {}) end
return M
