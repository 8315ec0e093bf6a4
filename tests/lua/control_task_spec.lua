-- Specs for lib/control's /task file: built as a tasks_md doc and written by
-- tasks_md.render, so whatever the text holds the file parses back to it.
local T = require("orch.testing")
local control = require("lib.control")
local tasks_md = require("lib.tasks_md")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local function round_trip(text)
  local doc = control.adhoc_doc(text, "2025-11-20")
  local md = tasks_md.render(doc)
  local back, err = tasks_md.parse(md, "adhoc.md")
  ok(back, "does not parse back: " .. tostring(err) .. "\n" .. md)
  local t = back.tasks[1]
  t.line = nil
  eq(back.tasks, doc.tasks, md)
  eq(back.date, "2025-11-20")
  return t, md
end

describe("control.adhoc_doc: /task's file", function()
  it("keeps a plain sentence as the instruction and its one-line form as the title", function()
    local t = round_trip("Create a pijama directory [key:z1]\nwith a README")
    eq(t.title, "Create a pijama directory [key:z1] with a README")
    eq(t.instruction, "Create a pijama directory [key:z1]\nwith a README")
    eq({ t.type, t.priority, t.requires_approval }, { "general", "medium", false })
  end)

  local TRICKY = {
    "**Type:** backend",
    "Fix the **bold** bug\n**Priority:** high\nand more",
    "# not a title\n## Task 2: not a task\n---\nafter the separator",
    "```lua\nprint(1)\n",
    "````\nfour\n```\nthree",
    "  \r\n**Description:** twice\r\n---\r\n",
    "---",
  }
  for i, text in ipairs(TRICKY) do
    it("reads back text " .. i .. " with markdown-ish lines", function()
      local t = round_trip(text)
      ok(t.instruction:find(text:gsub("\r\n", "\n"):match("^%s*(.-)%s*$"), 1, true), t.instruction)
      ok(not t.title:find("\n"), "a title with a newline")
    end)
  end

  it("cuts long texts on a character boundary", function()
    local t = round_trip(string.rep("é", 3000))
    ok(#t.instruction <= 2000 * 2 + 3)
    ok(#t.title <= 80 * 2 + 3)
  end)
end)

describe("control.task: a sentence that names only a folder", function()
  it("is refused as an empty one is: there is nothing to do", function()
    for _, text in ipairs({ "in /proj", "  In /proj.  ", "in '/proj'" }) do
      local r, http = control.task({ text = text }, "tester")
      eq(http, 400, text)
      eq(r.message, control.task({ text = "  " }, "tester").message)
    end
  end)
end)

describe("control.task without the inbox: a one-task day", function()
  it("refuses a sentence that names a folder, which that day would not work in", function()
    if orch.config.inbox and orch.config.inbox.enabled then return end  -- (the config of this run has it on)
    local r, http = control.task({ text = "Fix the login bug in /backend" }, "tester")
    eq(http, 400)
    ok(r.message:find('"in /backend" picks the folder of an inbox task, and the inbox is off', 1, true), r.message)
  end)
end)
