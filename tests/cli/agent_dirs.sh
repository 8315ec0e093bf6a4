#!/usr/bin/env bash
# Each task's agent runs with its own agent folder (lib/agent_env): a
# CLAUDE_CONFIG_DIR whose .claude.json trusts the task's worktree; every agent
# is given the one --settings file beside the state database, whose
# PreToolUse hook is this orch-host's `hook pre-tool-use`. Two tasks at once
# get two folders, stored on the tasks (agent_dir); a task's resumed run
# (after its question) uses the same one, since claude keeps its sessions in
# the config dir. The stand-in claude logs its arguments, and names its
# config dir in its init line.
source "$(dirname "$0")/lib.bash"

export FAKE_CLAUDE_ARGS_LOG=$T/args.log
touch "$T/args.log"
ask_plain_day "$T/day.yaml"
bg_run "$T/run.out" orch run daily.lua --tasks "$T/day.yaml" --auto-approve --no-input --max-concurrent 2
wait_for sj_true "s['tasks'][0]['status'] == 'waiting_answer'"
orch answer "use B" --task ask --by tester >"$T/answer.out" 2>&1 || fail "orch answer: $(cat "$T/answer.out")"
rc=$(bg_wait "$T/run.out")
[ "$rc" = 0 ] || { cat "$T/run.out" >&2; fail "expected exit 0, got $rc"; }
status_json
python3 - "$T/status.json" "$T/args.log" "$T/state" <<'PY' || fail "the agents' folders are not one per task"
import json, sys
s = json.load(open(sys.argv[1]))
runs = [l.rstrip("\n").split("\x1f")[1:] for l in open(sys.argv[2], encoding="utf-8")]
state = sys.argv[3]
dirs = {t["id"]: t.get("agent_dir") for t in s["tasks"]}
assert all(t["status"] == "completed" for t in s["tasks"]), [t["status"] for t in s["tasks"]]
assert dirs["ask"] and dirs["plain"] and dirs["ask"] != dirs["plain"], dirs
assert all(d.startswith(state + "/agents/") for d in dirs.values()), dirs
def settings(run): return run[run.index("--settings") + 1]
assert len(runs) == 3, f"{len(runs)} runs, want 3 (ask, plain, ask resumed)"
used = sorted(settings(r) for r in runs)
# the hook settings: one file beside the state database, the same for every run
assert used == [state + "/agent-settings.json"] * 3, used
resumed = [r for r in runs if "--resume" in r]
assert len(resumed) == 1, resumed
# each run's config dir is its task's (the stand-in's init line names it):
# the asking task's two runs both in its own
import glob
for tid, want_runs in (("ask", 2), ("plain", 1)):
    text = "".join(open(p, encoding="utf-8").read() for p in glob.glob(f"{state}/../logs/task-*-{tid}-output*.log"))
    assert text.count(dirs[tid] + "/projects/") == want_runs, (tid, text.count(dirs[tid] + "/projects/"))
for t in s["tasks"]:
    cj = json.load(open(t["agent_dir"] + "/.claude.json"))
    assert cj["hasCompletedOnboarding"] is True
    assert cj["projects"][t["workspace"]["path"]]["hasTrustDialogAccepted"] is True, cj["projects"]
PY
# the hook command the settings name blocks a forbidden call
HOOK=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hooks"]["PreToolUse"][0]["hooks"][0]["command"])' \
  "$T/state/agent-settings.json")
rc=0
echo '{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"git push"}}' | sh -c "$HOOK" \
  2>"$T/hook.err" || rc=$?
check_eq "$rc" 2 "the settings' hook command on git push"
check "its reason" grep -q "forbidden command (git push)" "$T/hook.err"
finish
