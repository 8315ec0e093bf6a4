#!/usr/bin/env bash
# bench/stream_rss.sh: the issue's bar "32 agents at once, each streaming
# 10 MB of stream-json: host CPU per MB and peak RSS bounded (< 30 MB) and
# independent of the stream size". The agent is the stand-in in its flood
# mode (8 KB assistant text lines with escapes and UTF-8, then a normal
# result); a JSON task list of 32 independent tasks runs through
# `orch-host run daily.lua --max-concurrent 32`, once with 1 MB per agent and
# once with BENCH_STREAM_MB (10). The baseline, interleaved: `bare_spawn -j 32`
# reading the same streams to EOF. Measured by bench/maxrss: the host's own
# peak (VmHWM, the agents excluded) and its own CPU (utime+stime) per MB.
#
# Knobs (environment): BENCH_STREAM_AGENTS (32), BENCH_STREAM_MB (10),
# plus bench/common.sh's. Exit 0 when it ran.
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
AGENTS=${BENCH_STREAM_AGENTS:-32}
BENCH_TASKS=$AGENTS
# shellcheck source=bench/common.sh
source "$BENCH/common.sh"
MB=${BENCH_STREAM_MB:-10}
command -v python3 >/dev/null || die "python3 is needed (writes the task list)"
unset FAKE_CLAUDE_REPLAY  # it would win over the flood mode

python3 - "$AGENTS" "$WORK/stream.json" <<'PY' || die "cannot write the task list"
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
json.dump({"tasks": [{"id": f"s{k}", "name": f"Stream {k}", "description": "Stand-in streaming agent.",
                      "prompt": f"Document module {k}. Keep it short."} for k in range(1, n + 1)]}, open(path, "w"))
PY

# side SIZE_MB: the bare loop, then the host, over AGENTS agents flooding SIZE_MB each
declare -A HWM CPU BCPU WALL
side() {
  local mb=$1
  export FAKE_CLAUDE_MODE=flood:$mb
  fresh "bare-$mb"
  "$WORK/maxrss" "$WORK/rss-bare-$mb" "$WORK/bare_spawn" -n "$AGENTS" -j "$AGENTS" -p "$WORK/prompt.txt" \
    -C "$CLAUDE_BASE_CWD" "${BARE_ENV[@]}" -- "${AGENT_ARGV[@]}" >"$WORK/bare.out" 2>&1 ||
    { cat "$WORK/bare.out" >&2; die "bare_spawn -j $AGENTS failed"; }
  fresh "host-$mb"
  "$WORK/maxrss" "$WORK/rss-host-$mb" "$ORCH_BIN" --root "$ROOT" run daily.lua --tasks "$WORK/stream.json" \
    --max-concurrent "$AGENTS" --auto-approve --no-input >"$WORK/host-$mb.out" 2>&1 ||
    { tail -20 "$WORK/host-$mb.out" >&2; die "daily.lua over $AGENTS flooding agents failed"; }
  local done
  done=$("$ORCH_BIN" --root "$ROOT" status --json 2>/dev/null | python3 -c \
    'import json,sys; v=json.load(sys.stdin); print(sum(t["status"] == "completed" for t in v["tasks"]))')
  [[ $done == "$AGENTS" ]] || { tail -20 "$WORK/host-$mb.out" >&2; die "$done of $AGENTS streaming tasks completed"; }
  local total=$((AGENTS * mb))
  HWM[$mb]=$(awk '{ printf "%.1f", $4 / 1024 }' "$WORK/rss-host-$mb")
  CPU[$mb]=$(awk -v t="$total" '{ printf "%.2f", $12 * 1e3 / t }' "$WORK/rss-host-$mb")
  BCPU[$mb]=$(awk -v t="$total" '{ printf "%.2f", $12 * 1e3 / t }' "$WORK/rss-bare-$mb")
  WALL[$mb]=$(awk '{ print $6 }' "$WORK/rss-host-$mb")
  echo "stream $AGENTS x $mb MB: host own VmHWM ${HWM[$mb]} MB, own CPU ${CPU[$mb]} ms/MB (wall ${WALL[$mb]} s)" \
    "| bare_spawn own CPU ${BCPU[$mb]} ms/MB (wall $(awk '{ print $6 }' "$WORK/rss-bare-$mb") s)"
}
side 1
side "$MB"

summary_row "$AGENTS agents x $MB MB stream-json: host CPU/MB" "${CPU[$MB]} ms/MB" "${BCPU[$MB]} ms/MB bare_spawn read" \
  "$(awk -v a="${CPU[$MB]}" -v b="${BCPU[$MB]}" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')" "-" "-"
summary_row "$AGENTS agents streaming: host peak RSS, $MB vs 1 MB" "${HWM[$MB]} MB" "${HWM[1]} MB at 1 MB each" \
  "$(awk -v a="${HWM[$MB]}" -v b="${HWM[1]}" 'BEGIN { printf "%.2fx", a / b }')" "< 30 MB" \
  "$(awk -v a="${HWM[$MB]}" 'BEGIN { print (a < 30) ? "PASS" : "MISS" }')"
