-- questions: how an agent's question is found in a run (lib/questions).
local T = require("orch.testing")
local Q = require("lib.questions")
local describe, it, eq = T.describe, T.it, T.eq

local ASK = { questions = { { question = "Which table name?", header = "Table", multiSelect = false,
  options = { { label = "baptisms", description = "plural" }, { label = "baptism", description = "singular" } } } } }

local function tool_use(name, input)
  return { type = "assistant", message = { content = { { type = "text", text = "Let me ask." },
    { type = "tool_use", id = "toolu_1", name = name, input = input } } } }
end

describe("questions: a final QUESTION: line", function()
  it("is the question from its last line starting QUESTION: to the end", function()
    eq(Q.of({ ok = true, result = "QUESTION: A or B?" }), "A or B?")
    eq(Q.of({ ok = true, result = "I looked.\nQUESTION: A or B?\n(either works)\n" }), "A or B?\n(either works)")
    eq(Q.of({ ok = true, result = "QUESTION: first?\nQUESTION: second?" }), "second?")
  end)
  it("is not a QUESTION: inside a line, an empty one, or a failed run's", function()
    eq(Q.of({ ok = true, result = "done; no QUESTION: here" }), nil)
    eq(Q.of({ ok = true, result = "QUESTION:   \n" }), nil)
    eq(Q.of({ ok = false, result = "QUESTION: A or B?" }), nil)
    eq(Q.of({ ok = true }), nil)
  end)
end)

describe("questions: AskUserQuestion", function()
  it("seen live stops the run with a reason that carries the question", function()
    local why = Q.live(tool_use("AskUserQuestion", ASK))
    eq(why, Q.STOP .. ": Which table name? (baptisms / baptism)")
    eq(Q.of({ ok = false, violation = why, error = "policy violation: " .. why }),
      "Which table name? (baptisms / baptism)")
  end)
  it("lets other tools, other events and other violations through", function()
    eq(Q.live(tool_use("Bash", { command = "ls" })), nil)
    eq(Q.live({ type = "user", message = { content = {} } }), nil)
    eq(Q.live({ type = "assistant" }), nil)
    eq(Q.of({ ok = false, violation = "forbidden command (git commit): git commit -m x" }), nil)
  end)
  it("denied by the CLI (permission_denials) is a question too", function()
    local r = { ok = false, error = "permission denied: AskUserQuestion", permission_denials = {
      { tool_name = "Bash", tool_use_id = "t0", tool_input = { command = "git push" } },
      { tool_name = "AskUserQuestion", tool_use_id = "t1", tool_input = ASK } } }
    eq(Q.of(r), "Which table name? (baptisms / baptism)")
    eq(Q.of({ ok = false, permission_denials = { { tool_name = "Bash", tool_input = {} } } }), nil)
  end)
  it("words several questions one a line, and an input without text as such", function()
    eq(Q.tool_text({ questions = { { question = "One?" }, { question = "Two?", options = { "x", "y" } } } }),
      "One?\nTwo? (x / y)")
    eq(Q.tool_text({ questions = {} }), nil)
    eq(Q.tool_text("nonsense"), nil)
    eq(Q.live(tool_use("AskUserQuestion", {})), Q.STOP .. ": (no question text)")
  end)
end)

describe("questions: pending", function()
  it("is a question with the claude session to continue; an answered one is not", function()
    eq({ Q.pending({ question = "A or B?", question_session = "abc" }) }, { "A or B?", "abc" })
    eq(Q.pending({ question = "A or B?" }), nil)
    eq(Q.pending({ question = "A or B?", question_session = "" }), nil)
    eq(Q.pending({}), nil)
  end)
end)
