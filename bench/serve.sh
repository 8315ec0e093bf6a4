#!/usr/bin/env bash
# bench/serve.sh: `orch-host serve` (issue 3) against baselines measured in
# the same run. No installs and no builds of build/: it uses build/orch-host
# and build/orch-net.so as they are (copied, so a rebuild mid-run cannot mix
# two builds), and builds bench/bare_server.cpp (CMake target
# bench_bare_server) into a temp dir.
#
#   bench/serve.sh          (also: bench/run.sh --serve, after its own four)
#
#   1. throughput  wrk, 16 connections, 2 threads, on loopback: POST
#                  /webhook/status {"secret":...} through the Lua route vs
#                  bench_bare_server (cpp-httplib with the same settings:
#                  16 threads, keep-alive 100 per connection, TCP_NODELAY)
#                  answering the same bytes. Requests/s (target >= 0.8x of
#                  bare) and p99 latency (target < 2 ms), plus each server's
#                  CPU time per request (/proc/PID/stat), steadier than wall
#                  numbers when other work shares the cores.
#   2. idle RSS    serve with the Telegram bot long-polling a local stand-in
#                  Bot API and one schedule: VmRSS after BENCH_SERVE_IDLE s
#                  idle, and again after a burst of requests (target < 15 MB;
#                  baseline: bench_bare_server's idle RSS). The bot and the
#                  schedule are enabled only when workflows/lib/telegram.lua /
#                  lib/schedule.lua exist (serve.lua requires them when
#                  configured); the output says which were on.
#   3. sessions    the same server with 100 sessions parked at an approval
#                  (100 task files, 100 start commands, until `orch-host
#                  sessions` shows 100 waiting_approval): VmRSS (target
#                  < 25 MB; baseline: the same process before the starts),
#                  and its CPU while they wait.
#   4. status      POST /webhook/status with a finished session of
#                  BENCH_STATUS_TASKS (1000) tasks stored (daily.lua run
#                  first with the stand-in agent) vs the same server
#                  answering with no session stored (the empty answer):
#                  req/s and p99 of both, interleaved. No target: the issue
#                  asks for the two figures.
#
# Knobs (environment): BENCH_SERVE_RUNS (3, median reported),
# BENCH_SERVE_SECONDS (10, per wrk run), BENCH_SERVE_WARMUP (3),
# BENCH_SERVE_CONNECTIONS (16), BENCH_SERVE_THREADS (2, wrk's),
# BENCH_SERVE_IDLE (5), BENCH_SERVE_SESSIONS (100), BENCH_KEEP=1 keeps the
# temp dir, ORCH_HOST_BIN (its orch-net.so is taken from the same folder),
# BENCH_BARE_SERVER_BIN (skip the build), BENCH_SERVE_ONLY=1,2,3,4 (a subset),
# BENCH_STATUS_TASKS (1000). Rows go to $BENCH_SUMMARY too (bench/shared.sh).
# Exit 0 when everything ran (missed targets are reported, not fatal); 1 when
# something could not run.
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/shared.sh
source "$BENCH/shared.sh"
ROOT=$(dirname "$BENCH")
ORCH_BIN=${ORCH_HOST_BIN:-$ROOT/build/orch-host}
NET_SO=$(dirname "$ORCH_BIN")/orch-net.so
FAKE_BIN=${FAKE_CLAUDE_BIN:-$(dirname "$ORCH_BIN")/fake_claude}
RUNS=${BENCH_SERVE_RUNS:-3}
SECS=${BENCH_SERVE_SECONDS:-10}
WARM=${BENCH_SERVE_WARMUP:-3}
CONNS=${BENCH_SERVE_CONNECTIONS:-16}
WTHREADS=${BENCH_SERVE_THREADS:-2}
IDLE=${BENCH_SERVE_IDLE:-5}
NSESS=${BENCH_SERVE_SESSIONS:-100}
ONLY=${BENCH_SERVE_ONLY:-1,2,3,4}
STATUS_TASKS=${BENCH_STATUS_TASKS:-1000}
SECRET=bench-secret

