-- safety: the live check on every tool_use an agent makes.
local T = require("orch.testing")
local safety = require("lib.safety")
local describe, it, eq, ok = T.describe, T.it, T.eq, T.ok

local function bash(cmd)
  return { type = "assistant", message = { content = { { type = "tool_use", name = "Bash",
    input = { command = cmd } } } } }
end

describe("git", function()
  it("stops commit, push and add however they are spelled", function()
    for _, cmd in ipairs({ "git commit -m x", "git -C . commit -m x", "cd repo && git push origin main",
      "git -c user.name=x commit -am y", "/usr/bin/git add -A", "FOO=1 git push", "echo $(git commit -m z)",
      "git reset --hard HEAD~1", "ls; git   add ." }) do
      ok(safety.check(bash(cmd), {}), "should stop: " .. cmd)
    end
  end)
  it("lets reading commands through", function()
    for _, cmd in ipairs({ "git status", "git log --grep commit", "git diff HEAD", "git -C . log",
      "echo 'git is fine'", "git reset HEAD file", "npm run commit-lint" }) do
      eq(safety.check(bash(cmd), {}), nil, "should allow: " .. cmd)
    end
  end)
end)

describe("other commands", function()
  it("stops deletes and migrations", function()
    ok(safety.check(bash("rm -rf src"), {}))
    ok(safety.check(bash("rm -fr /"), {}))
    ok(safety.check(bash("npx supabase db push"), {}))
    ok(safety.check(bash("python manage.py migrate"), {}))
    eq(safety.check(bash("rm file.txt"), {}), nil)
    eq(safety.check(bash("npx supabase migration new baptisms"), {}), nil)
  end)
end)

describe("paths", function()
  local function write(path)
    return { type = "assistant", message = { content = { { type = "tool_use", name = "Write",
      input = { file_path = path, content = "x" } } } } }
  end
  it("keeps writes inside the allowed root", function()
    eq(safety.check(write("/work/p/src/a.ts"), { allowed_root = "/work/p" }), nil)
    ok(safety.check(write("/work/p/../etc/passwd"), { allowed_root = "/work/p" }))
    ok(safety.check(write("/work/pp/a"), { allowed_root = "/work/p" }))
    eq(safety.check(write("/anywhere"), { allowed_root = "" }), nil)
  end)
  it("ignores events that are not tool uses", function()
    eq(safety.check({ type = "result" }, {}), nil)
    eq(safety.check({ type = "assistant", message = { content = { { type = "text", text = "git push" } } } }, {}), nil)
  end)
end)

