-- inbox_queue: the inbox's queue of task files, the ledger, the moves.
-- The parser is a stand-in (the queue takes it as opts.parse): a file of
-- "key: value" lines, "BROKEN" on a line is a syntax error at that line.
local T = require("orch.testing")
local errors = require("orch.errors")
local inbox_queue = require("lib.inbox_queue")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

-- an offer's task and why, without an invalid one's reason (its third value)
local function answer(t, why) return { t, why } end

local RANK = { high = 1, medium = 2, low = 3 }

local function hash(s)
  local h = 5381
  for i = 1, #s do h = (h * 33 + s:byte(i)) % 4294967296 end
  return string.format("%08x", h)
end

local function fake_parse(path)
  local text, err = orch.read_file(path)
  if not text then return nil, err end
  local f, line = {}, 0
  for l in (text .. "\n"):gmatch("(.-)\n") do
    line = line + 1
    if l == "BROKEN" then return nil, errors.new("syntax", path .. ":" .. line .. ": front matter: broken YAML") end
    local k, v = l:match("^(%w+):%s*(.-)%s*$")
    if k then f[k] = v end
  end
  local name = path:match("([^/]+)%.task%.md$")
  local pri = f.priority or "medium"
  return { id = f.id or name, title = f.title, priority = pri,
    inbox = { file = path, name = name, sha = hash(text), created = tonumber(f.created), priority_rank = RANK[pri] } }
end

local seq = 0
local function folder()
  seq = seq + 1
  local dir = (os.getenv("ORCH_LOGS_DIR") or "logs") .. "/inbox_queue_spec-" .. orch.pid .. "-" .. seq .. "/tasks"
  assert(orch.make_dir(dir))
  return dir
end

local function sh(...)
  local r = assert(orch.exec({ cmd = { ... } }))
  assert(r.ok, table.concat({ ... }, " ") .. ": " .. r.stderr)
  return (r.stdout:gsub("\n$", ""))
end

