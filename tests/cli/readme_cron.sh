#!/usr/bin/env bash
# The README's crontab line, run as cron would (sh, no terminal) in a fresh
# checkout: no logs/ folder yet, the default paths. It must run the day and
# append to logs/cron.log instead of failing on the redirect. Then its weekly
# clean line, which prunes what a month leaves in logs/.
source "$(dirname "$0")/lib.bash"

LINE=$(grep -E '^0 9 \* \* 1-5 +cd /opt/orch-host && ' "$ORCH_SRC/README.md" | head -n 1)
[ -n "$LINE" ] || fail "no crontab line for /opt/orch-host in README.md"
CMD=${LINE#0 9 \* \* 1-5 }

# a fresh clone: sources, no logs/, state/ or results/; the built binary in build/
CLONE=$T/clone
mkdir -p "$CLONE/build" "$CLONE/tasks"
ln -s "$ORCH_HOST" "$CLONE/build/orch-host"
cp -r "$ORCH_SRC/workflows" "$ORCH_SRC/scripts" "$CLONE/"
task_md "$CLONE/tasks/$(date +%F)-tasks.md" 1 "Write docs" documentation "Write it. [key:c1]"
CMD=${CMD//\/opt\/orch-host/$CLONE}

unset ORCH_STATE_DB ORCH_LOGS_DIR ORCH_RESULTS_DIR
export APPROVAL_MODE=auto
(cd / && sh -c "$CMD" </dev/null) || fail "the crontab command failed: $(cat "$CLONE/logs/cron.log" 2>/dev/null)"
[ -s "$CLONE/logs/cron.log" ] || fail "logs/cron.log was not written"
grep -q 'Write docs' "$CLONE/logs/cron.log" || fail "cron.log does not show the day: $(cat "$CLONE/logs/cron.log")"

# the weekly clean line, a month later: the day's output log and an old daily
# log go, today's daily log and the cron log stay
WEEKLY=$(grep -E '^0 8 \* \* 0 +cd /opt/orch-host && ' "$ORCH_SRC/README.md" | head -n 1)
[ -n "$WEEKLY" ] || fail "no weekly clean crontab line for /opt/orch-host in README.md"
CMD=${WEEKLY#0 8 \* \* 0 }
CMD=${CMD//\/opt\/orch-host/$CLONE}
OUT=$(ls "$CLONE"/logs/task-*-output.log) || fail "the day left no output log: $(ls "$CLONE/logs")"
echo old >"$CLONE/logs/2020-01-02.log"
touch -d '-40 days' "$CLONE"/logs/*
(cd / && sh -c "$CMD" </dev/null) || fail "the weekly clean line failed: $(tail -n 20 "$CLONE/logs/cron.log")"
for f in $OUT "$CLONE/logs/2020-01-02.log"; do
  [ -e "$f" ] && fail "the weekly clean left $f: $(tail -n 20 "$CLONE/logs/cron.log")"
done
[ -f "$CLONE/logs/$(date +%F).log" ] || fail "the weekly clean removed today's daily log"
grep -q '^removed 2 log files ' "$CLONE/logs/cron.log" || fail "cron.log does not count the logs: $(cat "$CLONE/logs/cron.log")"
note PASS
