# tests/cli/lib.bash: shared set-up for the shell-level scenario tests.
# Sourced by tests/cli/*.sh (this file is not a test: ctest only runs *.sh).
#
# Needs ORCH_HOST, FAKE_CLAUDE and ORCH_SRC (ctest sets them). Gives every test
# its own temp dir with state, logs, results and a git work tree, so tests can
# run in parallel and never touch the project's own folders.
set -u
set -o pipefail

: "${ORCH_HOST:?set ORCH_HOST to the orch-host binary}"
: "${FAKE_CLAUDE:?set FAKE_CLAUDE to the fake_claude binary}"
: "${ORCH_SRC:?set ORCH_SRC to the repository root}"
ORCH_HOST=$(realpath "$ORCH_HOST")
FAKE_CLAUDE=$(realpath "$FAKE_CLAUDE")
ORCH_SRC=$(realpath "$ORCH_SRC")

TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/orch-cli-$TEST_NAME.XXXXXX")
BG_PIDS=()

LATER_FAILURES=()  # check/check_eq's failures (finish, or _cleanup, reports them)
_cleanup() {
    local rc=$?
    local p
    # a check recorded as failed fails the test, also one that never called finish
    if [ "$rc" -eq 0 ] && [ "${#LATER_FAILURES[@]}" -gt 0 ]; then
        echo "FAIL [$TEST_NAME]: ${#LATER_FAILURES[@]} check(s) failed: ${LATER_FAILURES[*]}" >&2
        rc=1
    fi
    exec 3>&2 2>/dev/null   # no "Killed" job notices
    for p in "${BG_PIDS[@]}"; do
        pkill -KILL -P "$p" 2>/dev/null   # the orch-host under the bg_run subshell
        kill -KILL "$p" 2>/dev/null
    done
    # any other job of this shell (servers, pollers)
    for p in $(jobs -p); do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    # agents started by these tests carry the temp dir in their cwd; a leaked
    # one must not outlive the test (it would be a bug the test reports).
    _kill_agents_in "$T" KILL
    if [ "${KEEP_TMP:-0}" = 1 ] || { [ $rc -ne 0 ] && [ "${KEEP_TMP_ON_FAIL:-0}" = 1 ]; }; then
        echo "(kept $T)" >&3
    else
        rm -rf "$T"
    fi
    exit $rc
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$T/work" "$T/state" "$T/logs" "$T/results"
git -C "$T/work" init -q
git -C "$T/work" -c user.email=t@t -c user.name=t commit -q --allow-empty -m init
# work_commit PATH TEXT: PATH (under the agents' repository $T/work) holding
# TEXT, committed there: what the task worktrees start from
work_commit() {
    mkdir -p "$(dirname "$T/work/$1")"
    printf '%s\n' "$2" >"$T/work/$1"
    git -C "$T/work" add -- "$1"
    git -C "$T/work" -c user.email=t@t -c user.name=t commit -q -m "$1"
}

export CLAUDE_CLI_PATH="$FAKE_CLAUDE"
export CLAUDE_BASE_CWD="$T/work"
export ORCH_STATE_DB="$T/state/orch.db"
export ORCH_LOGS_DIR="$T/logs"
export ORCH_RESULTS_DIR="$T/results"
export ORCH_SUMMARIES_DIR="$T/summaries"
export ORCH_FEEDBACK_DIR="$T/feedback"   # a day reads earlier feedback: never the project's
# Nothing from the developer's shell or the project's .env may leak into a
# test. The host loads $ORCH_SRC/.env without overriding variables that are
# set, and ignores empty ones: so these are set, to "".
export N8N_NOTIFY_URL= TELEGRAM_BOT_TOKEN= TELEGRAM_CHAT_ID= TELEGRAM_ALLOWED_USERS= TELEGRAM_API_BASE= \
       CLAUDE_TIMEOUT_SEC= CLAUDE_MAX_TURNS= CLAUDE_MODEL= CLAUDE_PERMISSION_MODE= CLAUDE_ALLOWED_ROOT= \
       CLAUDE_SKIP_PERMISSIONS= APPROVAL_MODE= MAX_DAILY_COST_USD= ORCH_TASKS_DIR= LOG_LEVEL= \
       WEBHOOK_SECRET= ORCHESTRATOR_AUTH_TOKEN= ORCH_LUA_MAX_RUN_SECONDS= ORCH_RETRY_FAILED= \
       CLAUDE_STALL_TIMEOUT_SEC= ORCH_RETRY_BACKOFF= ORCH_RETRY_BACKOFF_MAX= \
       OLLAMA_HOST= OLLAMA_MODEL= OLLAMA_ENABLED= OLLAMA_TIMEOUT_SEC=
# A failing agent fails at once unless a test asks for retries (tests/cli/retry_*.sh).
export ORCH_RETRY_TRANSIENT=0
unset ORCH_ROOT FAKE_CLAUDE_MODE FAKE_CLAUDE_REPLAY FAKE_CLAUDE_LEDGER FAKE_CLAUDE_ARGS_LOG FAKE_CLAUDE_WRITE

orch() { "$ORCH_HOST" --root "$ORCH_SRC" "$@"; }

fail() {
    echo "FAIL [$TEST_NAME]: $*" >&2
    if [ -f "$T/logs/events.ndjson" ] && [ "${QUIET_FAIL:-0}" != 1 ]; then
        echo "--- last events:" >&2
        tail -n 15 "$T/logs/events.ndjson" >&2
    fi
    exit 1
}

note() { echo "[$TEST_NAME] $*"; }

# wait_for CMD...: run CMD every 0.1 s until it succeeds; fail after WAIT_TIMEOUT s (60).
wait_for() {
    local limit=${WAIT_TIMEOUT:-60}
    local deadline=$(( $(date +%s%N) / 1000000 + limit * 1000 ))
    while ! "$@" >/dev/null 2>&1; do
        if [ $(( $(date +%s%N) / 1000000 )) -ge $deadline ]; then
            fail "timed out after ${limit}s waiting for: $*"
        fi
        sleep 0.1
    done
}

# A background job: bg_run OUTFILE CMD... ; sets BG_PID. The exit code goes to OUTFILE.rc
bg_run() {
    local out=$1; shift
    ( "$@" >"$out" 2>&1; echo $? >"$out.rc" ) &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
}

# bg_wait OUTFILE: wait for a bg_run job to end and print its exit code
bg_wait() {
    wait_for test -s "$1.rc"
    cat "$1.rc"
}

# The host's own pid for a bg_run started orch command (the child of the subshell).
host_pid_of() {
    local sub=$1
    pgrep -P "$sub" -x orch-host 2>/dev/null | head -n1
}

# status_json [ARGS]: the latest session as JSON, into $T/status.json
status_json() { orch status --json "$@" >"$T/status.json"; }

# sj EXPR: evaluate a python expression over s = `orch status --json` (fresh each call)
sj() {
    orch status --json >"$T/status.json" || fail "orch status --json failed"
    python3 - "$T/status.json" "$1" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
v = eval("(" + sys.argv[2] + ")", {"s": s, "json": json})
if isinstance(v, bool): print("true" if v else "false")
elif isinstance(v, (dict, list)): print(json.dumps(v))
elif v is None: print("null")
else: print(v)
EOF
}

# sj_true EXPR: succeeds when EXPR is true (for wait_for)
sj_true() { [ "$(sj "$1" 2>/dev/null)" = true ]; }

# session_status / task_status N (1-based index)
session_status() { sj "s.get('status')"; }
task_status() { sj "s['tasks'][$1 - 1]['status']"; }
completed_count() { sj "sum(1 for t in s['tasks'] if t['status'] == 'completed')"; }

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }

