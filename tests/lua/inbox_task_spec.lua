-- Specs for workflows/lib/inbox_task.lua (the inbox task file, docs/task-file-inbox.md),
-- its render and sample (lib/inbox_task_render.lua), orch.sha256 (the content
-- hash) and lib/prompt.lua's for_inbox.
local T = require("orch.testing")
local inbox_task = require("lib.inbox_task")
local prompt = require("lib.prompt")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local FULL = [[
---
id: fix-login
type: fix
priority: high
created: 2026-12-01T10:30:00Z
cwd: /srv/app
---

# Fix the login redirect

**Target Files:**
- src/auth/login.py
- `src/auth/session.py`

**Prompt:**
After a login the user lands on / instead of the page they asked for.

Keep the `next` parameter:
    indented lines stay as they are
**Note:** a bold label with text is part of the prompt.
```
**Context:** inside a fence is part of the prompt too
```

**Success Criteria:**
- [ ] `pytest -q tests/test_login.py` passes
- [x] `make lint` exits 0
- [ ] `docs/login.md` is written
- [ ] The redirect keeps the query string,
  also for deep links
- plain item without a box

**Context:**
Reported by support, ticket 42.
]]

local function parse(text, file) return inbox_task.parse(text, file or "tasks/fix-login.task.md") end

