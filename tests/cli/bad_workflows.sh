#!/usr/bin/env bash
# Bad workflows: a Lua error ends that workflow's task, never the host.
# Each workflow is written into a temp copy of the project (workflows/ and
# scripts/), run with --root pointing at it.
#  * syntax error            -> exit 2, "workflows/x.lua:LINE:"
#  * runtime error           -> exit 2, the message on stderr, message and
#                               traceback in the daily log, no crash/core
#  * error in a spawned task -> the host keeps going, the main task's result
#                               is the exit code; exit 2 when no orch.wait
#                               took that error and the result was a success
#  * error(nil), error({}), error(42), an error object with __tostring
#                            -> readable messages naming the file
#  * runaway loop            -> stopped by lua.max_run_seconds, exit 2
. "$(dirname "$0")/bad_lib.bash"

R="$BAD_TMP/root"
mkdir -p "$R"
cp -r "$ORCH_SRC/workflows" "$ORCH_SRC/scripts" "$R/"
rm -f "$R/.env"
BAD_ROOT=$R
W="$R/workflows"

# --- syntax error -----------------------------------------------------------
printf 'local a = 1\nlocal b = 2\nlocal c = = 3\nreturn 0\n' >"$W/x.lua"
orch run x.lua --no-input
expect_rc "syntax error" 2
expect_no_crash "syntax error"
expect_err "syntax error" "workflows/x.lua:3:"
expect_err "syntax error" "near '='"

# A syntax error in a module the workflow requires names that module's line.
mkdir -p "$W/lib"
printf 'local M = {}\nfunction M.f()\n  return 1 +\nend\nreturn M\n' >"$W/lib/broken_mod.lua"
printf 'local m = require("lib.broken_mod")\nreturn m.f()\n' >"$W/uses_broken.lua"
orch run uses_broken.lua --no-input
expect_rc "syntax error in a required module" 2
expect_no_crash "syntax error in a required module"
expect_err "syntax error in a required module" "broken_mod.lua:4:"

# A module's bytecode is kept in luacache/ next to the binary for its exact
# text: the second run loads it from there (an error still names the line),
# and an edit of the same size under the same mtime is seen at the next run.
printf 'local M = {}\nfunction M.f()\n  error("edit one")\nend\nreturn M\n' >"$W/lib/edit_mod.lua"
printf 'local m = require("lib.edit_mod")\nreturn m.f()\n' >"$W/uses_edit.lua"
rm -f "$(dirname "$ORCH_HOST")"/luacache/w.lib.edit_mod.bc
orch run uses_edit.lua --no-input
expect_err "a required module, compiled" "edit_mod.lua:3: edit one"
expect_true "a required module's bytecode is cached" "no luacache/w.lib.edit_mod.bc" \
  test -f "$(dirname "$ORCH_HOST")/luacache/w.lib.edit_mod.bc"
orch run uses_edit.lua --no-input
expect_rc "a required module, from the cache" 2
expect_err "a required module, from the cache" "edit_mod.lua:3: edit one"
touch -r "$W/lib/edit_mod.lua" "$W/uses_edit.lua"
printf 'local M = {}\nfunction M.f()\n  error("edit two")\nend\nreturn M\n' >"$W/lib/edit_mod.lua"
touch -r "$W/uses_edit.lua" "$W/lib/edit_mod.lua"
orch run uses_edit.lua --no-input
expect_err "a required module edited, same size and mtime" "edit_mod.lua:3: edit two"

# --- runtime error ----------------------------------------------------------
cat >"$W/rt.lua" <<'EOF'
orch.log("info", "rt.lua starting")
local function lookup(t)
  local v = t.missing.field
  return v
end
local function outer()
  local r = lookup({})
  return r