# ask_plain_day FILE: a YAML day of two tasks, "ask" (its agent asks a
# question and waits for the answer) and "plain" (it just works): the clean
# tests' day of one unfinished task and one finished
ask_plain_day() {
    cat >"$1" <<'YAML'
date: 2026-12-01
tasks:
  - id: ask
    name: "Asks first"
    prompt: "Paginate. [fake:question]"
  - id: plain
    name: "Just works"
    prompt: "Write a file."
YAML
}

# task_md FILE ID TITLE TYPE INSTRUCTION [REQUIRES_APPROVAL]: append one task
task_md() {
    local file=$1 id=$2 title=$3 type=$4 instr=$5 req=${6:-false}
    [ -s "$file" ] || printf '# Tasks - %s\n\n' "$(date +%F)" >"$file"
    cat >>"$file" <<EOF
## Task $id: $title
**Type:** $type
**Priority:** medium
**Requires Approval:** $req
**Description:** $title (a test task)
**Acceptance Criteria:**
- it is done

**Claude Instruction:**
$instr

---

EOF
}

# events NAME...: the event names of events.ndjson, one a line (optionally only those listed)
event_names() {
    python3 - "$T/logs/events.ndjson" "$@" <<'EOF'
import json, sys
want = set(sys.argv[2:])
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    name = e.get("event") or e.get("type") or e.get("name")
    if not want or name in want:
        print(name)
EOF
}

