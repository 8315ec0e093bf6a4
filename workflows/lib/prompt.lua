-- prompt: what an agent is told for a task: the instruction, plus what "done"
-- means and the house rules (for_task, the day files), or an inbox task's
-- prompt as its file gives it (for_inbox). One place to change it for every
-- workflow.
local M = {}

M.RULES = "Do not stage, commit or push with git, and do not run database migrations." ..
  " If you cannot continue without a decision, end your reply with a line starting with QUESTION:"
-- for an agent in its own worktree (opts.workspace): the notes it leaves for
-- the reviewer (lib/worktree keeps them out of the task's files changed)
M.NOTES = "When you stop, write summary.md (what you did and why) and notes.md (anything the reviewer" ..
  " should know: open questions, shortcuts, follow-ups) in your working folder."

-- for_task(t [, opts]) -> prompt. A task whose file gives no instruction
-- (YAML `prompt:`, JSON "prompt") is told its title and description instead.
-- opts.instructions (lib/feedback's standing instructions) adds the ones that
-- apply to t, and records their texts in t.instructions_applied (for the report);
-- opts.workspace (the agent works in its own worktree) asks for M.NOTES.
function M.for_task(t, opts)
  local parts = { t.instruction }
  local function list(head, items)
    if items and #items > 0 then parts[#parts + 1] = "\n" .. head .. "\n- " .. table.concat(items, "\n- ") end
  end
  if t.instruction then
    if t.description and t.description ~= "" then parts[#parts + 1] = "\nContext: " .. t.description end
  else
    local d = t.description
    parts[1] = "Task: " .. tostring(t.title) .. ((d and d ~= "") and ("\n\n" .. d) or "")
  end
  list("Acceptance criteria:", t.acceptance_criteria)
  list("Read these first:", t.context_files)
  list("Deliverables (create or update each of these paths):", t.deliverables)
  list("The task is checked with these commands after you stop:", t.verify)
  if opts and opts.instructions then
    local applied = {}
    for i, it in ipairs(require("lib.feedback").applicable(opts.instructions, t)) do applied[i] = it.text end
    t.instructions_applied = applied
    if #applied > 0 then
      parts[#parts + 1] = "\nStanding instructions from earlier feedback:\n- " .. table.concat(applied, "\n- ")
    end
  end
  parts[#parts + 1] = "\n" .. M.RULES
  if opts and opts.workspace then parts[#parts + 1] = M.NOTES end
  return table.concat(parts, "\n")
end

-- for_inbox(t) -> prompt: an inbox task's (lib/inbox_task) prompt verbatim,
-- then, when given, a blank line and "Target Files:" with its "- path" list,
-- and a blank line and "Context:" with its text. Nothing else: an inbox
-- task's guardrails are its validation and the safety layers, not prompt text.
function M.for_inbox(t)
  local inbox = t.inbox or {}
  local parts = { t.instruction }
  local files = inbox.target_files
  if files and #files > 0 then parts[#parts + 1] = "Target Files:\n- " .. table.concat(files, "\n- ") end
  if inbox.context and inbox.context ~= "" then parts[#parts + 1] = "Context:\n" .. inbox.context end
  return table.concat(parts, "\n\n")
end

return M
