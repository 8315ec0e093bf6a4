-- safety: what an agent must not do (no git stage/commit/push,
-- no database migrations run, no deletes, nothing outside the project).
-- These rules are asked twice: before a tool runs, by the agent's PreToolUse
-- hook (`orch-host hook pre-tool-use`, lib/hook_cli: the tool is blocked and
-- the agent told why), and on every tool_use in the stream (the host stops
-- the agent's whole process tree; for a CLI that fires no hooks). Outside
-- these rules: claude.disallowed_tools (claude refuses), the agent's git
-- environment that refuses commits and pushes (lib/agent_env) and the check
-- after the run (lib/safety_after).
--
-- M.check(event, opts) -> nil | reason    opts = {allowed_root=, rules=, git=, cwd=}
--   (cwd: the agent's, for a relative file path; none: such a path is refused
--   while an allowed root is set)
-- M.check_tool(name, input, opts) -> nil | reason: one tool call
--
-- A Bash command is read as the shell would read it (lib/shell_runs): every
-- simple command it would run, through quotes, substitutions, variable
-- assignments, wrappers (env, sudo, nice, timeout, xargs, ...) and the
-- strings given to bash -c, sh -c, eval. Text the checker cannot read (nested
-- too deeply) is refused.
local shell_runs = require("lib.shell_runs")

local M = {}

-- git subcommands an agent may not run; "reset" only with --hard.
M.forbidden_git = { commit = "git commit", push = "git push", add = "git add", stage = "git add",
                    ["reset --hard"] = "git reset --hard", ["rm"] = "git rm" }

-- Lua patterns matched against each command it would run (its words joined by
-- one space, lower-cased). rm -rf has its own check (rm_rf below).
M.forbidden_commands = {
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

-- The git subcommand of a run {git, ...}; "?" when it is not plain text (a
-- substitution, variable or pattern: the shell decides what it is).
local function git_subcommand(run)
  local i = 2
  while run[i] and run[i]:sub(1, 1) == "-" do
    i = i + (git_valued[run[i]] and 2 or 1)
  end
  local sub = run[i]
  if sub and sub:find("[$`{*?%[]") then return "?" end
  if sub == "reset" then
    for j = i + 1, #run do if run[j] == "--hard" then return "reset --hard" end end
  end
  return sub
end

-- rm both recursive and forced, however the flags are spelt: -rf, -fr, -r -f,
-- -R, --recursive --force (or their unambiguous prefixes), before or after the
-- operands; not after "--".
local function rm_rf(run)
  local r, f = false, false
  for j = 2, #run do
    local w = run[j]
    if w == "--" then break end
    local long = w:match("^%-%-(.+)$")
    if long then
      r = r or ("recursive"):sub(1, #long) == long
      f = f or ("force"):sub(1, #long) == long
    elseif w:match("^%-%a+$") then
      r = r or w:find("[rR]") ~= nil
      f = f or w:find("f", 2, true) ~= nil
    end
  end
  return r and f
end

-- a word the shell makes into another (a variable, a substitution, a
-- pattern, a brace list): what it runs or passes cannot be known here
local function not_plain(word) return word:find("[$`]") ~= nil end
local function may_expand(word)
  if word == "[" or word == "[[" then return false end  -- the test commands
  return not_plain(word) or word:find("[*?%[]") ~= nil or word:find("{.*,.*}") ~= nil
end

-- rm given a word before "--" that is not plain text: its flags may be -rf
local function rm_unknown(run)
  for j = 2, #run do
    if run[j] == "--" then return false end
    if not_plain(run[j]) then return true end
  end
  return false
end

-- What a run is forbidden as, or nil.
local function check_run(run, opts)
  if may_expand(run[1]) then
    -- `r=rm; $r -rf src`, `"$x" commit`, `$(echo rm) -rf`: it could be git or rm
    return "a program that is not written out (a variable, substitution or pattern)"
  end
  local prog = shell_runs.program(run[1])
  if prog == "git" then
    local sub = git_subcommand(run)
    if sub == "?" then return "git with a subcommand that is not plain text" end
    local what = sub and (opts.git or M.forbidden_git)[sub]
    if what then return what end
  elseif prog == "rm" and rm_rf(run) then
    return "rm -rf"
  elseif prog == "rm" and rm_unknown(run) then
    return "rm with a word that is not plain text before -- (its flags could be -rf; write rm -- \"$f\")"
  end
  local text = table.concat(run, " "):lower():gsub("%s+", " ")
  for _, rule in ipairs(opts.rules or M.forbidden_commands) do
    if text:find(rule[2]) then return rule[1] end
  end
end

local function check_command(command, opts)
  local runs, err = shell_runs.runs(command)
  local what = not runs and ("cannot be checked: " .. err) or nil
  for _, run in ipairs(runs or {}) do
    what = what or check_run(run, opts)
  end
  if what then return string.format("forbidden command (%s): %s", what, command:sub(1, 200)) end
end

local path_tools = { Write = "file_path", Edit = "file_path", MultiEdit = "file_path", NotebookEdit = "notebook_path" }

local function normalize(path)
  local parts = {}
  for p in path:gmatch("[^/]+") do
    if p == ".." then parts[#parts] = nil elseif p ~= "." then parts[#parts + 1] = p end
  end
  return "/" .. table.concat(parts, "/")
end

local function lexically_inside(path, root)
  path, root = normalize(path), normalize(root)
  return path == root or path:sub(1, #root + 1) == root .. "/"
end

-- path with the symlinks of its longest existing part resolved (a link inside
-- the root may lead out of it); the rest as written
local function real_path(path)
  local rest, at = {}, normalize(path)
  while at ~= "/" do
    local info = orch.file_info(at)
    if info and info.real then
      return info.real .. (#rest > 0 and ("/" .. table.concat(rest, "/")) or "")
    end
    local parent, name = at:match("^(.*)/([^/]+)$")
    table.insert(rest, 1, name)
    at = parent ~= "" and parent or "/"
  end
  return "/" .. table.concat(rest, "/")
end

-- inside(path, root [, cwd]): a relative path is taken from cwd (the agent's),
-- and refused without one; symlinks are followed (orch.file_info's real)
local function inside(path, root, cwd)
  if root == nil or root == "" then return true end
  if path:sub(1, 1) ~= "/" then
    if type(cwd) ~= "string" or cwd:sub(1, 1) ~= "/" then return false end
    path = cwd .. "/" .. path
  end
  if not lexically_inside(path, root) then return false end
  local real_root = orch and orch.file_info and real_path(root) or root
  return not (orch and orch.file_info) or lexically_inside(real_path(path), real_root)
end

local function check_tool(use, opts)
  local input = use.input or {}
  if use.name == "Bash" and type(input.command) == "string" then
    local reason = check_command(input.command, opts)
    if reason then return reason end
  end
  local key = path_tools[use.name]
  if key and type(input[key]) == "string" and not inside(input[key], opts.allowed_root, opts.cwd) then
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

-- stream_check(opts, hooked) -> on_event(ev) -> reason | nil, seen() -> whether a
-- forbidden call was seen: the check of
-- each agent's stream. Without the PreToolUse hook (hooked false) a forbidden
-- tool_use stops the agent as soon as it is seen. With it, the hook blocks the
-- call before it runs and the agent carries on, told why (lib/hook_cli); the
-- stream check then stops only an agent whose forbidden call ran all the same
-- (its tool_result is no error: a CLI that fired no hook). The events it needs:
-- "assistant", and "user" when hooked.
function M.stream_check(opts, hooked)
  opts = opts or {}
  local pending = {}  -- tool_use id -> why it is forbidden, until its tool_result
  local seen = false  -- a forbidden call was seen (the second function says so)
  return function(ev)
    local msg = type(ev.message) == "table" and ev.message or nil
    local content = msg and type(msg.content) == "table" and msg.content or nil
    if not content then return nil end
    if ev.type == "assistant" then
      for _, b in ipairs(content) do
        if type(b) == "table" and b.type == "tool_use" then
          local reason = check_tool(b, opts)
          if reason and not hooked then return reason end
          if reason then pending[tostring(b.id)], seen = reason, true end
        end
      end
    elseif ev.type == "user" and next(pending) then
      for _, b in ipairs(content) do
        if type(b) == "table" and b.type == "tool_result" then
          local id = tostring(b.tool_use_id)
          local reason = pending[id]
          pending[id] = nil
          if reason and b.is_error ~= true then return reason .. " (it ran: no PreToolUse hook blocked it)" end
        end
      end
    end
  end, function() return seen end
end

-- refused_only(denials, opts) -> { {tool=, reason=, tool_use_id=} } when
-- every permission denial of a run (its result's permission_denials) is a call
-- this policy forbids: the CLI or the PreToolUse hook refused it before it
-- ran, as it should, and the agent went on. Such a run has not failed for it;
-- any other denial (a tool the agent needed) still fails it: nil.
function M.refused_only(denials, opts)
  if type(denials) ~= "table" or #denials == 0 then return nil end
  local out = {}
  for _, d in ipairs(denials) do
    local reason = type(d) == "table" and check_tool({ name = d.tool_name, input = type(d.tool_input) == "table"
        and d.tool_input or {} }, opts or {})
    if not reason then return nil end
    out[#out + 1] = { tool = d.tool_name, reason = reason, tool_use_id = d.tool_use_id }
  end
  return out
end

function M.check_tool(name, input, opts)
  return check_tool({ name = name, input = type(input) == "table" and input or {} }, opts or {})
end

M.inside = inside
M.check_command = function(command, opts) return check_command(command, opts or {}) end
return M
