-- prompt: what an agent is told for a task: the instruction, plus what "done"
-- means and the house rules. One place to change it for every workflow.
local M = {}

M.RULES = "Do not stage, commit or push with git, and do not run database migrations." ..
  " If you cannot continue without a decision, end your reply with a line starting with QUESTION:"

-- A task whose file gives no instruction (YAML `prompt:`, JSON "prompt") is
-- told its title and description instead.
function M.for_task(t)
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
  parts[#parts + 1] = "\n" .. M.RULES
  return table.concat(parts, "\n")
end

return M
