-- safety: what an agent must not do (seeds 002/004: no git stage/commit/push,
-- no database migrations run, no deletes, nothing outside the project).
-- The host enforces it three ways: claude.disallowed_tools in config (claude
-- refuses), this live check on every tool_use in the stream (the host stops
-- the agent's whole process tree), and the working directory it gives agents.
--
-- M.check(event, opts) -> nil | reason    opts = {allowed_root=, rules=}
local M = {}

-- Lua patterns matched against Bash commands (lower-cased, spaces collapsed).
M.forbidden_commands = {
  { "git commit", "%f[%w]git%s+commit%f[%W]" },
  { "git push", "%f[%w]git%s+push%f[%W]" },
  { "git add", "%f[%w]git%s+add%f[%W]" },
  { "git reset --hard", "%f[%w]git%s+reset%s+%-%-hard" },
  { "rm -rf", "%f[%w]rm%s+%-[a-z]*r[a-z]*f" },
  { "rm -rf", "%f[%w]rm%s+%-[a-z]*f[a-z]*r" },
  { "database migration", "supabase%s+db%s+push" },
  { "database migration", "supabase%s+migration%s+up" },
  { "database migration", "prisma%s+migrate%s+deploy" },
  { "database migration", "prisma%s+db%s+push" },
  { "database migration", "alembic%s+upgrade" },
  { "database migration", "manage%.py%s+migrate" },
  { "database migration", "rails%s+db:migrate" },
  { "database migration", "knex%s+migrate:latest" },
}

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
    local cmd = input.command:lower():gsub("%s+", " ")
    for _, rule in ipairs(opts.rules or M.forbidden_commands) do
      if cmd:find(rule[2]) then
        return string.format("forbidden command (%s): %s", rule[1], input.command:sub(1, 200))
      end
    end
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
return M
