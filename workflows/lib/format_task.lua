-- format_task: the messages of a task's run (lib/format's, installed into
-- its table: callers use lib.format): session_started(s), task_started(s, t),
-- task_completed(s, t, r), task_failed(s, t, r), task_blocked(s, t, why),
-- task_needs_review(s, t, why, summary), task_retrying(s, t, r),
-- question(s, t, q). H: lib/format's shared helpers (blocks, task_block,
-- counts, ...). Pure, like lib/format. Policy: edit freely.
local format, concat = string.format, table.concat

return { install = function(M, H)
local STATUS, COMMANDS, commands, excerpt, counts = H.STATUS, H.COMMANDS, H.commands, H.excerpt, H.counts
local next_after, parallel, in_hand, progress, stats = H.next_after, H.parallel, H.in_hand, H.progress, H.stats
local title_of, task_ref, task_block, blocks = H.title_of, H.task_ref, H.task_block, H.blocks

function M.session_started(s)
  local tasks, lines = s.tasks or {}, {}
  lines[1] = format("Found %d task%s:", #tasks, #tasks == 1 and "" or "s")
  for i, t in ipairs(tasks) do
    if i > M.LIST_MAX then lines[#lines + 1] = format("… and %d more", #tasks - M.LIST_MAX) break end
    lines[#lines + 1] = format("%s. %s%s", tostring(t.id or i), title_of(t), t.type and (" (" .. t.type .. ")") or "")
  end
  return blocks("🤖 Orchestrator Starting...",
    s.task_file and ("📋 Loading tasks from: " .. s.task_file),
    concat(lines, "\n"), "▶️ Ready to begin!",
    "Commands: " .. (s.status == "waiting_approval" and "/approve " or "") .. "/status /pause /help")
end

function M.task_started(s, t) return blocks(task_block(s, t, "⚙️ Executing"), "Please wait...") end

function M.task_completed(s, t, r)
  r = r or {}
  local c = counts(s, t, "completed")
  local par = parallel(s, c)
  local nxt = not par and next_after(s, t) or nil
  local left = c.done < c.total
  return blocks(format("✅ %s Complete!", task_ref(s, t)),
    excerpt(r.summary or r.result), stats(t, r),
    progress(c) .. "\n" .. M.bar(c.done, c.total), M.RULE,
    nxt and task_block(s, nxt, "Next:")
      or (left and concat({ format("⏳ %d more to finish.", c.total - c.done), par and in_hand(c) or nil }, "\n")
        or (s.kind == "inbox" and "📥 The inbox is empty: waiting for the next task file."
          or "🏁 That was the last task.")),
    nxt and commands(s) or (par and left and COMMANDS.running[1]) or nil)
end

-- r = {error=, result=, exit_code=, timed_out=, timeout=, cost_usd=, summary= (the task inbox's)}
function M.task_failed(s, t, r)
  r = r or {}
  local head, tail = "❌", " Failed"
  if r.timed_out then head, tail = "⚠️", " Timed Out" .. (r.timeout and (" after " .. M.duration(r.timeout)) or "") end
  local err = r.error or r.result or (not r.timed_out and "no details") or nil
  local detail = err and ("Error: " .. excerpt(err)) or ""
  if r.exit_code then detail = detail .. (err and "\n" or "") .. "Exit code: " .. tostring(r.exit_code) end
  -- what applies to a task that has ended (skip does not): its logs and
  -- events, and a pause of the tasks still to come
  local c = counts(s, t, "failed")
  return blocks(task_block(s, t, head, tail), detail, r.summary and ("📄 " .. excerpt(r.summary)),
    stats(t, r), progress(c), format("/logs for details, /progress %s for its events", tostring(t.id))
      .. (c.done < c.total and ", /pause to pause the rest" or ""))
end

-- a failed run that goes again (orchestrator.retry_failed); r = {error=, attempt=, of=}
-- a task that will not run: a task it depends on failed or was skipped (why: "task-1 failed")
function M.task_blocked(s, t, why)
  return blocks(task_block(s, t, "🚫 Blocked:"), "Because " .. tostring(why) .. ".")
end

-- the agent finished, but its work is not there (why: "deliverables missing: docs/x.md");
-- summary: what it did (the task inbox's summary), when there is one
function M.task_needs_review(s, t, why, summary)
  return blocks(task_block(s, t, STATUS.needs_review .. ":"), tostring(why) .. ".",
    summary and ("📄 " .. excerpt(summary)), progress(counts(s, t, "needs_review")),
    t.workspace and "Look at its worktree, then commit or re-run it"
      or "Look at its changes (git status where it worked), then keep them or re-run it")
end

function M.task_retrying(s, t, r)
  return blocks(task_block(s, t, "🔁 Retrying", format(" (attempt %d of %d)", r.attempt, r.of)),
    r.error and ("Last error: " .. excerpt(r.error)), "/skip to skip it, /pause to pause")
end

function M.question(s, t, q) -- q: the question text or {text=}
  local text = type(q) == "table" and q.text or q
  return blocks(task_block(s, t, "❓ Question from"), excerpt(text, M.QUESTION_CHARS),
    M.answer_hint(t))
end

end }
