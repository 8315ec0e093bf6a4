#!/usr/bin/env bash
# The Telegram bot of `orch-host serve` against the telegram-test-api
# emulator on loopback (tests/telegram/emulator.js):
#  1. with Telegram's getUpdates rules (long polling, offset): the user sends
#     /start, gets the formatted session start and the approval request with
#     its buttons, presses Approve (the press is answered), the task runs, and
#     the completion with its progress arrives; a stranger gets nothing; a
#     sticker, an edit, a huge text and an unknown command do no harm;
#  2. with the package's own behaviour (no long polling, offset ignored,
#     every update handed out once): commands are answered exactly once and
#     the poller does not spin.
source "$ORCH_SRC/tests/cli/lib.bash"
source "$ORCH_SRC/tests/telegram/lib.bash"
trap 'rc=$?; if [ $rc -ne 0 ]; then tg_cleanup --dump-logs; else tg_cleanup; fi; _cleanup' EXIT

TOKEN="4242:bot-token-$RANDOM$RANDOM"
ME=1001
STRANGER=2002
export ORCH_TASKS_DIR=$T/tasks
mkdir -p "$ORCH_TASKS_DIR"
task_md "$ORCH_TASKS_DIR/$(date +%F)-tasks.md" 1 "Create baptisms migration" backend "Write it. [key:b1]"
export FAKE_CLAUDE_LEDGER=$T/ledger
touch "$T/ledger"

# --- 1. Telegram's rules
tg_start --token "$TOKEN" >/dev/null
export TELEGRAM_API_BASE=$TG_API_BASE TELEGRAM_BOT_TOKEN=$TOKEN TELEGRAM_CHAT_ID=$ME TELEGRAM_ALLOWED_USERS=$ME
serve_start
tg_wait_poll "$TOKEN" 60 >/dev/null || fail "the bot never polled"

tg_send "$TOKEN" $ME "/start" >/dev/null
tg_wait "$TOKEN" $ME "Orchestrator Starting" 60 >"$T/start.json" || fail "no session start message"
python3 - "$T/start.json" <<'EOF' || fail "session start text: $(cat "$T/start.json")"
import json, sys
m = json.load(open(sys.argv[1]))["message"]
assert "Found 1 task" in m["text"] and "Create baptisms migration" in m["text"], m["text"]
EOF
tg_wait "$TOKEN" $ME "Approval needed" 60 >"$T/approval.json" || fail "no approval request"
DATA=$(python3 - "$T/approval.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))["message"]
rows = m["reply_markup"]["inline_keyboard"]
texts = [b["text"] for row in rows for b in row]
assert any("Approve" in t for t in texts) and any("Skip" in t for t in texts), texts
print(next(b["callback_data"] for row in rows for b in row if "Approve" in b["text"]))
EOF
) || fail "approval buttons: $(cat "$T/approval.json")"
expect_eq "$(grep -c . "$T/ledger")" 0 "agent runs before the button press"

tg_callback "$TOKEN" $ME "$DATA" >/dev/null || fail "pressing Approve failed"
tg_wait_call "$TOKEN" answerCallbackQuery 1 60 >/dev/null || fail "the button press was not answered"
# the request loses its buttons and says who decided
APPROVAL_ID=$(jq .message.message_id "$T/approval.json")
tg_wait "$TOKEN" $ME "Approved by" 60 >/dev/null || fail "the approval request was not marked decided"
tg_bot_messages "$TOKEN" $ME | jq -e --argjson id "$APPROVAL_ID" \
    '.[] | select(.message_id == $id) | (.reply_markup == null or .reply_markup.inline_keyboard == null)' >/dev/null \
    || fail "the approval request kept its buttons: $(tg_bot_messages "$TOKEN" $ME | jq -c --argjson id "$APPROVAL_ID" '.[] | select(.message_id == $id)')"
tg_wait "$TOKEN" $ME "Task 1/1 Complete" 60 >"$T/done.json" || fail "no completion message"
grep -q 'Progress: 1/1 finished (100%)' "$T/done.json" || fail "completion without progress: $(cat "$T/done.json")"
wait_for sj_true "s['status'] == 'completed'"
expect_eq "$(grep -c '^start b1' "$T/ledger")" 1 "the task ran once"
# pressing the same button again (a stale client still shows it): answered, nothing runs
tg_callback "$TOKEN" $ME "$DATA" $ME "$APPROVAL_ID" >/dev/null || fail "the stale press could not be sent"
tg_wait_call "$TOKEN" answerCallbackQuery 2 60 >"$T/answers.json" || fail "the stale press was not answered"
expect_eq "$(grep -c '^start b1' "$T/ledger")" 1 "a stale press ran the task again"
# the press is refused, saying why: its request was decided
jq -e '.calls[1].params.text | test("already decided")' "$T/answers.json" >/dev/null \
    || fail "the stale press's answer: $(jq -c '.calls[1].params' "$T/answers.json")"

