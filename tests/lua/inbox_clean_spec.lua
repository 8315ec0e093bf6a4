-- inbox_clean: `orch-host clean tasks`, with a stand-in parser and ledger.
local T = require("orch.testing")
local errors = require("orch.errors")
local inbox_clean = require("lib.inbox_clean")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local function parse(path)
  local text, err = orch.read_file(path)
  if not text then return nil, err end
  if text:find("BROKEN", 1, true) then return nil, errors.new("syntax", path .. ":2: front matter: broken YAML") end
  return { id = text:match("id: (%S+)"), inbox = { file = path, sha = text } }
end

local seq = 0
local function setup()
  seq = seq + 1
  local dir = (os.getenv("ORCH_LOGS_DIR") or "logs") .. "/inbox_clean_spec-" .. orch.pid .. "-" .. seq .. "/tasks"
  assert(orch.make_dir(dir))
  local rows = {}
  local w = { dir = dir, rows = rows }
  function w.write(name, text) assert(orch.write_file(dir .. "/" .. name, text)) end
  function w.done(id, text, status)
    rows["inbox_task:" .. id] = { sha = text, status = status or "completed", at = 0 }
  end
  function w.exists(rel) return orch.file_info(dir .. "/" .. rel) ~= nil end
  function w.run(args)
    local opts = { parse = parse, load = function(k) return rows[k] end }
    return inbox_clean.run({ paths = { tasks_dir = dir } }, args, opts)
  end
  w.write("done.task.md", "id: done\n")
  w.done("done", "id: done\n")
  w.write("review.task.md", "id: review\n")
  w.done("review", "id: review\n", "needs_review")
  w.write("edited.task.md", "id: edited\nv2\n")
  w.done("edited", "id: edited\n")
  w.write("failed.task.md", "id: failed\n")
  w.done("failed", "id: failed\n", "failed")
  w.write("new.task.md", "id: new\n")
  w.write("bad.task.md", "BROKEN\n")
  w.write("notes.md", "not a task file\n")
  return w
end

describe("clean tasks", function()
  it("moves the files the ledger has as processed (same id and content), says each and counts", function()
    local w = setup()
    local r = w.run({})
    eq(r.exit, 0)
    local line = string.format("moved %s/done.task.md -> %s/processed/done.task.md (%s)", w.dir, w.dir,
      "task done, completed at 1970-01-01T00:00:00Z")
    ok(r.out:find(line, 1, true), r.out)
    ok(r.out:find("review.task.md -> ", 1, true), r.out)
    ok(r.out:find("2 moved to " .. w.dir .. "/processed/, 4 left (not processed; --all moves them too)", 1, true),
      r.out)
    ok(w.exists("processed/done.task.md") and w.exists("processed/review.task.md"))
    for _, n in ipairs({ "edited.task.md", "failed.task.md", "new.task.md", "bad.task.md", "notes.md" }) do
      ok(w.exists(n), n .. " stays")
    end
  end)

  it("--dry-run says what would move and moves nothing", function()
    local w = setup()
    local r = w.run({ dry_run = true })
    eq(r.exit, 0)
    ok(r.out:find("would move " .. w.dir .. "/done.task.md to " .. w.dir .. "/processed/", 1, true), r.out)
    ok(r.out:find("2 would move", 1, true), r.out)
    ok(w.exists("done.task.md"))
    ok(not w.exists("processed"))
  end)

  it("--all moves every task file, saying why for each; never over an earlier one", function()
    local w = setup()
    assert(orch.make_dir(w.dir .. "/processed"))
    w.write("processed/new.task.md", "earlier\n")
    local r = w.run({ all = true })
    eq(r.exit, 0)
    ok(r.out:find("6 moved", 1, true), r.out)
    local bad = "bad.task.md (--all: invalid: " .. w.dir .. "/bad.task.md:2: front matter: broken YAML)"
    ok(r.out:find(bad, 1, true), r.out)
    ok(r.out:find("(--all: task edited changed since its last run)", 1, true), r.out)
    local new = "new.task.md -> " .. w.dir .. "/processed/new.1.task.md (--all: task new not processed)"
    ok(r.out:find(new, 1, true), r.out)
    eq(orch.read_file(w.dir .. "/processed/new.task.md"), "earlier\n")
    ok(w.exists("notes.md"))
  end)

  it("no task folder: nothing to clean", function()
    local r = inbox_clean.run({ paths = { tasks_dir = "/nonexistent-orch-tasks-" .. orch.pid } }, {}, { parse = parse })
    eq(r.exit, 0)
    ok(r.out:find("nothing to clean", 1, true))
  end)
end)