die() { echo "bench/serve: $*" >&2; exit 1; }
note() { echo "bench/serve: $*" >&2; }
want() { [[ ",$ONLY," == *",$1,"* ]]; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

[[ -x $ORCH_BIN ]] || die "$ORCH_BIN: not built"
[[ -f $NET_SO ]] || die "$NET_SO: not built (orch-host serve needs it next to the binary)"
command -v wrk >/dev/null || die "wrk not found (scripts/setup.sh installs it; apt-get install wrk)"
command -v curl >/dev/null || die "curl not found"
command -v python3 >/dev/null || die "python3 not found (the Telegram Bot API stand-in)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/orch-bench-serve.XXXXXX") || die "mktemp failed"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  wait 2>/dev/null
  if [[ ${BENCH_KEEP:-} == 1 ]]; then note "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

cp "$ORCH_BIN" "$WORK/orch-host" && cp "$NET_SO" "$WORK/orch-net.so" || die "cannot copy the binaries"
echo "measuring: $ORCH_BIN ($(date -r "$ORCH_BIN" '+%F %T')), $NET_SO"
ORCH_BIN=$WORK/orch-host

# --- the baseline server ------------------------------------------------------
# Its CMake target, configured in a temp build dir (never build/, which others
# build at the same time); straight c++ with pkg-config's flags if that fails.
if ! want 1; then
  :  # only section 1 runs it
elif [[ -n ${BENCH_BARE_SERVER_BIN:-} ]]; then
  cp "$BENCH_BARE_SERVER_BIN" "$WORK/bare_server" || die "cannot copy $BENCH_BARE_SERVER_BIN"
elif cmake -S "$ROOT" -B "$WORK/cmake" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$WORK/cmake.log" 2>&1 &&
  cmake --build "$WORK/cmake" --target bench_bare_server >>"$WORK/cmake.log" 2>&1; then
  cp "$WORK/cmake/bench_bare_server" "$WORK/bare_server"
else
  note "cmake build of bench_bare_server failed (see below); compiling it directly"
  tail -5 "$WORK/cmake.log" >&2
  # shellcheck disable=SC2046
  ${CXX:-c++} -std=c++20 -O2 -g -DNDEBUG -I"$ROOT/host/net" -o "$WORK/bare_server" "$BENCH/bare_server.cpp" \
    $(pkg-config --cflags --libs cpp-httplib) -pthread || die "cannot build bench/bare_server.cpp"
fi

# --- environment ------------------------------------------------------------
# Nothing from the caller's shell may add sinks, approvals or budgets.
unset N8N_NOTIFY_URL TELEGRAM_BOT_TOKEN TELEGRAM_CHAT_ID TELEGRAM_ALLOWED_USERS TELEGRAM_API_BASE \
  MAX_DAILY_COST_USD APPROVAL_MODE CLAUDE_MODEL CLAUDE_MAX_TURNS CLAUDE_PERMISSION_MODE \
  CLAUDE_SKIP_PERMISSIONS CLAUDE_ALLOWED_ROOT CLAUDE_TIMEOUT_SEC FAKE_CLAUDE_MODE FAKE_CLAUDE_LEDGER \
  FAKE_CLAUDE_ARGS_LOG FAKE_CLAUDE_WRITE ORCH_TASKS_DIR LOG_LEVEL HOST PORT ORCHESTRATOR_AUTH_TOKEN ORCH_NET_MODULE
export WEBHOOK_SECRET=$SECRET BENCH_SECRET=$SECRET
[[ -x $FAKE_BIN ]] && export CLAUDE_CLI_PATH=$FAKE_BIN  # no agent runs here; a stand-in anyway

# make_root NAME: a project folder with a copy of the repo's workflows/ and
# scripts/orch linked (nothing of the repo is written to)
make_root() {
  local r=$WORK/$1
  mkdir -p "$r/scripts" "$r/tasks"
  cp -r "$ROOT/workflows" "$r/" || die "cannot copy workflows/"
  ln -s "$ROOT/scripts/orch" "$r/scripts/orch"
  echo "$r"
}

