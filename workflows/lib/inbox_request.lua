-- inbox_request: a free-text request (Telegram /task, a plain message) ->
-- a structured inbox task (README, "The local model (optional)").
--
-- M.structure(cfg, text [, deadline]) -> req | nil, err
--   req = { title =, type =, priority = "high"|"medium"|"low", prompt = text
--           (verbatim), target_files = {..}, success_criteria = {..strings},
--           cwd = path | nil, folder = the cwd as written ("/project-name") | nil,
--           via = "ollama" | "plain", model = name | nil,
--           fallback = reason | nil }
--   err: an orch error (code "cwd_refused" or "empty"); tostring(err) is the reason.
-- The working directory is always read by the Lua rule below (lib/inbox_where),
-- never by the model. Then the local model (lib/ollama, format = a JSON schema)
-- is asked for type, title, priority, target files and success criteria; its
-- answer is checked field by field (M.validate) and anything wrong gives the
-- plain parser's reading (M.plain), with the reason in `fallback`.
-- deadline (orch.monotonic() seconds, a webhook request's: req.deadline):
-- the model gets what is left of it less M.REPLY_MARGIN, never more than
-- ollama.timeout, so a slow model falls back to the plain parser in time for
-- the reply instead of the caller getting 503 while the task is queued anyway.
local ollama = require("lib.ollama")
local where = require("lib.inbox_where")
local fmt = require("lib.format")
local json_kind = require("lib.task_model").kind

local M = {}

M.TITLE_WORDS = 8
M.TITLE_CHARS = 80
M.MAX_FILES = 50
M.MAX_CRITERIA = 20
M.PROMPT_CHARS = 8000     -- of the request sent to the model
M.REPLY_MARGIN = 1.5      -- seconds kept before a request's deadline for writing the task and the reply

-- The task types: lib/inbox_task's, the one list.
function M.types() return require("lib.inbox_task").TYPES end

local function known(types, name)
  for _, t in ipairs(types) do if t == name then return true end end
  return false
end

-- Keywords -> type; the one that comes first in the text wins.
M.KEYWORDS = {
  { "code_review", { "review", "reviews", "reviewing" } },
  { "fix", { "fix", "fixes", "fixing", "bug", "bugs", "error", "errors", "broken", "crash", "crashes", "failing" } },
  { "summarize", { "summarize", "summarise", "summary", "summarizing" } },
  { "analyze", { "analyze", "analyse", "analysis", "investigate", "investigation" } },
  { "refactor", { "refactor", "refactoring", "restructure" } },
  { "test", { "add tests", "write tests", "unit tests", "test coverage" } },
  { "document", { "document", "documentation", "docs" } },
}
M.DEFAULT_TYPES = { "implement", "feature", "fix" }   -- the first known one, when no keyword is found

M.PRIORITY_WORDS = {
  high = { "urgent", "asap", "critical", "high priority", "immediately" },
  low = { "low priority", "no rush", "whenever", "when you have time" },
}

local function trim(s) return (tostring(s or ""):gsub("^%s+", ""):gsub("%s+$", "")) end

local function first_word(lower, words)
  local best
  for _, w in ipairs(words) do
    local at = lower:find("%f[%w_]" .. w:gsub("%p", "%%%0") .. "%f[^%w_]")
    if at and (not best or at < best) then best = at end
  end
  return best
end

function M.plain_type(text, types)
  types = types or M.types()
  local lower, best, pick = text:lower(), nil, nil
  for _, k in ipairs(M.KEYWORDS) do
    local at = first_word(lower, k[2])
    if at and known(types, k[1]) and (not best or at < best) then best, pick = at, k[1] end
  end
  if pick then return pick end
  for _, d in ipairs(M.DEFAULT_TYPES) do if known(types, d) then return d end end
  return types[1]
end

local function priority(text)
  local lower = text:lower()
  if first_word(lower, M.PRIORITY_WORDS.high) then return "high" end
  if first_word(lower, M.PRIORITY_WORDS.low) then return "low" end
  return "medium"
end

-- the first line that has a word in it, its markdown heading marks and the
-- folder phrase ("in /proj": the task's cwd, not its subject) left out
local function title(text, cwd_token)
  local line = ""
  for l in (text .. "\n"):gmatch("([^\n]*)\n") do
    if l:match("%w") then line = trim(l) break end
  end
  line = line:gsub("^#+%s+", "")
  if cwd_token then line = trim(where.without(line, cwd_token)) end
  local words = {}
  for w in line:gmatch("%S+") do
    if #words >= M.TITLE_WORDS then break end
    words[#words + 1] = w
  end
  return fmt.truncate(table.concat(words, " "):gsub("[%.,;:]+$", ""), M.TITLE_CHARS)
end

-- A token that reads as a relative file path: src/db.py, auth.py, docs/, `a b`.
local function path_like(tok, quoted)
  if tok:find("..", 1, true) or tok:find("://", 1, true) or tok:sub(1, 1) == "/" or tok:find("[%c]") then
    return false
  end
  if quoted and tok:find("%s%-") then return false end  -- `rm -rf x`: a command with its flags, not a path
  if tok:find("/", 1, true) then
    local shape = quoted and "^[%w_.@+-][%w_.@+/ -]*$" or "^[%w_.@+-][%w_.@+/-]*$"
    return tok:match(shape) ~= nil and tok:lower() ~= "and/or"
  end
  local name, ext = tok:match("^([%w_.+-]*[%w_])%.(%w+)$")
  return name ~= nil and #ext <= 6 and ext:find("%a") ~= nil and not tok:match("^%a%.%a$")
end

local LEAD, TAIL = "^[%(%[\"'`<]+", "[%)%]\"'`>%.,;:!%?]+$"

function M.target_files(text, skip)
  local out, seen = {}, {}
  local function add(tok, quoted)
    tok = tok:gsub(LEAD, ""):gsub(TAIL, "")
    if tok ~= skip and not seen[tok] and path_like(tok, quoted) and #out < M.MAX_FILES then
      seen[tok] = true
      out[#out + 1] = tok
    end
  end
  for tok in text:gmatch("`([^`\n]+)`") do add(tok, true) end
  for tok in text:gsub("`[^`\n]+`", " "):gmatch("%S+") do add(tok) end
  return out
end

function M.success_criteria(text)
  local out = {}
  local function add(s)
    s = trim(s):gsub("[%.;]+$", "")
    if s ~= "" and #out < M.MAX_CRITERIA then out[#out + 1] = s end
  end
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    local item = line:match("^%s*[-*]%s+%[[ xX]%]%s+(.+)$") or line:match("^%s*[-*]%s+(.+)$")
    if item then add(item) end
  end
  if #out == 0 then
    local lower = text:lower()
    for _, lead in ipairs({ "make sure ", "ensure ", "so that " }) do
      local at = lower:find(lead, 1, true)
      if at then add(text:sub(at + #lead):match("^[^%.\n!?]+") or "") end
    end
    for cmd, verb in text:gmatch("(`[^`\n]+`)%s+(%a+)") do
      local said = cmd .. " " .. verb
      local dup = false  -- ("make sure `make test` passes in /proj" took it already)
      for _, o in ipairs(out) do if o:find(said, 1, true) then dup = true end end
      if not dup and (verb == "passes" or verb == "succeeds" or verb == "works") then add(said) end
    end
  end
  return out
end

function M.plain(text, cwd_token, types)
  return { title = title(text, cwd_token), type = M.plain_type(text, types), priority = priority(text),
           target_files = M.target_files(text, cwd_token), success_criteria = M.success_criteria(text) }
end

-- The JSON schema the model's answer must follow (Ollama's structured outputs).
local function schema(types)
  local strings = { type = "array", items = { type = "string" } }
  return { type = "object", required = { "type", "title", "priority", "target_files", "success_criteria" },
           properties = { type = { type = "string", enum = types }, title = { type = "string" },
                          priority = { type = "string", enum = { "high", "medium", "low" } },
                          target_files = strings, success_criteria = strings } }
end

M.SYSTEM = "You turn a developer's short request into a task for a coding agent. Answer with one JSON object:"
  .. " type (one of: %s), title (a few words), priority (high, medium or low), target_files (the file paths"
  .. " the request names, relative, never with ..), success_criteria (short checkable statements)."
  .. " Do not invent files the request does not name."

local function list_of_strings(v, field, max, check)
  if v == nil then return {} end
  local k = json_kind(v, "json")
  if k ~= "array" then return nil, field .. " must be an array of strings, not " .. k end
  if #v > max then return nil, string.format("%s has %d entries (at most %d)", field, #v, max) end
  local out = {}
  for i, s in ipairs(v) do
    if type(s) ~= "string" or trim(s) == "" or s:find("[%c]") then
      return nil, string.format("%s[%d] must be a non-empty line of text", field, i)
    end
    local why = check and check(s)
    if why then return nil, string.format("%s[%d] %s: %s", field, i, why, s:sub(1, 100)) end
    out[#out + 1] = trim(s)
  end
  return out
end

local function bad_path(p)
  for part in p:gmatch("[^/\\]+") do
    if part == ".." then return "has '..'" end
  end
end

-- validate(answer text, types) -> fields | nil, reason (naming the field)
function M.validate(answer, types)
  local doc = type(answer) == "string" and orch.json.decode(answer) or nil
  if type(doc) ~= "table" or doc[1] ~= nil then return nil, "the model's answer is not a JSON object" end
  if type(doc.type) ~= "string" then return nil, "type must be a string, not " .. json_kind(doc.type, "json") end
  if not known(types, doc.type) then return nil, "type '" .. doc.type:sub(1, 40) .. "' is not a known task type" end
  if type(doc.title) ~= "string" or trim(doc.title) == "" then return nil, "title must be a non-empty string" end
  local pr = doc.priority == nil and "medium" or doc.priority
  if pr ~= "high" and pr ~= "medium" and pr ~= "low" then return nil, "priority must be high, medium or low" end
  local files, ferr = list_of_strings(doc.target_files, "target_files", M.MAX_FILES, bad_path)
  if not files then return nil, ferr end
  local crit, cerr = list_of_strings(doc.success_criteria, "success_criteria", M.MAX_CRITERIA)
  if not crit then return nil, cerr end
  return { type = doc.type, title = fmt.truncate(trim(doc.title):gsub("%s+", " "), M.TITLE_CHARS), priority = pr,
           target_files = files, success_criteria = crit }
end

-- the model's timeout under a request's deadline -> seconds, limit name | nil (none left)
local function time_left(cfg, deadline)
  if not deadline then return nil end
  local own = tonumber(cfg.ollama and cfg.ollama.timeout) or 20
  local left = deadline - orch.monotonic() - M.REPLY_MARGIN
  if left >= own then return nil end
  return math.max(left, 0), "the request's deadline, server.handler_timeout"
end

local function ask(cfg, text, types, deadline)
  local timeout, limit_name = time_left(cfg, deadline)
  if timeout and timeout < 0.2 then
    return nil, "no time left for the local model before the request's deadline (server.handler_timeout)"
  end
  local messages = {
    { role = "system", content = string.format(M.SYSTEM, table.concat(types, ", ")) },
    { role = "user", content = fmt.truncate(text, M.PROMPT_CHARS) },
  }
  local answer, model = ollama.chat(cfg, messages, { format = schema(types), options = { temperature = 0 },
                                                    timeout = timeout, limit_name = limit_name })
  if not answer then return nil, tostring(model) end
  local fields, why = M.validate(answer, types)
  if not fields then return nil, "the model's answer was refused: " .. why end
  fields.model = model
  return fields
end

-- a list without its repeats (the first of each kept, in order): a criterion
-- or a file named twice, by the request or the model, is one
local function unique(list)
  local out, seen = {}, {}
  for _, v in ipairs(list or {}) do
    if not seen[v] then seen[v], out[#out + 1] = true, v end
  end
  return out
end

function M.structure(cfg, text, deadline)
  cfg = cfg or orch.config
  text = type(text) == "string" and text or ""
  if trim(text) == "" then return nil, orch.err("empty", "the request is empty") end
  local cwd, refused = where.resolve(cfg, text)
  if cwd == nil then return nil, refused end
  local types = M.types()
  local ok, fields, why = pcall(ask, cfg, text, types, deadline)
  local via, fallback = "ollama", nil
  if not ok or not fields then
    fallback = ok and why or ("the model path failed: " .. tostring(fields))
    fields, via = M.plain(text, where.token(text), types), "plain"
  end
  fields.target_files, fields.success_criteria = unique(fields.target_files), unique(fields.success_criteria)
  fields.prompt, fields.via, fields.fallback = text, via, fallback
  fields.cwd = cwd or nil  -- false: the request names no folder
  fields.folder = cwd and where.token(text) or nil  -- as written: what a task file's cwd: holds
  return fields
end

return M
