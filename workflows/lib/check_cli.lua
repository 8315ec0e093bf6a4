-- check_cli: `orch-host check [--tasks FILE] [--max-concurrent N]
-- [--auto-approve]`, run by host/cli/check.cpp as a task (git goes through
-- orch.exec). A task file read and judged as `orch-host run` would before
-- its first agent, and the plan printed: nothing runs, nothing is written
-- (no session, no worktree, no branch, no instructions file). Each check is the run's
-- own rule: the parsers (lib/tasks), the graph (lib/graph: unknown ids,
-- cycles), the session's base commit and branches, each task's worktree
-- folder (lib/workspaces' look: an earlier day's worktree there), the
-- approval policy (lib/policy), the context files (lib/run_task's
-- context_check) and the standing instructions (lib/feedback, earlier
-- days' feedback absorbed in memory only).
-- An inbox task file (NAME.task.md) is read by the watch's parser and its
-- agent's prompt shown. Run as a task it returns {exit = 0 | 2, out =
-- text}. Policy: edit freely.
local tasks = require("lib.tasks")
local graph = require("lib.graph")
local policy = require("lib.policy")
local fmt = require("lib.format")
local S = require("lib.session")
local workspaces = require("lib.workspaces")
local worktree = require("lib.worktree")
local feedback = require("lib.feedback")
local report = require("lib.report")
local run_task = require("lib.run_task")
local inbox_task = require("lib.inbox_task")
local inbox_run = require("lib.inbox_run")
local inbox_queue = require("lib.inbox_queue")
local for_inbox = require("lib.prompt").for_inbox
local acceptance = require("lib.acceptance")

local M = {}

local EXIT = { ok = 0, bad_input = 2 }
local format, concat = string.format, table.concat

local function list(v) return type(v) == "table" and v or {} end