# start_serve NAME ROOT [ENV...]: starts orch-host serve on a free port with
# its own state; sets SPID and SPORT
start_serve() {
  local name=$1 root=$2 s=$WORK/state-$1
  shift 2
  mkdir -p "$s/logs" "$s/results"
  env ORCH_STATE_DB="$s/orch.db" ORCH_LOGS_DIR="$s/logs" ORCH_RESULTS_DIR="$s/results" "$@" \
    "$ORCH_BIN" --root "$root" serve --port 0 >"$WORK/$name.out" 2>"$WORK/$name.err" &
  SPID=$!
  PIDS+=("$SPID")
  SPORT=$(wait_port "$WORK/$name.out" "$SPID") || { tail -20 "$WORK/$name.err" >&2; die "$name: serve did not start"; }
}

# wait_port FILE PID: the port from a "listening on http://127.0.0.1:PORT" line
wait_port() {
  local p
  for _ in $(seq 200); do
    p=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$1" 2>/dev/null)
    [[ -n $p ]] && { echo "$p"; return 0; }
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

stop_pid() {
  local p=$1
  kill "$p" 2>/dev/null
  for _ in $(seq 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null
  wait "$p" 2>/dev/null
}

rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
mem_line() { awk '$1 ~ /^(VmRSS|VmHWM|RssAnon|RssFile|Threads):$/ { printf "%s %s  ", $1, $2 } END { print "" }' "/proc/$1/status"; }
# CPU ticks (user+sys) of a process, all its threads
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

# us VALUE_WITH_UNIT (wrk's 657.00us, 3.61ms, 1.20s) -> microseconds
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
  if (u == "us") m = 1; else if (u == "ms") m = 1e3; else if (u == "s") m = 1e6; else if (u == "m") m = 6e7; else m = -1
  printf "%.0f", m < 0 ? -1 : n * m }'; }

# run_wrk PORT SECONDS OUT: wrk on POST /webhook/status
run_wrk() {
  wrk -t"$WTHREADS" -c"$CONNS" -d"${2}s" --latency -s "$BENCH/webhook_status.lua" \
    "http://127.0.0.1:$1/webhook/status" >"$3" 2>&1
}
wrk_rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }
wrk_p99() { to_us "$(awk '$1 == "99%" { print $2 }' "$1")"; }
wrk_p50() { to_us "$(awk '$1 == "50%" { print $2 }' "$1")"; }
wrk_total() { awk '/requests in/ { print $1 }' "$1"; }
wrk_bad() { # non-2xx answers and socket errors: either means the run is void
  awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/[^0-9 ]/, " "); for (i = 1; i <= NF; i++) n += $i } END { print n + 0 }' "$1"
}

echo "load before: $(load); cores: $(nproc); wrk: $WTHREADS threads, $CONNS connections, ${SECS}s x $RUNS per side"

RPS_H=() RPS_B=() P99_H=() P99_B=() P50_H=() P50_B=() CPU_H=() CPU_B=() IDLE_R=() REQ_R=() SESS_R=() BASE_R=() SESS_CPU=()
BARE_IDLE="" PLAIN_IDLE=""

