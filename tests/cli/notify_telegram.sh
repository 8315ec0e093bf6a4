#!/usr/bin/env bash
# The Telegram sink against a stand-in Bot API on loopback
# (fixtures/fake_bot_api.py): TELEGRAM_CHAT_ID lists three chats, so each
# notification goes to three sinks.
# - chat 1001: every notification once, in order, as sendMessage with
#   chat_id, text (telegram_text when given) and the inline keyboard made
#   from `buttons`, link previews off;
# - chat -1002: the first request gets 429 retry_after=1; it is retried and
#   every notification still arrives once, in order;
# - chat 400: 400 Bad Request: each notification is tried once and never
#   again (failed for good), and the run still ends cleanly.
# The bot token is in every request path and in the 400 replies, and never in
# the logs directory, the run's output or the outbox's error column.
source "$(dirname "$0")/lib.bash"

TOKEN="123456789:AAfake-SECRET_token-for-tests"
rm -f "$T/ready"
touch "$T/calls"
python3 "$ORCH_SRC/tests/cli/fixtures/fake_bot_api.py" 0 "$T/calls" "$T/ready" >"$T/api.log" 2>&1 &
BG_PIDS+=($!)
wait_for test -s "$T/ready"
export TELEGRAM_BOT_TOKEN=$TOKEN TELEGRAM_CHAT_ID="1001, -1002,400" \
       TELEGRAM_API_BASE="http://127.0.0.1:$(cat "$T/ready")"
cat >"$T/config.lua" <<'LUA'
return { notify = { flush_seconds = 60 } }
LUA

bg_run "$T/run.out" orch --config "$T/config.lua" run "$ORCH_SRC/tests/cli/fixtures/notify_buttons.lua"
rc=$(bg_wait "$T/run.out")
[ "$rc" = 0 ] || { cat "$T/run.out" >&2; fail "expected exit 0, got $rc"; }

python3 - "$T/calls" "$TOKEN" <<'PY' || fail "the Bot API calls are not as expected (above)"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
token = sys.argv[2]
bad = []
for c in calls:
    if c["path"] != "/bot%s/sendMessage" % token:
        bad.append("path " + c["path"])
by_chat = {}
for c in calls:
    by_chat.setdefault(str(c["body"]["chat_id"]), []).append(c["body"])
want_texts = ["Session started", "Approve task 1?", "Done"]
keyboard = {"inline_keyboard": [[{"text": "Approve", "callback_data": "approve:1"},
                                 {"text": "Skip", "callback_data": "skip:1"}],
                                [{"text": "Pause", "callback_data": "pause"}]]}
for chat, sent in sorted(by_chat.items()):
    print("chat %s: %s" % (chat, [b["text"] for b in sent]))
expect = {"1001": want_texts, "-1002": want_texts[:1] + want_texts, "400": want_texts}
for chat, texts in expect.items():
    got = [b["text"] for b in by_chat.get(chat, [])]
    if got != texts:
        bad.append("chat %s got %s, expected %s" % (chat, got, texts))
for chat in ("1001", "-1002"):
    for b in by_chat.get(chat, []):
        if not isinstance(b["chat_id"], int):
            bad.append("chat_id %r is not a number" % b["chat_id"])
        if b.get("disable_web_page_preview") is not True:
            bad.append("link previews not disabled: %s" % b)
        if b["text"] == "Approve task 1?":
            if b.get("reply_markup") != keyboard:
                bad.append("reply_markup %s" % b.get("reply_markup"))
        elif "reply_markup" in b:
            bad.append("a keyboard on %r" % b["text"])
for b in bad:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY

# the token: nowhere in the logs, the run's output or the stored errors
SECRET_PART=AAfake-SECRET
! grep -rlF -- "$SECRET_PART" "$T/logs" "$T/run.out" >&2 || fail "the bot token is in the files above"
python3 - "$ORCH_STATE_DB" "$SECRET_PART" <<'PY' || fail "the outbox rows are not as expected (above)"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
bad = []
for sink, settled, attempts, err in db.execute("SELECT sink, delivered_at, attempts, last_error FROM outbox"):
    if sys.argv[2] in (err or ""):
        bad.append("the token is in the error of a %s row: %s" % (sink, err))
    if settled is None:
        bad.append("a %s row is still pending" % sink)
    if sink == "telegram:400" and (attempts != 1 or not (err or "").startswith("failed: HTTP 400: Bad Request")
                                   or "/bot<redacted>/sendMessage" not in err):
        bad.append("telegram:400 row: attempts %s, error %r" % (attempts, err))
    if sink != "telegram:400" and err is not None:
        bad.append("%s row: error %r" % (sink, err))
sinks = sorted({r[0] for r in db.execute("SELECT sink FROM outbox")})
if sinks != ["telegram:-1002", "telegram:1001", "telegram:400"]:
    bad.append("sinks %s" % sinks)
for b in bad:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
grep -qs "notification #[0-9]* to telegram:400 failed for good (HTTP 400" "$T"/logs/*.log ||
    fail "the daily log does not report the 400 as a permanent failure"
grep -qs "notification to telegram:-1002 failed (HTTP 429" "$T"/logs/*.log ||
    fail "the daily log does not report the 429"
note PASS
