-- prompt: what an agent is told for a task: the instruction, plus what "done"
-- means and the house rules. One place to change it for every workflow.
local M = {}

M.RULES = "Do not stage, commit or push with git, and do not run database migrations." ..
  " If you cannot continue without a decision, end your reply with a line starting with QUESTION:"

-- for_task(t [, opts]) -> prompt. opts.instructions (lib/feedback's standing
-- instructions) adds the ones that apply to t, and records their texts in
-- t.instructions_applied (for the report).
function M.for_task(t, opts)
  local parts = { t.instruction }
  if t.description and t.description ~= "" then parts[#parts + 1] = "\nContext: " .. t.description end
  if t.acceptance_criteria and #t.acceptance_criteria > 0 then
    parts[#parts + 1] = "\nAcceptance criteria:\n- " .. table.concat(t.acceptance_criteria, "\n- ")
  end
  if opts and opts.instructions then
    local applied = {}
    for i, it in ipairs(require("lib.feedback").applicable(opts.instructions, t)) do applied[i] = it.text end
    t.instructions_applied = applied
    if #applied > 0 then
      parts[#parts + 1] = "\nStanding instructions from earlier feedback:\n- " .. table.concat(applied, "\n- ")
    end
  end
  parts[#parts + 1] = "\n" .. M.RULES
  return table.concat(parts, "\n")
end

return M
