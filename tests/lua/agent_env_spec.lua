-- agent_env: an agent's own config dir, its PreToolUse hook settings and a
-- git that refuses commits and pushes; hook_cli: the hook command's policy.
local T = require("orch.testing")
local agent_env = require("lib.agent_env")
local hook_cli = require("lib.hook_cli")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local function sh(cwd, script, env)
  return orch.exec({ cmd = { "sh", "-c", script }, cwd = cwd, env = env, timeout = 60 })
end

local function tmpdir()
  local r = orch.exec({ cmd = { "mktemp", "-d" }, timeout = 10 })
  return (r.stdout:gsub("%s+$", ""))
end

local function run_for(id, cwd, dir)
  return agent_env.for_run({ id = "spec-s" }, { id = id, agent_dir = dir }, cwd, { ORCH_TASK_ID = id })
end

describe("the config dir", function()
  it("is one per task, under the state dir, and the one stored on the task", function()
    local a = agent_env.dir_for({ id = "s1" }, { id = "t1" })
    local b = agent_env.dir_for({ id = "s1" }, { id = "t2" })
    ok(a ~= b, "two tasks share " .. a)
    eq(a, agent_env.state_dir() .. "/agents/s1-t1")
    eq(agent_env.dir_for({ id = "s1" }, { id = "t1", agent_dir = "/x/y" }), "/x/y")
  end)
  it("marks onboarding done and the folder trusted, and holds no credentials", function()
    local dir, cwd = tmpdir(), tmpdir()
    local a = run_for("t1", cwd, dir)
    eq(a.env.CLAUDE_CONFIG_DIR, dir)
    eq(a.env.ORCH_TASK_ID, "t1", "the caller's variables are kept")
    local j = orch.json.decode(orch.read_file(dir .. "/.claude.json"))
    eq(j.hasCompletedOnboarding, true)
    eq(j.projects[cwd].hasTrustDialogAccepted, true)
    eq(orch.file_info(dir .. "/.credentials.json"), nil)
  end)
  it("is the folder itself, made with its .claude.json; an older host's claude/ in it is kept as the config dir",
    function()
    local root, cwd = tmpdir(), tmpdir()
    local a = run_for("t1", cwd, root .. "/agents/s-t1")
    eq(a.env.CLAUDE_CONFIG_DIR, root .. "/agents/s-t1")
    eq(orch.list_dir(root .. "/agents/s-t1"), { ".claude.json" })
    local old = tmpdir()
    orch.make_dir(old .. "/claude/projects")
    orch.write_file(old .. "/claude/.claude.json", '{"kept": true}\n')
    eq(run_for("t2", cwd, old).env.CLAUDE_CONFIG_DIR, old .. "/claude")
    eq(orch.read_file(old .. "/claude/.claude.json"), '{"kept": true}\n')
    eq(orch.file_info(old .. "/.claude.json"), nil)
  end)
  it("keeps claude's own .claude.json on a later run, and writes one found empty again", function()
    local dir, cwd = tmpdir(), tmpdir()
    run_for("t1", cwd, dir)
    local path = dir .. "/.claude.json"
    orch.write_file(path, '{"claude": "changed it"}\n')
    run_for("t1", cwd, dir)
    eq(orch.read_file(path), '{"claude": "changed it"}\n')
    orch.write_file(path, "")  -- the machine crashed after the folder was made
    run_for("t1", cwd, dir)
    eq(orch.json.decode(orch.read_file(path)).projects[cwd].hasTrustDialogAccepted, true)
  end)
end)

describe("the output log", function()
  local function base(path) return path:match("[^/]+$") end
  it("is named after the task's key, a retry's with -tryN, in the logs folder", function()
    local s, t = { id = "20261201-090000" }, { id = "task-1" }
    eq(agent_env.output_log(s, t), orch.config.paths.logs_dir .. "/task-20261201-090000-task-1-output.log")
    eq(base(agent_env.output_log(s, t, 1)), "task-20261201-090000-task-1-output.log")
    eq(base(agent_env.output_log(s, t, 3)), "task-20261201-090000-task-1-try3-output.log")
  end)
  it("reads its names back: the key as it is and without the -tryN; nil for other names", function()
    local s, t = { id = "20261201-090000" }, { id = "task-1" }
    local key = agent_env.key(s, t)
    local a, b = agent_env.output_log_keys(base(agent_env.output_log(s, t)))
    eq({ a, b }, { key, key })
    a, b = agent_env.output_log_keys(base(agent_env.output_log(s, t, 2)))
    eq({ a, b }, { key .. "-try2", key })
    local odd = { id = "x-try2" }  -- a task id that looks like a retry: its own key is the first
    eq(agent_env.output_log_keys(base(agent_env.output_log(s, odd))), agent_env.key(s, odd))
    for _, name in ipairs({ "events.ndjson", "orchestrator.log", "task--output.log", "task-x-output.log.1",
                            "2026-12-01.log" }) do
      eq(agent_env.output_log_keys(name), nil, name)
    end
  end)
end)

