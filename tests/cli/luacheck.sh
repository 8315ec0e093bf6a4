#!/usr/bin/env bash
# luacheck over workflows/, scripts/orch/ and tests/lua/ with .luacheckrc (the
# sandbox's globals: tests/lua/boundary_spec.lua keeps that model true): zero
# warnings. And the model bites: a workflow that reaches for io, os.execute,
# debug, dofile, loadfile, jit, an undocumented orch field, or sets a global or
# an orch field is warned about, while the sandbox's own calls are not.
set -u
: "${ORCH_SRC:?set ORCH_SRC to the repository root}"
cd "$ORCH_SRC" || exit 1
command -v luacheck >/dev/null || { echo "luacheck: not installed (Debian lua-check; scripts/setup.sh)" >&2; exit 1; }

fails=0
out=$(luacheck --no-color --no-cache --codes -q workflows scripts/orch tests/lua 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
    echo "$out" >&2
    echo "luacheck: warnings in workflows/, scripts/orch/ or tests/lua/ (exit $rc); fix them" >&2
    fails=1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/orch-luacheck.XXXXXX")
trap 'rm -rf "$T"' EXIT
# what a workflow must not do, one per line: line -> the warning luacheck gives
declare -A BAD=(
    [1]="accessing undefined variable 'io'"
    [2]="accessing undefined field 'execute' of global 'os'"
    [3]="accessing undefined variable 'debug'"
    [4]="accessing undefined variable 'dofile'"
    [5]="accessing undefined variable 'loadfile'"
    [6]="accessing undefined variable 'jit'"
    [7]="accessing undefined field 'no_such_function' of global 'orch'"
    [8]="setting read-only field 'read_file' of global 'orch'"
    [9]="accessing undefined field 'json.parse' of global 'orch'"
    [10]="setting non-standard global variable 'a_global'"
)
cat > "$T/bad.lua" <<'EOF'
local _ = io.open("x")
os.execute("true")
debug.traceback()
dofile("x.lua")
loadfile("x.lua")
jit.on()
orch.no_such_function()
orch.read_file = nil
orch.json.parse("{}")
a_global = 1
EOF
cat > "$T/good.lua" <<'EOF'
local t = os.time() + os.clock() + bit.band(3, 1) + #os.date("%Y") + #(os.getenv("HOME") or "")
local text = orch.json.encode(orch.json.array({ t, orch.json.null })) .. orch.config.claude.path
orch.log("info", text .. tostring(orch.read_file) .. orch.version .. tostring(package.loaded.orch))
package.loaded.mine = orch.step("k", function() return orch.now() end)
return orch.run_claude, orch.global, orch.error_mt.__tostring, string.format, table.concat, math.floor
EOF
bad=$(luacheck --no-color --no-cache --config .luacheckrc "$T/bad.lua" 2>&1)
for n in "${!BAD[@]}"; do
    grep -qF "bad.lua:$n:" <<<"$bad" && grep -F "bad.lua:$n:" <<<"$bad" | grep -qF "${BAD[$n]}" || {
        echo "luacheck: line $n of a workflow is not warned about as \"${BAD[$n]}\"; got:" >&2
        echo "$bad" >&2
        fails=1
    }
done
good=$(luacheck --no-color --no-cache --config .luacheckrc "$T/good.lua" 2>&1) || {
    echo "luacheck: warns about what the sandbox allows:" >&2
    echo "$good" >&2
    fails=1
}
[ $fails -eq 0 ] && echo "luacheck: 0 warnings; the sandbox model warns about io, os.execute, debug, dofile, loadfile, jit, orch typos, globals"
exit $fails
