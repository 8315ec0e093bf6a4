#!/usr/bin/env bash
# A Lua error in the day's policy (an edit gone wrong) pauses the session with
# the error instead of losing it: exit 2, the task that was in hand is back to
# pending with the error, finished work stays finished; once the Lua is fixed,
# resume continues and no finished task runs again.
source "$(dirname "$0")/lib.bash"

ROOT=$T/root
mkdir -p "$ROOT"
cp -r "$ORCH_SRC/workflows" "$ORCH_SRC/scripts" "$ROOT/"
orch_root() { "$ORCH_HOST" --root "$ROOT" "$@"; }

TASKS=$T/tasks.md
for i in 1 2 3; do task_md "$TASKS" $i "Docs $i" documentation "Write part $i. [key:t$i]"; done
export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"

# break the message for a task start, but only for task 2
cat >>"$ROOT/workflows/lib/format.lua" <<'LUA'
local started = M.task_started
M.task_started = function(s, t) if t.id == "2" then error("broken format for task 2") end return started(s, t) end
return M
LUA
# the module ends with `return M` already: drop that first return
python3 - "$ROOT/workflows/lib/format.lua" <<'PY'
import sys
p = sys.argv[1]
text = open(p).read()
first = text.find("\nreturn M\n")
open(p, "w").write(text[:first] + "\n" + text[first + len("\nreturn M\n"):])
PY

set +e
orch_root run daily.lua --tasks "$TASKS" --auto-approve --no-input >"$T/run1.out" 2>&1
RC=$?
set -e
expect_eq "$RC" 2 "exit code after a workflow error"
grep -q "broken format for task 2" "$T/run1.out" "$T/logs/"*.log || fail "the error is not reported"
orch_status() { orch_root status --json >"$T/status.json"; }
orch_status
python3 - "$T/status.json" <<'PY' || fail "state after the error is wrong: $(cat "$T/status.json")"
import json, sys
s = json.load(open(sys.argv[1]))
t = {x["id"]: x for x in s["tasks"]}
assert s["status"] == "paused", s["status"]
assert "broken format" in s.get("pause_reason", ""), s.get("pause_reason")
assert t["1"]["status"] == "completed", t["1"]["status"]
assert t["2"]["status"] == "pending" and "broken format" in t["2"]["error"], t["2"]
assert t["3"]["status"] == "pending", t["3"]["status"]
PY

# fix the workflow, resume: tasks 2 and 3 run, task 1 does not run again
cp "$ORCH_SRC/workflows/lib/format.lua" "$ROOT/workflows/lib/format.lua"
orch_root resume --auto-approve --no-input >"$T/run2.out" 2>&1 || fail "resume failed: $(tail -5 "$T/run2.out")"
orch_status
python3 - "$T/status.json" <<'PY' || fail "state after resume is wrong: $(cat "$T/status.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["status"] == "completed", s["status"]
assert [x["status"] for x in s["tasks"]] == ["completed"] * 3
assert "error" not in s["tasks"][1], s["tasks"][1]
PY
for k in t1 t2 t3; do
  expect_eq "$(grep -c "^end .*$k" "$T/ledger")" 1 "completed runs of $k"
done
note "ok"
