-- approval: what an approval request says and which decisions it takes.
-- A request is one approvals row of the store (its id is the request id,
-- orch.open_approval); it is for one action, once: a decision names it and
-- is refused when the request was already decided, expired (its
-- approval_timeout), was withdrawn, or belongs to an older session (a newer
-- session runs over the same task file). Who decided, when and through which
-- channel is kept on the task (t.approvals) for status and the report.
-- Policy: edit freely.
local M = {}

M.INSTRUCTION_LINES = 5      -- the instruction's first lines shown in a request
M.INSTRUCTION_CHARS = 400

-- The channels a decision comes through (lib/control's callers say which;
-- a `by` alone is read by its prefix: "cli:alice", "webhook:10.0.0.1",
-- "api:..." (REST), "telegram:42").
M.CHANNELS = { cli = "cli", webhook = "webhook", api = "rest", rest = "rest", telegram = "telegram",
  terminal = "terminal", answer_file = "answer_file", timer = "timer" }

-- channel(by, given) -> the channel's name ("unknown" when nothing says)
function M.channel(by, given)
  if type(given) == "string" and M.CHANNELS[given] then return M.CHANNELS[given] end
  local prefix = tostring(by or ""):match("^([%a_]+)")
  return prefix and M.CHANNELS[prefix] or "unknown"
end

-- first_lines(text) -> the first INSTRUCTION_LINES non-empty lines, cut to INSTRUCTION_CHARS
function M.first_lines(text)
  local out, n = {}, 0
  for l in (tostring(text or "") .. "\n"):gmatch("(.-)\r?\n") do
    if l:find("%S") then
      n = n + 1
      if n > M.INSTRUCTION_LINES then out[#out + 1] = "…" break end
      out[#out + 1] = l
    end
  end
  local s = table.concat(out, "\n")
  if #s > M.INSTRUCTION_CHARS then s = s:sub(1, M.INSTRUCTION_CHARS) .. "…" end
  return s
end

-- branch(s, t) -> the branch the task's agent works on, or nil (no worktrees)
function M.branch(s, t)
  if t.branch then return t.branch end
  -- required here: status and the other commands that only read load no git code
  if s.workspace_base then return require("lib.worktree").branch_name(t.id, s.id) end
end

-- request(s, t, id, why) -> what the request is for: {request_id=, session=,
-- task=, title=, branch=, instruction=, reason=} (the notification's fields,
-- the webhook body's `request`)
function M.request(s, t, id, why)
  local commands = {}  -- its acceptance commands: run by the orchestrator itself, outside the agent's rules
  for i, c in ipairs(type(t.verify) == "table" and t.verify or {}) do commands[i] = tostring(c) end
  return { request_id = id, session = s.id, task = t.id, title = t.title, branch = M.branch(s, t),
           instruction = M.first_lines(t.instruction or t.description), reason = why,
           commands = #commands > 0 and commands or nil }
end

-- note(text) -> the note a person gave with a decision (--note TEXT, the
-- webhook's text), trimmed | nil when it holds no word
function M.note(text)
  if type(text) ~= "string" then return nil end
  local n = text:match("^%s*(.-)%s*$")
  return n ~= "" and n or nil
end

-- decision_record(d) -> what t.approvals keeps of decision d: {request_id=,
-- action=, by=, channel=, at=, note=}: a decision on a request (its row's
-- text is the person's note, d.text), or a skip or cancel of a task no
-- request waited for (request_id nil, d.note). The note is kept here only:
-- status and the report show it from here (lib/format decision_line).
function M.decision_record(d)
  local note = d.note
  if note == nil and not d.expired and d.action ~= "answer" then note = d.text end
  return { request_id = d.id, action = d.action, by = d.by, channel = M.channel(d.by, d.channel),
           at = tonumber(d.at) or orch.now(), expired = d.expired or nil, note = M.note(note) }
end

-- recorded(t, d) -> t.approvals with decision d added (a new list: the task's is not changed)
function M.recorded(t, d)
  local list = {}
  for i, v in ipairs(type(t.approvals) == "table" and t.approvals or {}) do list[i] = v end
  list[#list + 1] = M.decision_record(d)
  return list
end

-- refusal(p, newest) -> why request row p takes no decision, or nil:
-- "decided" | "expired" | "older_session" | "withdrawn". newest: the id of
-- the newest session over p's task file, when it is another.
function M.refusal(p, newest)
  if p.status == "resolved" then return "decided" end
  if p.status == "expired" then return "expired" end
  if newest and newest ~= p.session_id then return "older_session" end
  if p.status ~= "pending" then return "withdrawn" end
end

-- The HTTP status of each refusal (the CLI exits 1 for all; the reply's
-- `reason` says which).
M.HTTP = { decided = 409, expired = 410, older_session = 410, withdrawn = 410, not_found = 404 }

return M
