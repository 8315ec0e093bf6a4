-- Specs for workflows/lib/acceptance.lua: context files in, deliverables out,
-- acceptance commands run by the orchestrator, and the verdict from them
-- (never from the agent's claim).
local T = require("orch.testing")
local A = require("lib.acceptance")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local function exists_in(set) return function(p) return set[p] == true end end

describe("acceptance: paths", function()
  it("resolves . and .. lexically, relative to a base", function()
    eq(A.resolve("docs/../src/./a.lua", "/w/t1"), "/w/t1/src/a.lua")
    eq(A.resolve("/etc/passwd", "/w/t1"), "/etc/passwd")
    eq(A.resolve("../../../etc", "/w/t1"), "/etc")
    eq(A.resolve("a//b/", "/w"), "/w/a/b")
  end)
  it("within: the root itself and what is under it, not a sibling with the same prefix", function()
    eq({ A.within("/w/t1", "/w/t1"), A.within("/w/t1/a", "/w/t1/"), A.within("/w/t10/a", "/w/t1") },
      { true, true, false })
  end)
end)

describe("acceptance: context files", function()
  local where = { dirs = { "/w/t1", "/repo" }, roots = { "/w/t1", "/repo" } }
  it("passes when each exists in the worktree or the repository", function()
    local t = { id = "task-1", context_files = { "a.md", "docs/b.md" } }
    eq(A.check_context(t, where, exists_in({ ["/w/t1/a.md"] = true, ["/repo/docs/b.md"] = true })), true)
    eq(A.check_context({ id = "x" }, where, exists_in({})), true)
  end)
  it("refuses a missing one, naming the task, the file and where it looked", function()
    local r, err = A.check_context({ id = "task-2", context_files = { "gone.md" } }, where, exists_in({}))
    eq(r, nil)
    eq(err, "task task-2: context file gone.md not found (looked in /w/t1, /repo)")
  end)
  it("refuses one outside the allowed folders, even when it exists", function()
    local r, err = A.check_context({ id = "task-3", context_files = { "../../etc/passwd" } }, where,
      exists_in({ ["/etc/passwd"] = true }))
    eq(r, nil)
    eq(err, "task task-3: context file ../../etc/passwd is outside the allowed folders (/w/t1, /repo)")
    local _, abs = A.check_context({ id = "task-3", context_files = { "/etc/passwd" } }, where,
      exists_in({ ["/etc/passwd"] = true }))
    ok(abs:find("/etc/passwd is outside", 1, true), abs)
  end)
  it("with an allowed root, a file must be inside it", function()
    local w = { dirs = { "/w/t1", "/repo" }, roots = { "/repo/src" } }
    local set = exists_in({ ["/w/t1/a.md"] = true, ["/repo/src/b.lua"] = true })
    local r, err = A.check_context({ id = "t", context_files = { "a.md" } }, w, set)
    eq(r, nil)
    ok(err:find("outside the allowed folders (/repo/src)", 1, true), err)
    eq(A.check_context({ id = "t", context_files = { "src/b.lua" } }, w, set), true)
  end)
end)

describe("acceptance: context files that are symlinks, for real", function()
  local top = (os.getenv("ORCH_LOGS_DIR") or "logs") .. "/acceptance_links-" .. orch.pid
  local repo = top .. "/repo"
  assert(orch.make_dir(repo .. "/docs"))
  assert(orch.write_file(repo .. "/docs/in.md", "x"))
  assert(orch.write_file(top .. "/secret.txt", "s"))
  local function ln(target, name) assert(orch.exec({ cmd = { "ln", "-s", target, repo .. "/" .. name } }).ok) end
  ln("docs/in.md", "inside.md")
  ln(top .. "/secret.txt", "outside.md")
  ln("../secret.txt", "up.md")
  local where = { dirs = { repo }, roots = { repo } }

  it("passes one whose target is inside the allowed folders", function()
    eq(A.check_context({ id = "l1", context_files = { "inside.md", "docs/in.md" } }, where), true)
  end)
  it("refuses one whose target is outside, naming the target", function()
    for _, name in ipairs({ "outside.md", "up.md" }) do
      local r, err = A.check_context({ id = "l2", context_files = { name } }, where)
      eq(r, nil)
      local real = orch.file_info(top .. "/secret.txt").real
      eq(err, "task l2: context file " .. name .. " is outside the allowed folders (" .. repo .. ") (a symlink to "
        .. real .. ")")
    end
  end)
end)

describe("acceptance: deliverables", function()
  it("lists the ones missing from the folder, and one outside it as missing", function()
    local t = { deliverables = { "docs/api.md", "src/x.lua", "../other/y" } }
    eq(A.missing_deliverables(t, "/w/t1", exists_in({ ["/w/t1/docs/api.md"] = true, ["/w/other/y"] = true })),
      { "src/x.lua", "../other/y" })
    eq(A.missing_deliverables({}, "/w/t1", exists_in({})), {})
  end)
  it("one there but not written since the agent first started is not delivered: unchanged", function()
    local t = { deliverables = { "old.md", "new.md", "edge.md", "gone.md" } }
    local times = { ["/w/t1/old.md"] = 100, ["/w/t1/new.md"] = 205, ["/w/t1/edge.md"] = 199.99 }
    local function info(p) return times[p] and { mtime = times[p] } end
    eq({ A.missing_deliverables(t, "/w/t1", info, 200) }, { { "old.md", "gone.md" }, { "old.md" } })
    -- (edge.md: within the coarse clock's slack) a time in the future was set by hand, not by a write
    times["/w/t1/new.md"] = orch.now() + 3600
    eq({ A.missing_deliverables(t, "/w/t1", info, 200) }, { { "old.md", "new.md", "gone.md" }, { "old.md", "new.md" } })
    -- no start known: being there is enough
    eq({ A.missing_deliverables(t, "/w/t1", info) }, { { "gone.md" }, {} })
  end)
  it("in a worktree, the files git shows changed say it: a folder counts with one changed in it", function()
    local t = { deliverables = { "old.md", "new.md", "docs", "lib", "gone.md" } }
    local there = exists_in({ ["/w/t1/old.md"] = true, ["/w/t1/new.md"] = true, ["/w/t1/docs"] = true,
                              ["/w/t1/lib"] = true })
    eq({ A.missing_deliverables(t, "/w/t1", there, 200, { "new.md", "docs/a.md", "libx/b.lua" }) },
      { { "old.md", "lib", "gone.md" }, { "old.md", "lib" } })
  end)
  it("one git ignores (no change of it shows) is judged by its mtime", function()
    local t = { deliverables = { "dist/app.js", "build.log" } }
    local times = { ["/w/t1/dist/app.js"] = 205, ["/w/t1/build.log"] = 100 }
    local function info(p) return times[p] and { mtime = times[p] } end
    local function ignored(p) return p == "dist/app.js" or p == "build.log" end
    eq({ A.missing_deliverables(t, "/w/t1", info, 200, {}, ignored) }, { { "build.log" }, { "build.log" } })
    -- not ignored and not changed: unchanged, whatever its mtime
    eq({ A.missing_deliverables(t, "/w/t1", info, 200, {}, function() return false end) },
      { { "dist/app.js", "build.log" }, { "dist/app.js", "build.log" } })
  end)
  it("an inbox criterion that says `path` exists asks for the file only", function()
    local t = { deliverables = { "old.md", "kept.md" },
                inbox = { success_criteria = { { text = "`old.md` exists", path = "old.md", exists = true },
                                               { text = "`kept.md` is written", path = "kept.md" } } } }
    local there = exists_in({ ["/w/t1/old.md"] = true, ["/w/t1/kept.md"] = true })
    eq({ A.missing_deliverables(t, "/w/t1", there, 200, {}) }, { { "kept.md" }, { "kept.md" } })
  end)
end)

describe("acceptance: verdict", function()
  it("completed only when every command passes and every deliverable is there", function()
    eq({ A.verdict({}, {}) }, { "completed" })
    eq({ A.verdict({}, { { cmd = "make", ok = true } }) }, { "completed" })
  end)
  it("a missing deliverable needs review; a failing command fails, naming it", function()
    eq({ A.verdict({ "a.md", "b.md" }, {}) }, { "needs_review", "deliverables missing: a.md, b.md" })
    eq({ A.verdict({ "a.md" }, { { cmd = "make", ok = true }, { cmd = "make test", ok = false } }) },
      { "failed", "acceptance failed: make test" })
  end)
  it("an unchanged deliverable needs review, said apart from the missing ones", function()
    eq({ A.verdict({ "a.md", "b.md" }, {}, { "b.md" }) },
      { "needs_review", "deliverables missing: a.md; not changed by the task: b.md" })
    eq({ A.verdict({ "b.md" }, {}, { "b.md" }) }, { "needs_review", "deliverables not changed by the task: b.md" })
  end)
end)

describe("acceptance: the commands, run for real", function()
  local dir = (os.getenv("ORCH_LOGS_DIR") or "logs") .. "/acceptance_spec-" .. orch.pid
  assert(orch.make_dir(dir))
  assert(orch.write_file(dir .. "/present.txt", "x"))

  it("runs each with /bin/sh -c in the folder, keeping exit code and output", function()
    local t = { verify = { "test -f present.txt && echo found", "echo out; echo err >&2; exit 3" } }
    local results = assert(A.run_verify(t, dir, { timeout = 30 }))
    eq(#results, 2)
    eq({ results[1].ok, results[1].exit_code, results[1].output }, { true, 0, "found\n" })
    eq({ results[2].ok, results[2].exit_code, results[2].output }, { false, 3, "out\n\nerr\n" })
    ok(results[2].duration_s >= 0, "a duration")
  end)
  it("gives each ORCH_HOST, the orch-host that runs it (a worktree has no build/)", function()
    local results = assert(A.run_verify({ verify = { 'printf %s "$ORCH_HOST"' } }, dir, { timeout = 30 }))
    eq(results[1].output, orch.executable)
  end)
  it("a command past its timeout fails, and says so", function()
    local results = assert(A.run_verify({ verify = { "sleep 30" } }, dir, { timeout = 0.2 }))
    eq(results[1].ok, false)
    eq(results[1].timed_out, true)
    ok(results[1].output:find("timed out after 0.2 s", 1, true), results[1].output)
  end)
  it("keeps at most OUTPUT_CHARS of a long output, saying how much is left out", function()
    local results = assert(A.run_verify({ verify = { "yes abcdefgh | head -c 20000; exit 1" } }, dir, { timeout = 30 }))
    ok(#results[1].output < A.OUTPUT_CHARS + 40, #results[1].output)
    ok(results[1].output:find("more bytes)", 1, true), "the truncation is said")
  end)
  it("a cancelled command stops the checks with the reason", function()
    local function exec() return nil, { code = "cancelled", reason = "skip" } end
    eq({ A.run_verify({ verify = { "true" } }, dir, { exec = exec }) }, { nil, "skip" })
  end)
  it("judge: the agent said done, a deliverable is missing and a command fails -> failed, both recorded", function()
    local t = { deliverables = { "present.txt", "absent.md" }, verify = { "exit 1" } }
    local fields, status = A.judge(t, dir, { timeout = 30 })
    eq(status, "failed")
    eq(fields.deliverables_missing, { "absent.md" })
    eq(fields.verify_results[1].exit_code, 1)
    eq(fields.error, "acceptance failed: exit 1")
  end)
  it("judge: all there and passing -> completed, no error", function()
    local fields, status = A.judge({ deliverables = { "present.txt" }, verify = { "true" } }, dir, { timeout = 30 })
    eq({ status, fields.error, #fields.deliverables_missing, fields.verify_results[1].ok },
      { "completed", nil, 0, true })
  end)
  it("judge: a file and a folder the agent left as they were, after its start -> needs_review", function()
    assert(orch.make_dir(dir .. "/docs"))
    assert(orch.write_file(dir .. "/docs/old.md", "x"))
    local t = { deliverables = { "present.txt", "docs" }, first_started_at = orch.now() + 5 }
    local fields, status = A.judge(t, dir, { timeout = 30 })
    eq({ status, fields.error, fields.deliverables_missing, fields.deliverables_unchanged },
      { "needs_review", "deliverables not changed by the task: present.txt, docs", { "present.txt", "docs" },
        { "present.txt", "docs" } })
    t.first_started_at = orch.now()
    assert(orch.write_file(dir .. "/docs/new.md", "x"))  -- a file written in the folder counts for it
    assert(orch.write_file(dir .. "/present.txt", "y"))
    fields, status = A.judge(t, dir, { timeout = 30 })
    eq({ status, fields.error }, { "completed", nil })
  end)
end)
