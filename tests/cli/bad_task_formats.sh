#!/usr/bin/env bash
# The YAML day file and the JSON task list through `run daily.lua --tasks F`:
# good files of both formats run every task; bad ones exit 2 before anything
# runs, naming FILE:LINE (YAML) or the JSON pointer, and the field: a wrong
# type, an unknown dependency, a cycle spelled out, a YAML bomb ("billion
# laughs"), a 10 MB YAML file. State is what it was after each bad one.
. "$(dirname "$0")/bad_lib.bash"

T=$BAD_TMP
BEFORE="$T/cap/before.json"
AFTER="$T/cap/after.json"
case_bad() {
    local name=$1 file=$2 runs0
    shift 2
    runs0=$(agent_runs)
    run_tasks "$file"
    expect_rc "$name" 2
    expect_no_crash "$name"
    for text in "$@"; do expect_out "$name" "$text"; done
    expect_eq "$name: no agent was started" "$(agent_runs)" "$runs0"
    state_snapshot "$AFTER"
    if cmp -s "$BEFORE" "$AFTER"; then
        bad_pass "$name: stored sessions unchanged"
    else
        bad_fail "$name: stored sessions unchanged" "$(diff "$BEFORE" "$AFTER" | head -20)"
    fi
}

# --- 1. Good files of both formats run every task, in dependency order ------
cat >"$T/good.yaml" <<'Y'
date: 2026-12-01
tasks:
  - id: task-a
    name: "First"
    description: "Write the first file."
    module: docs
  - id: task-b
    name: "Second"
    description: "Write the second file."
    depends_on: [task-a]
Y
run_tasks "$T/good.yaml"
expect_rc "good YAML day" 0
status_json
expect_eq "good YAML: both tasks completed" "$(sj '[.tasks[].status] | join(",")')" "completed,completed"
expect_eq "good YAML: the ids are the file's" "$(sj '[.tasks[].id] | join(",")')" "task-a,task-b"

run_tasks "$ORCH_SRC/tasks/tasks.json"
expect_rc "tasks/tasks.json" 0
status_json
expect_eq "tasks/tasks.json: three tasks completed" "$(sj '[.tasks[].status] | join(",")')" \
    "completed,completed,completed"
expect_eq "tasks/tasks.json: each task's dependencies and branch stored" \
    "$(sj '[.tasks[] | (.depends_on | tojson) + " " + .branch] | join(", ")')" \
    '[] feature/notes-schema, ["task-1"] feature/notes-api, [] feature/notes-ui'
# Without --tasks: today's file may be YAML (no markdown one for today there).
mkdir -p "$T/today"
cp "$T/good.yaml" "$T/today/$(date +%F).yaml"
ORCH_TASKS_DIR="$T/today" orch run daily.lua --auto-approve --no-input
expect_rc "today's YAML file, no --tasks" 0
expect_out "today's YAML file, no --tasks" "$T/today/$(date +%F).yaml"
state_snapshot "$BEFORE"

# --- 2. Bad YAML ----------------------------------------------------------------
cat >"$T/type.yaml" <<'Y'
tasks:
  - id: task-1
    name: "Fine"
    description: "x"
  - id: task-2
    name: "Wrong type"
    depends_on: task-1
Y
case_bad "YAML: depends_on not a list" "$T/type.yaml" \
    "$T/type.yaml:7: task task-2 'Wrong type': depends_on: must be a list of task ids, not string"

cat >"$T/unknown.yaml" <<'Y'
tasks:
  - id: task-1
    name: "One"
    depends_on:
      - task-9
Y
case_bad "YAML: unknown dependency" "$T/unknown.yaml" \
    "$T/unknown.yaml:5: task task-1 'One': depends_on[1]:" "\"task-9\", which is not a task of this file"

cat >"$T/cycle.yaml" <<'Y'
tasks:
  - id: task-1
    name: "One"
  - id: task-2
    name: "Two"
    depends_on: [task-5]
  - id: task-5
    name: "Five"
    depends_on: [task-2]
Y
case_bad "YAML: cycle" "$T/cycle.yaml" "$T/cycle.yaml:9:" "dependency cycle: task-2 -> task-5 -> task-2"

cat >"$T/cost.yaml" <<'Y'
max_cost_usd: fifty
tasks:
  - id: task-1
    name: "One"
Y
case_bad "YAML: max_cost_usd not a number" "$T/cost.yaml" "$T/cost.yaml:1: max_cost_usd: must be a number, not string"

printf 'tasks:\n  - id: task-1\n    name: "One"\n   bad: indent\n' >"$T/syntax.yaml"
case_bad "YAML: syntax error" "$T/syntax.yaml" "$T/syntax.yaml:4:"

python3 - "$T/bomb.yaml" <<'P'
import sys
lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
for prev, cur in zip("abcdefgh", "bcdefghi"):
    lines.append(f"{cur}: &{cur} [" + ",".join(["*" + prev] * 9) + "]")
lines.append("tasks: *i")
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
P
case_bad "YAML bomb" "$T/bomb.yaml" "$T/bomb.yaml:" "billion laughs"

python3 - "$T/big.yaml" <<'P'
import sys
out, size, n = ["tasks:\n"], 0, 0
while size < 10 * 1024 * 1024:
    n += 1
    t = f"  - id: task-{n}\n    name: \"Generated task {n}\"\n    description: \"{'filler words ' * 8}\"\n"
    out.append(t)
    size += len(t)
open(sys.argv[1], "w").write("".join(out))
P
BIG_SIZE=$(stat -c %s "$T/big.yaml")
case_bad "10 MB YAML file" "$T/big.yaml" "$T/big.yaml" "$BIG_SIZE bytes" "limit"

# --- 3. Bad JSON: the JSON pointer names the place ---------------------------
printf '{"tasks": [{"id": "task-1", "name": "A"}, {"id": "task-2", "name": "B", "dependencies": ["task-1", 7.5]}]}\n' \
    >"$T/type.json"
case_bad "JSON: a dependency of the wrong type" "$T/type.json" \
    "$T/type.json: /tasks/1/dependencies/1: task task-2 'B':" "7.5 is not a whole number or a string"
printf '{"tasks": [{"id": "task-1", "name": "A", "dependencies": ["task-2"]}, {"id": "task-2", "name": "B", "dependencies": ["task-1"]}]}\n' \
    >"$T/cycle.json"
case_bad "JSON: cycle" "$T/cycle.json" "$T/cycle.json: /tasks/1/dependencies/0:" \
    "dependency cycle: task-1 -> task-2 -> task-1"
printf '{"tasks": [{"id": "task-1", "name": "A", "branch_name": "bad..name"}]}\n' >"$T/branch.json"
case_bad "JSON: branch_name not a valid ref" "$T/branch.json" "$T/branch.json: /tasks/0/branch_name:" \
    "not a valid git branch name"
printf '{"tasks": [{"id": "task-1", "name": "A",}]}\n' >"$T/syntax.json"
case_bad "JSON: syntax error" "$T/syntax.json" "$T/syntax.json:1:" "invalid JSON"

# --- 4. Markdown's Depends On goes through the same graph checks ------------
printf '## Task 1: A\n**Depends On:** 2\n**Claude Instruction:**\na\n\n---\n\n## Task 2: B\n**Depends On:** 1\n**Claude Instruction:**\nb\n' \
    >"$T/cycle.md"
case_bad "markdown: cycle" "$T/cycle.md" "$T/cycle.md:9: task 2 'B':" "dependency cycle: 1 -> 2 -> 1"

bad_finish
