#!/usr/bin/env bash
# `orch-host status` after kill -9 of the host: its session shows the runtime
# it had when the host died (the runner's heartbeat, orchestrator.heartbeat,
# keeps the session's last update recent), not the time of its last task
# change (0 s here: the agent started at once and ran quietly), and its agent
# is listed as it was then: "in hand when its host stopped", its elapsed time
# not growing with the dead host. A skip of that task then says it was
# interrupted, and keeps its note.
source "$(dirname "$0")/lib.bash"

# shellcheck source=tests/cli/dead_host.bash
source "$(dirname "$0")/dead_host.bash"
dead_host_start
wait_for past "$started" 3
kill -KILL "$(host_pid_of "$BG_PID")"
expect_eq "$(bg_wait "$T/run.out")" 137 "exit code of the killed host"
killed=$(now)

orch status >"$T/status1.txt" || fail "status: $(cat "$T/status1.txt")"
v1=$(sj "[round(s['runtime'], 1), round(s['agents'][0]['elapsed_s'], 1)]")
check "the runtime at the kill, about 3 s: $v1" \
    python3 -c "import json, sys; r, e = json.loads(sys.argv[1]); sys.exit(0 if 2.5 <= r <= 4 and 2.5 <= e <= 4 else 1)" "$v1"
check "status says the agent was in hand when its host stopped: $(grep Agents "$T/status1.txt")" \
    grep -q "^Agents    1 in hand when its host stopped: 1 running$" "$T/status1.txt"
wait_for past "$killed" 1.5
check_eq "$(sj "[round(s['runtime'], 1), round(s['agents'][0]['elapsed_s'], 1)]")" "$v1" \
    "runtime and elapsed time, 1.5 s later"
# a pause has no host to pause: said as such, not "not running (status: running)"
RC=0
orch pause >"$T/pause.out" 2>&1 || RC=$?
check_eq "$RC" 1 "pause of the killed host's session: exit code"
check "pause says the host stopped without recording it: $(cat "$T/pause.out")" \
    grep -q "is not running: its host stopped without recording it (status still running; orch-host resume" "$T/pause.out"
# a skip of the task whose agent ran when its host died says that it ran and
# was cut, not "before it ran" (its agent's start died uncommitted with the
# host), and its note is kept with the decision, shown by status
orch skip --task 1 --by tester --note "done by hand" >"$T/skip.out" 2>&1 || fail "skip --task 1: $(cat "$T/skip.out")"
check_eq "$(sj "[s['tasks'][0]['status'], s['tasks'][0]['error']]")" \
    '["skipped", "interrupted when its host stopped, then skipped by tester"]' "the killed task's end after a skip"
check_eq "$(sj "[(d['action'], d.get('note')) for d in s['tasks'][0]['approvals']]")" '[["skip", "done by hand"]]' \
    "the skip's decision and its note"
orch status >"$T/status2.txt" || fail "status: $(cat "$T/status2.txt")"
check "status shows the skip's note: $(cat "$T/status2.txt")" grep -q ': "done by hand"$' "$T/status2.txt"
finish
