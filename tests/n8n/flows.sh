#!/usr/bin/env bash
# The n8n flows of workflows/n8n/ in the real n8n (tests/n8n/install.sh, pinned,
# cached outside the clone), on loopback with `orch-host serve` (the stand-in
# claude) and the Bot API emulator (tests/telegram/emulator.js):
#  - the credential and the three flows are imported and published by
#    scripts/n8n-import.sh, the README's steps, and all three activate;
#  - the daily start's HTTP call starts a session and the flow takes its
#    "started" branch (a copy of the flow with a webhook in place of the
#    schedule, which n8n cannot run on demand);
#  - orch-host's n8n sink posts the session's notifications to the notify flow
#    and they reach the emulator as sendMessage, the approval request with its
#    buttons; a notification without a message is answered 200;
#  - an Approve press and a /status command posted to the Telegram trigger's
#    webhook (the URL and secret n8n registered with setWebhook; the emulator
#    cannot call webhooks itself) reach orch-host and are answered in Telegram.
# ctest registers it as n8n_flows. KEEP_TMP=1 keeps the temp dir.
source "$ORCH_SRC/tests/cli/lib.bash"
source "$ORCH_SRC/tests/telegram/lib.bash"

N8N_PID=
n8n_stop() {
    [ -n "$N8N_PID" ] || return 0
    # n8n runs in its own process group (setsid): its task runners go with it
    kill -TERM -- "-$N8N_PID" 2>/dev/null
    timeout 30 tail -s 0.2 --pid="$N8N_PID" -f /dev/null 2>/dev/null || kill -KILL -- "-$N8N_PID" 2>/dev/null
    wait "$N8N_PID" 2>/dev/null
    N8N_PID=
}
trap 'rc=$?; n8n_stop; if [ $rc -ne 0 ]; then
        [ -f "$T/n8n.log" ] && { echo "--- n8n.log (last 60 lines)" >&2; tail -n 60 "$T/n8n.log" >&2; }
        tg_cleanup --dump-logs; else tg_cleanup; fi; _cleanup' EXIT

N8N_BIN=$(bash "$ORCH_SRC/tests/n8n/install.sh" | tail -n 1) || fail "n8n could not be installed"
note "n8n $("$N8N_BIN" --version 2>/dev/null | tail -n 1) from $N8N_BIN"

TOKEN="4242:n8n-bot-$RANDOM$RANDOM"
ME=1001
export ORCH_TASKS_DIR=$T/tasks
mkdir -p "$ORCH_TASKS_DIR"
task_md "$ORCH_TASKS_DIR/$(date +%F)-tasks.md" 1 "Create baptisms migration" backend "Write it. [key:b1]"
export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"

# The emulator cannot call a webhook, so setWebhook and friends only answer ok;
# the test reads the URL and secret n8n registered from the recorded calls.
tg_start --token "$TOKEN" --stub-methods setWebhook,getWebhookInfo,deleteWebhook >/dev/null

N8N_PORT=$(free_port)
N8N_URL=http://127.0.0.1:$N8N_PORT
export WEBHOOK_SECRET="n8n-secret-$RANDOM"
export N8N_NOTIFY_URL=$N8N_URL/webhook/orchestrator-notify
serve_start

# n8n: local, quiet, its own folder; the flows read $env
export N8N_USER_FOLDER=$T/n8n N8N_PORT N8N_LISTEN_ADDRESS=127.0.0.1 N8N_HOST=127.0.0.1 N8N_PROTOCOL=http \
       WEBHOOK_URL=$N8N_URL/ N8N_ENCRYPTION_KEY=orch-host-n8n-test-key DB_TYPE=sqlite \
       N8N_DIAGNOSTICS_ENABLED=false N8N_PERSONALIZATION_ENABLED=false N8N_VERSION_NOTIFICATIONS_ENABLED=false \
       N8N_TEMPLATES_ENABLED=false N8N_BLOCK_ENV_ACCESS_IN_NODE=false N8N_RUNNERS_ENABLED=true \
       N8N_SECURE_COOKIE=false GENERIC_TIMEZONE=UTC