end
outer()
return 0
EOF
orch run rt.lua --no-input
expect_rc "runtime error" 2
expect_no_crash "runtime error"
expect_err "runtime error" "workflows/rt.lua:3: attempt to index field 'missing' (a nil value)"
expect_eq "runtime error: said once" "$(grep -cF "rt.lua:3: attempt to index field 'missing'" "$ERR")" 1
expect_eq "runtime error: no traceback on the terminal" "$(grep -c "stack traceback" "$ERR")" 0
LOG=$(daily_log)
expect_has "runtime error: message in the daily log" "$LOG" "workflows/rt.lua:3: attempt to index field 'missing'"
expect_has "runtime error: traceback in the daily log" "$LOG" "stack traceback:"
expect_has "runtime error: traceback names the caller" "$LOG" "workflows/rt.lua:7: in function 'outer'"
expect_has "runtime error: traceback reaches the main chunk" "$LOG" "workflows/rt.lua:10: in main chunk"
expect_has "runtime error: the earlier log line is kept" "$LOG" "rt.lua starting"

# --- error values that are not strings ----------------------------------------
printf 'local x = 1\nerror(nil)\n' >"$W/err_nil.lua"
orch run err_nil.lua --no-input
expect_rc "error(nil)" 2
expect_no_crash "error(nil)"
expect_err "error(nil)" "err_nil.lua"
expect_err "error(nil)" "error called with no message"
expect_err "error(nil)" "workflows/err_nil.lua:2"

printf 'local x = 1\nerror({})\n' >"$W/err_table.lua"
orch run err_table.lua --no-input
expect_rc "error({})" 2
expect_no_crash "error({})"
expect_err "error({})" "err_table.lua"
expect_err "error({})" "table"
expect_err "error({})" "workflows/err_table.lua:2"
expect_true "error({}): no raw address like 'table: 0x...'" "$(grep -o 'table: 0x[0-9a-f]*' "$ERR" | head -1)" \
    bash -c "! grep -q 'table: 0x' '$ERR'"

printf 'error({ message = "the table said why" })\n' >"$W/err_msg.lua"
orch run err_msg.lua --no-input
expect_rc "error({message=...})" 2
expect_err "error({message=...})" "the table said why"

printf 'error(setmetatable({}, { __tostring = function() return "custom boom" end }))\n' >"$W/err_ts.lua"
orch run err_ts.lua --no-input
expect_rc "error with __tostring" 2
expect_err "error with __tostring" "custom boom"

printf 'error(42)\n' >"$W/err_num.lua"
orch run err_num.lua --no-input
expect_rc "error(42)" 2
expect_err "error(42)" "42"

# --- error inside a spawned task: the main task goes on ------------------------
cat >"$W/spawn.lua" <<'EOF'
local child = orch.spawn(function()
  orch.sleep(0.05)
  error("boom in the child")
end)
local ok, err = orch.wait(child, 30)
orch.print("child ok=" .. tostring(ok) .. " err=" .. tostring(err))
orch.sleep(0.05)                       -- the host still runs timers after the child died
orch.print("main finished")
return 0
EOF
orch run spawn.lua --no-input
expect_rc "error in a spawned task: the main task's result is the exit code" 0
expect_no_crash "error in a spawned task"
expect_out "error in a spawned task: main saw the failure" "child ok=false"
expect_out "error in a spawned task: main saw the message" "boom in the child"
expect_out "error in a spawned task: main ran to its end" "main finished"
expect_has "error in a spawned task: logged with a traceback" "$(daily_log)" "workflows/spawn.lua:3: boom in the child"

# The main task returns a failure code of its own while a child errored: the
# main task's value wins (not 2 for the child's error).
cat >"$W/spawn_rc.lua" <<'EOF'
orch.spawn(function() error("child fails first") end)
orch.sleep(0.2)
return 1
EOF
orch run spawn_rc.lua --no-input
expect_rc "error in a spawned task, main returns 1" 1

