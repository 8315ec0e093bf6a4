#!/usr/bin/env bash
# The config file's own code: it runs under the runaway guard with the
# environment's limit (ORCH_LUA_MAX_RUN_SECONDS, the file's own value is
# known only after it ran), and it gets copies of the string, math and table
# libraries, so it cannot change the host's (the host's own Lua around it
# runs without the guard's hook, and trusts those libraries).
. "$(dirname "$0")/bad_lib.bash"

T=$BAD_TMP
printf 'return 0\n' >"$T/ok.lua"

# a config that never returns: stopped after the environment's 2 s, not the default 30
printf 'local n = 0\nwhile true do n = n + #tostring(n) end\n' >"$T/spin_config.lua"
start=$SECONDS
BAD_RUN_LIMIT=60 ORCH_LUA_MAX_RUN_SECONDS=2 orch run "$T/ok.lua" --no-input --config "$T/spin_config.lua"
expect_rc "endless config stopped" 2
expect_err "endless config: the error says so" "runaway"
expect_err "endless config: the error names the file" "spin_config.lua"
expect_true "endless config: stopped within 20 s" "took $((SECONDS - start)) s" test $((SECONDS - start)) -lt 20

# a config that replaces library functions changes only its own copies
cat >"$T/libs_config.lua" <<'LUA'
string.format = function() return "config's format" end
string.rep = nil
table.concat = nil
math.floor = function() return -1 end
return { claude = { timeout = math.floor(2.5) == -1 and 60 or 1 } }
LUA
cat >"$T/libs.lua" <<'LUA'
orch.print(string.format("%s|%s|%d|%d", ("ab"):rep(2), table.concat({ "x", "y" }, ","), math.floor(2.5),
  orch.config.claude.timeout))
return 0
LUA
orch run "$T/libs.lua" --no-input --config "$T/libs_config.lua"
expect_rc "config replacing library functions: the run works" 0
expect_out "config replacing library functions: the host's are intact, the config saw its own" "abab|x,y|2|60"

bad_finish
