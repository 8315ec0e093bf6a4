#!/usr/bin/env bash
# `orch-host hook pre-tool-use`, as claude runs it before an agent's tool call
# (the hook's JSON on stdin): a forbidden call (lib/safety's rules, the same as
# the stream check) exits 2 with the reason on stderr and records a
# tool_blocked event of ORCH_SESSION_ID/ORCH_TASK_ID; an allowed one exits 0
# and says nothing; input it cannot read, or an unknown hook, blocks too.
# `doctor` names the credential (masked), and whether the CLI's hooks fire.
source "$(dirname "$0")/lib.bash"

hook() { ORCH_SESSION_ID=s-1 ORCH_TASK_ID=t-1 orch hook pre-tool-use; }
bash_call() { printf '{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"%s"}}' "$1"; }

rc=0; bash_call "git -C . commit -qm x" | hook >"$T/out" 2>"$T/err" || rc=$?
check_eq "$rc" 2 "exit code of a forbidden call"
check "the reason on stderr" grep -q "orch-host blocked this tool call before it ran: forbidden command (git commit)" "$T/err"
check "stdout empty" test ! -s "$T/out"
check "a tool_blocked event" grep -q '"event":"tool_blocked".*"session":"s-1".*"task":"t-1"' "$T/logs/events.ndjson"

rc=0; bash_call "ls -la" | hook >"$T/out" 2>"$T/err" || rc=$?
check_eq "$rc" 0 "exit code of an allowed call"
check "nothing said" test ! -s "$T/err"

rc=0; printf '{"hook_event_name":"PreToolUse","tool_name":"Write","tool_input":{"file_path":"/etc/x","content":"y"}}' |
  CLAUDE_ALLOWED_ROOT="$T" hook 2>"$T/err" || rc=$?
check_eq "$rc" 2 "exit code of a Write outside the root"
check "names the root" grep -q "Write outside the allowed root $T" "$T/err"

rc=0; echo 'not json' | hook 2>"$T/err" || rc=$?
check_eq "$rc" 2 "exit code of bad input"
check "names stdin" grep -q "stdin: not a JSON object" "$T/err"
for bad in '{}' '{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":"rm -rf /"}'; do
    rc=0; printf '%s' "$bad" | hook 2>"$T/err" || rc=$?
    check_eq "$rc" 2 "exit code of input that is not a tool call: $bad"
    check "says so: $bad" grep -q "stdin: not a tool call" "$T/err"
done
# a relative path is taken from the agent's folder (the event's cwd)
rc=0; printf '{"hook_event_name":"PreToolUse","cwd":"%s","tool_name":"Write","tool_input":{"file_path":"../x","content":"y"}}' \
  "$T" | CLAUDE_ALLOWED_ROOT="$T" hook 2>"$T/err" || rc=$?
check_eq "$rc" 2 "exit code of a relative Write out of the root"
rc=0; orch hook post-tool-use </dev/null 2>"$T/err" || rc=$?
check_eq "$rc" 2 "exit code of an unknown hook"

ANTHROPIC_API_KEY=sk-ant-api03-secretsecret-abcd CLAUDE_CLI_PATH="$FAKE_CLAUDE" orch doctor >"$T/doctor" 2>&1 || true
check "doctor names the credential, masked" grep -qE "credentials +ANTHROPIC_API_KEY sk\*\*\*\*cd" "$T/doctor"
check "doctor hides the key" bash -c "! grep -q secretsecret '$T/doctor'"
check "doctor names the agents' config dirs" grep -q "agents/<session>-<task> (CLAUDE_CONFIG_DIR" "$T/doctor"
finish