# A spawned task's error that no orch.wait took is a workflow error: exit 2
# (cron and CI must not see a success), naming the error; an orch.wait that
# comes after the task died takes the error as well as one waiting already.
cat >"$W/spawn_lost.lua" <<'EOF'
orch.spawn(function() error("child nobody waits for") end)
orch.sleep(0.2)
orch.print("main finished")
return 0
EOF
orch run spawn_lost.lua --no-input
expect_rc "error in a spawned task nothing waited for" 2
expect_no_crash "error in a spawned task nothing waited for"
expect_out "error in a spawned task nothing waited for: main ran to its end" "main finished"
expect_err "error in a spawned task nothing waited for: said so" \
  "a task it spawned failed and nothing waited for it: workflows/spawn_lost.lua:1: child nobody waits for"
cat >"$W/spawn_late.lua" <<'EOF'
local child = orch.spawn(function() error("child waited for later") end)
orch.sleep(0.2)
local ok, err = orch.wait(child, 30)
orch.print("late wait ok=" .. tostring(ok) .. " err=" .. tostring(err))
return 0
EOF
orch run spawn_late.lua --no-input
expect_rc "error in a spawned task waited for after it died" 0
expect_out "error in a spawned task waited for after it died: the wait took it" "late wait ok=false"

# An error inside run_claude's on_event callback is logged; the agent run and
# the workflow go on.
cat >"$W/on_event.lua" <<'EOF'
local r = orch.run_claude({ prompt = "hello", on_event = function(ev) error("bad on_event handler") end })
orch.print("agent ok=" .. tostring(r.ok))
return r.ok and 0 or 1
EOF
orch run on_event.lua --no-input
expect_rc "error in on_event" 0
expect_out "error in on_event: the agent still finished" "agent ok=true"
expect_out "error in on_event: the error is reported" "bad on_event handler"

# --- runaway Lua ---------------------------------------------------------------
# lua.max_run_seconds stops Lua that never waits. Two loops: one the JIT
# compiles (a plain counter) and one it does not. The test's own limit
# (BAD_RUN_LIMIT) keeps a hung host from hanging the test.
printf 'local n = 0\nwhile true do n = n + 1 end\n' >"$W/spin_jit.lua"
printf 'local n = 0\nwhile true do n = n + #tostring(n) end\n' >"$W/spin_interp.lua"
# a workflow that turns the JIT on if it can reach it, then spins (a compiled
# loop never calls the hook): the JIT is out of workflows' reach
cat >"$W/spin_jit_on.lua" <<'EOF'
local ways = { function() return jit end, function() return rawget(_G, "jit") end,
  function() return package.loaded.jit end, function() return require("jit") end }
for _, way in ipairs(ways) do
  local got, j = pcall(way)
  if got and type(j) == "table" then j.on() end
end
pcall(function() require("jit.opt").start("hotloop=1") end)
local n = 0
while true do n = n + 1 end
EOF
for wf in spin_interp spin_jit spin_jit_on; do
    start=$SECONDS
    BAD_RUN_LIMIT=40 ORCH_LUA_MAX_RUN_SECONDS=2 orch run "$wf.lua" --no-input
    expect_rc "runaway loop ($wf) stopped by lua.max_run_seconds" 2
    expect_out "runaway loop ($wf)" "runaway"
    expect_true "runaway loop ($wf): stopped within 20 s" "took $((SECONDS - start)) s" test $((SECONDS - start)) -lt 20
done

# --- the host is fine afterwards -----------------------------------------------
task_file "$BAD_TMP/good.md" "Good task" "Write the file."
run_tasks "$BAD_TMP/good.md"
expect_rc "daily.lua still runs after all the broken workflows" 0

# --- not a workflow ------------------------------------------------------------
orch run no_such_workflow.lua --no-input
expect_rc "missing workflow" 2
expect_err "missing workflow" "no_such_workflow.lua"

printf 'return function() end\n' >"$W/ret_fn.lua"
orch run ret_fn.lua --no-input
expect_rc "workflow returning a function" 2
expect_err "workflow returning a function" "ret_fn.lua"

bad_finish
