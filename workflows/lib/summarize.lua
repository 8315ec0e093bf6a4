-- summarize: the summary of a finished task (summaries/<name>_summary.txt,
-- the completion and failure notifications).
--
-- M.summary(cfg, t) -> { text =, via = "ollama" | "plain", model = name | nil,
--                        fallback = reason | nil }
--   The local model (lib/ollama, when it is usable) is asked for a short
--   summary (M.PROMPT, below: edit it here); its answer is checked
--   (M.check). Anything else gives the plain summary, with the reason in
--   `fallback`. Never raises.
-- M.plain(t) -> text: the status, the first lines of the result (bounded),
--   the files touched, the error.
-- M.check(answer, prompt) -> text | nil, reason
--
-- t is a finished session task: status, result, error, title, id,
-- files_touched (paths the agent wrote or edited) or files_changed.
local ollama = require("lib.ollama")
local fmt = require("lib.format")

local M = {}

M.RESULT_LINES = 8        -- lines of the result the plain summary keeps
M.RESULT_CHARS = 800      -- and at most this many characters of them
M.FILES = 10              -- files named, then "and N more"
M.ERROR_CHARS = 300
M.MAX_CHARS = 1200        -- a longer model answer is refused
M.PROMPT_RESULT_CHARS = 6000  -- of the result text sent to the model

-- The request to the model. %s: the task's title, status, files, error and result.
M.PROMPT = "Summarize the outcome of this coding task in two to four plain sentences for a status message."
  .. " Say what was done, what changed, and what is left or failed. Answer with the summary text only,"
  .. " no JSON, no headings.\n\nTask: %s\nStatus: %s\nFiles touched: %s\nError: %s\n\nResult:\n%s\n"

local function trim(s) return (tostring(s or ""):gsub("^%s+", ""):gsub("%s+$", "")) end

-- a field's text: "" for nil, JSON null (a cleared field) and tables
local function text_of(v)
  local k = type(v)
  return (k == "string" or k == "number" or k == "boolean") and trim(v) or ""
end

local function files_of(t)
  local f = t.files_touched or t.files_changed
  local out = {}
  for _, p in ipairs(type(f) == "table" and f or {}) do
    local path = type(p) == "table" and p.path or p
    if text_of(path) ~= "" then out[#out + 1] = text_of(path) end
  end
  return out
end

local function files_line(files)
  local shown = {}
  for i = 1, math.min(#files, M.FILES) do shown[i] = tostring(files[i]) end
  local line = table.concat(shown, ", ")
  if #files > M.FILES then line = line .. string.format(" and %d more", #files - M.FILES) end
  return line
end

function M.plain(t)
  t = type(t) == "table" and t or {}
  local out = { "Status: " .. (text_of(t.status) ~= "" and text_of(t.status) or "unknown") }
  local lines = {}
  for line in (text_of(t.result) .. "\n"):gmatch("([^\n]*)\n") do
    if #lines >= M.RESULT_LINES then break end
    if line:match("%S") then lines[#lines + 1] = line:gsub("%s+$", "") end
  end
  if #lines > 0 then out[#out + 1] = fmt.truncate(table.concat(lines, "\n"), M.RESULT_CHARS) end
  local files = files_of(t)
  if #files > 0 then out[#out + 1] = "Files: " .. files_line(files) end
  if text_of(t.error) ~= "" then out[#out + 1] = "Error: " .. fmt.truncate(text_of(t.error), M.ERROR_CHARS) end
  return table.concat(out, "\n")
end

function M.prompt(t)
  local files, err = files_of(t), text_of(t.error)
  local title = text_of(t.title) ~= "" and text_of(t.title) or text_of(t.id)
  local status = text_of(t.status) ~= "" and text_of(t.status) or "unknown"
  return string.format(M.PROMPT, title ~= "" and title or "?", status,
    #files > 0 and files_line(files) or "none", err ~= "" and err or "none",
    fmt.truncate(text_of(t.result), M.PROMPT_RESULT_CHARS))
end

function M.check(answer, prompt)
  if type(answer) ~= "string" then return nil, "the model's answer is not text" end
  local text = trim(answer)
  if text == "" then return nil, "the model's answer is empty" end
  if #text > M.MAX_CHARS then
    return nil, string.format("the model's answer is too long (%d characters, at most %d)", #text, M.MAX_CHARS)
  end
  local first = text:sub(1, 1)
  if (first == "{" or first == "[") and orch.json.decode(text) ~= nil then
    return nil, "the model answered JSON where a text was asked"
  end
  local instruction = M.PROMPT:match("^[^\n]*"):sub(1, 60)
  if text:find(instruction, 1, true) or (#text >= 200 and prompt and prompt:find(text, 1, true)) then
    return nil, "the model's answer echoes the prompt"
  end
  return text
end

local function ask(cfg, t)
  local url, uerr = ollama.usable(cfg)  -- off, or known down: no prompt made for nothing
  if not url then return nil, tostring(uerr) end
  local prompt = M.prompt(t)
  local answer, model = ollama.generate(cfg, prompt, { options = { temperature = 0.2 } })
  if not answer then return nil, tostring(model) end
  local text, why = M.check(answer, prompt)
  if not text then return nil, why end
  return { text = text, via = "ollama", model = model }
end

function M.summary(cfg, t)
  cfg = cfg or orch.config
  local ok, res, why = pcall(ask, cfg, type(t) == "table" and t or {})
  if ok and res then return res end
  local reason = ok and why or ("the model path failed: " .. tostring(res))
  local pok, text = pcall(M.plain, t)
  if not pok then text = "Status: " .. tostring(type(t) == "table" and t.status or "unknown") end
  return { text = text, via = "plain", fallback = reason }
end

return M
