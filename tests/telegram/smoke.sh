#!/usr/bin/env bash
# Smoke test of the Telegram test harness (tests/telegram/emulator.js over the
# pinned npm package telegram-test-api), before any bot exists: curl plays the
# bot against the Bot API on loopback, the control server plays the users.
#
# Part 1, --mode telegram (what bot tests use): long-polling getUpdates with
# offset confirmation, a command, an inline keyboard, a button press,
# answerCallbackQuery, editMessageText, a stranger, a sticker, an edited message,
# a long text, the 4096-character limit, callback_data over 64 bytes, a second
# poller (409), a stubbed and an unknown method, a wrong token.
# Part 2, --mode package: pins down what telegram-test-api itself does (offset
# and timeout ignored, each update handed out once, shared update_id counter,
# result null for answerCallbackQuery/editMessageText, HTTP 500 for unknown
# methods), so that a new version that changes it fails here, not in a bot test.
#
# No sleeps: every wait is a blocking control call (/wait, /wait-poll, ...) or a
# `wait` for a curl. The emulators are stopped on exit (trap), and exit by
# themselves if this shell dies (--exit-with-stdin).
# ctest registers it as telegram_emulator_smoke. KEEP_TMP=1 keeps the temp dir.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for c in node curl jq; do command -v "$c" >/dev/null || { echo "FAIL: $c not found on PATH" >&2; exit 1; }; done
# shellcheck source=tests/telegram/lib.bash
source "$HERE/lib.bash"