# /status and /help answer the user
tg_send "$TOKEN" $ME "/status" >/dev/null
tg_wait "$TOKEN" $ME "Orchestrator Status" 60 >/dev/null || fail "no /status reply"
# another bot's command is not ours (the emulator's bot is @TestNameBot, getMe)
u=$(tg_send "$TOKEN" $ME "/help@OtherBot" | jq .update_id)
tg_wait_confirmed "$TOKEN" "$u" 60 >/dev/null || fail "the bot did not get past /help@OtherBot"
tg_send "$TOKEN" $ME "/help@TestNameBot" >/dev/null
tg_wait "$TOKEN" $ME "/progress <task_id>" 60 >/dev/null || fail "no /help reply"
expect_eq "$(tg_bot_messages "$TOKEN" $ME | jq '[.[] | select(.text | test("/progress <task_id>"))] | length')" 1 \
    "/help replies (one for @TestNameBot, none for @OtherBot)"
grep -q "ignored /help@OtherBot" "$T/logs/$(date +%F).log" || fail "/help@OtherBot is not logged as ignored"

# a stranger: the update is consumed, nothing is answered, the log says so
u=$(tg_send "$TOKEN" $STRANGER "/start" | jq .update_id)
tg_wait_confirmed "$TOKEN" "$u" 60 >/dev/null || fail "the bot did not get past the stranger's update"
expect_eq "$(tg_bot_messages "$TOKEN" $STRANGER | jq length)" 0 "replies to a stranger"
grep -q "ignored a message from user $STRANGER" "$T/logs/$(date +%F).log" || fail "the stranger is not logged"
expect_eq "$(orch sessions --json | jq length)" 1 "sessions after the stranger's /start"

# odd updates: a sticker, an edit, a huge text, an unknown command
tg_ctl POST /send "$(jq -nc --arg t "$TOKEN" --argjson c $ME '{token:$t, chat_id:$c, user_id:$c, sticker:true}')" >/dev/null
tg_wait "$TOKEN" $ME "only understand text" 60 >/dev/null || fail "no answer to a sticker"
tg_ctl POST /send "$(jq -nc --arg t "$TOKEN" --argjson c $ME '{token:$t, chat_id:$c, user_id:$c, text:"/answer x", text_length:100000}')" >/dev/null \
    || fail "could not send a huge text"
tg_send "$TOKEN" $ME "/frobnicate" >/dev/null
tg_wait "$TOKEN" $ME "Unknown command /frobnicate" 60 >/dev/null || fail "no answer to an unknown command"
tg_send "$TOKEN" $ME "/logs 3" >/dev/null
tg_wait "$TOKEN" $ME "Recent Logs" 60 >/dev/null || fail "the bot stopped answering after odd updates"
if grep -rqa -- "$TOKEN" "$T/logs" "$T/state"; then fail "the bot token appears in logs or state"; fi
expect_eq "$(serve_stop)" 0 "serve exit code"

# --- 2. the package's own behaviour: no long polling, offset ignored
tg_start --token "$TOKEN" --mode package >/dev/null
export TELEGRAM_API_BASE=$TG_API_BASE
serve_start
tg_send "$TOKEN" $ME "/help" >/dev/null
tg_wait "$TOKEN" $ME "Orchestrator Commands" 60 >"$T/help.json" || fail "no /help reply (short polling)"
first=$(jq .message.message_id "$T/help.json")
tg_send "$TOKEN" $ME "/status" >/dev/null
tg_wait "$TOKEN" $ME "Orchestrator Status" 60 "$first" >/dev/null || fail "no /status reply (short polling)"
# each command answered once: wait for one more round trip, then count
tg_send "$TOKEN" $ME "/logs 1" >/dev/null
tg_wait "$TOKEN" $ME "Recent Logs" 60 "$first" >/dev/null || fail "no /logs reply (short polling)"
expect_eq "$(tg_bot_messages "$TOKEN" $ME | jq '[.[] | select(.text | contains("Orchestrator Commands"))] | length')" 1 \
    "/help answered once"
expect_eq "$(tg_bot_messages "$TOKEN" $ME | jq '[.[] | select(.text | contains("Orchestrator Status"))] | length')" 1 \
    "/status answered once"
# the poller waits between empty short polls instead of spinning
polls=$(tg_ctl GET /calls | jq '[.[] | select(.method == "getUpdates")] | length' 2>/dev/null || echo 0)
note "getUpdates calls in package mode: $polls"
expect_eq "$(serve_stop)" 0 "serve exit code"
note ok