# ev EXPR: a python expression over ev, the events of events.ndjson (ts as Unix
# seconds; json is at hand): true/false, else the value as Python prints it
ev() {
    python3 - "$T/logs/events.ndjson" "$1" <<'EOF'
import json, sys, datetime
ev = []
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if isinstance(e.get("ts"), str):
        e["ts"] = datetime.datetime.fromisoformat(e["ts"]).timestamp()
    ev.append(e)
v = eval(sys.argv[2], {"ev": ev, "json": json})
print("true" if v is True else "false" if v is False else v)
EOF
}

# starts KEY: how many stand-in runs the ledger ($T/ledger) saw start with [key:KEY]
starts() { grep -c "^start $1\$" "$T/ledger" 2>/dev/null || true; }

# agent_pids [DIR]: live processes started as agents for this test: their cwd is
# under DIR/work ($T by default), or their environment has ORCH_AGENT_ID and a
# CLAUDE_BASE_CWD under it. One python3 scan of /proc (fast under load).
agent_pids() {
    python3 - "${1:-$T}/work" "$$" <<'PY'
import os, sys
root, me = sys.argv[1], sys.argv[2]
def under(p):
    return p == root or p.startswith(root + "/")
for pid in os.listdir("/proc"):
    if not pid.isdigit() or pid == me:
        continue
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                continue            # a zombie is dead already
        hit = under(os.readlink(f"/proc/{pid}/cwd"))
        if not hit:
            env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
            hit = any(e.startswith(b"ORCH_AGENT_ID=") for e in env) and \
                any(e.startswith(b"CLAUDE_BASE_CWD=") and under(e[16:].decode(errors="replace")) for e in env)
    except (OSError, IndexError):
        continue
    if hit:
        print(pid)
PY
}
_kill_agents_in() {
    local p
    for p in $(agent_pids "$1"); do kill -"$2" "$p" 2>/dev/null; done
}
no_agents() { [ -z "$(agent_pids)" ]; }
some_agent() { [ -n "$(agent_pids)" ]; }

. "$(dirname "${BASH_SOURCE[0]}")/sanitized.bash"

# A free loopback TCP port (bound and released; good enough with SO_REUSEADDR servers)
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# task_log_has TASK_ID PATTERN: the latest session's output log of that task
# holds PATTERN (the path is looked up at each call, so it works in wait_for)
task_log_has() {
    local sid
    sid=$(sj "s.get('id')") || return 1
    grep -qs -- "$2" "$ORCH_LOGS_DIR/task-$sid-$1-output.log"
}