T=$(mktemp -d "${TMPDIR:-/tmp}/tg-smoke.XXXXXX")
cleanup() {
    local rc=$?
    if [ $rc -ne 0 ]; then tg_cleanup --dump-logs; else tg_cleanup; fi
    if [ "${KEEP_TMP:-0}" = 1 ]; then echo "(kept $T)"; else rm -rf "$T"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASSES=0
fail() { echo "FAIL [telegram smoke]: $*" >&2; exit 1; }
expect_eq() { # NAME GOT WANT
    [ "$2" == "$3" ] || fail "$1: got '$2', want '$3'"
    PASSES=$((PASSES + 1))
}
note() { echo "[telegram smoke] $*"; }

TOKEN="123456:SMOKE-token_x"
ALLOWED=1001      # the user the bot would trust (private chat 1001)
STRANGER=2002     # someone else, in their own private chat

# bot METHOD [JSON]: a Bot API call as the bot; prints "HTTP_STATUS BODY" (never fails on HTTP errors)
bot() {
    local out
    out=$(curl -sS --max-time 120 -o "$T/body" -w '%{http_code}' -H 'content-type: application/json' \
               --data-binary "${2:-{\}}" "$TG_API_BASE/bot$TOKEN/$1") || fail "curl to $1 failed"
    printf '%s %s' "$out" "$(cat "$T/body")"
}
status_of() { echo "${1%% *}"; }
body_of() { echo "${1#* }"; }

########## Part 1: --mode telegram ##########
tg_start --token "$TOKEN" --stub-methods setMyCommands || fail "emulator did not start"
note "emulator (telegram mode): api $TG_API_BASE, control $TG_CONTROL"

r=$(bot getMe)
expect_eq "getMe status" "$(status_of "$r")" 200
expect_eq "getMe username" "$(body_of "$r" | jq -r .result.username)" TestNameBot

r=$(bot getUpdates '{"timeout":0}')
expect_eq "empty short poll" "$(body_of "$r" | jq -c .result)" "[]"

# A long poll that is pending (/wait-poll says so) returns as soon as the user writes.
bot getUpdates '{"timeout":60}' >"$T/poll1" &
poll=$!
tg_wait_poll "$TOKEN" 60 >/dev/null || fail "the long poll never became pending"
sent=$(tg_send "$TOKEN" $ALLOWED "/start now") || fail "control /send failed: $sent"
wait $poll || fail "the long poll failed"
r=$(cat "$T/poll1")
expect_eq "long poll status" "$(status_of "$r")" 200
u=$(body_of "$r" | jq -c '.result[0]')
expect_eq "long poll: one update" "$(body_of "$r" | jq '.result|length')" 1
expect_eq "update_id from /send" "$(jq .update_id <<<"$u")" "$(jq .update_id <<<"$sent")"
expect_eq "command text" "$(jq -r .message.text <<<"$u")" "/start now"
expect_eq "command entity" "$(jq -c '.message.entities' <<<"$u")" '[{"offset":0,"length":6,"type":"bot_command"}]'
expect_eq "from" "$(jq -c '[.message.from.id, .message.chat.id, .message.chat.type, .message.from.is_bot]' <<<"$u")" "[$ALLOWED,$ALLOWED,\"private\",false]"
expect_eq "no internal botToken field" "$(jq '.message|has("botToken")' <<<"$u")" false
id1=$(jq .update_id <<<"$u")

# Not confirmed yet: Telegram hands it out again until an offset passes it.
r=$(bot getUpdates '{}')
expect_eq "redelivered without offset" "$(body_of "$r" | jq -c '[.result[].update_id]')" "[$id1]"
r=$(bot getUpdates "{\"offset\":$((id1 + 1)),\"timeout\":0}")
expect_eq "confirmed by offset" "$(body_of "$r" | jq -c .result)" "[]"
tg_wait_confirmed "$TOKEN" "$id1" 5 >/dev/null || fail "/wait-confirmed did not see offset $((id1 + 1))"
expect_eq "/updates state" "$(tg_ctl GET "/updates?token=$(jq -rn --arg v "$TOKEN" '$v|@uri')" | jq -r '.[0].state')" confirmed
offset=$((id1 + 1))

# The bot answers with an inline keyboard; the test waits for it through the control server.
r=$(bot sendMessage "$(jq -nc --argjson c $ALLOWED '{chat_id:$c, text:"Task 1 needs approval",
      reply_markup:{inline_keyboard:[[{text:"Approve",callback_data:"approve:1"},{text:"Skip",callback_data:"skip:1"}]]}}')")
expect_eq "sendMessage status" "$(status_of "$r")" 200
mid=$(body_of "$r" | jq .result.message_id)
w=$(tg_wait "$TOKEN" $ALLOWED "needs approval" 30) || fail "/wait did not see the bot's message: $w"
expect_eq "/wait message id" "$(jq .message.message_id <<<"$w")" "$mid"
expect_eq "/wait keyboard" "$(jq -c '[.message.reply_markup.inline_keyboard[0][].callback_data]' <<<"$w")" '["approve:1","skip:1"]'
# reply_markup as a JSON string (how form-encoded clients send it) works too
r=$(bot sendMessage "$(jq -nc --argjson c $ALLOWED '{chat_id:$c, text:"string markup",
      reply_markup:({inline_keyboard:[[{text:"X",callback_data:"x"}]]}|tojson)}')")
expect_eq "string reply_markup" "$(body_of "$r" | jq -r '.result.reply_markup.inline_keyboard[0][0].callback_data')" x

# The user presses Approve (the control server finds the message holding that button).
cb=$(tg_callback "$TOKEN" $ALLOWED "approve:1") || fail "control /callback failed: $cb"
expect_eq "callback on the keyboard message" "$(jq .message_id <<<"$cb")" "$mid"
r=$(bot getUpdates "{\"offset\":$offset,\"timeout\":30}")
q=$(body_of "$r" | jq -c '.result[0].callback_query')
expect_eq "callback update_id" "$(body_of "$r" | jq '.result[0].update_id')" "$(jq .update_id <<<"$cb")"
expect_eq "callback data/from/message" "$(jq -c '[.data, .from.id, .message.message_id, .message.chat.id, .message.text, .chat_instance != null]' <<<"$q")" \
          "[\"approve:1\",$ALLOWED,$mid,$ALLOWED,\"Task 1 needs approval\",true]"
expect_eq "callback message keeps the keyboard" "$(jq -c '.message.reply_markup.inline_keyboard[0][0].text' <<<"$q")" '"Approve"'
qid=$(jq -r .id <<<"$q")
offset=$(( $(body_of "$r" | jq '.result[-1].update_id') + 1 ))

r=$(bot answerCallbackQuery "{\"callback_query_id\":\"$qid\",\"text\":\"Approved\"}")
expect_eq "answerCallbackQuery" "$(status_of "$r") $(body_of "$r" | jq -c .result)" "200 true"
r=$(bot answerCallbackQuery "{\"callback_query_id\":\"$qid\"}")
expect_eq "answering twice" "$(status_of "$r") $(body_of "$r" | jq -r .description)" \
          "400 Bad Request: query is too old and response timeout expired or query ID is invalid"
r=$(bot answerCallbackQuery '{"callback_query_id":"no-such-id"}')
expect_eq "unknown query id" "$(status_of "$r")" 400
c=$(tg_ctl GET "/calls?token=$(jq -rn --arg v "$TOKEN" '$v|@uri')&method=answerCallbackQuery")
expect_eq "/calls records answerCallbackQuery" "$(jq -c '[.[].params.callback_query_id][0:1] + [.[0].params.text, .[0].status]' <<<"$c")" "[\"$qid\",\"Approved\",200]"
tg_wait_call "$TOKEN" answerCallbackQuery 3 5 >/dev/null || fail "/wait-call did not count 3 answerCallbackQuery calls"

# The bot edits the message (no reply_markup: Telegram removes the keyboard).
r=$(bot editMessageText "{\"chat_id\":$ALLOWED,\"message_id\":$mid,\"text\":\"Task 1 approved\"}")
expect_eq "editMessageText" "$(status_of "$r") $(body_of "$r" | jq -c '[.result.message_id, .result.text]')" "200 [$mid,\"Task 1 approved\"]"
m=$(tg_bot_messages "$TOKEN" $ALLOWED | jq -c --argjson id "$mid" '.[] | select(.message_id == $id)')
expect_eq "edited text and keyboard gone" "$(jq -c '[.text, .reply_markup, .edit_count]' <<<"$m")" '["Task 1 approved",null,1]'
r=$(bot editMessageText "{\"chat_id\":$ALLOWED,\"message_id\":$mid,\"text\":\"Task 1 approved\"}")
expect_eq "edit to the same content" "$(status_of "$r") $(body_of "$r" | jq -r '.description|startswith("Bad Request: message is not modified")')" "400 true"
r=$(bot editMessageText "{\"chat_id\":$ALLOWED,\"message_id\":99999,\"text\":\"x\"}")
expect_eq "edit of a missing message" "$(status_of "$r") $(body_of "$r" | jq -r .description)" "400 Bad Request: message to edit not found"
out=$(tg_callback "$TOKEN" $ALLOWED "approve:1" 2>/dev/null)
expect_eq "no button left to press" "$?$(jq -r '.error|.[0:14]' <<<"$out" 2>/dev/null)" "22no bot message"
cb=$(tg_callback "$TOKEN" $ALLOWED "approve:1" $ALLOWED "$mid") || fail "pressing a stale button by message_id failed: $cb"
r=$(bot getUpdates "{\"offset\":$offset}")
expect_eq "stale press: data, no keyboard" "$(body_of "$r" | jq -c '.result[0].callback_query | [.data, .message.text, .message.reply_markup]')" \
          '["approve:1","Task 1 approved",null]'
offset=$(( $(body_of "$r" | jq '.result[-1].update_id') + 1 ))

# A stranger, a sticker, an edit, a long text: each arrives in order in one poll.
s1=$(tg_send "$TOKEN" $STRANGER "hello bot") || fail "send as stranger: $s1"
s2=$(tg_ctl POST /send "{\"token\":\"$TOKEN\",\"chat_id\":$ALLOWED,\"sticker\":true}") || fail "sticker: $s2"
s3=$(tg_send "$TOKEN" $ALLOWED "/status") || fail "send /status: $s3"
s4=$(tg_ctl POST /edit "{\"token\":\"$TOKEN\",\"chat_id\":$ALLOWED,\"message_id\":$(jq .message_id <<<"$s3"),\"text\":\"/status all\"}") || fail "edit: $s4"
s5=$(tg_ctl POST /send "{\"token\":\"$TOKEN\",\"chat_id\":$ALLOWED,\"text_length\":5000}") || fail "long text: $s5"
r=$(bot getUpdates "{\"offset\":$offset,\"timeout\":30}")
b=$(body_of "$r")
expect_eq "five updates, in order" "$(jq -c '[.result[].update_id]' <<<"$b")" \
          "$(jq -sc '[.[].update_id]' <<<"$s1$s2$s3$s4$s5")"
expect_eq "stranger" "$(jq -c '.result[0].message | [.from.id, .chat.id, .text]' <<<"$b")" "[$STRANGER,$STRANGER,\"hello bot\"]"
expect_eq "sticker has no text" "$(jq -c '.result[1].message | [has("text"), .sticker.emoji != null]' <<<"$b")" '[false,true]'
expect_eq "edited_message" "$(jq -c '.result[3] | [has("message"), .edited_message.message_id, .edited_message.text, (.edited_message.edit_date > 0)]' <<<"$b")" \
          "[false,$(jq .message_id <<<"$s3"),\"/status all\",true]"
expect_eq "long text length" "$(jq '.result[4].message.text|length' <<<"$b")" 5000
offset=$(( $(jq '.result[-1].update_id' <<<"$b") + 1 ))
r=$(bot getUpdates "{\"offset\":$offset,\"limit\":1}")
expect_eq "limit/offset: nothing left" "$(body_of "$r" | jq -c .result)" "[]"

# Limits Telegram enforces and the package does not.
long4096=$(head -c 4096 /dev/zero | tr '\0' 'a')
r=$(bot sendMessage "{\"chat_id\":$ALLOWED,\"text\":\"$long4096\"}")
expect_eq "4096 characters accepted" "$(status_of "$r")" 200
r=$(bot sendMessage "{\"chat_id\":$ALLOWED,\"text\":\"${long4096}b\"}")
expect_eq "4097 characters refused" "$(status_of "$r") $(body_of "$r" | jq -r .description)" "400 Bad Request: message is too long"
r=$(bot sendMessage "{\"chat_id\":$ALLOWED,\"text\":\"\"}")
expect_eq "empty text refused" "$(status_of "$r")" 400
r=$(bot sendMessage "$(jq -nc --argjson c $ALLOWED --arg d "$(head -c 65 /dev/zero | tr '\0' d)" \
      '{chat_id:$c, text:"k", reply_markup:{inline_keyboard:[[{text:"B",callback_data:$d}]]}}')")
expect_eq "callback_data over 64 bytes" "$(status_of "$r") $(body_of "$r" | jq -r .description)" "400 Bad Request: BUTTON_DATA_INVALID"
r=$(curl -sS -o /dev/null -w '%{http_code}' -H 'content-type: application/json' --data-binary '{x' "$TG_API_BASE/bot$TOKEN/sendMessage")
expect_eq "malformed JSON" "$r" 400
# query-string parameters (Telegram accepts them; the package alone would not)
r=$(curl -sS "$TG_API_BASE/bot$TOKEN/sendMessage?chat_id=$ALLOWED&text=via%20query")
expect_eq "query-string parameters" "$(jq -r .result.text <<<"$r")" "via query"

# Two pollers: the newer request wins, the older one gets 409.
bot getUpdates "{\"offset\":$offset,\"timeout\":60}" >"$T/pollA" &
pa=$!
tg_wait_poll "$TOKEN" 60 >/dev/null || fail "poller A never pending"
bot getUpdates "{\"offset\":$offset,\"timeout\":60}" >"$T/pollB" &
pb=$!
wait $pa
expect_eq "older poller gets 409" "$(status_of "$(cat "$T/pollA")")" 409
s=$(tg_send "$TOKEN" $ALLOWED "wake B") || fail "send: $s"
wait $pb
expect_eq "newer poller gets the update" "$(body_of "$(cat "$T/pollB")" | jq -r '.result[0].message.text')" "wake B"

# A method the package lacks: stubbed on request, else the package's own 500.
r=$(bot setMyCommands '{"commands":[{"command":"status","description":"s"}]}')
expect_eq "stubbed setMyCommands" "$(status_of "$r") $(body_of "$r" | jq -c .result)" "200 true"
r=$(bot sendChatAction "{\"chat_id\":$ALLOWED,\"action\":\"typing\"}")
expect_eq "unsupported sendChatAction" "$(status_of "$r") $(body_of "$r" | jq -r '.message|startswith("API method '"'"'sendChatAction'"'"' is not supported")')" "500 true"
r=$(curl -sS -w ' %{http_code}' "$TG_API_BASE/botWRONG:token/getMe")
expect_eq "wrong token (--token)" "$(jq -r .description <<<"${r% *}") ${r##* }" "Unauthorized 401"

# /wait gives up with 408 and shows what the bot did send
out=$(tg_wait "$TOKEN" $ALLOWED "never sent" 1 2>/dev/null)
expect_eq "/wait timeout" "$?$(jq -r .error <<<"$out")" "22timeout"
expect_eq "/wait timeout lists messages" "$(jq '.bot_messages|length > 3' <<<"$out")" true
note "telegram mode ok"

########## Part 2: --mode package (the package's own behaviour) ##########
tg_start --mode package || fail "package-mode emulator did not start"
note "emulator (package mode): api $TG_API_BASE"
p1=$(tg_send "$TOKEN" $ALLOWED "one") || fail "send: $p1"
r=$(bot sendMessage "{\"chat_id\":$ALLOWED,\"text\":\"reply\"}")
p2=$(tg_send "$TOKEN" $ALLOWED "two") || fail "send: $p2"
expect_eq "shared update_id counter (bot message took one)" "$(( $(jq .update_id <<<"$p2") - $(jq .update_id <<<"$p1") ))" 2
t0=$(date +%s)
r=$(bot getUpdates '{"offset":999,"timeout":20}')
expect_eq "package: offset ignored" "$(body_of "$r" | jq -c '[.result[].message.text]')" '["one","two"]'
[ $(( $(date +%s) - t0 )) -lt 15 ] || fail "package getUpdates waited for its timeout"
expect_eq "package: botToken leaks into message" "$(body_of "$r" | jq -r '.result[0].message.botToken')" "$TOKEN"
r=$(bot getUpdates '{"offset":0}')
expect_eq "package: fetched updates are gone" "$(body_of "$r" | jq -c .result)" "[]"
r=$(bot sendMessage "$(jq -nc --argjson c $ALLOWED '{chat_id:$c, text:"pick", reply_markup:{inline_keyboard:[[{text:"A",callback_data:"a"}]]}}')")
pm=$(body_of "$r" | jq .result.message_id)
tg_callback "$TOKEN" $ALLOWED a >/dev/null || fail "package-mode callback"
r=$(bot getUpdates)
expect_eq "package: callback_query" "$(body_of "$r" | jq -c '.result[0].callback_query | [.data, .message.message_id]')" "[\"a\",$pm]"
r=$(bot answerCallbackQuery '{"callback_query_id":"anything"}')
expect_eq "package: answerCallbackQuery result" "$(status_of "$r") $(body_of "$r" | jq -c .result)" "200 null"
r=$(bot editMessageText "{\"chat_id\":$ALLOWED,\"message_id\":$pm,\"text\":\"picked\"}")
expect_eq "package: editMessageText result" "$(status_of "$r") $(body_of "$r" | jq -c .result)" "200 null"
expect_eq "package: edit keeps the keyboard" "$(tg_bot_messages "$TOKEN" $ALLOWED | jq -c --argjson id "$pm" '.[] | select(.message_id == $id) | [.text, .reply_markup.inline_keyboard[0][0].text]')" '["picked","A"]'
r=$(bot editMessageText "{\"chat_id\":$ALLOWED,\"message_id\":99999,\"text\":\"x\"}")
expect_eq "package: edit of a missing message still ok" "$(status_of "$r")" 200
r=$(bot sendChatAction "{\"chat_id\":$ALLOWED}")
expect_eq "package: unknown method" "$(status_of "$r") $(body_of "$r" | jq -r 'has("ok")')" "500 false"
r=$(bot sendMessage "{\"chat_id\":$ALLOWED,\"text\":\"${long4096}b\"}")
expect_eq "package: no length limit" "$(status_of "$r")" 200
out=$(tg_ctl POST /edit "{\"token\":\"$TOKEN\",\"chat_id\":$ALLOWED,\"text\":\"x\"}" 2>/dev/null)
expect_eq "package: /edit unavailable" "$?" 22
note "package mode ok"

note "PASS ($PASSES checks)"