-- waves(tasks) -> { {task...}... }: wave 1 the tasks with no dependency,
-- wave k those whose last dependency is in wave k - 1 (the graph is valid)
function M.waves(ts)
  local by_id, level, out = {}, {}, {}
  for _, t in ipairs(ts) do by_id[tostring(t.id)] = t end
  local function depth(t)
    local id = tostring(t.id)
    if level[id] then return level[id] end
    local d = 1
    for _, dep in ipairs(list(t.depends_on)) do d = math.max(d, depth(by_id[tostring(dep)]) + 1) end
    level[id] = d
    return d
  end
  for _, t in ipairs(ts) do
    local d = depth(t)
    out[d] = out[d] or {}
    out[d][#out[d] + 1] = t
  end
  return out
end

-- the standing instructions the run's prompts would get: the instructions
-- file with the feedback not absorbed yet, absorbed in memory only (the run
-- writes the file) -> instructions | nil, why
local function standing(cfg, date)
  local day = report.day({ date = date })  -- as daily.lua picks it
  local ok, instr, err = pcall(feedback.for_day, cfg, day, { write = false })
  if not ok then return nil, tostring(instr) end
  if not instr then return nil, tostring(err) end
  return instr
end

local function task_lines(t, s, ocfg, req, instr, problems, last)
  local ask, why = policy.needs_approval(t, ocfg, { auto_approve = req.auto_approve })
  local out = { format("  %s  %s", tostring(t.id), fmt.truncate(tostring(t.title or ""), 60)) }
  local function add(label, text) out[#out + 1] = format("      %-13s %s", label, text) end
  local deps = list(t.depends_on)
  if #deps > 0 then add("after", concat(deps, ", ")) end
  if s.workspace_base then
    add("branch", t.branch or (worktree.branch_name(t.id, s.id) .. " (derived; SESSION: the session's id)"))
    local action, w, path = workspaces.look(s, t)  -- the run's own placement of its worktree, nothing written
    local default = workspaces.path_of(s, t)
    if action and path and path ~= default then
      add("worktree", format("works beside the earlier worktree at %s, which holds work: in %s", default, path))
    elseif not action then
      local werr = workspaces.failure(w)
      add("worktree", "PROBLEM: " .. werr)
      problems[#problems + 1] = werr
    elseif action == "replace" then
      add("worktree", format("replaces the earlier worktree of branch %s at %s (no uncommitted changes; "
        .. "the branch is kept), unless an unfinished task of another session works in it", tostring(w.branch),
        tostring(w.path)))
    elseif action == "reuse" then
      add("worktree", "continues in its worktree at " .. tostring(w.path))
    end
  end
  add("approval", (ask and "asked: " or "none: ") .. why)
  local stop, swhy = policy.checkpoint_after(t, ocfg, { auto_approve = req.auto_approve })
  if stop then add("checkpoint", fmt.checkpoint_plan(swhy, last)) end
  local ctx = list(t.context_files)
  if #ctx > 0 then
    local ok, cerr = run_task.context_check(s, t)
    if ok then
      add("context", concat(ctx, ", ") .. " (found)")
    elseif ok == false then
      add("context", concat(ctx, ", ") .. " (checked at its start: its worktree holds its dependencies' work)")
    else
      add("context", "PROBLEM: " .. cerr)
      problems[#problems + 1] = cerr
    end
  end
  if #list(t.deliverables) > 0 then
    local outside = acceptance.deliverables_outside(t, run_task.task_dir(s, t))
    add("deliverables", outside and ("PROBLEM: " .. outside) or concat(t.deliverables, ", "))
    if outside then problems[#problems + 1] = outside end
  end
  -- one line per acceptance command: each is its own shell command (joined, "a; b" read as one)
  for i, cmd in ipairs(list(t.verify)) do add(i == 1 and "verify" or "", cmd) end
  if instr then
    local n = #feedback.applicable(instr, t)
    if n > 0 then add("instructions", fmt.plural(n, "standing instruction") .. " in its prompt") end
  end
  return concat(out, "\n")
end

local function indent(text) return "    " .. tostring(text):gsub("\n", "\n    ") end

-- path's folder, symlinks resolved | nil
local function real_dir(path)
  local info = orch.file_info(path)
  return info and info.type == "dir" and (info.real or info.path) or nil
end

-- the load options the watch reads file with: {root = the inbox folder}
-- when file is in it (a symlink there must not point out of it), else none
local function inbox_opts(file)
  local dir = inbox_queue.new(orch.config).dir  -- the watch's own folder
  local real = real_dir(dir)
  if real and real_dir(file:match("^(.*)/[^/]*$") or ".") == real then return { root = dir } end
  return nil
end

-- an inbox task file (NAME.task.md), read by the watch's own parser: where
-- its agent works, its approval, each success criterion and how the
-- orchestrator checks it, and the prompt as the agent gets it (lib/prompt's
-- for_inbox)
function M.inbox(file, req)
  local cfg = orch.config
  local t, err = inbox_task.load(file, inbox_opts(file))
  if not t then return { exit = EXIT.bad_input, out = tostring(err.message or err) } end
  local out = { format("%s: an inbox task file, task %s (type %s, priority %s)", file, tostring(t.id),
    tostring(t.type), tostring(t.priority)) }
  local function add(label, text) out[#out + 1] = format("  %-17s %s", label, text) end
  add("title", tostring(t.title))
  local dir, why = (t.inbox.cwd and inbox_run.workdir or run_task.base_dir)(t)
  if not dir then
    add("works in", "PROBLEM: " .. why)
    return { exit = EXIT.bad_input, out = concat(out, "\n") .. "\n\nthe inbox would fail it at its start" }
  end
  add("works in", acceptance.resolve(dir))
  local ask, awhy = policy.needs_approval(t, cfg.orchestrator, { auto_approve = req.auto_approve })
  add("approval", (ask and "asked: " or "none: ") .. awhy)
  local checked = 0
  for _, c in ipairs(t.inbox.success_criteria) do if c.command or c.path then checked = checked + 1 end end
  add("success criteria", format("%d, %d checked by the orchestrator (a command or a file)",
    #t.inbox.success_criteria, checked))
  for _, c in ipairs(t.inbox.success_criteria) do
    local how = c.command and format("the command `%s` is run after the agent (failing: the task fails)", c.command)
      or c.path and (c.exists and format("the file %s must exist after the agent (missing: needs_review)", c.path)
        or format("the task must write the file %s (missing or left as it was: needs_review)", c.path))
      or "for the reviewer, not checked"
    out[#out + 1] = format("    - %s: %s", fmt.truncate(c.text, 80), how)
  end
  out[#out + 1] = ""
  out[#out + 1] = "the prompt, as the agent gets it:"
  out[#out + 1] = indent(for_inbox(t))
  out[#out + 1] = ""
  out[#out + 1] = "ok: nothing ran, nothing was written"
  return { exit = EXIT.ok, out = concat(out, "\n") }
end

-- run{tasks=, max_concurrent=, auto_approve=, state=, doc=} -> {exit=, out=[, problems=]}
-- doc: the task file as lib/tasks read it already (lib/control's start), not read again
function M.run(req)
  local cfg, ocfg = orch.config, orch.config.orchestrator
  local file = req.tasks or S.today_file(cfg.paths.tasks_dir)
  if not req.doc and file:sub(-#inbox_task.SUFFIX) == inbox_task.SUFFIX then return M.inbox(file, req) end
  local doc, perr = req.doc, nil
  if not doc then doc, perr = tasks.load(file) end
  if not doc and perr.stage == "read" then
    return { exit = EXIT.bad_input, out = fmt.unreadable_tasks(perr, not req.tasks and cfg.paths.tasks_dir or nil) }
  end
  if not doc then return { exit = EXIT.bad_input, out = tostring(perr) } end
  local _, gerr = graph.new(doc.tasks)
  if gerr then return { exit = EXIT.bad_input, out = file .. ": " .. tostring(gerr.message or gerr) } end
  local ok, verr = policy.validate(ocfg)
  if not ok then return { exit = EXIT.bad_input, out = tostring(verr.message or verr) } end
  local markdown = policy.is_markdown(doc, file)
  local base, berr = workspaces.day_base(doc, file)
  if berr then return { exit = EXIT.bad_input, out = berr } end
  -- (the new session's id is not known yet; no state database is open)
  local s = { workspace_base = base, id = "SESSION", no_state = not req.state }  -- (state: read-only, if any)
  local instr, iwhy = standing(cfg, doc.date)
  local problems, out = {}, {}
  out[#out + 1] = format("%s: %s, %s", file, fmt.plural(#doc.tasks, "task"), doc.format or (markdown and "markdown"))
  local at_once = policy.max_concurrent(req, doc, ocfg, file)
  out[#out + 1] = format("agents at once: %d", at_once)
  out[#out + 1] = base and format("worktrees: one a task, from %s at %s (%s)", tostring(base.repo),
      tostring(base.commit):sub(1, 12), tostring(base.branch or "detached"))
    or "worktrees: none (the agents work in claude.base_cwd)"
  -- the run's rule: a day's 0 is no budget of its own, the configured one applies
  local _, max = policy.budget(0, cfg.budget, true, doc.max_cost_usd)
  out[#out + 1] = "budget: " .. (max > 0 and fmt.money(max) or "none")
  out[#out + 1] = "standing instructions: " .. (instr and fmt.plural(#instr.items, "item")
    or ("none (" .. tostring(iwhy) .. "): the run goes without"))
  for _, u in ipairs(instr and instr.unread or {}) do  -- a bad feedback file: the run leaves it out
    out[#out + 1] = "  feedback left out (fix it): " .. u.error
  end
  local waves = M.waves(doc.tasks)
  for i, wave in ipairs(waves) do
    out[#out + 1] = ""
    out[#out + 1] = format("wave %d (%s%s):", i, i == 1 and "ready at the start" or "after the waves before",
      #wave > at_once and format(", %d at a time in file order", at_once) or "")
    for j, t in ipairs(wave) do
      -- nothing starts after it: the last wave's tasks start together, or it is the last of them
      local last = i == #waves and (#wave <= at_once or j == #wave)
      out[#out + 1] = task_lines(t, s, ocfg, req, instr, problems, last)
    end
  end
  out[#out + 1] = ""
  if #problems > 0 then
    out[#out + 1] = fmt.plural(#problems, "problem") .. ": the run would fail these tasks at their start"
    return { exit = EXIT.bad_input, out = concat(out, "\n"), problems = problems }
  end
  out[#out + 1] = "ok: nothing ran, nothing was written"
  return { exit = EXIT.ok, out = concat(out, "\n") }
end

-- as a task (host/cli/check.cpp starts this file with the request); as a module, M
local req = ...
if type(req) == "table" then return M.run(req) end
return M