export ORCHESTRATOR_URL=$URL TELEGRAM_CHAT_ID=$ME TELEGRAM_ALLOWED_USERS=$ME
mkdir -p "$N8N_USER_FOLDER"

# --- the README's import steps
TELEGRAM_BOT_TOKEN=$TOKEN TELEGRAM_API_BASE=$TG_API_BASE N8N=$N8N_BIN \
    bash "$ORCH_SRC/scripts/n8n-import.sh" >"$T/import.log" 2>&1 || fail "scripts/n8n-import.sh failed: $(tail -n 30 "$T/import.log")"

# the daily start with a webhook in place of its schedule (same node name, so the
# same connections): answered by the flow's last node
jq '.id = "orchDailyStartT1" | .name = "Daily Startup (test trigger)"
    | .nodes |= map(if .type == "n8n-nodes-base.scheduleTrigger"
        then {parameters: {httpMethod: "POST", path: "test-daily-start", responseMode: "lastNode",
                           responseData: "firstEntryJson", options: {}},
              id, name, type: "n8n-nodes-base.webhook", typeVersion: 2, position,
              webhookId: "0f5a3c2e-7d41-4b9e-a6c8-2e1d9b7f3a50"}
        else . end)' "$ORCH_SRC/workflows/n8n/daily-startup.json" >"$T/daily-test.json"
"$N8N_BIN" import:workflow --input="$T/daily-test.json" >>"$T/import.log" 2>&1 || fail "importing the test copy failed"
"$N8N_BIN" publish:workflow --id=orchDailyStartT1 >>"$T/import.log" 2>&1 || fail "publishing the test copy failed"

setsid "$N8N_BIN" start >"$T/n8n.log" 2>&1 &
N8N_PID=$!
WAIT_TIMEOUT=180 wait_for curl -sf --max-time 5 -o /dev/null "$N8N_URL/healthz"

# a notification without a message: answered 2xx, nothing sent (and it tells
# when the production webhooks are registered: 404 until then)
empty_note() {
    curl -s -o "$T/empty.json" -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
         --data-binary '{"message":"","type":"info","ts":1}' "$N8N_NOTIFY_URL" >"$T/empty.code" || true
    [ "$(cat "$T/empty.code")" != 404 ] && [ "$(cat "$T/empty.code")" != 000 ]
}
WAIT_TIMEOUT=180 wait_for empty_note
check_eq "$(cat "$T/empty.code")" 200 "an empty notification's answer ($(cat "$T/empty.json"))"
check_eq "$(jq -r .status "$T/empty.json" 2>/dev/null)" ignored "an empty notification's body"

# every flow activated (a missing credential fails the activation)
for name in "Orchestrator → Telegram" "Telegram → Orchestrator" "Daily Startup"; do
    check "'$name' activated" grep -q "Activated workflow \"$name\"" "$T/n8n.log"
done
check "no activation errors" bash -c "! grep -qi 'failed to activate\|activation error\|does not exist for type' '$T/n8n.log'"

# --- the daily start
code=$(curl -s -o "$T/daily.json" -w '%{http_code}' --max-time 120 -H 'Content-Type: application/json' \
            --data-binary '{}' "$N8N_URL/webhook/test-daily-start") || true
check_eq "$code" 200 "the daily start flow's HTTP status"
check_eq "$(jq -r .status "$T/daily.json")" started "the daily start's answer through the flow ($(cat "$T/daily.json"))"
check_eq "$(orch sessions --json | jq length)" 1 "sessions after the daily start"

# --- notifications through the notify flow
tg_wait "$TOKEN" $ME "Orchestrator Starting" 90 >"$T/start.json" || fail "no session start message through n8n"
tg_wait "$TOKEN" $ME "Approval needed" 90 >"$T/approval.json" || fail "no approval request through n8n"
DATA=$(jq -r '[.message.reply_markup.inline_keyboard[][] | select(.text | contains("Approve")) | .callback_data][0] // empty' "$T/approval.json")
[ -n "$DATA" ] || fail "the approval request has no Approve button: $(cat "$T/approval.json")"
case $DATA in approve:[0-9]*) ;; *) fail "Approve button data (approve:<request id>): $DATA" ;; esac
expect_eq "$(grep -c . "$T/ledger")" 0 "agent runs before the button press"
check_eq "$(tg_bot_messages "$TOKEN" $ME | jq '[.[] | select(.text | contains("Daily start failed"))] | length')" 0 \
         "'Daily start failed' messages"

