-- agent_env: where and how one task's agent runs, outside the model's reach.
-- Each task gets its own folder <state dir>/agents/<session>-<task>/ (never
-- shared by agents running at once; a task's later runs, its retries and its
-- --resume after a question, use the same one: claude keeps its sessions in
-- the config dir, so a resume from another would not find its conversation).
-- It is the agent's CLAUDE_CONFIG_DIR, with a .claude.json that marks
-- onboarding done and the worktree trusted, so no first-run, onboarding or
-- trust prompt can stop a headless run; no credentials are written: claude
-- takes them from the environment (ANTHROPIC_API_KEY or
-- CLAUDE_CODE_OAUTH_TOKEN). (An older host's folder has the config dir one
-- level down, in claude/, which claude itself never makes: kept as it is.)
-- and in <state dir>/, shared by all agents:
--   agent-settings.json  given with --settings: a PreToolUse hook that asks
--                    `orch-host hook pre-tool-use` (lib/hook_cli, lib/safety)
--                    about every tool call before it runs
--   agent-git-hooks/ core.hooksPath of the agent's git (GIT_CONFIG_COUNT in
--                    its environment only): pre-commit, commit-msg, pre-push
--                    and reference-transaction refuse, so no commit, branch,
--                    tag or ref update is made, --no-verify or not; push URLs
--                    are rewritten to a path that does not exist. The
--                    orchestrator's own git (lib/git) has none of this.
-- Policy: edit freely.
local acceptance = require("lib.acceptance")

local M = {}

M.hook_timeout = 60  -- seconds claude gives the hook
M.refusing_hooks = { "pre-commit", "commit-msg", "prepare-commit-msg", "pre-merge-commit", "pre-push",
                     "pre-rebase", "reference-transaction" }
M.nowhere = "file:///nonexistent/orch-host-refuses-agent-pushes/"

-- the folder of the state database, absolute
function M.state_dir()
  local db = acceptance.resolve(orch.config.paths.state_db, orch.root)
  return db:match("^(.*)/[^/]*$") or orch.root
end

-- a word for sh: 'it''s' quoted
function M.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function sanitize(s) return (tostring(s):gsub("[^%w%.%-_]", "_")) end

-- key(s, t) -> "<session>-<task>": what names the files of task t of session
-- s (its folder here, its question in lib/questions), one name a file name takes
function M.key(s, t) return sanitize(s.id) .. "-" .. sanitize(t.id) end

-- output_log(s, t [, try]) -> "<logs dir>/task-<key>-output.log": the raw
-- stream-json of the task's agent run; a retry's, try 2 on, "...-tryN-output.log"
function M.output_log(s, t, try)
  return string.format("%s/task-%s%s-output.log", orch.config.paths.logs_dir, M.key(s, t),
    (try or 1) > 1 and ("-try" .. try) or "")
end

-- output_log_keys(name) -> key, key (a file name output_log makes, read back:
-- its key as it is, and without a -tryN; the same when it has none) | nil
-- (lib/logs_clean; a task whose id ends in -tryN is why both are given)
function M.output_log_keys(name)
  local key = name:match("^task%-(.+)%-output%.log$")
  if not key then return nil end
  return key, key:match("^(.*)%-try%d+$") or key
end

-- the folder of task t of session s (the one stored on the task, else a new name)
function M.dir_for(s, t)
  if type(t.agent_dir) == "string" and t.agent_dir ~= "" then return t.agent_dir end
  return string.format("%s/agents/%s", M.state_dir(), M.key(s, t))
end

-- the .claude.json of a fresh config dir: onboarding done, cwd trusted
function M.claude_json(cwd)
  local project = { hasTrustDialogAccepted = true, hasCompletedProjectOnboarding = true,
                    projectOnboardingSeenCount = 1, allowedTools = orch.json.array({}) }
  return {
    hasCompletedOnboarding = true, lastOnboardingVersion = "2.1.197", numStartups = 1,
    bypassPermissionsModeAccepted = true, hasAcknowledgedCostThreshold = true,
    autoUpdates = false, projects = { [cwd] = project },
  }