-- a queue over a fresh folder with an in-memory ledger, its events and logs
local function setup(opts)
  opts = opts or {}
  local dir = opts.dir or folder()
  local w = { dir = dir, events = {}, logs = {}, rows = opts.rows or {} }
  w.q = inbox_queue.new({ paths = { tasks_dir = dir } }, {
    parse = opts.parse or fake_parse,
    hash = hash,
    now = function() return 1764600000 end,
    emit = function(ev, f) w.events[#w.events + 1] = { ev = ev, f = f } end,
    log = function(level, msg) w.logs[#w.logs + 1] = level .. " " .. msg end,
    state = { load = function(k) return w.rows[k] end, save = function(k, v) w.rows[k] = v end },
    session = "inbox-test",
  })
  function w.write(name, text) assert(orch.write_file(dir .. "/" .. name, text)) end
  function w.exists(rel) return orch.file_info(dir .. "/" .. rel) ~= nil end
  function w.read(rel) return orch.read_file(dir .. "/" .. rel) end
  function w.logged(pat)
    for _, l in ipairs(w.logs) do if l:find(pat, 1, true) then return true end end
    return false
  end
  return w
end

local function ids(tasks)
  local out = {}
  for i, t in ipairs(tasks) do out[i] = t.id end
  return out
end

-- runs(w, NAME, TEXT, STATUS [, REASON]): the file written, queued, taken and finished with STATUS
local function runs(w, name, text, status, reason)
  w.write(name, text)
  ok(w.q:offer(name), name .. " was not queued")
  w.q:finished(w.q:take(), status, reason)
end

local function drain(q)
  local out = {}
  while true do
    local t = q:take()
    if not t then return out end
    out[#out + 1] = t
  end
end

describe("the inbox queue", function()
  it("takes by priority, then created, then name", function()
    local w = setup()
    w.write("c.task.md", "priority: low\ncreated: 100\n")
    w.write("b.task.md", "priority: high\ncreated: 300\n")
    w.write("a.task.md", "priority: high\ncreated: 300\n")
    w.write("d.task.md", "priority: high\ncreated: 200\n")
    w.write("e.task.md", "created: 50\n")
    for _, n in ipairs({ "c.task.md", "b.task.md", "a.task.md", "d.task.md", "e.task.md" }) do ok(w.q:offer(n), n) end
    eq(w.q:size(), 5)
    local listed = {}
    for i, e in ipairs(w.q:queued()) do listed[i] = e.id end
    eq(listed, { "d", "a", "b", "e", "c" })
    eq(ids(drain(w.q)), { "d", "a", "b", "e", "c" })
    eq(w.q:size(), 0)
  end)

  it("without created, the file's mtime is its age (an old created date goes first, a future one after)", function()
    local w = setup()
    w.write("late.task.md", "created: 4000000000\n")
    w.write("now.task.md", "title: no created\n")
    w.write("early.task.md", "created: 100\n")
    for _, n in ipairs({ "late.task.md", "now.task.md", "early.task.md" }) do ok(w.q:offer(n)) end
    eq(ids(drain(w.q)), { "early", "now", "late" })
  end)

  it("a burst of 500 files: each taken once, in order", function()
    local w = setup()
    local pri = { "high", "medium", "low" }
    local names = {}
    for i = 1, 500 do
      local name = string.format("t%03d.task.md", (i * 7919) % 1000)
      names[#names + 1] = name
      w.write(name, string.format("priority: %s\ncreated: %d\n", pri[i % 3 + 1], 1000 + (i * 31) % 17))
    end
    local offered = 0
    for _, n in ipairs(names) do if w.q:offer(n) then offered = offered + 1 end end
    eq({ offered, w.q:size() }, { 500, 500 })
    local got, seen = drain(w.q), {}
    eq(#got, 500)
    for i, t in ipairs(got) do
      ok(not seen[t.id], "taken twice: " .. t.id)
      seen[t.id] = true
      if i > 1 then
        local a, b = got[i - 1], t
        local ka = { a.inbox.priority_rank, a.inbox.created, a.id }
        local kb = { b.inbox.priority_rank, b.inbox.created, b.id }
        local before = ka[1] < kb[1] or ka[1] == kb[1] and (ka[2] < kb[2] or ka[2] == kb[2] and ka[3] < kb[3])
        ok(before, "out of order at " .. i .. ": " .. a.id .. " then " .. b.id)
      end
    end
    eq(w.q:take(), nil)
  end)

  it("the same file offered again unchanged stays queued once", function()
    local w = setup()
    w.write("a.task.md", "id: a\n")
    ok(w.q:offer("a.task.md"))
    eq({ w.q:offer("a.task.md") }, { nil, "queued" })
    eq(w.q:size(), 1)
    eq(#drain(w.q), 1)
  end)

  it("a file rewritten while queued replaces its queued task", function()
    local w = setup()
    w.write("a.task.md", "id: a\ntitle: first\n")
    w.write("b.task.md", "id: b\n")
    ok(w.q:offer("a.task.md"))
    ok(w.q:offer("b.task.md"))
    w.write("a.task.md", "id: a\ntitle: second\n")
    local t = w.q:offer("a.task.md")
    eq(t.title, "second")
    eq(w.q:size(), 2)
    local got = drain(w.q)
    eq({ #got, got[1].title, got[2].id }, { 2, "second", "b" })
    ok(w.logged("rewritten while queued"))
  end)

  it("a file rewritten while queued into a broken one drops its task and goes to failed/", function()
    local w = setup()
    w.write("a.task.md", "id: a\n")
    ok(w.q:offer("a.task.md"))
    w.write("a.task.md", "id: a\nBROKEN\n")
    eq(answer(w.q:offer("a.task.md")), { nil, "invalid" })
    eq({ w.q:size(), w.q:take() }, { 0, nil })
    ok(w.exists("failed/a.task.md"))
  end)

  it("a file deleted while queued is dropped and logged", function()
    local w = setup()
    w.write("a.task.md", "id: a\n")
    w.write("b.task.md", "id: b\n")
    ok(w.q:offer("a.task.md"))
    ok(w.q:offer("b.task.md"))
    sh("rm", w.dir .. "/a.task.md")
    w.q:gone("a.task.md")
    eq(w.q:size(), 1)
    eq(ids(drain(w.q)), { "b" })
    ok(w.logged("a.task.md was deleted while queued: task a dropped"))
    w.q:gone("never-queued.task.md")            -- nothing queued: nothing happens
  end)

  it("an invalid file goes to failed/ with its reason (file:line, when)", function()
    local w = setup()
    w.write("bad.task.md", "id: bad\nBROKEN\n")
    eq({ w.q:offer("bad.task.md") }, { nil, "invalid", w.dir .. "/bad.task.md:2: front matter: broken YAML" })
    ok(not w.exists("bad.task.md"))
    ok(w.exists("failed/bad.task.md"))
    local reason = w.read("failed/bad.task.md.reason")
    ok(reason:find(w.dir .. "/bad.task.md:2: front matter: broken YAML", 1, true), reason)
    ok(reason:find("invalid at 2025-12-01T14:40:00Z", 1, true), reason)
    eq(w.q:size(), 0)
  end)

  it("names that are not task files are ignored", function()
    local w = setup()
    eq({ w.q:offer("notes.md") }, { nil, "ignored" })
    eq({ w.q:offer(".a.task.md") }, { nil, "ignored" })
    eq({ w.q:offer(".task.md") }, { nil, "ignored" })
  end)

  it("finished: completed and needs_review go to processed/, the rest to failed/ with the reason", function()
    local w = setup()
    for _, id in ipairs({ "ok", "review", "bad", "skip" }) do w.write(id .. ".task.md", "id: " .. id .. "\n") end
    for _, id in ipairs({ "ok", "review", "bad", "skip" }) do ok(w.q:offer(id .. ".task.md")) end
    local st = { ok = "completed", review = "needs_review", bad = "failed", skip = "skipped" }
    for _, t in ipairs(drain(w.q)) do w.q:finished(t, st[t.id], t.id == "bad" and "claude exited 1" or nil) end
    ok(w.exists("processed/ok.task.md"))
    ok(w.exists("processed/review.task.md"))
    ok(w.exists("failed/bad.task.md"))
    ok(w.exists("failed/skip.task.md"))
    local reason = w.read("failed/bad.task.md.reason")
    ok(reason:find(w.dir .. "/bad.task.md: failed: claude exited 1", 1, true), reason)
    ok(reason:find("failed at 2025-12-01T14:40:00Z", 1, true), reason)
    eq(w.rows["inbox_task:ok"].status, "completed")
    eq(w.rows["inbox_task:ok"].to, w.dir .. "/processed/ok.task.md")
    eq(w.rows["inbox_task:bad"].to, w.dir .. "/failed/bad.task.md")
    eq({ w.rows["inbox_task:ok"].at, w.rows["inbox_task:ok"].file, w.rows["inbox_task:ok"].version },
      { 1764600000, "ok.task.md", 1 })
    local archived = 0
    for _, e in ipairs(w.events) do
      if e.ev == "task_archived" then
        archived = archived + 1
        eq(e.f.session, "inbox-test")
      end
    end
    eq(archived, 4)
  end)

  it("the same id and content again is a duplicate: moved to processed/ beside the first, not run", function()
    local w = setup()
    w.write("a.task.md", "id: a\n")
    local t = w.q:offer("a.task.md")
    w.q:finished(w.q:take(), "completed")
    ok(t)
    w.write("a.task.md", "id: a\n")
    eq({ w.q:offer("a.task.md") }, { nil, "duplicate" })
    eq(w.q:size(), 0)
    ok(w.exists("processed/a.task.md"))
    ok(w.exists("processed/a.1.task.md"))
    w.write("a.task.md", "id: a\n")
    eq({ w.q:offer("a.task.md") }, { nil, "duplicate" })
    ok(w.exists("processed/a.2.task.md"))
    eq(w.events[#w.events].f.status, "duplicate")
  end)

  it("an edited task (same id, new content) runs again as the next version", function()
    local w = setup()
    runs(w, "a.task.md", "id: a\ntitle: v1\n", "completed")
    w.write("a.task.md", "id: a\ntitle: v2\n")
    local t = w.q:offer("a.task.md")
    eq(t and t.title, "v2")
    w.q:finished(w.q:take(), "completed")
    eq(w.rows["inbox_task:a"].version, 2)
    ok(w.exists("processed/a.1.task.md"))
  end)

  it("an id edited A, then B, then back to A does not run A twice (also from a row of before `done`)", function()
    local w = setup()
    runs(w, "a.task.md", "id: a\ntitle: A\n", "completed")
    runs(w, "a.task.md", "id: a\ntitle: B\n", "needs_review")
    w.write("a.task.md", "id: a\ntitle: A\n")
    eq({ w.q:offer("a.task.md") }, { nil, "duplicate" })
    runs(w, "a.task.md", "id: a\ntitle: C\n", "failed", "boom")
    w.write("a.task.md", "id: a\ntitle: B\n")
    eq({ w.q:offer("a.task.md") }, { nil, "duplicate" })
    w.write("a.task.md", "id: a\ntitle: C\n")
    ok(w.q:offer("a.task.md"), "a failed content runs again")
    local before = { sha = hash("id: b\ntitle: A\n"), status = "completed", version = 1 }  -- no `done`
    local old = setup({ rows = { ["inbox_task:b"] = before } })
    runs(old, "b.task.md", "id: b\ntitle: B\n", "completed")
    old.write("b.task.md", "id: b\ntitle: A\n")
    eq({ old.q:offer("b.task.md") }, { nil, "duplicate" })
  end)

  it("a failed task dropped again with the same content runs again", function()
    local w = setup()
    w.write("a.task.md", "id: a\n")
    ok(w.q:offer("a.task.md"))
    w.q:finished(w.q:take(), "failed", "boom")
    w.write("a.task.md", "id: a\n")
    ok(w.q:offer("a.task.md"))
  end)

  it("a copy of a queued file under another name (same id and content) is a duplicate", function()
    local w = setup()
    w.write("a.task.md", "id: a\n")
    w.write("copy.task.md", "id: a\n")
    ok(w.q:offer("a.task.md"))
    eq({ w.q:offer("copy.task.md") }, { nil, "duplicate" })
    ok(w.exists("processed/copy.task.md"))
    eq(w.q:size(), 1)
  end)

  it("one id never runs twice at once: a second file with the id waits until the first ends", function()
    local w = setup()
    w.write("a.task.md", "id: x\ncreated: 1\n")
    w.write("b.task.md", "id: x\ntitle: other\ncreated: 2\n")
    w.write("c.task.md", "id: c\ncreated: 3\n")
    ok(w.q:offer("a.task.md"))
    ok(w.q:offer("b.task.md"))
    ok(w.q:offer("c.task.md"))
    local first = w.q:take()
    eq(first.inbox.name, "a")
    eq(w.q:take().id, "c")
    eq(w.q:take(), nil)
    w.q:finished(first, "completed")
    eq(w.q:take().inbox.name, "b")
  end)

  it("a file rewritten while it runs is queued again and stays in the folder for its new version", function()
    local w = setup()
    w.write("a.task.md", "id: a\ntitle: v1\n")
    ok(w.q:offer("a.task.md"))
    local v1 = w.q:take()
    eq({ w.q:offer("a.task.md") }, { nil, "running" })
    w.write("a.task.md", "id: a\ntitle: v2\n")
    local v2 = w.q:offer("a.task.md")
    eq(v2.title, "v2")
    eq(w.q:take(), nil, "v2 waits for v1")
    w.q:finished(v1, "completed")
    ok(w.exists("a.task.md"))
    ok(not w.exists("processed/a.task.md"))
    ok(w.logged("stays: a newer version is queued"))
    eq(w.rows["inbox_task:a"].to, nil)
    eq(w.q:take().title, "v2")
    w.q:finished(v2, "completed")
    ok(w.exists("processed/a.task.md"))
    eq(w.read("processed/a.task.md"), "id: a\ntitle: v2\n")
  end)

  it("finished takes the session's copy of a task as well as the table take gave", function()
    local w = setup()
    w.write("a.task.md", "id: a\n")
    ok(w.q:offer("a.task.md"))
    local t = w.q:take()
    w.q:finished({ id = t.id, inbox = t.inbox, status = "completed" }, "completed")
    ok(w.exists("processed/a.task.md"))
    w.write("a.task.md", "id: a\n")
    eq({ w.q:offer("a.task.md") }, { nil, "duplicate" }, "not 'running'")
  end)

  it("a file rewritten while it runs, its event not yet come, stays for that event", function()
    local w = setup()
    w.write("a.task.md", "id: a\ntitle: v1\n")
    ok(w.q:offer("a.task.md"))
    local v1 = w.q:take()
    w.write("a.task.md", "id: a\ntitle: v2\n")
    w.q:finished(v1, "completed")
    ok(w.exists("a.task.md"))
    ok(w.logged("stays: it was rewritten while it ran"))
    eq(w.q:offer("a.task.md").title, "v2")
  end)

  it("a quick hash that disagrees with the parser's: the file is parsed again, and moves when unchanged", function()
    local w = setup()
    local q = inbox_queue.new({ paths = { tasks_dir = w.dir } }, { parse = fake_parse, hash = function() return "?" end,
      emit = function() end, log = function() end, state = { load = function() end, save = function() end } })
    w.write("a.task.md", "id: a\n")
    ok(q:offer("a.task.md"))
    q:finished(q:take(), "completed")
    ok(w.exists("processed/a.task.md"))
  end)

  it("a file deleted while it runs: finished logs it, records the ledger, no error", function()
    local w = setup()
    w.write("a.task.md", "id: a\n")
    ok(w.q:offer("a.task.md"))
    local t = w.q:take()
    sh("rm", w.dir .. "/a.task.md")
    w.q:gone("a.task.md")
    ok(w.logged("a.task.md was deleted while its task runs: the run goes on"))
    eq(w.q:finished(t, "failed", "boom"), nil)
    ok(w.logged("vanished before it could move to failed/"))
    eq(w.rows["inbox_task:a"].status, "failed")
    ok(not w.exists("failed/a.task.md.reason"))
  end)

  it("an invalid file that vanished before its move is logged, not an error", function()
    local w = setup({ parse = function(path) return nil, errors.new("io", path .. ":1: cannot read") end })
    eq({ w.q:offer("nothere.task.md") }, { nil, "gone" })
    ok(w.logged("nothere.task.md vanished before it could move to failed/"))
  end)

  it("moves never replace an earlier file, nor sit beside an earlier reason", function()
    local w = setup()
    assert(orch.make_dir(w.dir .. "/failed"))
    w.write("failed/a.task.md", "earlier\n")
    w.write("failed/a.1.task.md.reason", "an earlier reason\n")
    w.write("a.task.md", "id: a\nBROKEN\n")
    eq(answer(w.q:offer("a.task.md")), { nil, "invalid" })
    eq(w.read("failed/a.task.md"), "earlier\n")
    eq(w.read("failed/a.1.task.md.reason"), "an earlier reason\n")
    ok(not w.exists("failed/a.1.task.md"))
    eq(w.read("failed/a.2.task.md"), "id: a\nBROKEN\n")
    ok(w.read("failed/a.2.task.md.reason"):find(":2: front matter", 1, true))
  end)

  it("a refused file written again replaces its refused version (one file, one outcome); earlier ones stay", function()
    local w = setup()
    assert(orch.make_dir(w.dir .. "/failed"))
    w.write("failed/a.task.md", "earlier\n")
    w.write("a.task.md", "id: a\nBROKEN\n")
    eq(answer(w.q:offer("a.task.md")), { nil, "invalid" })
    w.write("a.task.md", "id: a\nstill\nBROKEN\n")       -- the rest appended: still refused
    eq(answer(w.q:offer("a.task.md")), { nil, "invalid" })
    eq(w.read("failed/a.1.task.md"), "id: a\nstill\nBROKEN\n")
    ok(w.read("failed/a.1.task.md.reason"):find(":3: front matter", 1, true))
    ok(not w.exists("failed/a.2.task.md"))
    w.write("a.task.md", "id: a\n")                         -- fixed: queued, its refused version gone
    eq(w.q:offer("a.task.md").id, "a")
    ok(not w.exists("failed/a.1.task.md") and not w.exists("failed/a.1.task.md.reason"))
    eq(w.read("failed/a.task.md"), "earlier\n")
    ok(w.logged("a.task.md was written again: its version refused before"))
  end)

  it("a name too long for its reason beside it moves shortened, so the reason is written", function()
    local w = setup()
    local long = string.rep("b", 247)  -- NAME.task.md is 255 bytes, NAME.task.md.reason would be 262
    w.write(long .. ".task.md", "id: b\nBROKEN\n")
    eq(answer(w.q:offer(long .. ".task.md")), { nil, "invalid" })
    local short = string.rep("b", 255 - #".task.md.reason")
    eq(w.read("failed/" .. short .. ".task.md"), "id: b\nBROKEN\n")
    ok(w.read("failed/" .. short .. ".task.md.reason"):find(":2: front matter", 1, true))
    ok(not w.logged("File name too long"), table.concat(w.logs, "\n"))
    -- again, to a new queue (this one's replaces its own refused version): the number fits too
    local w2 = setup({ dir = w.dir })
    w2.write(long .. ".task.md", "id: b\nBROKEN\nagain\n")
    eq(answer(w2.q:offer(long .. ".task.md")), { nil, "invalid" })
    short = string.rep("b", 255 - #".1.task.md.reason")
    ok(w.read("failed/" .. short .. ".1.task.md.reason"):find(":2: front matter", 1, true))
  end)

  it("orch.rename with replace = false never replaces; its errors say exists and not_found", function()
    local w = setup()
    w.write("a", "a\n")
    w.write("b", "b\n")
    local okr, err = orch.rename(w.dir .. "/a", w.dir .. "/b", { replace = false })
    eq({ okr, err and err.code }, { nil, "exists" })
    eq({ w.read("a"), w.read("b") }, { "a\n", "b\n" })
    sh("ln", "-s", "nowhere", w.dir .. "/dangling")
    eq(select(2, orch.rename(w.dir .. "/a", w.dir .. "/dangling", { replace = false })).code, "exists")
    eq(select(2, orch.rename(w.dir .. "/none", w.dir .. "/c", { replace = false })).code, "not_found")
    eq(orch.rename(w.dir .. "/a", w.dir .. "/c", { replace = false }), true)
    eq(orch.rename(w.dir .. "/c", w.dir .. "/b"), true, "replace by default")
    eq(w.read("b"), "a\n")
  end)

  it("a symlink is moved itself, never followed out of the folder", function()
    local w = setup()
    local outside = w.dir .. "/../outside.task.md"
    assert(orch.write_file(outside, "id: out\n"))
    sh("ln", "-s", "../outside.task.md", w.dir .. "/link.task.md")
    local w2 = setup({ dir = w.dir, parse = function(path)
      return nil, errors.new("outside", path .. ":1: a symlink that resolves outside the folder is refused")
    end })
    eq(answer(w2.q:offer("link.task.md")), { nil, "invalid" })
    eq(sh("readlink", w.dir .. "/failed/link.task.md"), "../outside.task.md")
    eq(orch.read_file(outside), "id: out\n")
    ok(not w.exists("link.task.md"))
  end)

  it("a relative symlink inside the folder moved to processed/ still reads: its text takes its place", function()
    local w = setup()
    assert(orch.make_dir(w.dir .. "/sub"))
    w.write("sub/t.md", "id: vl\n")
    sh("ln", "-s", "sub/t.md", w.dir .. "/vl.task.md")
    w.write("sub/a.md", "id: abs\n")
    sh("ln", "-s", w.dir .. "/sub/a.md", w.dir .. "/abs.task.md")
    for _, name in ipairs({ "vl.task.md", "abs.task.md" }) do w.q:offer(name) end
    for _, t in ipairs(drain(w.q)) do w.q:finished(t, "completed") end
    eq(w.read("processed/vl.task.md"), "id: vl\n")
    eq(orch.file_info(w.dir .. "/processed/vl.task.md").link, false)
    eq(sh("readlink", w.dir .. "/processed/abs.task.md"), w.dir .. "/sub/a.md", "one that resolves stays a link")
    eq(w.read("sub/t.md"), "id: vl\n")
    ok(not w.exists("vl.task.md") and not w.exists("abs.task.md"))
    eq(#w.logs, 0, table.concat(w.logs, "\n"))
  end)

  it("a processed/ that is a symlink out of the folder is refused: the file stays, the error is logged", function()
    local w = setup()
    if orch.file_info(w.dir).real == nil then return end   -- orch.file_info without real: not this host
    assert(orch.make_dir(w.dir .. "/../elsewhere"))
    sh("ln", "-s", "../elsewhere", w.dir .. "/processed")
    w.write("a.task.md", "id: a\n")
    ok(w.q:offer("a.task.md"))
    eq(w.q:finished(w.q:take(), "completed"), nil)
    ok(w.exists("a.task.md"))
    eq(orch.list_dir(w.dir .. "/../elsewhere"), {})
    ok(w.logged("could not move to processed/: " .. w.dir .. "/processed is a symlink to"), table.concat(w.logs, "\n"))
  end)

  it("processed/ removed while running is made again", function()
    local w = setup()
    w.write("a.task.md", "id: a\n")
    w.write("b.task.md", "id: b\n")
    ok(w.q:offer("a.task.md"))
    ok(w.q:offer("b.task.md"))
    w.q:finished(w.q:take(), "completed")
    sh("rm", "-r", w.dir .. "/processed")
    w.q:finished(w.q:take(), "completed")
    ok(w.exists("processed/b.task.md"))
  end)

  it("rescan offers the files present and drops queued ones whose file is gone", function()
    local w = setup()
    w.write("a.task.md", "id: a\n")
    w.write("b.task.md", "id: b\n")
    w.write("notes.txt", "not a task\n")
    eq(#w.q:rescan(), 2)
    eq(#w.q:rescan(), 0, "already queued")
    sh("rm", w.dir .. "/a.task.md")
    w.write("c.task.md", "id: c\n")
    eq(ids(w.q:rescan()), { "c" })
    eq(ids(drain(w.q)), { "b", "c" })
    ok(w.exists("notes.txt"))
  end)

  it("rescan names the files it refused (moved to failed/), as an offer's why does", function()
    local w = setup()
    w.write("good.task.md", "id: good\n")
    w.write("bad.task.md", "id: bad\nBROKEN\n")
    local got, refused = w.q:rescan()
    eq(ids(got), { "good" })
    eq(refused, { { name = "bad.task.md", why = "invalid",
                   error = w.dir .. "/bad.task.md:2: front matter: broken YAML" } })
    ok(w.exists("failed/bad.task.md.reason"))
  end)

  it("with the inbox task parser (the default): a real file queues, a broken one fails naming its line", function()
    local has = pcall(require, "lib.inbox_task")
    if not has then return end                  -- the parser not in this tree yet
    local dir = folder()
    local q = inbox_queue.new({ paths = { tasks_dir = dir } }, { emit = function() end, log = function() end,
      state = { load = function() end, save = function() end } })
    assert(orch.write_file(dir .. "/real.task.md",
      "---\nid: real\ntype: fix\npriority: high\ncreated: 2026-01-01T00:00:00Z\n---\n**Prompt:**\nDo it.\n"))
    assert(orch.write_file(dir .. "/broken.task.md", "---\nid: [x\n---\n**Prompt:**\nx\n"))
    local t = q:offer("real.task.md")
    eq({ t.id, t.inbox.priority_rank, type(t.inbox.sha) }, { "real", 1, "string" })
    eq(answer(q:offer("broken.task.md")), { nil, "invalid" })
    local reason = orch.read_file(dir .. "/failed/broken.task.md.reason")
    ok(reason:find(dir .. "/broken.task.md:", 1, true) and reason:match("broken%.task%.md:%d+:"), reason)
  end)

  it("a restart (a new queue over the same ledger, the host's state) does not run a processed file again", function()
    local id = "restart-" .. orch.pid .. "-" .. math.floor(orch.now() * 1000)
    local dir = folder()
    local cfg = { paths = { tasks_dir = dir } }
    local quiet = { parse = fake_parse, hash = hash, emit = function() end, log = function() end }
    local q1 = inbox_queue.new(cfg, quiet)
    assert(orch.write_file(dir .. "/r.task.md", "id: " .. id .. "\n"))
    assert(orch.write_file(dir .. "/s.task.md", "id: " .. id .. "-s\n"))
    eq(#q1:rescan(), 2)
    q1:finished(q1:take(), "completed")          -- r (by name); s still queued when the host stops
    eq(inbox_queue.ledger(id).status, "completed")
    assert(orch.write_file(dir .. "/r.task.md", "id: " .. id .. "\n"))
    local q2 = inbox_queue.new(cfg, quiet)
    eq(ids(q2:rescan()), { id .. "-s" })
    ok(orch.file_info(dir .. "/processed/r.1.task.md"), "the duplicate moved")
    eq(inbox_queue.processed(fake_parse(dir .. "/processed/r.task.md")), true)
  end)
end)
