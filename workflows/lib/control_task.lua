-- control_task: /task <text> of lib/control (installed into its table:
-- callers use lib.control): the sentence as an inbox task file when the
-- inbox runs, else a one-task day. Policy: edit freely.
local fmt = require("lib.format")

return { install = function(M, shared)
local cfg, err = shared.cfg, shared.err

-- adhoc_doc(text, date) -> the task file of /task as a tasks_md doc: one
-- general task, titled with the text on one line (80 characters), the text
-- itself as the instruction (fenced when a line of it would read as markdown
-- structure: lib/tasks_md.literal)
function M.adhoc_doc(text, date)
  text = fmt.truncate((text:gsub("\r\n?", "\n")), 2000)
  local title = fmt.truncate(text:gsub("%s+", " "):match("^%s*(.-)%s*$"), 80)
  return { title = "Tasks - " .. date, date = date, tasks = { { id = 1, title = title, type = "general",
    priority = "medium", requires_approval = false, description = title, acceptance_criteria = {},
    instruction = require("lib.tasks_md").literal(text) } } }
end

-- inbox_task(text, by) -> reply, http: the sentence as an inbox task file
-- (lib/inbox_request reads it: type, target files, criteria, the folder
-- named by "in /project"), written into the watched folder so the inbox runs
-- it as it runs a dropped file (c: the config, orch.config's by default).
-- Its cwd: is the folder as written ("/project-name"): the inbox resolves it
-- by the same rule when the task starts (a project under CLAUDE_BASE_CWD; a
-- full path only inside CLAUDE_ALLOWED_ROOT). deadline: a webhook request's
-- (req.deadline), which bounds the local model's time (lib/inbox_request)
-- the sentence inside a ~ fence longer than any run of ~ in it: one with a
-- line that would read as a code fence or a section header (**Prompt:**) of
-- the task file comes back verbatim from inside it
local function fenced(text)
  local n = 3
  for run in text:gmatch("~~~+") do if #run >= n then n = #run + 1 end end
  local f = string.rep("~", n)
  return f .. "\n" .. text .. "\n" .. f
end

function M.inbox_task(text, by, c, deadline)
  c = c or cfg()
  local req, rerr = require("lib.inbox_request").structure(c, text, deadline)
  if not req then return err(400, fmt.reply("task_refused", tostring(rerr))) end
  local now = orch.now()
  local id = string.format("phone-%s-%06d", os.date("%Y%m%d-%H%M%S", math.floor(now)), math.floor((now % 1) * 1e6))
  local it = require("lib.inbox_task")
  local criteria = {}
  -- a criterion of a sentence (or of the local model) is recorded, never run:
  -- backticks would make "`cmd` passes" a shell command the orchestrator
  -- runs outside the agent's safety rules (a task file written by hand may)
  for i, crit in ipairs(req.success_criteria or {}) do criteria[i] = { text = (crit:gsub("`", "'")) } end
  local function render(prompt)
    return it.render({ id = id, type = req.type, title = req.title, priority = req.priority, instruction = prompt,
      inbox = { created = math.floor(now), cwd = req.folder, target_files = req.target_files, parsed_by = req.via,
                success_criteria = criteria } })
  end
  local body, berr = render(req.prompt)
  if not body then body = render(fenced(req.prompt)) end  -- (a lone ``` line, a "**Context:**" line)
  if not body then return err(400, fmt.reply("task_refused", tostring(berr))) end
  local dir = c.paths.tasks_dir
  local file = dir .. "/" .. id .. it.SUFFIX
  local _, perr = it.parse(body, file)  -- what the inbox will read: refused before anything is written
  if perr then return err(400, fmt.reply("task_refused", tostring(perr))) end
  orch.make_dir(dir)
  local ok, werr = orch.write_file(file, body)  -- a temp file renamed in: the watch sees it whole
  if not ok then return err(500, fmt.reply("cannot_write_tasks", werr)) end
  orch.log("info", "inbox task " .. id .. " from " .. tostring(by) .. " (read by " .. req.via ..
    (req.fallback and (", " .. req.fallback) or "") .. ")")
  return { status = "queued", task = id, task_file = file, type = req.type, cwd = req.cwd, via = req.via,
           fallback = req.fallback,  -- why the plain parser read it when the local model was asked
           message = fmt.reply("task_queued", id, req.type,
             req.via == "ollama" and "the local model" or "the plain parser", id) }, 202
end

-- task: a sentence (the bot's /task <description>, a plain message) as an
-- inbox task when the inbox runs (inbox.enabled), else a one-task session;
-- opts.deadline: the webhook request's, when one waits for the reply
-- whether text says what to do beyond the folder it names ("in /proj" alone does not)
local function says_more(text)
  local where = require("lib.inbox_where")
  if not where.token(text) then return text:match("%S") ~= nil end
  return where.without(text):match("%w") ~= nil
end

function M.task(params, by, opts)
  local text = params and (params.text or params.description)
  if type(text) ~= "string" or not says_more(text) then return err(400, fmt.reply("task_missing")) end
  local icfg = cfg().inbox
  if icfg and icfg.enabled then return M.inbox_task(text, by, nil, opts and opts.deadline) end
  -- a one-task day runs in claude.base_cwd: a folder it names would be ignored,
  -- and the agent would work in another project than the one asked for
  local folder = require("lib.inbox_where").token(text)
  if folder then
    return err(400, fmt.reply("task_refused", "\"in " .. folder .. "\" picks the folder of an inbox task, and the "
      .. "inbox is off (inbox.enabled): send it without the folder to run it in " .. tostring(cfg().claude.base_cwd)))
  end
  local dir = cfg().paths.tasks_dir .. "/adhoc"
  local file = string.format("%s/%s-%d.md", dir, os.date("%Y%m%d-%H%M%S"), math.floor((orch.now() % 1) * 1e6))
  local tasks_md = require("lib.tasks_md")  -- here: only /task needs the markdown parser
  local md = tasks_md.render(M.adhoc_doc(text, os.date("%Y-%m-%d")))
  local _, perr = tasks_md.parse(md, file)  -- what start will read: refused before anything is written
  if perr then return err(400, tostring(perr)) end
  orch.make_dir(dir)
  local ok, werr = orch.write_file(file, md)
  if not ok then return err(500, fmt.reply("cannot_write_tasks", werr)) end
  return M.start({ task_file = file, auto_approve = params.auto_approve }, by)
end

end }
