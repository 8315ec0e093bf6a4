#!/usr/bin/env bash
# A project with workflows/ but no workflows/lib/: a workflow of its own runs
# (it needs none of the shipped modules), and a command that needs one
# (status, approve) ends with exit 2 and one line naming the missing folder
# and the module, not Lua's search list and a traceback.
source "$(dirname "$0")/lib.bash"
export ORCH_QUESTIONS_DIR=$T/questions

R=$T/root
mkdir -p "$R/workflows"
printf 'print("hello from the bare root")\nreturn 0\n' >"$R/workflows/hello.lua"
out=$("$ORCH_HOST" --root "$R" run hello.lua 2>&1) || fail "run hello.lua in a root without lib/: $out"
grep -q "hello from the bare root" <<<"$out" || fail "run hello.lua's output: $out"
for cmd in status approve; do
    rc=0
    "$ORCH_HOST" --root "$R" $cmd >"$T/$cmd.out" 2>&1 || rc=$?
    check_eq "$rc" 2 "$cmd's exit code without workflows/lib/"
    check_eq "$(wc -l <"$T/$cmd.out" | tr -d ' ')" 1 "$cmd's lines without workflows/lib/ ($(cat "$T/$cmd.out"))"
    check "$cmd names the missing folder: $(cat "$T/$cmd.out")" \
        grep -q "$R: no workflows/lib/ folder, which holds lib\.${cmd/approve/control}_cli" "$T/$cmd.out"
    check "$cmd: no traceback" bash -c "! grep -q -e 'stack traceback' -e 'package.preload' '$T/$cmd.out'"
done
finish