# --- Telegram → orchestrator, through the Telegram trigger's webhook
tg_ctl GET "/calls?token=$(jq -rn --arg v "$TOKEN" '$v|@uri')&method=setWebhook" >"$T/setwebhook.json"
HOOK=$(jq -r '[.[].params.url][-1] // empty' "$T/setwebhook.json")
HOOK_SECRET=$(jq -r '[.[].params.secret_token][-1] // empty' "$T/setwebhook.json")
[ -n "$HOOK" ] || fail "n8n never called setWebhook: $(cat "$T/setwebhook.json")"
update() {  # update JSON: deliver one Telegram update to n8n as Telegram would
    local code
    code=$(curl -s -o "$T/update.out" -w '%{http_code}' --max-time 60 -H 'Content-Type: application/json' \
                ${HOOK_SECRET:+-H "X-Telegram-Bot-Api-Secret-Token: $HOOK_SECRET"} --data-binary "$1" "$HOOK") || true
    [ "$code" = 200 ] || fail "the Telegram webhook answered $code: $(cat "$T/update.out")"
}
AMID=$(jq .message.message_id "$T/approval.json")
ATEXT=$(jq -r .message.text "$T/approval.json")
update "$(jq -nc --argjson u $ME --argjson mid "$AMID" --arg text "$ATEXT" --arg data "$DATA" \
  '{update_id: 9001, callback_query: {id: "cbq-1", data: $data, chat_instance: "1",
     from: {id: $u, is_bot: false, first_name: "Me", username: "me"},
     message: {message_id: $mid, date: 1, text: $text, chat: {id: $u, type: "private"}}}}')"
tg_wait_call "$TOKEN" answerCallbackQuery 1 90 >/dev/null || fail "the button press was not answered"
tg_wait "$TOKEN" $ME "Task 1/1 Complete" 90 >/dev/null || fail "no completion message through n8n"
wait_for sj_true "s['status'] == 'completed'"
expect_eq "$(grep -c '^start b1' "$T/ledger")" 1 "the task ran once"
wait_for bash -c "curl -s '$TG_CONTROL/bot-messages?token=$(jq -rn --arg v "$TOKEN" '$v|@uri')&chat_id=$ME' \
                  | jq -e --argjson id $AMID '.[] | select(.message_id == \$id) | select(.text | contains(\"Approved by telegram:me\"))' >/dev/null"

# the same button again (a stale client): refused, saying its request was decided; nothing runs
update "$(jq -nc --argjson u $ME --argjson mid "$AMID" --arg text "$ATEXT" --arg data "$DATA" \
  '{update_id: 9003, callback_query: {id: "cbq-2", data: $data, chat_instance: "1",
     from: {id: $u, is_bot: false, first_name: "Me", username: "me"},
     message: {message_id: $mid, date: 1, text: $text, chat: {id: $u, type: "private"}}}}')"
tg_wait_call "$TOKEN" answerCallbackQuery 2 90 >"$T/answers.json" || fail "the stale press was not answered"
check "the stale press is refused as decided ($(jq -c '.calls[1].params' "$T/answers.json"))" \
    jq -e '.calls[1].params.text | test("already decided")' "$T/answers.json"
expect_eq "$(grep -c '^start b1' "$T/ledger")" 1 "the task ran once after the stale press"

update "$(jq -nc --argjson u $ME '{update_id: 9002, message: {message_id: 77, date: 1, text: "/status",
     from: {id: $u, is_bot: false, first_name: "Me", username: "me"}, chat: {id: $u, type: "private"}}}')"
tg_wait "$TOKEN" $ME "Orchestrator Status" 90 >/dev/null || fail "no /status reply through n8n"

check "the bot token stays out of orch-host's logs" bash -c "! grep -rqa -- '$TOKEN' '$T/logs' '$T/state'"
n8n_stop
expect_eq "$(serve_stop)" 0 "serve exit code"
finish
