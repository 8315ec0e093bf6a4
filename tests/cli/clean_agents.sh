#!/usr/bin/env bash
# `orch-host clean agents --days N [--dry-run]`: the agents' folders
# (<state dir>/agents/<session>-<task>/) not changed for N days are removed,
# except a task's that is not finished (here: one parked on its question when
# its host stopped, which a resume continues in that folder); a folder no
# session knows goes by age alone; --dry-run removes nothing; a folder that
# cannot be removed is exit 1 with the rest done; a bad --days is refused
# with exit 2.
source "$(dirname "$0")/lib.bash"

ask_plain_day "$T/day.yaml"
bg_run "$T/run.out" orch run daily.lua --tasks "$T/day.yaml" --auto-approve --no-input --max-concurrent 2
wait_for sj_true "s['tasks'][0]['status'] == 'waiting_answer' and s['tasks'][1]['status'] == 'completed'"
kill -TERM "$(host_pid_of "$BG_PID")"
bg_wait "$T/run.out" >/dev/null
ASK=$(sj "s['tasks'][0]['agent_dir']")
PLAIN=$(sj "s['tasks'][1]['agent_dir']")
check_eq "$(sj "s['tasks'][0]['status']")" paused "the asking task after the stop (unfinished: a resume asks again)"
[ -d "$ASK" ] && [ -d "$PLAIN" ] || fail "the agents' folders are missing: $ASK $PLAIN"
mkdir -p "$T/state/agents/stray-1/claude/projects"
echo '{}' >"$T/state/agents/stray-1/claude/projects/t.jsonl"
mkdir -p "$T/state/agents/fresh-1"
# everything but fresh-1 last changed ten days ago
find "$T/state/agents" -mindepth 1 -path "$T/state/agents/fresh-1" -prune -o -exec touch -h -d '-10 days' {} +

orch clean agents --days 3 --dry-run >"$T/dry.out" 2>&1 || fail "clean agents --dry-run: $(cat "$T/dry.out")"
check "dry run names the finished task's folder" grep -q "^would remove agents/$(basename "$PLAIN") " "$T/dry.out"
check "dry run names the stray folder" grep -q "^would remove agents/stray-1 " "$T/dry.out"
check "dry run keeps the unfinished task's" grep -q "^kept agents/$(basename "$ASK"): task ask of session" "$T/dry.out"
check "dry run's count" grep -q "would remove 2 agent folders .*1 kept (task not finished), 1 newer; --dry-run" \
  "$T/dry.out"
[ -d "$PLAIN" ] && [ -d "$T/state/agents/stray-1" ] || fail "--dry-run removed something"

orch clean agents --days 3 >"$T/clean.out" 2>&1 || fail "clean agents: $(cat "$T/clean.out")"
[ -d "$PLAIN" ] && fail "the finished task's folder is still there"
[ -d "$T/state/agents/stray-1" ] && fail "the stray folder is still there"
[ -f "$ASK/.claude.json" ] || fail "the unfinished task's folder was removed"
[ -d "$T/state/agents/fresh-1" ] || fail "the recent folder was removed"

# a folder that cannot be removed (an immutable file in it): exit 1, what was
# removed on stdout, what was not on stderr
mkdir -p "$T/state/agents/old-2" "$T/state/agents/stuck-1"
touch "$T/state/agents/stuck-1/locked"
find "$T/state/agents/old-2" "$T/state/agents/stuck-1" -exec touch -h -d '-10 days' {} +
if chattr +i "$T/state/agents/stuck-1/locked" 2>/dev/null; then
  rc=0
  orch clean agents --days 3 >"$T/stuck.out" 2>"$T/stuck.err" || rc=$?
  chattr -i "$T/state/agents/stuck-1/locked"
  check_eq "$rc" 1 "exit code when a folder cannot be removed"
  check "the removed folder on stdout" grep -q "^removed agents/old-2 " "$T/stuck.out"
  check "the count on stdout" grep -q "^removed 1 agent folder " "$T/stuck.out"
  check "the failure on stderr" grep -q "^orch-host clean agents: cannot remove .*stuck-1" "$T/stuck.err"
  check "nothing else on stderr" test "$(wc -l <"$T/stuck.err")" -eq 1
else
  echo "note: chattr +i is not available here; the unremovable-folder case is not run"
fi

rc=0
orch clean agents >"$T/nodays.out" 2>&1 || rc=$?
check_eq "$rc" 2 "exit code without --days"
check "its message" grep -q "clean agents: --days N is needed" "$T/nodays.out"
rc=0
orch clean agents --days 0 >"$T/zero.out" 2>&1 || rc=$?
check_eq "$rc" 2 "exit code of --days 0"
check "its message" grep -q "whole number of days, 1 or more, got '0'" "$T/zero.out"
finish
