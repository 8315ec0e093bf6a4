#!/usr/bin/env bash
# Import the n8n flows of workflows/n8n/ and their Telegram credential into an
# n8n instance with its own CLI, and publish (activate) them.
#
# The flows' Telegram nodes name the credential by id (`orch-telegram-bot`, in
# workflows/n8n/credentials.json); the credential is imported first, with the
# bot token filled in from the environment, so that the flows can activate.
# Each flow has a fixed top-level id: importing again updates it in place.
#
# Run it with the n8n CLI of the instance (same N8N_USER_FOLDER or database,
# same N8N_ENCRYPTION_KEY), then start or restart `n8n start`: a running n8n
# does not see what the CLI changed.
#
# Usage: TELEGRAM_BOT_TOKEN=... bash scripts/n8n-import.sh
# Env:   TELEGRAM_BOT_TOKEN  the bot's token (required)
#        TELEGRAM_API_BASE   the Bot API server (default https://api.telegram.org)
#        N8N                 the n8n command (default: n8n on PATH)
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../workflows/n8n" && pwd)"
FLOWS=(orchestrator-to-telegram.json telegram-to-orchestrator.json daily-startup.json)
N8N="${N8N:-n8n}"

die() { echo "n8n-import: error: $*" >&2; exit 1; }

[ -n "${TELEGRAM_BOT_TOKEN:-}" ] || die "TELEGRAM_BOT_TOKEN is not set (the token of the bot the flows use)"
command -v jq >/dev/null 2>&1 || die "jq not found on PATH"
command -v "$N8N" >/dev/null 2>&1 || die "n8n command '$N8N' not found (set N8N to the n8n executable)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/n8n-import.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# the token never lands in the repository: a private copy, removed on exit
(umask 077
 jq --arg token "$TELEGRAM_BOT_TOKEN" --arg base "${TELEGRAM_API_BASE:-https://api.telegram.org}" \
    'map(if .id == "orch-telegram-bot" then .data.accessToken = $token | .data.baseUrl = $base else . end)' \
    "$DIR/credentials.json" >"$tmp/credentials.json")

"$N8N" import:credentials --input="$tmp/credentials.json"
mkdir "$tmp/flows"
ids=()
for f in "${FLOWS[@]}"; do
  id=$(jq -er '.id | strings' "$DIR/$f") || die "$DIR/$f: no top-level \"id\""
  cp "$DIR/$f" "$tmp/flows/"
  ids+=("$id")
done
"$N8N" import:workflow --separate --input="$tmp/flows"
for id in "${ids[@]}"; do
  "$N8N" publish:workflow --id="$id"
done
echo "n8n-import: imported and published ${FLOWS[*]}; (re)start n8n to activate them"