# --- 1: throughput and latency --------------------------------------------------
if want 1; then
  R1=$(make_root root-plain)
  start_serve plain "$R1"
  HPID=$SPID HPORT=$SPORT
  body=$(curl -s -X POST -H 'Content-Type: application/json' -d "{\"secret\":\"$SECRET\"}" \
    "http://127.0.0.1:$HPORT/webhook/status") || die "curl to serve failed"
  [[ $body == *'"status"'* ]] || die "unexpected /webhook/status answer: $body"
  printf '%s' "$body" >"$WORK/status-body.json"
  echo "Lua route answers (${#body} bytes): $body"
  "$WORK/bare_server" --body-file "$WORK/status-body.json" >"$WORK/bare.out" 2>"$WORK/bare.err" &
  BPID=$!
  PIDS+=("$BPID")
  BPORT=$(wait_port "$WORK/bare.out" "$BPID") || { cat "$WORK/bare.err" >&2; die "bench_bare_server did not start"; }
  bbody=$(curl -s -X POST -H 'Content-Type: application/json' -d "{\"secret\":\"$SECRET\"}" "http://127.0.0.1:$BPORT/webhook/status")
  [[ $bbody == "$body" ]] || die "the bare server answers something else: $bbody"
  sleep "$IDLE"
  BARE_IDLE=$(rss_kb "$BPID") PLAIN_IDLE=$(rss_kb "$HPID")
  echo "idle ${IDLE}s: bare server: $(mem_line "$BPID")"
  echo "idle ${IDLE}s: serve (no bot, no schedule): $(mem_line "$HPID")"

  run_wrk "$BPORT" "$WARM" "$WORK/warm-bare.txt"
  run_wrk "$HPORT" "$WARM" "$WORK/warm-host.txt"
  for r in $(seq "$RUNS"); do
    for side in bare host; do
      if [[ $side == bare ]]; then pid=$BPID port=$BPORT; else pid=$HPID port=$HPORT; fi
      c0=$(cpu_ticks "$pid")
      run_wrk "$port" "$SECS" "$WORK/wrk-$side-$r.txt" || { cat "$WORK/wrk-$side-$r.txt" >&2; die "wrk failed"; }
      c1=$(cpu_ticks "$pid")
      f=$WORK/wrk-$side-$r.txt
      n=$(wrk_total "$f")
      bad=$(wrk_bad "$f")
      [[ $bad == 0 ]] || { cat "$f" >&2; die "$side: $bad non-2xx answers or socket errors"; }
      rps=$(wrk_rps "$f") p99=$(wrk_p99 "$f") p50=$(wrk_p50 "$f")
      cpu=$(awk -v d="$((c1 - c0))" -v t="$TICK" -v n="$n" 'BEGIN { printf "%.1f", d / t * 1e6 / n }')
      if [[ $side == bare ]]; then RPS_B+=("$rps") P99_B+=("$p99") P50_B+=("$p50") CPU_B+=("$cpu")
      else RPS_H+=("$rps") P99_H+=("$p99") P50_H+=("$p50") CPU_H+=("$cpu"); fi
      echo "run $r $side: $rps req/s, p50 $p50 us, p99 $p99 us, server CPU $cpu us/request ($n requests; load $(load))"
    done
  done
  echo "after the runs: bare server: $(mem_line "$BPID")"
  echo "after the runs: serve: $(mem_line "$HPID")"
  stop_pid "$BPID"
  stop_pid "$HPID"
fi

# --- 2 & 3: idle RSS with the bot and a schedule, then parked sessions ---------
TG_ON=no SCHED_ON=no
if want 2 || want 3; then
  # the Bot API stand-in: getUpdates is held for its timeout, then answered
  # empty; every other method answers ok at once
  cat >"$WORK/botapi.py" <<'EOF'