end

-- the hook command: this host, its project and config (when there is a
-- file: a --config that names none would fail every hook), `hook pre-tool-use`
function M.hook_command()
  local config = orch.file_info(orch.config_file) and (" --config " .. M.quote(orch.config_file)) or ""
  return string.format("%s --root %s%s hook pre-tool-use", M.quote(orch.executable), M.quote(orch.root), config)
end

function M.settings()
  return {
    skipDangerousModePermissionPrompt = true,
    hooks = { PreToolUse = { { matcher = "*", hooks = { { type = "command", command = M.hook_command(),
                                                            timeout = M.hook_timeout } } } } },
  }
end

function M.hook_script(name)
  local refuse = name == "reference-transaction"
    and '[ "$1" = prepared ] || exit 0\necho "orch-host: agents may not change git refs (commit, branch, tag, '
      .. 'stash, reset): the orchestrator does that" >&2\nexit 1\n'
    or string.format('echo "orch-host: agents may not commit or push (git %s hook): the orchestrator does that" >&2\n'
      .. 'exit 1\n', name)
  return "#!/bin/sh\n# written by orch-host (lib/agent_env): the agent's git refuses this\n" .. refuse
end

-- the environment that makes the agent's git refuse commits and pushes
function M.git_env(hooks_dir)
  return { GIT_CONFIG_COUNT = "2",
           GIT_CONFIG_KEY_0 = "core.hooksPath", GIT_CONFIG_VALUE_0 = hooks_dir,
           GIT_CONFIG_KEY_1 = "url." .. M.nowhere .. ".pushInsteadOf", GIT_CONFIG_VALUE_1 = "" }
end

-- path holds text, written (atomically) unless it already does: -> whether it
-- was written. On the loop thread: these are a few files a process (the
-- shared settings and hooks) or a repair; a day that never starts the writer
-- thread keeps glibc's single-threaded malloc (bench/FINDINGS.md).
local function write(path, text)
  if orch.file_info(path) and orch.read_file(path) == text then return false end
  local ok, err = orch.write_file(path, text)
  if not ok then error("agent environment: cannot write " .. path .. ": " .. tostring(err), 0) end
  return true
end

-- shielded(w, fn, ...) -> fn's results: fn runs in a task of its own, so a
-- cancel of worker w meanwhile (a skip, a pause) does not cut it short; the
-- reason is kept as w.pending_cancel for the worker's next step (daily.lua).
-- fn's error is raised here.
function M.shielded(w, fn, ...)
  local box = {}
  local args = { n = select("#", ...), ... }
  local id = orch.spawn(function()
    box.r = { pcall(fn, unpack(args, 1, args.n)) }
  end)
  while not box.r do
    local okw, e = orch.wait(id)
    if okw == nil and w then w.pending_cancel = w.pending_cancel or e.reason end
    if okw == false then error("agent environment: " .. tostring(e), 0) end
  end
  if not box.r[1] then error(box.r[2], 0) end
  return unpack(box.r, 2, table.maxn(box.r))
end