describe("the hook settings", function()
  it("are given with --settings and call this orch-host's hook pre-tool-use", function()
    local dir = tmpdir()
    local a = run_for("t1", tmpdir(), dir)
    eq(a.extra_args[#a.extra_args - 1], "--settings")
    local path = agent_env.state_dir() .. "/agent-settings.json"  -- one for every agent
    eq(a.extra_args[#a.extra_args], path)
    eq(run_for("t2", tmpdir(), tmpdir()).extra_args[#a.extra_args], path)
    eq(orch.file_info(dir .. "/settings.json"), nil)
    local st = orch.json.decode(orch.read_file(path))
    local cmd = st.hooks.PreToolUse[1].hooks[1].command
    ok(cmd:find(agent_env.quote(orch.executable), 1, true) == 1, cmd)
    eq(cmd:sub(-18), " hook pre-tool-use")
    ok(cmd:find(" --config " .. agent_env.quote(orch.config_file), 1, true), cmd)
  end)
  it("quotes for sh", function()
    eq(agent_env.quote("it's"), [['it'\''s']])
  end)
end)

describe("the agent's git", function()
  it("refuses commit (--no-verify too), branch and push; plain git still commits", function()
    local repo, dir = tmpdir(), tmpdir()
    ok(sh(repo, "git init -q && git -c user.name=a -c user.email=a@b commit -q --allow-empty -m init && "
      .. "git init -q --bare ../remote-$$ && git remote add origin ../remote-$$").ok)
    local env = run_for("t1", repo, dir).env
    env.GIT_AUTHOR_NAME, env.GIT_AUTHOR_EMAIL, env.GIT_COMMITTER_NAME, env.GIT_COMMITTER_EMAIL = "a", "a@b", "a", "a@b"
    for _, cmd in ipairs({ "git commit -q --allow-empty -m x", "git commit -q --no-verify --allow-empty -m x",
      "git branch other", "git push -q --no-verify origin HEAD" }) do
      local r = sh(repo, cmd, env)
      ok(not r.ok, "ran: " .. cmd)
    end
    eq(sh(repo, "git rev-list --all --count").stdout, "1\n")
    ok(sh(repo, "git -c user.name=o -c user.email=o@x commit -q --allow-empty -m ours").ok)
  end)
end)

describe("shielded", function()
  it("finishes the work when the worker is cancelled meanwhile, and keeps the reason", function()
    local w, started, go = {}, false, false
    local co = orch.spawn(function()
      return agent_env.shielded(w, function(x)
        started = true
        while not go do orch.sleep(0.01) end
        return x .. " made"
      end, "dir")
    end)
    while not started do orch.sleep(0.01) end
    ok(orch.cancel(co, "skip"), "the worker was not waiting")
    go = true
    local okw, r = orch.wait(co)
    eq(okw, true)
    eq(r, "dir made")
    eq(w.pending_cancel, "skip")
  end)
  it("raises the work's error", function()
    local okp, e = pcall(agent_env.shielded, nil, function() error("disk full", 0) end)
    eq(okp, false)
    eq(e, "disk full")
  end)
end)

describe("hook_cli", function()
  local function ev(name, input)
    return { event = { hook_event_name = "PreToolUse", tool_name = name, tool_input = input },
             session = "spec-hook", task = "h1" }
  end
  it("blocks a forbidden call with exit 2, the reason, and a tool_blocked event", function()
    local r = hook_cli.run(ev("Bash", { command = "env git push" }))
    eq(r.exit, 2)
    ok(r.message:find("forbidden command (git push)", 1, true), r.message)
    local found
    for _, e in ipairs(orch.recent_events({ session = "spec-hook", task = "h1" })) do
      found = found or (e.event == "tool_blocked" and e.tool == "Bash")
    end
    ok(found, "no tool_blocked event")
  end)
  it("lets other calls and other hook events through", function()
    eq(hook_cli.run(ev("Bash", { command = "make test" })).exit, 0)
    eq(hook_cli.run(ev("Read", { file_path = "/etc/hosts" })).exit, 0)
    eq(hook_cli.run({ event = { hook_event_name = "PostToolUse", tool_name = "Bash",
                                tool_input = { command = "git push" } } }).exit, 0)
  end)
  it("blocks what it cannot read", function()
    eq(hook_cli.run({ event = "x" }).exit, 2)
  end)
end)