# check_eq ACTUAL EXPECTED WHAT: like expect_eq, but records the failure and goes
# on, so one run shows every broken expectation; call finish at the end.
LATER_FAILURES=()
check_eq() {
    if [ "$1" != "$2" ]; then
        echo "FAIL [$TEST_NAME]: $3: expected '$2', got '$1'" >&2
        LATER_FAILURES+=("$3")
    fi
}
check() {  # check WHAT CMD...: records a failure when CMD fails
    local what=$1; shift
    if ! "$@"; then
        echo "FAIL [$TEST_NAME]: $what" >&2
        LATER_FAILURES+=("$what")
    fi
}
finish() {
    if [ ${#LATER_FAILURES[@]} -gt 0 ]; then
        QUIET_FAIL=1 fail "${#LATER_FAILURES[@]} check(s) failed: ${LATER_FAILURES[*]}"
    fi
    note PASS
}

# --- orch-host serve -------------------------------------------------------

# serve_start [ARGS...]: start `orch serve --port 0` in the background; sets
# SERVE_PID (the host), SERVE_OUT and URL once it listens.
SERVE_N=0
serve_start() {
    SERVE_N=$((SERVE_N + 1))
    SERVE_OUT=$T/serve.$SERVE_N.out   # one per server: bg_wait reads its own .rc
    bg_run "$SERVE_OUT" orch serve --port 0 "$@"
    SERVE_SUB=$BG_PID
    wait_for grep -q "listening on http://" "$SERVE_OUT"
    URL=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$SERVE_OUT" | head -n1)
    SERVE_PID=$(sed -n 's/.*listening on .*(pid \([0-9]*\)).*/\1/p' "$SERVE_OUT" | head -n1)
    [ -n "$URL" ] && [ -n "$SERVE_PID" ] || fail "no URL or pid in serve output: $(cat "$SERVE_OUT")"
}

# kill_resume SUB OUT RC: kill -9 the host under SUB (bg_run's, writing OUT),
# let the stand-in go on ("go" in the ledger), then `orch resume` into
# $T/resume.out, whose exit code must be RC
kill_resume() {
    kill -KILL "$(host_pid_of "$1")"
    bg_wait "$2" >/dev/null
    echo go >>"$T/ledger"
    local rc=0
    orch resume >"$T/resume.out" 2>&1 || rc=$?
    expect_eq "$rc" "$3" "exit code of the resumed day ($(tail -5 "$T/resume.out"))"
}

# api_setup [NAME]: what a test of the REST API sets before serve_start: a
# fresh token (TOKEN, exported as ORCHESTRATOR_AUTH_TOKEN; AUTH holds the
# curl header), the stand-in's ledger and a tasks folder of the test's own
api_setup() {
    TOKEN="${1:-api}-token-$RANDOM$RANDOM"
    export ORCHESTRATOR_AUTH_TOKEN=$TOKEN FAKE_CLAUDE_LEDGER=$T/ledger ORCH_TASKS_DIR=$T/tasks
    mkdir -p "$ORCH_TASKS_DIR"
    AUTH=(-H "Authorization: Bearer $TOKEN")
    touch "$T/ledger"
}

# api_completed SID: GET /api/status/SID says the session is completed
api_completed() { [ "$(req GET "/api/status/$1" "" "${AUTH[@]}")" = 200 ] && [ "$(rj "r['status']")" = completed ]; }

# req METHOD PATH [BODY [CURL ARGS...]]: one request; the body goes to
# $T/resp.json, the HTTP status to stdout ("000" if there was no answer).
req() {
    local method=$1 path=$2 body=${3-}
    if [ $# -ge 3 ]; then shift 3; else shift $#; fi
    local args=(-s -o "$T/resp.json" -w '%{http_code}' -X "$method" --max-time 60)
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    curl "${args[@]}" "$@" "$URL$path" || true
}

# rj EXPR: a python expression over r = the last response's JSON
rj() {
    python3 - "$T/resp.json" "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
v = eval("(" + sys.argv[2] + ")", {"r": r})
if isinstance(v, bool): print("true" if v else "false")
elif isinstance(v, (dict, list)): print(json.dumps(v))
elif v is None: print("null")
else: print(v)
EOF
}

# expect_req STATUS METHOD PATH [BODY [CURL ARGS...]]: fail unless the status matches
expect_req() {
    local want=$1; shift
    local got
    got=$(req "$@")
    [ "$got" = "$want" ] || fail "$1 $2: expected HTTP $want, got $got: $(cat "$T/resp.json" 2>/dev/null)"
}

# serve_stop: SIGTERM the server and wait for it to exit; prints its exit code
serve_stop() {
    kill -TERM "$SERVE_PID" 2>/dev/null
    bg_wait "$SERVE_OUT"
}
