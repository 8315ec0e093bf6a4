#!/usr/bin/env bash
# A watch that cannot watch its folder (paths.tasks_dir a regular file, or
# under one) ends at once: exit 2, the error names the folder and why, and no
# session is left behind (none stored, so `status` shows no inbox that never
# watched anything as completed).
source "$(dirname "$0")/lib.bash"

echo "not a folder" >"$T/file"
# DIR WHY: the folder and the reason its error gives
for pair in "$T/file|not a folder" "$T/file/tasks|Not a directory"; do
    dir=${pair%%|*} why=${pair#*|}
    export ORCH_TASKS_DIR=$dir
    rc=0
    orch watch --auto-approve --no-input >"$T/out" 2>&1 || rc=$?
    expect_eq "$rc" 2 "$dir: exit code of the watch ($(cat "$T/out"))"
    grep -q "inbox: cannot watch $dir: .*$dir: $why" "$T/out" || fail "$dir: the error: $(cat "$T/out")"
    expect_eq "$(orch sessions --json | jq length)" 0 "$dir: sessions stored"
done
note "ok"