-- the task without what depends on the file's bytes and lines
local function shape(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  c.line = nil
  local ib = {}
  for k, v in pairs(t.inbox) do ib[k] = v end
  ib.file, ib.name, ib.sha = nil, nil, nil
  local sc = {}
  for i, x in ipairs(ib.success_criteria) do sc[i] = { text = x.text, done = x.done, command = x.command,
    path = x.path } end
  ib.success_criteria = sc
  c.inbox = ib
  return c
end

describe("orch.sha256", function()
  it("gives the FIPS 180-4 test vectors", function()
    eq(orch.sha256(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    eq(orch.sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    eq(orch.sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    eq(orch.sha256(string.rep("a", 1000000)), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    eq(orch.sha256("a\0b"), "59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138")  -- every byte counts
  end)
  it("checks its argument", function()
    T.raises(function() orch.sha256() end, "string expected")
  end)
  it("is lib/sha256's hex, the inbox's hash of a file's text", function()
    eq(require("lib.sha256").hex(FULL), assert(parse(FULL)).inbox.sha)
  end)
end)

describe("inbox_task.parse", function()
  it("reads the front matter and the sections into the task model", function()
    local t = assert(parse(FULL))
    eq({ t.id, t.title, t.type, t.priority, t.requires_approval, t.line },
      { "fix-login", "Fix the login redirect", "fix", "high", false, 9 })
    eq(t.instruction, "After a login the user lands on / instead of the page they asked for.\n\n"
      .. "Keep the `next` parameter:\n    indented lines stay as they are\n"
      .. "**Note:** a bold label with text is part of the prompt.\n```\n"
      .. "**Context:** inside a fence is part of the prompt too\n```")
    eq(t.description, "Reported by support, ticket 42.")
    eq(t.verify, { "pytest -q tests/test_login.py", "make lint" })
    eq(t.deliverables, { "docs/login.md" })
    eq(t.context_files, {})
    eq(t.depends_on, {})
    eq(t.acceptance_criteria, { "`pytest -q tests/test_login.py` passes", "`make lint` exits 0",
      "`docs/login.md` is written", "The redirect keeps the query string, also for deep links",
      "plain item without a box" })
    local ib = t.inbox
    eq({ ib.file, ib.name, ib.created, ib.cwd, ib.priority_rank, ib.context },
      { "tasks/fix-login.task.md", "fix-login", 1796121000, "/srv/app", 1, "Reported by support, ticket 42." })
    eq(ib.sha, orch.sha256(FULL))
    eq(ib.target_files, { "src/auth/login.py", "src/auth/session.py" })
    eq(ib.success_criteria[1], { text = "`pytest -q tests/test_login.py` passes", done = false,
      command = "pytest -q tests/test_login.py", line = 26 })
    eq({ ib.success_criteria[2].done, ib.success_criteria[3].path, ib.success_criteria[4].command,
      ib.success_criteria[5].done }, { true, "docs/login.md", nil, false })
  end)

  it("takes the id from the file name when there is none, and priority medium when none is given", function()
    local t = assert(parse("---\ntype: analyze\n---\n**Prompt:** Look at it.\n", "/x/tasks/look-2.task.md"))
    eq({ t.id, t.title, t.priority, t.inbox.priority_rank, t.inbox.name, t.inbox.created, t.instruction },
      { "look-2", "look-2", "medium", 2, "look-2", nil, "Look at it." })
    local _, err = parse("---\ntype: analyze\n---\n**Prompt:** x\n", "tasks/my task.task.md")
    eq({ err.code, err.line, err.field }, { "bad_id", 1, "id" })
    ok(tostring(err):find('^tasks/my task.task.md:1: id: no id: field, and the file name "my task" is not an id'),
      tostring(err))
    local t2 = assert(parse("---\nid: 42\ntype: Code_Review\npriority: LOW\n---\n**Prompt:**\nx\n"))
    eq({ t2.id, t2.type, t2.priority, t2.inbox.priority_rank }, { "42", "code_review", "low", 3 })
  end)

  it("refuses a file name too long to name its result and reason files, before anything runs", function()
    local long = string.rep("c", inbox_task.MAX_NAME + 1)
    local _, err = parse("---\nid: longok\ntype: fix\n---\n**Prompt:** x\n", "/x/tasks/" .. long .. ".task.md")
    eq({ err and err.code, err and err.line }, { "bad_name", 1 })
    ok(tostring(err):find("^/x/tasks/" .. long .. ".task.md:1: the file name is " .. (#long + 8) .. " bytes", 1),
      tostring(err))
    ok(tostring(err):find("at most " .. (inbox_task.MAX_NAME + 8), 1, true), tostring(err))
    local edge = string.rep("c", inbox_task.MAX_NAME)
    eq(assert(parse("---\nid: a\ntype: fix\n---\n**Prompt:** x\n", edge .. ".task.md")).inbox.name, edge)
    -- what the name names fits a file name: the reason in failed/, the result and the summary
    ok(#(edge .. ".task.md.reason") <= 255 and #(edge .. "_result.json") <= 255 and #(edge .. "_summary.txt") <= 255)
  end)

  it("refuses a file name that is not UTF-8 (its state is JSON text), also with an id:", function()
    local _, err = parse("---\nid: x1\ntype: fix\n---\n**Prompt:** x\n", "/x/tasks/caf\233.task.md")
    eq({ err and err.code, err and err.line }, { "bad_name", 1 })
    ok(tostring(err):find("the file name is not valid UTF-8", 1, true), tostring(err))
    eq(assert(parse("---\nid: c\ntype: fix\n---\n**Prompt:** x\n", "/x/tasks/caf\195\169.task.md")).inbox.name,
      "caf\195\169")
  end)

  it("reads created as ISO 8601: a zone, an offset, a date, fractions", function()
    local function at(v)
      local t, err = parse("---\ntype: fix\ncreated: " .. v .. "\n---\n**Prompt:** x\n")
      return t and t.inbox.created, err
    end
    eq(at("2026-12-01T10:30:00Z"), 1796121000)
    eq(at("2026-12-01T11:30:00+01:00"), 1796121000)
    eq(at("2026-12-01 05:30:00.250-0500"), 1796121000)
    eq(at("2026-12-01T10:30"), 1796121000 - 0)
    eq(at("2026-12-01"), 1796083200)
    eq(at("2024-02-29"), 1709164800)
    for _, v in ipairs({ "yesterday", "2026-13-01", "2025-02-29", "2026-12-01T25:00:00Z", "2026-12-01T10:30:00+1" }) do
      local t, err = at(v)
      eq(t, nil, v)
      eq({ err.code, err.line, err.field }, { "bad_date", 3, "created" }, v)
    end
  end)

  it("accepts CRLF line ends and a byte order mark: the same task", function()
    local a = assert(parse(FULL))
    local b = assert(parse("\239\187\191" .. FULL:gsub("\n", "\r\n")))
    eq(shape(b), shape(a))
  end)

  it("keeps requires_approval and title from the front matter (the title over the heading)", function()
    local t = assert(parse("---\ntype: fix\ntitle: From the front matter\nrequires_approval: true\n---\n"
      .. "# From the heading\n**Prompt:**\nx\n"))
    eq({ t.title, t.requires_approval }, { "From the front matter", true })
    local t2 = assert(parse("---\ntype: fix\n---\n#   Closed heading  ##\n**Prompt:**\nx\n"))
    eq({ t2.title, t2.line }, { "Closed heading", 4 })
  end)

  it("is an empty section, or none, when a list or the context has nothing", function()
    local t = assert(parse("---\ntype: fix\n---\n**Target Files:**\n\n**Prompt:**\nx\n**Success Criteria:**\n"
      .. "**Context:**\n\n"))
    eq({ t.inbox.target_files, t.inbox.success_criteria, t.inbox.context, t.description }, { {}, {}, nil, nil })
  end)

  it("checks a criterion by its first backticked text and the words around it", function()
    local C = inbox_task.check_of
    eq({ C("`make test` passes") }, { "command", "make test" })
    eq({ C("`pytest -q` exits 0") }, { "command", "pytest -q" })
    eq({ C("`npm run build` succeeds") }, { "command", "npm run build" })
    eq({ C("`./check.sh` exits with code 0") }, { "command", "./check.sh" })
    eq({ C("`out/report.html` exists") }, { "path", "out/report.html", true })  -- being there is enough
    eq({ C("`SUMMARY.md` is created") }, { "path", "SUMMARY.md", false })       -- the task must write it
    eq({ C("`/etc/passwd` exists") }, {})        -- an absolute path is not a deliverable
    eq({ C("`../up.txt` is written") }, {})      -- nor one out of the folder
    eq({ C("`foo()` returns the sum") }, {})     -- no check word: a criterion for the reviewer
    eq({ C("the tests pass") }, {})              -- no backticked command
    eq({ C("`make` passes once `build/x` exists") }, { "command", "make" })  -- the words after the first
    eq({ C("Running `make docs` succeeds") }, { "command", "make docs" })
    eq({ C("A file `notes.txt` exists") }, { "path", "notes.txt", true })
  end)
end)

-- Each bad file: its error code, its line, the start of its message.
local BAD = {
  { "no front matter", "# Title\n**Prompt:** x\n", "no_front_matter", 1, "x.task.md:1: no front matter" },
  { "an empty file", "", "no_front_matter", 1, "x.task.md:1: no front matter" },
  { "blank lines before the front matter", "\n---\ntype: fix\n---\n**Prompt:** x\n", "no_front_matter", 1,
    "x.task.md:1: no front matter" },
  { "unterminated front matter", "---\ntype: fix\n**Prompt:** x\n", "unterminated_front_matter", 1,
    "x.task.md:1: the front matter opened here has no closing '---' line" },
  { "broken YAML", "---\ntype: fix\nid: a: b\n---\n**Prompt:** x\n", "syntax", 3, "x.task.md:3:%d+: front matter: " },
  { "a key twice", "---\ntype: fix\ntype: analyze\n---\n**Prompt:** x\n", "duplicate_key", 3,
    "x.task.md:3:%d+: front matter: duplicate key \"type\" %(first at line 2%)" },
  { "a key twice, not at the top", "---\nid: dk\ntype: fix\ntype: fix\n---\n**Prompt:** x\n", "duplicate_key", 4,
    "x.task.md:4:%d+: front matter: duplicate key \"type\" %(first at line 3%)" },
  { "front matter a list", "---\n- fix\n---\n**Prompt:** x\n", "bad_type", 2,
    "x.task.md:2: front matter must be a mapping of fields" },
  { "front matter a scalar", "---\njust text\n---\n**Prompt:** x\n", "bad_type", 2, "not string" },
  { "id a list", "---\ntype: fix\nid: [a]\n---\n**Prompt:** x\n", "bad_type", 3,
    "x.task.md:3: id: must be a task id %(a string%), not list" },
  { "id not safe", "---\ntype: fix\nid: ../etc\n---\n**Prompt:** x\n", "bad_id", 3,
    "x.task.md:3: id: \"../etc\" is not a task id %(letters, digits" },
  { "type a number", "---\ntype: 3\n---\n**Prompt:** x\n", "bad_type", 2, "x.task.md:2: type: must be a string" },
  { "unknown type", "---\ntype: deploy\n---\n**Prompt:** x\n", "bad_value", 2,
    "x.task.md:2: type: \"deploy\" is not one of analyze, code_review, document, fix, implement, refactor, "
    .. "summarize, test" },
  { "no type", "---\nid: a\n---\n**Prompt:** x\n", "missing_field", 1, "x.task.md:1: missing field \"type\"" },
  { "priority unknown", "---\ntype: fix\npriority: urgent\n---\n**Prompt:** x\n", "bad_value", 3,
    "x.task.md:3: priority: \"urgent\" is not one of high, low, medium" },
  { "priority a list", "---\ntype: fix\npriority: [high]\n---\n**Prompt:** x\n", "bad_type", 3, "priority: must be" },
  { "created a number", "---\ntype: fix\ncreated: 5\n---\n**Prompt:** x\n", "bad_type", 3,
    "created: must be a string" },
  { "cwd a mapping", "---\ntype: fix\ncwd: {a: 1}\n---\n**Prompt:** x\n", "bad_type", 3, "cwd: must be a string" },
  { "title on two lines", "---\ntype: fix\ntitle: \"a\\nb\"\n---\n**Prompt:** x\n", "bad_value", 3,
    "title: must be one line" },
  { "requires_approval yes", "---\ntype: fix\nrequires_approval: yes\n---\n**Prompt:** x\n", "bad_type", 3,
    "requires_approval: must be true or false, not string" },
  { "unknown field", "---\ntype: fix\nowner: me\n---\n**Prompt:** x\n", "unknown_field", 3,
    "x.task.md:3: owner: unknown field \"owner\" %(known fields: id, type, priority, created, title, cwd, " },
  { "parsed_by file", "---\ntype: fix\nparsed_by: file\n---\n**Prompt:** x\n", "bad_value", 3, "parsed_by: " },
  { "no prompt", "---\ntype: fix\n---\n# T\n**Context:** c\n", "missing_prompt", 5,
    "x.task.md:5: no %*%*Prompt:%*%* section" },
  { "empty prompt", "---\ntype: fix\n---\n# T\n**Prompt:**\n\n   \n**Context:** c\n", "empty_prompt", 5,
    "x.task.md:5: Prompt: empty" },
  { "an unknown section header", "---\ntype: fix\n---\n**Prompt:** x\n\n**Acceptance:**\n- y\n", "unknown_section", 6,
    "x.task.md:6: unknown section %*%*Acceptance:%*%* %(known sections: Target Files, Prompt, Success Criteria, "
    .. "Context%)" },
  { "an unknown header in a list", "---\ntype: fix\n---\n**Target Files:**\n- a\n**Files:** b\n**Prompt:** x\n",
    "unknown_section", 6, "unknown section %*%*Files:%*%*" },
  { "a section twice", "---\ntype: fix\n---\n**Prompt:** x\n**Prompt:** y\n", "duplicate_section", 5,
    "x.task.md:5: %*%*Prompt:%*%* given twice %(first at line 4%)" },
  { "text before the sections", "---\ntype: fix\n---\n# T\nsome words\n**Prompt:** x\n", "unexpected_text", 5,
    "x.task.md:5: text before the first section" },
  { "a list line that is no item", "---\ntype: fix\n---\n**Target Files:**\nsrc/a.py\n**Prompt:** x\n",
    "unexpected_text", 5, "x.task.md:5: Target Files: expected a '%- path' line" },
  { "an empty criterion", "---\ntype: fix\n---\n**Prompt:** x\n**Success Criteria:**\n- [ ]\n", "empty_field", 6,
    "x.task.md:6: Success Criteria: criterion 1 is empty" },
  { "an unclosed fence", "---\ntype: fix\n---\n**Prompt:**\n```\n**Context:** y\n", "unclosed_fence", 5,
    "x.task.md:5: Prompt: the code fence opened here is never closed" },
  { "invalid UTF-8", "---\ntype: fix\n---\n**Prompt:**\nok\nbad \255 byte\n", "bad_utf8", 6,
    "x.task.md:6: invalid UTF%-8 %(byte 0xFF at column 5%)" },
  { "a NUL byte", "---\ntype: fix\n---\n**Prompt:**\nx\0y\n", "nul_byte", 5, "x.task.md:5: a NUL byte" },
  { "over 1 MB", "---\ntype: fix\n---\n**Prompt:**\n" .. string.rep("x", 1024 * 1024), "too_large", nil,
    "x.task.md: 1048606 bytes, the limit is 1 MB" },
  { "not text", 42, "bad_input", nil, "x.task.md: text must be a string" },
}

describe("inbox_task.parse refuses", function()
  for _, c in ipairs(BAD) do
    it(c[1] .. ", naming the file and line", function()
      local t, err = inbox_task.parse(c[2], "x.task.md")
      eq(t, nil)
      eq({ err.code, err.line, err.file }, { c[3], c[4], "x.task.md" })
      ok(tostring(err):find(c[5]), tostring(err))
    end)
  end
end)

describe("inbox_task.load", function()
  local dir = (os.getenv("ORCH_LOGS_DIR") or "logs") .. "/inbox_task_spec-" .. orch.pid
  local root, outside = dir .. "/tasks", dir .. "/elsewhere"
  assert(orch.make_dir(root))
  assert(orch.make_dir(outside))
  local function sh(script) return orch.exec({ cmd = { "sh", "-c", script }, cwd = dir, timeout = 30 }) end

  it("reads a file in the folder, and a symlink that stays inside it", function()
    assert(orch.write_file(root .. "/fix-login.task.md", FULL))
    local t = assert(inbox_task.load(root .. "/fix-login.task.md", { root = root }))
    eq({ t.id, t.inbox.file, t.inbox.sha }, { "fix-login", root .. "/fix-login.task.md", orch.sha256(FULL) })
    eq(sh("ln -sf fix-login.task.md tasks/again.task.md").code, 0)
    local t2 = assert(inbox_task.load(root .. "/again.task.md", { root = root }))
    eq({ t2.id, t2.inbox.name }, { "fix-login", "again" })
  end)

  it("refuses a symlink that resolves outside the folder, naming where it goes", function()
    assert(orch.write_file(outside .. "/secret.task.md", FULL))
    eq(sh("ln -sf ../elsewhere/secret.task.md tasks/out.task.md").code, 0)
    local info = assert(orch.file_info(root .. "/out.task.md"))  -- real: where the symlink resolves
    eq({ info.link, info.type, info.real:sub(1, 1), (info.real:find("/elsewhere/secret.task.md", 1, true)) ~= nil },
      { true, "file", "/", true })
    eq(assert(orch.file_info(outside)).link, false)
    local t, err = inbox_task.load(root .. "/out.task.md", { root = root })
    eq(t, nil)
    eq(err.code, "outside_root")
    ok(tostring(err):find(root .. "/out.task.md: a symlink to /", 1, true), tostring(err))
    ok(tostring(err):find("elsewhere/secret.task.md, outside the folder ", 1, true), tostring(err))
    ok(inbox_task.load(root .. "/out.task.md"), "without opts.root it is read")
  end)

  it("refuses a file over 1 MB from its size, before reading it", function()
    assert(orch.write_file(root .. "/big.task.md", string.rep("x", 10 * 1024 * 1024)))
    local _, err = inbox_task.load(root .. "/big.task.md", { root = root })
    eq({ err.code, err.message }, { "too_large", root .. "/big.task.md: 10485760 bytes, the limit is 1 MB" })
  end)

  it("names a missing file and a folder", function()
    local _, err = inbox_task.load(root .. "/none.task.md")
    eq(err.code, "not_found")
    ok(tostring(err):find("none.task.md", 1, true), tostring(err))
    local _, err2 = inbox_task.load(outside)
    eq(err2.code, "not_a_file")
  end)

  it("gives a parse error of the file with its path", function()
    assert(orch.write_file(root .. "/bad.task.md", "---\ntype: deploy\n---\n**Prompt:** x\n"))
    local _, err = inbox_task.load(root .. "/bad.task.md", { root = root })
    eq({ err.code, err.line }, { "bad_value", 2 })
    ok(tostring(err):find(root .. "/bad.task.md:2: type: ", 1, true), tostring(err))
  end)
end)

describe("inbox_task.render", function()
  it("writes a task that parses back to the same task", function()
    local t = assert(parse(FULL))
    local text = assert(inbox_task.render(t))
    local back = assert(inbox_task.parse(text, "tasks/fix-login.task.md"))
    eq(shape(back), shape(t))
    eq(assert(inbox_task.render(back)), text)
  end)

  it("writes a task built by hand: its checks become criteria, its description the context", function()
    local text = assert(inbox_task.render({ id = "t1", type = "test", instruction = "Add tests.\n",
      verify = { "make test" }, deliverables = { "tests/new_test.py" }, acceptance_criteria = { "covers x" },
      description = "From the phone.", inbox = { cwd = "/srv/app \"q\"", parsed_by = "ollama" } }))
    local t = assert(inbox_task.parse(text, "t1.task.md"))
    eq({ t.id, t.title, t.type, t.priority, t.instruction, t.inbox.context, t.inbox.cwd, t.inbox.parsed_by },
      { "t1", "t1", "test", "medium", "Add tests.", "From the phone.", "/srv/app \"q\"", "ollama" })
    eq({ t.verify, t.deliverables, t.acceptance_criteria },
      { { "make test" }, { "tests/new_test.py" },
        { "covers x", "`make test` passes", "`tests/new_test.py` is written" } })
  end)

  it("refuses what would not read back the same, saying why", function()
    local _, err = inbox_task.render({ id = "t1", type = "fix", instruction = "Do this.\n**Context:**\nnot context" })
    ok(tostring(err):find("a line of its prompt reads as a section header", 1, true), tostring(err))
    local _, err2 = inbox_task.render({ id = "t1", type = "deploy", instruction = "x" })
    ok(tostring(err2):find('type: "deploy" is not one of', 1, true), tostring(err2))
    local _, err3 = inbox_task.render({ type = "fix", instruction = "x" })
    eq(tostring(err3), "inbox_task.render: id must be a one-line string")
    local _, err4 = inbox_task.render({ id = "t1", type = "fix" })
    eq(err4.code, "bad_input")
  end)
end)

describe("inbox_task.sample", function()
  it("is a summarize task with a checkable deliverable, created now", function()
    local text = inbox_task.sample({ now = 1796121000 })
    local t = assert(inbox_task.parse(text, "tasks/sample.task.md"))
    eq({ t.id, t.type, t.priority, t.inbox.created, t.deliverables, t.verify, t.inbox.target_files },
      { "sample", "summarize", "medium", 1796121000, { "SUMMARY.md" }, {}, { "README.md" } })
    ok(t.instruction:find("SUMMARY.md", 1, true))
  end)
end)

describe("prompt.for_inbox", function()
  local t = assert(parse(FULL))
  it("is the prompt verbatim, then Target Files: and Context:", function()
    eq(prompt.for_inbox(t), t.instruction .. "\n\nTarget Files:\n- src/auth/login.py\n- src/auth/session.py"
      .. "\n\nContext:\nReported by support, ticket 42.")
  end)
  it("is the prompt alone when neither is given, with nothing else", function()
    local t2 = assert(parse("---\ntype: fix\n---\n**Prompt:**\n  Fix it.  \n\n**Context:**\n", "a.task.md"))
    eq(prompt.for_inbox(t2), "  Fix it.  ")
    local t3 = assert(parse("---\ntype: fix\n---\n**Target Files:**\n- a.c\n**Prompt:** Fix it.\n", "a.task.md"))
    eq(prompt.for_inbox(t3), "Fix it.\n\nTarget Files:\n- a.c")
  end)
end)
