#!/usr/bin/env bash
# The task ids the inbox's events name. A duplicate (a second copy of a file
# processed already, or of one queued under another name) is no task of the
# session: its task_received and task_archived name none, the file they do
# (they named a task id, "alpha-2", that status never listed). A refused file
# whose id was read (its front matter's id, else its name) names it in its
# task_received and in its event parsed (the reason), so tail-events --task ID
# shows the file arrived and why it was refused; one that could not be read
# names none.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/inbox.bash"
export ORCH_QUESTIONS_DIR=$T/questions

watch_start
inbox_task "$ORCH_TASKS_DIR/alpha.task.md" alpha medium "Once [key:alpha]"
WAIT_TIMEOUT=120 wait_for done_with alpha
cp "$ORCH_TASKS_DIR/processed/alpha.task.md" "$T/copy" && mv "$T/copy" "$ORCH_TASKS_DIR/alpha-copy.task.md"
wait_for processed alpha-copy
# of a file queued under another name
inbox_task "$ORCH_TASKS_DIR/slow.task.md" slow medium "Waits [key:slow] [fake:await:go]"
wait_for grep -q "^start slow$" "$T/ledger"
inbox_task "$ORCH_TASKS_DIR/queued.task.md" queued low "Queued [key:queued]"
cp "$ORCH_TASKS_DIR/queued.task.md" "$T/copy" && mv "$T/copy" "$ORCH_TASKS_DIR/queued-copy.task.md"
wait_for processed queued-copy
for f in alpha-copy queued-copy; do
    check_eq "$(ev "[e.get('task') for e in ev if e.get('event') in ('task_received', 'task_archived')
                    and e.get('file', '').endswith('/$f.task.md') or e.get('file') == '$f.task.md']")" \
        "[None, None]" "the task the duplicate $f's task_received and task_archived name"
done
printf -- '---\nid: beta-id\ntype: bogus\n---\n\n# Beta\n\n**Prompt:**\nNo [key:beta]\n' >"$T/b" && mv "$T/b" "$ORCH_TASKS_DIR/beta.task.md"
printf -- '---\ntype: bogus\n---\n\n# Gamma\n\n**Prompt:**\nNo [key:gamma]\n' >"$T/g" && mv "$T/g" "$ORCH_TASKS_DIR/gamma.task.md"
printf -- '---\nid: "bad id"\ntype: bogus\n---\n\n**Prompt:**\nNo\n' >"$T/d" && mv "$T/d" "$ORCH_TASKS_DIR/delta.task.md"
wait_for failed beta
wait_for failed gamma
wait_for failed delta
for f in beta:beta-id gamma:gamma delta:None; do
    check_eq "$(ev "[e.get('task') for e in ev if e.get('event') == 'task_received'
                    and e['file'].endswith('/${f%%:*}.task.md')]")" "[$( [ "${f#*:}" = None ] && echo None || echo "'${f#*:}'")]" \
        "the task the refused ${f%%:*}'s task_received names"
    check_eq "$(ev "[e.get('task') for e in ev if e.get('event') == 'parsed'
                    and e['file'].endswith('/${f%%:*}.task.md')]")" "[$( [ "${f#*:}" = None ] && echo None || echo "'${f#*:}'")]" \
        "the task the refused ${f%%:*}'s event parsed names"
done
orch tail-events --task beta-id >"$T/beta.events" 2>/dev/null
check "tail-events --task of a refused file shows why it was refused" \
    grep -q 'type: \\"bogus\\" is not one of' "$T/beta.events"
echo go >>"$T/ledger"
WAIT_TIMEOUT=120 wait_for done_with queued
# every task an event of the session names is one status lists, but the refused ones'
SID=$(sj "s['id']")
check_eq "$(python3 - "$T/logs/events.ndjson" "$SID" "$(sj "[t['id'] for t in s['tasks']]")" <<'PY'
import json, sys
ids = set(json.loads(sys.argv[3])) | {"beta-id", "gamma"}
named = {e["task"] for e in map(json.loads, open(sys.argv[1])) if e.get("session") == sys.argv[2] and e.get("task")}
print(sorted(named - ids))
PY
)" "[]" "ids the events name that status does not list"
watch_stop
finish
