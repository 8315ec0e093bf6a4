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
  it("follows symlinks: a link inside the root that leads out is outside", function()
    local r = orch.exec({ cmd = { "mktemp", "-d" }, timeout = 10 })
    local tmp = (r.stdout:gsub("%s+$", ""))
    assert(orch.make_dir(tmp .. "/root/src"))
    assert(orch.make_dir(tmp .. "/outside"))
    assert(orch.exec({ cmd = { "ln", "-s", tmp .. "/outside", tmp .. "/root/out" }, timeout = 10 }).ok)
    local root = { allowed_root = tmp .. "/root" }
    eq(safety.check(write(tmp .. "/root/src/new.ts"), root), nil)
    eq(safety.check(write(tmp .. "/root/new/dir/a.ts"), root), nil)  -- (not there yet: as written)
    ok(safety.check(write(tmp .. "/root/out/x.txt"), root), "a write through the link")
    ok(safety.check(write(tmp .. "/root/out"), root), "the link itself, followed")
  end)
  it("takes a relative path from the agent's folder, and refuses one it cannot place", function()
    eq(safety.check(write("src/a.ts"), { allowed_root = "/work/p", cwd = "/work/p" }), nil)
    ok(safety.check(write("../x"), { allowed_root = "/work/p", cwd = "/work/p" }))
    ok(safety.check(write("src/a.ts"), { allowed_root = "/work/p" }), "no folder to place it")
    eq(safety.check(write("src/a.ts"), { allowed_root = "" }), nil)
  end)
  it("ignores events that are not tool uses", function()
    eq(safety.check({ type = "result" }, {}), nil)
    eq(safety.check({ type = "assistant", message = { content = { { type = "text", text = "git push" } } } }, {}), nil)
  end)
end)


-- What the shell would run, however it is wrapped: each command with the rule
-- that must stop it.
local STOPPED = {
  { "bash -c 'git commit -m x'", "git commit" },
  { "sh -c \"git push origin main\"", "git push" },
  { "zsh -c 'cd x && git add -A'", "git add" },
  { "bash -lc 'git commit -am y'", "git commit" },
  { "bash -o pipefail -c 'git push'", "git push" },
  { "sh -c \"bash -c 'git commit -m nested'\"", "git commit" },
  { "eval git commit -m x", "git commit" },
  { "eval \"git push\"", "git push" },
  { "env git push", "git push" },
  { "env -i PATH=/usr/bin GIT_DIR=.git git commit -m x", "git commit" },
  { "env -u HOME -- git push", "git push" },
  { "env -S 'git commit -m x'", "git commit" },
  { "command git commit -m x", "git commit" },
  { "command -p git push", "git push" },
  { "builtin exec git push", "git push" },
  { "exec -a name git commit", "git commit" },
  { "sudo git push", "git push" },
  { "sudo -u root -E git commit -m x", "git commit" },
  { "sudo -- git add .", "git add" },
  { "ls | xargs git add", "git add" },
  { "find . -name '*.ts' | xargs -0 -I {} git add {}", "git add" },
  { "xargs -n 1 -P 4 git push < remotes", "git push" },
  { "nice git commit -m x", "git commit" },
  { "nice -n 10 git push", "git push" },
  { "nice -10 git push", "git push" },
  { "timeout 30 git push", "git push" },
  { "timeout -k 5 -s KILL 30s git push", "git push" },
  { "timeout --signal=TERM 10 git commit -m x", "git commit" },
  { "nohup git push &", "git push" },
  { "time git commit -m x", "git commit" },
  { "stdbuf -o0 git push", "git push" },
  { "GIT_DIR=.git git commit", "git commit" },
  { "A=1 B='two words' git push", "git push" },
  { "GIT_DIR=.git env GIT_WORK_TREE=. nice -n 5 timeout 60 sudo -u me git commit", "git commit" },
  { "g'i't commit -m x", "git commit" },
  { "\"git\" push", "git push" },
  { "\\git add .", "git add" },
  { "$'git' push", "git push" },
  { "$'\\x67it' push", "git push" },
  { "git $(echo commit) -m x", "git with a subcommand that is not plain text" },
  { "git \"$SUB\" -m x", "git with a subcommand that is not plain text" },
  { "echo \"$(git commit -m x)\"", "git commit" },
  { "echo `git push`", "git push" },
  { "cat <(git push)", "git push" },
  { "(git commit -m x)", "git commit" },
  { "{ git push; }", "git push" },
  { "if true; then git commit -m x; fi", "git commit" },
  { "for r in a b; do git push $r; done", "git push" },
  { "! git commit -m x", "git commit" },
  { "true || git push", "git push" },
  { "git status |& git add -A", "git add" },
  { "echo ok\ngit commit -m x", "git commit" },
  { ">/dev/null 2>&1 git push", "git push" },
  { "echo 'git commit -m x' | bash", "git commit" },
  { "printf 'git push\\n' | sh", "git push" },
  { "bash <<< 'git commit -m x'", "git commit" },
  { "sh <<'EOF'\ngit push\nEOF", "git push" },
  { "cat <<EOF\n$(git push)\nEOF", "git push" },
  { "find . -name x -exec git add {} \\;", "git add" },
  { "rm -r -f build", "rm -rf" },
  { "rm -rf build", "rm -rf" },
  { "rm -fr build", "rm -rf" },
  { "rm -Rf build", "rm -rf" },
  { "rm -R -f build", "rm -rf" },
  { "rm --recursive --force build", "rm -rf" },
  { "rm --rec --for build", "rm -rf" },
  { "rm -r build -f", "rm -rf" },
  { "rm -v -r -i -f build", "rm -rf" },
  { "/bin/rm -r -f build", "rm -rf" },
  { "sudo rm -r -f /", "rm -rf" },
  { "bash -c 'rm -r -f src'", "rm -rf" },
  { "r''m -rf src", "rm -rf" },
  { "env npx prisma migrate deploy", "database migration" },
  { "bash -c \"npx supabase db 'push'\"", "database migration" },
  { "timeout 60 python manage.py migrate", "database migration" },
  { string.rep("$(", 12) .. "git push" .. string.rep(")", 12), "cannot be checked" },
  { "bash -c \"" .. string.rep("eval ", 12) .. "git push\"", "cannot be checked" },
  { "bash -c \"" .. string.rep("eval ", 3) .. "git push\"", "git push" },
  -- a program the shell makes up (it could be git or rm), or rm's flags from a variable
  { "r=rm; $r -rf src", "a program that is not written out" },
  { "$(echo rm) -rf src", "a program that is not written out" },
  { 'x=git; "$x" commit -m y', "a program that is not written out" },
  { "${GIT:-git} commit", "a program that is not written out" },
  { "git${IFS}commit", "a program that is not written out" },
  { "{git,push}", "a program that is not written out" },
  { "F=-rf; rm $F src", "rm with a word that is not plain text" },
  { "rm -$(echo rf) src", "rm with a word that is not plain text" },
  -- more wrappers
  { "flock /tmp/l git commit -m x", "git commit" },
  { "flock /tmp/l -c 'git push'", "git push" },
  { "chroot / git push", "git push" },
  { "script -q -c 'git commit -m x' /dev/null", "git commit" },
  { "su -c 'rm -rf /' root", "rm -rf" },
  { "parallel rm -rf ::: a b", "rm -rf" },
  { "watch -n 1 git push", "git push" },
}

