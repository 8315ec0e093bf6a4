-- components: what `orch-host doctor` and `orch-host status` report about the
-- parts this host uses: the claude CLI and its version (found by the host,
-- host/cli/components.cpp), Ollama (lib/ollama's probe: reachable at URL,
-- its version, its models and whether the configured one is among them) and
-- which path requests and summaries take, and the schema inbox results are
-- checked against (lib/artifacts.schema). Policy: the words are here.
--
-- M.rows(cfg, info) -> rows, problems    [yields: the Ollama probe]
--   info = { claude = { name =, exe = path | "", version = text, why = (exe "": "is not executable"...) } | nil,
--            ollama = false: no Ollama probe, no rows of it nor of the schema,
--            schedules = true: the rows of M.schedule_rows }
--   rows = { { mark = "ok" | "note" | "FAIL", what =, detail = } }
--   problems: how many rows are FAIL (doctor's exit 1)
-- M.ollama_rows(p) -> rows   p: lib/ollama.probe's answer (with mode)
local ollama = require("lib.ollama")

local M = {}

M.PLAIN = "the plain parser and summary are used"
M.MODELS_SHOWN = 8

local function row(mark, what, detail) return { mark = mark, what = what, detail = detail } end

function M.claude_rows(c)
  if not c then return {} end
  if not c.exe or c.exe == "" then
    return { row("FAIL", "claude CLI", tostring(c.name) .. " " .. (c.why or "not found")
      .. " (set CLAUDE_CLI_PATH or claude.path)") }
  end
  local v = c.version ~= nil and c.version ~= "" and c.version or "no answer to --version"
  return { row(c.version ~= nil and c.version ~= "" and "ok" or "FAIL", "claude CLI", c.exe .. " (" .. v .. ")") }
end

local function models_text(p)
  local shown = {}
  for i = 1, math.min(#p.models, M.MODELS_SHOWN) do shown[i] = p.models[i] end
  local text = table.concat(shown, ", ")
  if #p.models > M.MODELS_SHOWN then text = text .. string.format(" and %d more", #p.models - M.MODELS_SHOWN) end
  return text
end

function M.ollama_rows(p)
  if p.mode == "false" then
    return { row("note", "Ollama", "off (ollama.enabled = false): " .. M.PLAIN),
             row("ok", "requests, summaries", "plain (lib/inbox_request, lib/summarize)") }
  end
  if not p.reachable then
    -- enabled = true asked for the model: its absence is a problem; auto only notes it
    return { row(p.mode == "true" and "FAIL" or "note", "Ollama",
                 "not found: " .. tostring(p.error or "no answer") .. "; " .. M.PLAIN),
             row("ok", "requests, summaries", "plain (lib/inbox_request, lib/summarize)") }
  end
  local rows = { row("ok", "Ollama", "reachable at " .. p.url .. (p.version and (", version " .. p.version) or "")) }
  if p.error then  -- answered /api/version, not /api/tags
    rows[#rows + 1] = row(p.mode == "true" and "FAIL" or "note", "Ollama models", tostring(p.error))
  elseif #p.models == 0 then
    rows[#rows + 1] = row("note", "Ollama models", "none installed (ollama pull " .. tostring(p.model) .. ")")
  elseif p.has_model then
    rows[#rows + 1] = row("ok", "Ollama models", models_text(p) .. " (the configured " .. p.model .. " is among them)")
  else
    rows[#rows + 1] = row(p.mode == "true" and "FAIL" or "note", "Ollama models", models_text(p)
      .. " (the configured " .. tostring(p.model) .. " is not among them: ollama pull " .. tostring(p.model) .. ")")
  end
  if p.has_model then
    rows[#rows + 1] = row("ok", "requests, summaries", "the local model " .. p.model
      .. " (the plain path when it is slow or answers garbage)")
  else
    rows[#rows + 1] = row("ok", "requests, summaries", "plain (lib/inbox_request, lib/summarize)")
  end
  return rows
end

-- M.schedule_rows(cfg) -> rows: config `schedules` checked by lib/schedule's
-- validate, the check `serve` runs before it starts them
function M.schedule_rows(cfg)
  local list = cfg.schedules or {}
  if #list == 0 then return { row("ok", "schedules", "none") } end
  local ok, err = pcall(require("lib.schedule").validate, list)
  if not ok then
    local msg = type(err) == "table" and err.message or tostring(err)
    return { row("FAIL", "schedules", msg .. " (orch-host serve does not start with it)") }
  end
  local rows = { row("ok", "schedules", string.format("%d valid", #list)) }
  for _, e in ipairs(err) do  -- (the entries, when valid)
    local detail, mark = require("lib.schedule").plan(e, orch.now()), "ok"
    local file = e.args.task_file
    if file then
      local path = file:sub(1, 1) == "/" and file or (orch.root .. "/" .. file)
      if orch.file_info(path) then
        detail = detail .. ", runs " .. file
      else
        detail, mark = detail .. ", runs " .. file .. ": no such file (each fire fails until it exists)", "note"
      end
    else
      detail = detail .. ", runs the day's file"
    end
    rows[#rows + 1] = row(mark, "schedule " .. e.label, detail)
  end
  return rows
end

-- the schema an inbox task's result is checked against (lib/artifacts)
function M.schema_row()
  local schema, where = require("lib.artifacts").schema()
  if schema then return row("ok", "results schema", where) end
  return row("FAIL", "results schema", tostring(where) .. ": inbox tasks fail before their agent runs")
end

function M.rows(cfg, info)
  local rows = M.claude_rows(info and info.claude)
  if info and info.schedules then
    for _, r in ipairs(M.schedule_rows(cfg)) do rows[#rows + 1] = r end
  end
  if not (info and info.ollama == false) then
    local p = ollama.mode(cfg) == "false" and { mode = "false" } or ollama.probe(cfg)
    for _, r in ipairs(M.ollama_rows(p)) do rows[#rows + 1] = r end
    rows[#rows + 1] = M.schema_row()
  end
  local problems = 0
  for _, r in ipairs(rows) do if r.mark == "FAIL" then problems = problems + 1 end end
  return rows, problems
end

return M
