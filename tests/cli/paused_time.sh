#!/usr/bin/env bash
# The time a day stands paused is not its runtime: a resume adds the time
# since the session's last update (paused there) to stopped_s, and status's
# runtime and the report's duration leave it out (a day paused overnight is
# not a day of fourteen hours).
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"
# an earlier day's feedback file that does not read: left out, and said once across the resume
mkdir -p "$ORCH_FEEDBACK_DIR"
printf '## 1: Old\nRating: eleven\n' >"$ORCH_FEEDBACK_DIR/2020-01-01.md"
TASKS=$T/tasks.md
task_md "$TASKS" 1 "Step 1" backend "Do step 1. [fake:await:go] [key:t1]"
task_md "$TASKS" 2 "Step 2" backend "Do step 2. [key:t2]"
bg_run "$T/run1.out" orch run daily.lua --tasks "$TASKS" --auto-approve --no-input
wait_for grep -q "^start t1$" "$T/ledger"
orch pause >/dev/null || fail "pause refused"
echo go >>"$T/ledger"
expect_eq "$(bg_wait "$T/run1.out")" 3 "exit code of the paused day"
PAUSED=$(sj "s['updated_at']")
orch resume >"$T/run2.out" 2>&1 || fail "resume failed: $(tail -5 "$T/run2.out")"
expect_eq "$(session_status)" completed "the resumed day"
python3 - "$PAUSED" <<EOF2 || fail "stopped_s and the runtime: $(cat "$T/status.json")"
import json, sys
s = json.load(open("$T/status.json"))
paused = float(sys.argv[1])
assert s.get("stopped_s") is not None, "no stopped_s"
assert abs(s["stopped_s"] - (s["resumed_at"] - paused)) < 1e-3, (s["stopped_s"], s["resumed_at"] - paused)
assert s["stopped_s"] > 0
assert abs(s["runtime"] - (s["finished_at"] - s["started_at"] - s["stopped_s"])) < 1e-3, s["runtime"]
EOF2
expect_eq "$(sj "len(s.get('feedback_unread') or [])")" 1 "the unread feedback file, once after the resume"
note "ok"