local function write_hooks(dir)
  local chmod = { "chmod", "0755" }
  for _, h in ipairs(M.refusing_hooks) do
    if write(dir .. "/" .. h, M.hook_script(h)) then chmod[#chmod + 1] = dir .. "/" .. h end
  end
  if #chmod == 2 then return end
  local r, err = orch.exec({ cmd = chmod, timeout = 30 })
  if not r or not r.ok then error("agent environment: chmod in " .. dir .. ": " .. tostring(err or r.stderr), 0) end
end

-- the refusing git hooks, shared by every agent of this state (the same
-- text for all), written once per process. An agent starting meanwhile
-- waits for the task writing them: git ignores a hook not executable yet.
local hooks_done, hooks_busy
function M.git_hooks()
  local dir = M.state_dir() .. "/agent-git-hooks"
  if hooks_done == dir then return dir end
  if hooks_busy then
    local okw, e = orch.wait(hooks_busy)
    if okw == nil then error("agent environment: " .. tostring(e), 0) end
    if hooks_done == dir then return dir end
  end
  hooks_busy = orch.task_id()
  local ok, err = pcall(write_hooks, dir)
  hooks_busy = nil
  if not ok then error(err, 0) end
  hooks_done = dir
  return dir
end

-- the hook settings, the same text for every agent of this host (M.settings
-- takes no task): one file beside the state database, written once per
-- process, again when it differs (another host, config or project since).
-- One file, not one per agent folder: two fewer files made a task, and on a
-- long run the kernel's cost of each new file grows (bench/FINDINGS.md).
local settings_done
function M.settings_file()
  local path = M.state_dir() .. "/agent-settings.json"
  if settings_done ~= path then
    write(path, orch.json.encode(M.settings(), { pretty = true }) .. "\n")
    settings_done = path
  end
  return path
end

-- prepare(dir, cwd) -> {dir=, config_dir=, settings=, hooks_dir=}: the files,
-- written where they are missing or differ (a config or host moved since
-- the last run is followed; claude's own changes to .claude.json are kept).
-- A config dir made now gets its .claude.json as a new file (no temp file
-- renamed over it, no fsync: it replaces nothing, and each new file costs the
-- kernel more on a long run); one found empty (the machine crashed after it
-- was made) is written again, atomically.
-- One new folder a task, not two (bench/FINDINGS.md).
local NEW = { new = true }
function M.prepare(dir, cwd)
  local a = { dir = dir, config_dir = dir, settings = M.settings_file(), hooks_dir = M.git_hooks() }
  local okd, made = orch.make_dir(dir)
  if not okd then error("agent environment: cannot make " .. dir .. ": " .. tostring(made), 0) end
  if not made then  -- an earlier run's: an older host's has its config dir in claude/
    local old = orch.file_info(dir .. "/claude")
    if old and old.type == "dir" then a.config_dir = dir .. "/claude" end
  end
  local json_path = a.config_dir .. "/.claude.json"
  local info = not made and orch.file_info(json_path)
  if made or not info or info.size == 0 then
    local text = orch.json.encode(M.claude_json(cwd), { pretty = true }) .. "\n"
    if made then
      local ok, err = orch.write_file(json_path, text, NEW)
      if not ok then error("agent environment: cannot write " .. json_path .. ": " .. tostring(err), 0) end
    else
      write(json_path, text)
    end
  end
  return a
end

-- for_run(s, t, cwd, env [, w]) -> {env=, extra_args=, dir=, hooked=true}: the run_claude
-- options of task t's agent in cwd (env: the caller's variables, kept). The
-- folder is stored on the task (agent_dir) with the task's next change, the
-- run's cost (S.stage: a host killed during the run names the same folder
-- again, from the same ids). A cancel of
-- worker w meanwhile is kept as w.pending_cancel (shielded). Raises when the
-- folder cannot be written (the worker pauses the session with the message).
function M.for_run(s, t, cwd, env, w)
  local S = require("lib.session")
  local dir = M.dir_for(s, t)
  local a = M.shielded(w, M.prepare, dir, cwd or orch.root)
  if t.agent_dir ~= dir then S.stage(s, t, { agent_dir = dir }) end
  local out = { CLAUDE_CONFIG_DIR = a.config_dir, DISABLE_AUTOUPDATER = "1" }
  for k, v in pairs(M.git_env(a.hooks_dir)) do out[k] = v end
  for k, v in pairs(env or {}) do out[k] = v end
  local args = {}
  for _, f in ipairs(orch.config.claude.flags or {}) do args[#args + 1] = f end
  args[#args + 1] = "--settings"
  args[#args + 1] = a.settings
  return { env = out, extra_args = args, dir = dir, hooked = true }
end

return M
