-- safety_after: the check after an agent's runs (refs, the main checkout,
-- migrations, the hook's blocks put on the task).
local T = require("orch.testing")
local sa = require("lib.safety_after")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local function sh(cwd, script)
  local r = orch.exec({ cmd = { "sh", "-c", script }, cwd = cwd, timeout = 60,
    env = { GIT_AUTHOR_NAME = "a", GIT_AUTHOR_EMAIL = "a@b", GIT_COMMITTER_NAME = "a", GIT_COMMITTER_EMAIL = "a@b" } })
  assert(r.ok, script .. ": " .. tostring(r.stderr))
  return r
end

-- a repository with task a's worktree at agent_workspaces/a on orch/sx/a
local function setup()
  local repo = (orch.exec({ cmd = { "mktemp", "-d" }, timeout = 10 }).stdout:gsub("%s+$", ""))
  sh(repo, "git init -q && git commit -q --allow-empty -m init && echo /agent_workspaces/ >> .git/info/exclude"
    .. " && git worktree add -q -b orch/sx/a agent_workspaces/a")
  local s = { id = "sx", workspace_base = { repo = repo }, tasks = { { id = "a" }, { id = "b" } } }
  local ws = { path = repo .. "/agent_workspaces/a" }
  return s, s.tasks[1], ws, repo
end

describe("refs", function()
  it("a commit in the task's worktree is a violation, naming the ref and HEAD", function()
    local s, t, ws = setup()
    local snap = sa.before(s, ws.path, ws)
    sh(ws.path, "git commit -q --allow-empty -m sneaky")
    local v = table.concat(sa.violations(s, t, snap), "; ")
    ok(v:find("ref moved: refs/heads/orch/sx/a", 1, true), v)
    ok(v:find("HEAD moved in " .. ws.path, 1, true), v)
    sa.done(snap)
  end)
  it("a run cut short is checked at its resume against the state kept from before it began", function()
    local s, t, ws = setup()
    local first = sa.before(s, ws.path, ws)
    local kept = orch.json.decode(orch.json.encode(sa.kept(first)))  -- as the task stores it
    sa.done(first)
    sh(ws.path, "git commit -q --allow-empty -m sneaky")  -- then the host was killed; the resume:
    local snap = sa.again(kept)
    local v = table.concat(sa.violations(s, t, snap), "; ")
    ok(v:find("ref moved: refs/heads/orch/sx/a", 1, true), v)
    ok(v:find("HEAD moved in " .. ws.path, 1, true), v)
    sa.done(snap)
  end)
  it("the session's other task branches are the orchestrator's; a new tag is not", function()
    local s, t, ws, repo = setup()
    local snap = sa.before(s, ws.path, ws)
    sh(repo, "git branch orch/sx/b")
    eq(sa.violations(s, t, snap), {})
    sh(repo, "git tag v1")
    eq(sa.violations(s, t, snap), { "new ref: refs/tags/v1" })
    sa.done(snap)
  end)
  it("a task outside a worktree is not checked", function()
    local s, t, ws = setup()
    local snap = sa.before(s, ws.path, nil)
    sh(ws.path, "git commit -q --allow-empty -m x")
    eq(sa.violations(s, t, snap), {})
    sa.done(snap)
  end)
end)

describe("the main checkout", function()
  it("a new file there is a change outside the worktree; the worktree's own files are not", function()
    local s, t, ws, repo = setup()
    local snap = sa.before(s, ws.path, ws)
    sh(ws.path, "echo x > inside.txt")
    eq(sa.violations(s, t, snap), {})
    sh(repo, "echo y > outside.txt")
    eq(sa.violations(s, t, snap), { "changes outside the task's worktree, in " .. repo .. ": outside.txt" })
    sa.done(snap)
  end)
  it("while another task's window is open, a change is this task's only when its file tools named it", function()
    local s, t, ws, repo = setup()
    local snap = sa.before(s, ws.path, ws)
    local other = sa.before(s, ws.path, ws)  -- another task of the day, running meanwhile
    sh(repo, "echo y > person.txt && mkdir -p docs && echo z > docs/stray.md")
    local v, w = sa.violations(s, t, snap, { ws.path .. "/../../docs/stray.md" })
    eq(v, { "changes outside the task's worktree, in " .. repo .. ": docs/stray.md" })
    eq(w, { "changes in " .. repo .. " while other tasks ran, not by this task's file tools: person.txt" })
    local fields = {}
    local r = sa.check(s, s.tasks[2], other, { ok = true }, fields)
    eq(r.ok, true, "the other task is not blamed")
    ok(fields.safety_warning:find("docs/stray.md, person.txt", 1, true), fields.safety_warning)
    sa.done(snap)
  end)
end)

describe("check", function()
  it("fails the run on a violation, with the reason; a cancelled run is not judged", function()
    local s, t, ws, repo = setup()
    local snap = sa.before(s, ws.path, ws)
    sh(repo, "git tag v2")
    local fields = {}
    local r = sa.check(s, t, snap, { ok = true, result = "done" }, fields)
    eq(r.ok, false)
    eq(r.error, "safety check after the run: new ref: refs/tags/v2")
    eq(fields.safety_violation, "new ref: refs/tags/v2")
    eq(sa.check(s, t, snap, { ok = false, cancelled = true }, {}).ok, false)
    eq(sa.check(s, t, snap, { ok = false, cancelled = true }, {}).error, nil)
  end)
  it("migrations make a completed run one to review", function()
    local s, t, ws = setup()
    local snap = sa.before(s, ws.path, ws)
    local r = sa.check(s, t, snap, { ok = true }, { files_changed = { "src/a.c", "supabase/migrations/1.sql" } })
    eq(r.ok, true)
    ok(r.review:find("supabase/migrations/1.sql", 1, true), r.review)
    eq(sa.migrations({ "migrations/1.sql", "app/db/migrate/2.rb", "prisma/migrations/x/m.sql", "src/migrations.c" }),
      { "migrations/1.sql", "app/db/migrate/2.rb", "prisma/migrations/x/m.sql" })
  end)
  it("puts the hook's blocks of the task since the snapshot on its fields", function()
    local s, t, ws = setup()
    local snap = sa.before(s, ws.path, ws)
    orch.emit("tool_blocked", { session = s.id, task = t.id, tool = "Bash", reason = "forbidden command (git push)" })
    local fields = {}
    sa.check(s, t, snap, { ok = true }, fields)
    eq(#fields.tool_blocks, 1)
    eq(fields.tool_blocks[1].reason, "forbidden command (git push)")
  end)
end)