-- Near misses: commands that mention the words but run nothing forbidden.
local ALLOWED = {
  "git status", "git log --oneline", "git diff --stat HEAD~1", "git show HEAD:README.md",
  "echo \"git commit\"", "echo 'git push' > notes.txt", "printf '%s\\n' 'git add'",
  "grep -r pattern src", "grep -rn 'git commit' docs", "rm -f file", "rm -r", "rm file.txt", "rm -i -v a b",
  "rm -- -rf", "rm -f -- -r", "ls -R", "cp -rf a b", "chmod -R 755 dir", "mkdir -p x && cd x",
  "git commit-graph verify", "npm run commit-lint", "bash script.sh", "sh -c 'npm test'",
  "env", "env | sort", "command -v git", "sudo -l", "timeout 5 npm test", "nice make -j2",
  "xargs echo < list", "find . -name '*.lua' -exec grep -l commit {} \\;", "echo $(git rev-parse HEAD)",
  "cat <<'EOF'\ngit commit -m x\nEOF", "cat > notes.md <<EOF\nrun git push later\nEOF",
  "# git push\ngit status", "git log --grep 'rm -rf'", "echo done # then git commit",
  "npx supabase migration new baptisms", "A=1 B=2 npm test",
  "[ -f x ] && echo ok", "[[ -n x ]] && make", 'rm -- "$f"', "rm -f -- $OUT", "ls *.lua", "flock /tmp/l make",
}

describe("shell", function()
  for _, case in ipairs(STOPPED) do
    it("stops " .. case[1]:gsub("\n", "\\n"):sub(1, 60), function()
      local reason = safety.check(bash(case[1]), {})
      ok(reason, "should stop: " .. case[1])
      ok(reason:find("forbidden command (" .. case[2], 1, true), reason)
    end)
  end
  it("lets near misses through", function()
    for _, cmd in ipairs(ALLOWED) do eq(safety.check(bash(cmd), {}), nil, "should allow: " .. cmd) end
  end)
  it("shell_words loads as a pure module (no io/os/debug, no globals)", function()
    local pure = T.load_pure("workflows/lib/shell_words.lua")
    eq(pure.commands("a 'b c'; d"), { { "a", "b c" }, { "d" } })
  end)
end)

describe("the stream check", function()
  local function use(id, cmd)
    local ev = bash(cmd)
    ev.message.content[1].id = id
    return ev
  end
  local function result(id, is_error)
    return { type = "user",
             message = { content = { { type = "tool_result", tool_use_id = id, is_error = is_error } } } }
  end
  it("without the PreToolUse hook, stops the agent at a forbidden call", function()
    local check = safety.stream_check({}, false)
    ok(check(use("t1", "git commit -m x")))
    eq(check(use("t2", "ls")), nil)
  end)
  it("with the hook, lets the agent go on when the call was refused, stops it when the call ran", function()
    local check = safety.stream_check({}, true)
    eq(check(use("t1", "git commit -m x")), nil, "the hook blocks it before it runs")
    eq(check(result("t1", true)), nil, "refused: the agent goes on")
    eq(check(use("t2", "git push")), nil)
    local why = check(result("t2", false))
    ok(why and why:find("it ran", 1, true), tostring(why))
    eq(check(result("t3", false)), nil, "an allowed call's result")
  end)
end)

describe("refused_only", function()
  it("is true only when every denial of a run is a call the policy forbids", function()
    local commit = { tool_name = "Bash", tool_input = { command = "git commit -am x" } }
    local write = { tool_name = "Write", tool_input = { file_path = "/tmp/x", content = "" } }
    commit.tool_use_id = "t1"
    local got = safety.refused_only({ commit }, {})
    eq({ #got, got[1].tool, got[1].tool_use_id }, { 1, "Bash", "t1" })
    ok(got[1].reason:find("git commit", 1, true), got[1].reason)
    eq(safety.refused_only({ commit, write }, {}), nil, "the agent needed Write")
    eq(safety.refused_only({}, {}), nil)
    eq(safety.refused_only(nil, {}), nil)
  end)
end)