import json, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
counts, lock, mid = {}, threading.Lock(), [0]
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def answer(self):
        url = urllib.parse.urlsplit(self.path)
        method = url.path.rsplit("/", 1)[-1]
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        args = dict(urllib.parse.parse_qsl(url.query))
        try:
            if raw.lstrip()[:1] == b"{": args.update(json.loads(raw))
            else: args.update(urllib.parse.parse_qsl(raw.decode()))
        except Exception: pass
        with lock:
            counts[method] = counts.get(method, 0) + 1
            mid[0] += 1
            m = mid[0]
        if method == "getUpdates":
            time.sleep(min(float(args.get("timeout") or 0), 60))
            result = []
        elif method == "getMe":
            result = {"id": 123, "is_bot": True, "first_name": "bench", "username": "bench_bot"}
        elif method.startswith("send") or method.startswith("edit"):
            result = {"message_id": m, "date": int(time.time()), "chat": {"id": 1, "type": "private"}, "text": ""}
        else:
            result = True
        body = json.dumps({"ok": True, "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = answer
srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
print("listening on http://127.0.0.1:%d" % srv.server_address[1], flush=True)
def dump(*_):
    with open(sys.argv[1], "w") as f: json.dump(counts, f)
    threading.Timer(1, dump).start()
dump()
srv.serve_forever()
EOF
  R2=$(make_root root-full)
  ENV2=()
  if [[ -f $R2/workflows/lib/telegram.lua ]]; then
    python3 "$WORK/botapi.py" "$WORK/botapi-counts.json" >"$WORK/botapi.out" 2>"$WORK/botapi.err" &
    TPID=$!
    PIDS+=("$TPID")
    TPORT=$(wait_port "$WORK/botapi.out" "$TPID") || { cat "$WORK/botapi.err" >&2; die "the Bot API stand-in did not start"; }
    ENV2=(TELEGRAM_BOT_TOKEN=123:abc TELEGRAM_CHAT_ID=1 "TELEGRAM_API_BASE=http://127.0.0.1:$TPORT")
    TG_ON=yes
  fi
  if [[ -f $R2/workflows/lib/schedule.lua ]]; then
    # one schedule, added to the copy's config
    awk '!done && /^return[[:space:]]*\{/ { print; print "  schedules = { { cron = \"0 9 * * 1-5\", tz = \"UTC\" } },"; done = 1; next } { print }' \
      "$ROOT/workflows/config.lua" >"$R2/workflows/config.lua"
    grep -q 'schedules = { {' "$R2/workflows/config.lua" || die "could not add the schedule to config.lua"
    SCHED_ON=yes
  fi
  echo "serve for 2/3: Telegram bot: $TG_ON$([[ $TG_ON == no ]] && echo ' (no workflows/lib/telegram.lua yet)'), schedule: $SCHED_ON$([[ $SCHED_ON == no ]] && echo ' (no workflows/lib/schedule.lua yet)')"

  # task files: one task each that asks for approval (Requires Approval: yes)
  for i in $(seq "$NSESS"); do
    printf '# Tasks - 2025-11-20\n\n## Task 1: Parked task %d\n**Type:** backend\n**Priority:** low\n**Requires Approval:** yes\n**Description:** Waits at its approval for the RSS benchmark\n**Acceptance Criteria:**\n- Nothing runs\n\n**Claude Instruction:**\nDo nothing (%d).\n\n---\n' \
      "$i" "$i" >"$R2/tasks/parked-$i.md"
  done

  if [[ -z $BARE_IDLE ]]; then  # the baseline when section 1 did not run
    "$WORK/bare_server" >"$WORK/bare.out" 2>"$WORK/bare.err" &
    BPID=$!
    PIDS+=("$BPID")
    wait_port "$WORK/bare.out" "$BPID" >/dev/null || { cat "$WORK/bare.err" >&2; die "bench_bare_server did not start"; }
    sleep "$IDLE"
    BARE_IDLE=$(rss_kb "$BPID")
    echo "idle ${IDLE}s: bare server: $(mem_line "$BPID")"
    stop_pid "$BPID"
  fi
  for r in $(seq "$RUNS"); do
    start_serve "full-$r" "$R2" "${ENV2[@]}"
    sleep "$IDLE"
    IDLE_R+=("$(rss_kb "$SPID")")
    echo "run $r idle ${IDLE}s: $(mem_line "$SPID")"
    if want 2; then
      run_wrk "$SPORT" 2 "$WORK/wrk-full-$r.txt"
      sleep "$IDLE"
      REQ_R+=("$(rss_kb "$SPID")")
      echo "run $r after $(wrk_total "$WORK/wrk-full-$r.txt") requests and ${IDLE}s idle: $(mem_line "$SPID")"
    fi
    if want 3; then
      BASE_R+=("$(rss_kb "$SPID")")
      t0=$(date +%s%N)
      fails=0
      for i in $(seq "$NSESS"); do
        a=$(curl -s -X POST -H 'Content-Type: application/json' \
          -d "{\"secret\":\"$SECRET\",\"command\":\"start\",\"params\":{\"task_file\":\"tasks/parked-$i.md\"}}" \
          "http://127.0.0.1:$SPORT/webhook/command")
        [[ $a == *'"status":"started"'* ]] || { fails=$((fails + 1)); [[ $fails -le 3 ]] && note "start $i: $a"; }
      done
      [[ $fails == 0 ]] || die "$fails of $NSESS start commands failed"
      parked=0
      for _ in $(seq 120); do
        parked=$(ORCH_STATE_DB=$WORK/state-full-$r/orch.db ORCH_LOGS_DIR=$WORK/state-full-$r/logs \
          "$ORCH_BIN" --root "$R2" sessions --json --lines $((NSESS + 10)) 2>/dev/null | grep -c '"status": *"waiting_approval"')
        [[ $parked -ge $NSESS ]] && break
        sleep 0.5
      done
      t1=$(date +%s%N)
      [[ $parked -ge $NSESS ]] || die "only $parked of $NSESS sessions reached waiting_approval"
      sleep "$IDLE"
      c0=$(cpu_ticks "$SPID")
      sleep "$IDLE"
      c1=$(cpu_ticks "$SPID")
      SESS_R+=("$(rss_kb "$SPID")")
      SESS_CPU+=("$(awk -v d="$((c1 - c0))" -v t="$TICK" -v s="$IDLE" 'BEGIN { printf "%.1f", d / t / s * 100 }')")
      echo "run $r: $parked sessions waiting_approval after $(( (t1 - t0) / 1000000 )) ms; ${IDLE}s later: $(mem_line "$SPID") CPU while parked ${SESS_CPU[-1]}%"
    fi
    stop_pid "$SPID"
  done
  if [[ $TG_ON == yes ]]; then
    sleep 1.2
    echo "Bot API stand-in saw (method: calls): $(cat "$WORK/botapi-counts.json" 2>/dev/null)"
  fi
fi
# --- 4: /webhook/status of a 1000-task session vs the empty answer -------------
ST_RPS_F=() ST_RPS_E=() ST_P99_F=() ST_P99_E=()
if want 4; then
  [[ -x $FAKE_BIN ]] || die "$FAKE_BIN: not built (section 4 runs a session first)"
  R4=$(make_root root-status)
  gen_tasks "$STATUS_TASKS" >"$WORK/status-tasks.md"
  s4=$WORK/state-full
  mkdir -p "$s4/logs" "$s4/results" "$s4/cwd"
  ORCH_STATE_DB="$s4/orch.db" ORCH_LOGS_DIR="$s4/logs" ORCH_RESULTS_DIR="$s4/results" CLAUDE_BASE_CWD="$s4/cwd" \
    FAKE_CLAUDE_REPLAY="$BENCH/stream-json.txt" "$ORCH_BIN" --root "$R4" run daily.lua --tasks "$WORK/status-tasks.md" \
    --auto-approve --no-input >"$WORK/status-run.out" 2>&1 || { tail "$WORK/status-run.out" >&2; die "daily.lua on $STATUS_TASKS tasks failed"; }
  start_serve full "$R4"
  FPID=$SPID FPORT=$SPORT
  start_serve empty "$R4"
  EPID=$SPID EPORT=$SPORT
  post() { curl -s -X POST -H 'Content-Type: application/json' -d "{\"secret\":\"$SECRET\"}" "http://127.0.0.1:$1/webhook/status"; }
  fbody=$(post "$FPORT") ebody=$(post "$EPORT")
  [[ $fbody == *"$STATUS_TASKS"* ]] || die "the answer with a $STATUS_TASKS-task session does not mention it: ${fbody:0:300}"
  echo "with the session (${#fbody} bytes): ${fbody:0:200}"
  echo "empty (${#ebody} bytes): $ebody"
  run_wrk "$FPORT" "$WARM" "$WORK/warm-full.txt"
  run_wrk "$EPORT" "$WARM" "$WORK/warm-empty.txt"
  for r in $(seq "$RUNS"); do
    for side in empty full; do
      if [[ $side == full ]]; then port=$FPORT; else port=$EPORT; fi
      f=$WORK/wrk-st-$side-$r.txt
      run_wrk "$port" "$SECS" "$f" || { cat "$f" >&2; die "wrk failed"; }
      # a slow answer is a result here, not a void run: wrk's timeouts (2 s)
      # are counted and reported, other errors are not expected
      bad=$(wrk_bad "$f") tmo=$(awk '/Socket errors/ { gsub(/,/, ""); print $NF }' "$f")
      (( bad - ${tmo:-0} == 0 )) || { cat "$f" >&2; die "status $side: $bad non-2xx answers or socket errors"; }
      ST_TIMEOUTS=$(( ${ST_TIMEOUTS:-0} + ${tmo:-0} ))
      if [[ $side == full ]]; then ST_RPS_F+=("$(wrk_rps "$f")") ST_P99_F+=("$(wrk_p99 "$f")")
      else ST_RPS_E+=("$(wrk_rps "$f")") ST_P99_E+=("$(wrk_p99 "$f")"); fi
      echo "status run $r $side: $(wrk_rps "$f") req/s, p99 $(wrk_p99 "$f") us, ${tmo:-0} timeouts (load $(load))"
    done
  done
  stop_pid "$FPID"
  stop_pid "$EPID"
fi

echo "load after: $(load)"

# --- summary ----------------------------------------------------------------
med() { printf '%s\n' "$@" | median; }
echo
echo "raw:"
want 1 && {
  echo "  req/s    serve: ${RPS_H[*]}  bare: ${RPS_B[*]}"
  echo "  p99 us   serve: ${P99_H[*]}  bare: ${P99_B[*]}"
  echo "  p50 us   serve: ${P50_H[*]}  bare: ${P50_B[*]}"
  echo "  CPU us/request (server process, all threads) serve: ${CPU_H[*]}  bare: ${CPU_B[*]}"
}
[[ ${#IDLE_R[@]} -gt 0 ]] && echo "  idle RSS KB (bot: $TG_ON, schedule: $SCHED_ON): ${IDLE_R[*]}"
[[ ${#REQ_R[@]} -gt 0 ]] && echo "  RSS KB after requests: ${REQ_R[*]}"
want 4 && echo "  status with a $STATUS_TASKS-task session: req/s ${ST_RPS_F[*]}, p99 us ${ST_P99_F[*]}; empty: req/s ${ST_RPS_E[*]}, p99 us ${ST_P99_E[*]}"
[[ ${#SESS_R[@]} -gt 0 ]] && echo "  RSS KB with $NSESS parked: ${SESS_R[*]} (before: ${BASE_R[*]}); CPU % while parked: ${SESS_CPU[*]}"
echo

# rows as tab-separated fields, through summary_row (bench/shared.sh);
# a line without tabs (a note) is printed as it is
fmt="%s\t%s\t%s\t%s\t%s\t%s\n"
rows() {
  local f
  while IFS=$'\t' read -r -a f; do
    if [[ ${#f[@]} -ge 6 ]]; then summary_row "${f[@]}"; else printf '%s\n' "${f[*]}"; fi
  done
}
BENCH_SUMMARY='' summary_row benchmark measured baseline ratio target result
if want 1; then
  rh=$(med "${RPS_H[@]}") rb=$(med "${RPS_B[@]}") ph=$(med "${P99_H[@]}") pb=$(med "${P99_B[@]}")
  ch=$(med "${CPU_H[@]}") cb=$(med "${CPU_B[@]}")
  awk -v rh="$rh" -v rb="$rb" -v ph="$ph" -v pb="$pb" -v c="$CONNS" -v fmt="$fmt" 'BEGIN {
    printf fmt, "POST /webhook/status, req/s (" c " conns)", sprintf("%.0f req/s", rh), sprintf("%.0f req/s (bare httplib)", rb),
      sprintf("%.2fx", rh / rb), ">= 0.8x", (rh / rb >= 0.8) ? "PASS" : "MISS"
    printf fmt, "POST /webhook/status, p99 (" c " conns)", sprintf("%.2f ms", ph / 1e3), sprintf("%.2f ms (bare httplib)", pb / 1e3),
      sprintf("%.2fx", ph / pb), "< 2 ms", (ph < 2000) ? "PASS" : "MISS"
  }' | rows
fi
if [[ ${#IDLE_R[@]} -gt 0 ]]; then
  what="idle RSS, serve"
  [[ $TG_ON == yes ]] && what+=" + bot"
  [[ $SCHED_ON == yes ]] && what+=" + 1 schedule"
  base=${BARE_IDLE:-0}
  ir=$(med "${IDLE_R[@]}")
  awk -v m="$ir" -v b="$base" -v w="$what" -v fmt="$fmt" 'BEGIN {
    printf fmt, w, sprintf("%.1f MB", m / 1024), (b > 0) ? sprintf("%.1f MB (bare httplib)", b / 1024) : "-",
      (b > 0) ? sprintf("%.2fx", m / b) : "-", "< 15 MB", (m < 15 * 1024) ? "PASS" : "MISS" }' | rows
  if [[ ${#REQ_R[@]} -gt 0 ]]; then
    qr=$(med "${REQ_R[@]}")
    awk -v m="$qr" -v b="$base" -v fmt="$fmt" 'BEGIN {
      printf fmt, "  same, idle again after a 2 s wrk burst", sprintf("%.1f MB", m / 1024), (b > 0) ? sprintf("%.1f MB (bare, idle)", b / 1024) : "-",
        (b > 0) ? sprintf("%.2fx", m / b) : "-", "< 15 MB", (m < 15 * 1024) ? "PASS" : "MISS" }' | rows
  fi
fi
if [[ ${#SESS_R[@]} -gt 0 ]]; then
  sr=$(med "${SESS_R[@]}") br=$(med "${BASE_R[@]}")
  awk -v m="$sr" -v b="$br" -v n="$NSESS" -v fmt="$fmt" 'BEGIN {
    printf fmt, "RSS, " n " sessions waiting for approval", sprintf("%.1f MB", m / 1024), sprintf("%.1f MB (same, 0 sessions)", b / 1024),
      sprintf("%.2fx", m / b), "< 25 MB", (m < 25 * 1024) ? "PASS" : "MISS"
    printf "(%.0f KB per parked session)\n", (m - b) / n }' | rows
fi
if want 1; then
  awk -v ch="$ch" -v cb="$cb" -v pi="${PLAIN_IDLE:-0}" 'BEGIN {
    printf "(server CPU per request, all threads: serve %.1f us vs bare %.1f us = %.2fx; idle RSS of serve without bot/schedule %.1f MB)\n",
      ch, cb, ch / cb, pi / 1024 }'
fi
if want 4; then
  sf=$(med "${ST_RPS_F[@]}") se=$(med "${ST_RPS_E[@]}") pf=$(med "${ST_P99_F[@]}") pe=$(med "${ST_P99_E[@]}")
  awk -v sf="$sf" -v se="$se" -v pf="$pf" -v pe="$pe" -v n="$STATUS_TASKS" -v t="${ST_TIMEOUTS:-0}" -v fmt="$fmt" 'BEGIN {
    printf fmt, "POST /webhook/status, " n "-task session, req/s", sprintf("%.0f req/s", sf), sprintf("%.0f req/s (no session)", se),
      sprintf("%.3fx", sf / se), "-", "-"
    printf fmt, "POST /webhook/status, " n "-task session, p99", sprintf("%.2f ms%s", pf / 1e3, t > 0 ? " (" t " timeouts)" : ""), sprintf("%.2f ms (no session)", pe / 1e3),
      sprintf("%.2fx", pf / pe), "-", "-" }' | rows
fi
[[ ${#SESS_CPU[@]} -gt 0 ]] && echo "(CPU of serve while $NSESS sessions wait: $(med "${SESS_CPU[@]}")% of a core)"
exit 0
