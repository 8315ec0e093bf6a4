-- Specs for lib/control's /task when the inbox runs: the sentence becomes an
-- inbox task file in the watched folder, which lib/inbox_task reads back to
-- the same task (the prompt verbatim, the folder "in /project" names); a
-- refused folder writes nothing.
local T = require("orch.testing")
local control = require("lib.control")
local inbox_task = require("lib.inbox_task")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local function sh(...)
  local r = orch.exec({ cmd = { ... }, timeout = 30 })
  assert(r and r.ok, "command failed: " .. table.concat({ ... }, " ") .. ": " .. tostring(r and r.stderr))
  return (r.stdout:gsub("%s+$", ""))
end

local tmp = sh("realpath", sh("mktemp", "-d"))
orch.make_dir(tmp .. "/base/backend")
local function cfg()
  return { claude = { base_cwd = tmp .. "/base", allowed_root = "" }, paths = { tasks_dir = tmp .. "/tasks" },
           ollama = { enabled = "false", host = "127.0.0.1:1", model = "llama3.1:8b", timeout = 5 } }
end

local function files()
  local list = {}
  for _, e in ipairs(orch.list_dir(tmp .. "/tasks") or {}) do list[#list + 1] = e.name or e end
  return list
end

describe("control.inbox_task: /task and plain messages as inbox task files", function()
  it("writes a .task.md that reads back with the text verbatim and the folder named", function()
    local text = "Fix the database connection timeout in /backend\nIt fails after 30 s."
    local r, http = control.inbox_task(text, "telegram:1", cfg())
    eq(http, 202, r.message)
    eq(r.status, "queued")
    ok(r.task:find("^phone%-%d+%-%d+%-%d+$"), r.task)
    ok(r.message:find(r.task, 1, true), r.message)
    local t = assert(inbox_task.load(r.task_file, { root = tmp .. "/tasks" }))
    eq(t.id, r.task)
    eq(t.type, "fix")
    eq(t.instruction, text)
    -- the folder as written, which the inbox resolves when the task starts, by the rule the reply's cwd
    -- came from: with CLAUDE_ALLOWED_ROOT unset, the full path would be refused there
    eq(t.inbox.cwd, "/backend")
    eq(r.cwd, tmp .. "/base/backend")
    eq(require("lib.inbox_where").resolve(cfg(), "in " .. t.inbox.cwd), tmp .. "/base/backend")
    ok(t.inbox.created, "no created time")
  end)

  it("a command named in the sentence is a criterion recorded, never one the orchestrator runs", function()
    local r, http = control.inbox_task("Clean up, and make sure `rm -rf /tmp/x` passes", "telegram:1", cfg())
    eq(http, 202, r.message)
    local t = assert(inbox_task.load(r.task_file, { root = tmp .. "/tasks" }))
    eq(#t.inbox.success_criteria, 1)
    eq({ t.inbox.success_criteria[1].text, t.inbox.success_criteria[1].command }, { "'rm -rf /tmp/x' passes", nil })
    eq(t.verify, {})
  end)

  it("refuses a folder that is not there, and writes nothing", function()
    local before = #files()
    local r, http = control.inbox_task("Review the code in /no-such-project", "telegram:1", cfg())
    eq(http, 400)
    ok(r.message:find("no%-such%-project"), r.message)
    eq(#files(), before)
  end)

  it("keeps text with markdown-ish lines verbatim; one that reads as the file's own lines, in a ~ fence", function()
    for _, text in ipairs({ "**Type:** backend\nmore", "# not a title\n---\nafter", "- [ ] a list item",
                            "Fix the ``` in README" }) do
      local r, http = control.inbox_task(text, "telegram:1", cfg())
      eq(http, 202, r.message)
      eq(assert(inbox_task.load(r.task_file)).instruction, text)
    end
    -- a lone fence line (pasted code), a section header, a ~ fence of its own
    for _, case in ipairs({ { "```\nFix it", "~~~\n```\nFix it\n~~~" },
                            { "Look:\n**Context:**\nfoo", "~~~\nLook:\n**Context:**\nfoo\n~~~" },
                            { "~~~~\nx", "~~~~~\n~~~~\nx\n~~~~~" } }) do
      local r, http = control.inbox_task(case[1], "telegram:1", cfg())
      eq(http, 202, r.message)
      eq(assert(inbox_task.load(r.task_file)).instruction, case[2])
    end
  end)
end)
