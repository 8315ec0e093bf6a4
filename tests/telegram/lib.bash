# tests/telegram/lib.bash: start tests/telegram/emulator.js from a bash test and
# drive it. Sourced (not a test: ctest runs only the files tests/CMakeLists.txt names).
#
#   source "$ORCH_SRC/tests/telegram/lib.bash"
#   trap tg_cleanup EXIT            # or call tg_cleanup from your own EXIT trap
#   tg_start                        # sets TG_API_BASE, TG_CONTROL, TG_PID, TG_LOG
#   export TELEGRAM_API_BASE=$TG_API_BASE
#   tg_send "$TOKEN" 42 "/start"                  # user 42 writes in chat 42
#   tg_wait "$TOKEN" 42 "Welcome" 60 >/dev/null    # bot replied (no sleeps)
#
# Needs node, curl and jq. Every helper prints the control server's JSON answer
# and returns non-zero on an HTTP error (408 = a wait timed out).
TG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TG_PIDS=()
TG_FDS=()
TG_TMPS=()

# tg_start [emulator.js options...]: start an emulator; wait (up to TG_START_TIMEOUT
# s, 60) for its ready line. Sets TG_API_BASE, TG_CONTROL, TG_PID, TG_LOG (its stderr).
# Several may run at once; each call overwrites the TG_* variables.
tg_start() {
    command -v node >/dev/null || { echo "tg_start: node not found" >&2; return 1; }
    local pkg="$TG_DIR/../../.deps/npm-telegram/node_modules/telegram-test-api"
    if [ ! -f "$pkg/package.json" ] && [ -z "${TELEGRAM_TEST_API_DIR:-}" ]; then
        bash "$TG_DIR/install.sh" >&2 || { echo "tg_start: telegram-test-api could not be installed" >&2; return 1; }
    fi
    local dir n=${#TG_PIDS[@]}
    dir=$(mktemp -d "${TMPDIR:-/tmp}/tg-emulator.XXXXXX")
    TG_TMPS+=("$dir")
    TG_LOG="$dir/emulator.log"
    mkfifo "$dir/out" "$dir/in"
    # stdin is a fifo this shell holds open: if the test dies, even by SIGKILL,
    # the emulator reads EOF and exits (--exit-with-stdin).
    node "$TG_DIR/emulator.js" --exit-with-stdin "$@" <"$dir/in" >"$dir/out" 2>"$TG_LOG" &
    TG_PID=$!
    TG_PIDS+=("$TG_PID")
    local infd outfd line
    exec {infd}>"$dir/in" {outfd}<"$dir/out"
    TG_FDS+=("$infd" "$outfd")
    if ! IFS= read -r -t "${TG_START_TIMEOUT:-60}" -u "$outfd" line || [ -z "$line" ]; then
        echo "tg_start: emulator #$n gave no ready line; its log:" >&2
        cat "$TG_LOG" >&2
        return 1
    fi
    # shellcheck disable=SC2034 # set for the caller
    TG_API_BASE=$(jq -r .api_base <<<"$line")
    TG_CONTROL=$(jq -r .control <<<"$line")
    rm -f "$dir/out" "$dir/in"   # the open descriptors keep the pipes alive
}

# tg_cleanup [--dump-logs]: stop every emulator this shell started (TERM, then KILL
# after 10 s), close the pipes and remove their temp dirs; --dump-logs first prints
# the last 40 lines of each emulator's log to stderr (call it so when the test failed).
tg_cleanup() {
    local p fd d
    for p in "${TG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${TG_PIDS[@]}"; do
        timeout 10 tail -s 0.05 --pid="$p" -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    for fd in "${TG_FDS[@]}"; do exec {fd}>&-; done
    for d in "${TG_TMPS[@]}"; do
        if [ "${1:-}" = --dump-logs ] && [ -s "$d/emulator.log" ]; then
            echo "--- $d/emulator.log (last 40 lines)" >&2
            tail -n 40 "$d/emulator.log" >&2
        fi
        rm -rf "$d"
    done
    TG_PIDS=() TG_FDS=() TG_TMPS=()
}

# tg_ctl METHOD PATH [JSON]: a raw control call (curl fails on HTTP >= 400, printing the body).
tg_ctl() {
    curl -sS --fail-with-body --max-time "${TG_CURL_MAX_TIME:-300}" -X "$1" \
         -H 'content-type: application/json' ${3:+--data-binary "$3"} "$TG_CONTROL$2"
}

# tg_send TOKEN CHAT_ID TEXT [USER_ID]   (USER_ID defaults to CHAT_ID: a private chat)
tg_send() {
    tg_ctl POST /send "$(jq -nc --arg t "$1" --argjson c "$2" --arg x "$3" --argjson u "${4:-$2}" \
                          '{token:$t, chat_id:$c, user_id:$u, text:$x}')"
}
# tg_callback TOKEN CHAT_ID DATA [USER_ID] [MESSAGE_ID]: press an inline button
tg_callback() {
    tg_ctl POST /callback "$(jq -nc --arg t "$1" --argjson c "$2" --arg d "$3" --argjson u "${4:-$2}" \
                              --arg m "${5:-}" \
                              '{token:$t, chat_id:$c, user_id:$u, data:$d} + (if $m == "" then {} else {message_id: ($m|tonumber)} end)')"
}
# tg_wait TOKEN CHAT_ID CONTAINS [TIMEOUT=30] [AFTER_MESSAGE_ID=0]: the first bot message
# newer than AFTER_MESSAGE_ID whose text contains CONTAINS ({"ok":true,"message":{...}}).
tg_wait() {
    tg_ctl POST /wait "$(jq -nc --arg t "$1" --argjson c "$2" --arg x "$3" --argjson s "${4:-30}" --argjson a "${5:-0}" \
                          '{token:$t, chat_id:$c, contains:$x, timeout:$s, after_message_id:$a}')"
}
# tg_bot_messages TOKEN [CHAT_ID]: JSON array of the bot's messages (current text, reply_markup)
tg_bot_messages() {
    tg_ctl GET "/bot-messages?token=$(jq -rn --arg v "$1" '$v|@uri')${2:+&chat_id=$2}"
}
# tg_wait_call TOKEN METHOD [COUNT=1] [TIMEOUT=30]: the bot made COUNT calls of METHOD
tg_wait_call() {
    tg_ctl POST /wait-call "$(jq -nc --arg t "$1" --arg m "$2" --argjson n "${3:-1}" --argjson s "${4:-30}" \
                               '{token:$t, method:$m, count:$n, timeout:$s}')"
}
# tg_wait_confirmed TOKEN UPDATE_ID [TIMEOUT=30]: the bot polled with an offset past UPDATE_ID
tg_wait_confirmed() {
    tg_ctl POST /wait-confirmed "$(jq -nc --arg t "$1" --argjson i "$2" --argjson s "${3:-30}" \
                                    '{token:$t, update_id:$i, timeout:$s}')"
}
# tg_wait_poll TOKEN [TIMEOUT=30]: the bot has a long getUpdates pending (it is up and idle)
tg_wait_poll() {
    tg_ctl POST /wait-poll "$(jq -nc --arg t "$1" --argjson s "${2:-30}" '{token:$t, timeout:$s}')"
}
