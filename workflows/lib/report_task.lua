-- report_task: one task in the end-of-day report (lib/report): why it is
-- not completed, its files changed, where it worked, and its section (status
-- and reason, branch and worktree, duration, cost, tokens, approval wait,
-- approval decisions (who, when, through which channel, which request),
-- files changed, deliverables, acceptance commands, questions and answers,
-- standing instructions applied, error, result), and the Markdown helpers the
-- report uses. Every task field may be missing (a markdown day run one task
-- at a time has no branch, changes, deliverables or acceptance results): what
-- is missing is left out. Policy: edit freely.
local S = require("lib.session")
local fmt = require("lib.format")
local acceptance = require("lib.acceptance")
local utc = require("lib.format_status").utc
local function utc_text(epoch) return utc(epoch) .. " UTC" end
local M = {}

M.RESULT_CHARS = 1500    -- an agent's result in a task's section
M.OUTPUT_CHARS = 800     -- an acceptance command's output
M.QUESTION_CHARS = 500   -- a question or an answer
M.FILES_MAX = 50         -- changed files listed per task

local format, concat = string.format, table.concat

-- one line of text: newlines and tabs as spaces (a heading, a list item)
local function line(v) return (tostring(v == nil and "" or v):gsub("[\r\n\t]+", " ")) end
-- a table cell: one line, `|` escaped
local function cell(v) return (line(v):gsub("|", "\\|")) end
-- inline code, with a fence longer than any run of backticks in the text
local function code(v)
  local s, longest = line(v), 0
  for run in s:gmatch("`+") do longest = math.max(longest, #run) end
  local f = string.rep("`", longest + 1)
  return longest > 0 and (f .. " " .. s .. " " .. f) or (f .. s .. f)
end
-- a fenced block indented by `indent`
local function block(text, indent)
  local longest = 2
  for run in text:gmatch("`+") do longest = math.max(longest, #run) end
  local f = string.rep("`", longest + 1)
  local out = { indent .. f }
  for l in (text .. "\n"):gmatch("(.-)\r?\n") do out[#out + 1] = indent .. l end
  out[#out + 1] = indent .. f
  return concat(out, "\n")
end

local function list(v) return type(v) == "table" and v or {} end
-- secs_of(t, upto) -> its runs summed, as status shows it; the run in hand
-- (a retry's backoff, a question) counts to upto: when its session last ran
local secs_of = S.task_time
local function money(x, est) return fmt.money(tonumber(x) or 0, est) end
local plural = fmt.plural

-- the files of t.changes: n, added, removed
local function change_totals(t)
  local n, add, del = 0, 0, 0
  for _, f in ipairs(list(list(t.changes).files)) do
    n, add, del = n + 1, add + (tonumber(f.added) or 0), del + (tonumber(f.removed) or 0)
  end
  return n, add, del
end

local function changes_text(t)
  if type(t.changes) ~= "table" then return nil end
  local n, add, del = change_totals(t)
  return n == 0 and "no files changed" or format("%s (+%d -%d)", plural(n, "file"), add, del)
end

-- the files t's agent wrote or edited (its tool calls), for a task that has
-- no diff (no worktree): "wrote 2 files: `a`, `b`", relative to its folder
M.TOUCHED_MAX = 5
local function touched_text(t)
  local files = list(t.files_touched)
  if #files == 0 then return nil end
  local base = t.cwd or ((orch.config or {}).claude or {}).base_cwd
  base = base and (acceptance.resolve(base, orch.root) .. "/")
  local names = {}
  for i = 1, math.min(#files, M.TOUCHED_MAX) do
    local f = tostring(files[i])
    if base and f:sub(1, #base) == base then f = f:sub(#base + 1) end
    names[i] = code(f)
  end
  local more = #files > M.TOUCHED_MAX and format(" and %d more", #files - M.TOUCHED_MAX) or ""
  return format("wrote %s: %s%s", plural(#files, "file"), concat(names, ", "), more)
end

local function failed_checks(t)
  local bad = {}
  for _, v in ipairs(list(t.verify_results)) do if not v.ok then bad[#bad + 1] = code(v.cmd) end end
  return bad
end

-- why a task is not completed, or nil
function M.reason(t)
  if t.status == "completed" then return nil end
  local why = t.blocked_reason or t.error or t.skip_reason or t.pause_reason
  local retry = S.retry_at(t)  -- waiting_retry: when it runs again, before the error it retries after
  if retry then why = fmt.retry_waiting(retry, t.attempts, utc_text) .. (why and ("; " .. why) or "") end
  -- stored as "skipped: budget", "blocked: task-1 failed": the status is shown beside it
  local st = tostring(t.status) .. ": "
  if type(why) == "string" and why:sub(1, #st) == st then why = why:sub(#st + 1) end
  local missing = list(t.deliverables_missing)
  if not why and #missing > 0 then
    local names, same = {}, {}
    for i, p in ipairs(missing) do names[i] = code(p) end
    for i, p in ipairs(list(t.deliverables_unchanged)) do same[i] = code(p) end
    why = acceptance.deliverables_error(names, same)
  end
  local bad = failed_checks(t)
  if not why and #bad > 0 then why = "acceptance failed: " .. concat(bad, ", ") end
  if not why and t.status == "waiting_approval" then why = t.approval_reason or "waiting for approval" end
  if not why and t.status == "waiting_answer" then why = "waiting for an answer to its agent's question" end
  return why and line(why) or nil
end

local function where(t)
  local parts = {}
  if t.branch then parts[#parts + 1] = "branch " .. code(t.branch) end
  -- the worktree as daily.lua records it (lib/worktree's {path=, ...}), or a path
  local ws = type(t.workspace) == "table" and t.workspace.path or t.workspace
  if ws then parts[#parts + 1] = "worktree " .. code(ws) end
  return #parts > 0 and concat(parts, ", ") or nil
end

-- the questions of t: t.questions, and t.question when it waits for its
-- answer (question_session set: lib/questions) or is not the last of them
local function questions_of(t)
  local qs = {}
  for _, q in ipairs(list(t.questions)) do qs[#qs + 1] = q end
  local last = qs[#qs]
  local waits = type(t.question_session) == "string" and t.question_session ~= ""
  if t.question and (waits or not (last and last.question == t.question)) then
    qs[#qs + 1] = { question = t.question, waits = waits }
  end
  return qs
end

local function verify_lines(t, add)
  local results = list(t.verify_results)
  if #results == 0 then return end
  add("- Acceptance commands:")
  for _, v in ipairs(results) do
    local how = {}
    if v.exit_code ~= nil then how[#how + 1] = "exit " .. tostring(v.exit_code) end
    if tonumber(v.duration_s) then how[#how + 1] = fmt.duration(tonumber(v.duration_s)) end
    add(format("  - %s: %s%s", code(v.cmd), v.ok and "passed" or "failed",
      #how > 0 and (" (" .. concat(how, ", ") .. ")") or ""))
    if not v.ok and v.output and tostring(v.output):find("%S") then
      add("")
      add(block(fmt.truncate(tostring(v.output), M.OUTPUT_CHARS), "    "))
    end
  end
end

local function details(t, add, upto)
  local qs = questions_of(t)
  if not (t.result or t.error or t.branch or t.changes or t.deliverables or t.verify_results or #qs > 0
      or t.approval_wait_s or t.approvals or t.instructions_applied or t.blocked_reason or t.output_log
      or t.tool_blocks
      or secs_of(t, upto)) then
    return
  end
  add("")
  add(format("## Task %s: %s", line(t.id), line(t.title)))
  add("")
  local why = M.reason(t)
  add("- Status: " .. line(t.status) .. (why and (": " .. why) or ""))
  local at = where(t)
  if at then add("- Where: " .. at) end
  local stats, d, tok = {}, secs_of(t, upto), fmt.tokens(t.tokens)
  if d then stats[#stats + 1] = fmt.duration(d) end
  if t.cost_usd then stats[#stats + 1] = money(t.cost_usd, t.cost_estimated_usd) end
  if tok then stats[#stats + 1] = fmt.thousands(tok) .. " tokens" end
  if #stats > 0 then add("- Time, cost, tokens: " .. concat(stats, ", ")) end
  if tonumber(t.approval_wait_s) then add("- Waited for approval: " .. fmt.duration(tonumber(t.approval_wait_s))) end
  for _, a in ipairs(list(t.approvals)) do add("- Decided: " .. line(fmt.decision_line(a, utc_text))) end
  if type(t.changes) == "table" then
    local files = list(t.changes.files)
    add("- Files changed: " .. changes_text(t))
    for i, f in ipairs(files) do
      if i > M.FILES_MAX then add(format("  - ... and %d more", #files - M.FILES_MAX)) break end
      add(format("  - %s (+%d -%d)", code(f.path), tonumber(f.added) or 0, tonumber(f.removed) or 0))
    end
  end
  if t.deliverables then
    local missing, same, parts = {}, {}, {}
    for _, p in ipairs(list(t.deliverables_missing)) do missing[p] = true end
    for _, p in ipairs(list(t.deliverables_unchanged)) do same[p] = true end
    for _, p in ipairs(list(t.deliverables)) do
      parts[#parts + 1] = code(p) .. (same[p] and " unchanged" or missing[p] and " missing" or " present")
    end
    add("- Deliverables: " .. (#parts > 0 and concat(parts, ", ") or "none"))
  end
  verify_lines(t, add)
  if #qs > 0 then
    add("- Questions:")
    for _, q in ipairs(qs) do
      add("  - Q: " .. line(fmt.truncate(q.question, M.QUESTION_CHARS)))
      local meta = {}
      if q.by then meta[#meta + 1] = "by " .. line(q.by) end
      if tonumber(q.asked_at) and tonumber(q.answered_at) then
        meta[#meta + 1] = "after " .. fmt.duration(q.answered_at - q.asked_at)
      end
      add("    A: " .. (q.answer and (line(fmt.truncate(q.answer, M.QUESTION_CHARS)) ..
        (#meta > 0 and (" (" .. concat(meta, ", ") .. ")") or "")) or (q.waits and "(waiting for the answer)"
        or "(not recorded)")))
    end
  end
  local blocks = list(t.tool_blocks)  -- lib/safety_after: what the PreToolUse hook stopped
  if #blocks > 0 then
    add("- Tool calls blocked before they ran:")
    for _, b in ipairs(blocks) do add("  - " .. line(b.tool) .. ": " .. line(b.reason)) end
  end
  local rules = list(t.instructions_applied)
  if #rules > 0 then
    add("- Standing instructions applied:")
    for _, text in ipairs(rules) do add("  - " .. line(text)) end
  end
  if t.output_log then add("- Output log: " .. code(t.output_log)) end
  -- the error in full when the status line could not hold it (several lines)
  if t.error and t.status ~= "completed" and tostring(t.error):find("\n") then
    add("")
    add("**Error:** " .. tostring(t.error))
  end
  if t.result then add("") add(fmt.truncate(tostring(t.result), M.RESULT_CHARS)) end
end

M.line, M.cell, M.code, M.list, M.secs_of, M.money = line, cell, code, list, secs_of, money
M.changes_text, M.touched_text, M.where, M.details = changes_text, touched_text, where, details

return M
