#!/usr/bin/env bash
# One `orch-host serve`, starts that race or name one file twice:
# A. Four POST /api/orchestrate at once, at the start of a second: each
#    reply names the session its list runs in (its own id, that session's
#    task_file), not the first one's (lib/control's fresh_id).
# B. The task file of a running session named another way (".", a symlink)
#    is that session: 409 already_running with its id (lib/control's
#    same_file compares real paths).
# C. An inline list whose task has the running task's id and branch: refused
#    at the start (its worktree is "in use": lib/worktree_place, as check
#    says), so no second agent works in the worktree.
# D. Eight POST /api/orchestrate of one task file at once: one session starts
#    (200), every other start is 409 already_running naming it (lib/control
#    checks again after the start's checks, which wait on git).
# E. The same task id in two inline lists, no branch named: the second is
#    refused, its folder "in use" by the first's task, in one wording.
source "$(dirname "$0")/lib.bash"

api_setup same
serve_start

task() {  # ID PROMPT BRANCH: an inline list of one task
    printf '{"tasks": [{"id": "%s", "name": "Task %s", "prompt": "%s", "branch_name": "%s"}], "auto_approve": true}' \
        "$1" "$1" "$2" "$3"
}

# --- A: four starts in one second ---------------------------------------
python3 -c 'import time; time.sleep(1.02 - time.time() % 1)'  # just past a second's start: all four fall in it
CURLS=()
for i in 1 2 3 4; do
    curl -s -o "$T/start.$i.json" -X POST -H 'Content-Type: application/json' "${AUTH[@]}" --max-time 60 \
        --data-binary "$(task "r$i" "Race $i. [key:r$i]" "x/race-$i")" "$URL/api/orchestrate" &
    CURLS+=($!)
done
wait "${CURLS[@]}"  # not the server's
declare -A SEEN
for i in 1 2 3 4; do
    read -r sid file < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["session_id"], r["task_file"])' \
        "$T/start.$i.json") || fail "start $i: $(cat "$T/start.$i.json")"
    [ -z "${SEEN[$sid]:-}" ] || fail "starts ${SEEN[$sid]} and $i were both told session $sid"
    SEEN[$sid]=$i
    WAIT_TIMEOUT=120 wait_for api_completed "$sid"
    check_eq "$(rj "r['task_file']")" "$file" "the task file of session $sid (start $i)"
    check_eq "$(rj "[t['id'] for t in r['tasks']]")" "[\"r$i\"]" "the tasks of session $sid (start $i)"
done

# --- B: a running session's file named another way -------------------------
printf '{"tasks": [{"id": "day", "name": "Day", "prompt": "Work. [fake:await:release day] [key:day]", "branch_name": "x/day"}]}\n' \
    >"$ORCH_TASKS_DIR/day.json"
ln -s day.json "$ORCH_TASKS_DIR/link.json"
expect_req 200 POST /api/orchestrate "{\"task_file\": \"$ORCH_TASKS_DIR/day.json\", \"auto_approve\": true}" "${AUTH[@]}"
SA=$(rj "r['session_id']")
wait_for grep -qx 'start day' "$T/ledger"
for name in "$ORCH_TASKS_DIR/./day.json" "$ORCH_TASKS_DIR/../tasks/day.json" "$ORCH_TASKS_DIR/link.json"; do
    expect_req 409 POST /api/orchestrate "{\"task_file\": \"$name\", \"auto_approve\": true}" "${AUTH[@]}"
    check_eq "$(rj "r['status']") $(rj "r['session_id']")" "already_running $SA" "a start of $name"
done

# --- C: the same task and branch from an inline list, while it runs --------
# refused at the start, as `orch-host check` would say (no session, no file
# left under tasks/api); past that check (a race), the task fails at its start
# with the same reason (tests/cli/fixtures/worktree_spec.lua)
NAPI=$(ls "$ORCH_TASKS_DIR/api" | wc -l)
expect_req 400 POST /api/orchestrate "$(task day "Again. [key:again]" x/day)" "${AUTH[@]}"
ERR=$(rj "r.get('message') or r.get('error')")
case $ERR in *"is in use: task day of session $SA works in it (running)"*) ;; *) fail "the inline list: $ERR" ;; esac
check_eq "$(ls "$ORCH_TASKS_DIR/api" | wc -l)" "$NAPI" "files under tasks/api after the refused list"
echo "release day" >>"$T/ledger"
WAIT_TIMEOUT=120 wait_for api_completed "$SA"
check_eq "$(grep -c -x -e 'start day' -e 'start again' "$T/ledger")" 1 "agent runs in agent_workspaces/day"

# --- D: one task file started eight times at once ---------------------------
printf '{"tasks": [{"id": "same", "name": "Same", "prompt": "Once. [fake:await:release same] [key:same]", "branch_name": "x/same"}]}\n' \
    >"$ORCH_TASKS_DIR/same.json"
CURLS=()
for i in 1 2 3 4 5 6 7 8; do
    curl -s -o "$T/same.$i.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' "${AUTH[@]}" \
        --max-time 60 --data-binary "{\"task_file\": \"$ORCH_TASKS_DIR/same.json\", \"auto_approve\": true}" \
        "$URL/api/orchestrate" >"$T/same.$i.code" &
    CURLS+=($!)
done
wait "${CURLS[@]}"
python3 - "$T" <<'PY' >"$T/same.verdict" || fail "eight starts of one file: $(cat "$T/same.verdict")"
import json, sys
replies = [(open(f"{sys.argv[1]}/same.{i}.code").read(), json.load(open(f"{sys.argv[1]}/same.{i}.json")))
           for i in range(1, 9)]
started = [r["session_id"] for code, r in replies if code == "200" and r["status"] == "started"]
others = [(code, r["status"], r.get("session_id")) for code, r in replies if code != "200"]
assert len(started) == 1, f"{len(started)} sessions started: {started}"
assert all(o == ("409", "already_running", started[0]) for o in others), f"the other replies: {others}"
print(started[0])
PY
SD=$(cat "$T/same.verdict")
wait_for grep -qx 'start same' "$T/ledger"
echo "release same" >>"$T/ledger"
WAIT_TIMEOUT=120 wait_for api_completed "$SD"
check_eq "$(grep -c -x 'start same' "$T/ledger")" 1 "agent runs of the task file started eight times"

# --- E: the same task id inline twice, no branch named ------------------------
# the second list's task e derives another branch (orch/<session>/e), but the
# folder is the first's, whose agent works there: "in use", in one wording,
# however far git has got with the first one's worktree
inline() {  # ID PROMPT: an inline list of one task, no branch_name
    printf '{"tasks": [{"id": "%s", "name": "Task %s", "prompt": "%s"}], "auto_approve": true}' "$1" "$1" "$2"
}
expect_req 200 POST /api/orchestrate "$(inline e "First. [fake:await:release e] [key:e]")" "${AUTH[@]}"
SE=$(rj "r['session_id']")
wait_for grep -qx 'start e' "$T/ledger"
expect_req 400 POST /api/orchestrate "$(inline e "Again. [key:e2]")" "${AUTH[@]}"
ERR=$(rj "r.get('message') or r.get('error')")
case $ERR in *"is in use: task e of session $SE works in it (running)"*) ;; *) fail "the second inline list: $ERR" ;; esac
echo "release e" >>"$T/ledger"
WAIT_TIMEOUT=120 wait_for api_completed "$SE"
check_eq "$(grep -c -x -e 'start e' -e 'start e2' "$T/ledger")" 1 "agent runs in agent_workspaces/e"
serve_stop >/dev/null
finish
