#!/usr/bin/env bash
# A webhook or REST request whose field has the wrong JSON type is 400 naming
# the field by its path in the body and the type it got (docs/webhook-api.md):
# "params": [] is an array, not an object; "command": ["status"] is an array,
# not a string (not a missing command); a short route's top-level field is
# named as it is given (text), one inside "params" as params.text; the REST
# API's top-level by is by. Nothing starts.
source "$(dirname "$0")/lib.bash"

SECRET="webhook-secret-$RANDOM$RANDOM"
export WEBHOOK_SECRET=$SECRET
api_setup types

serve_start

# refused PATH BODY WHAT TEXT: 400, and the reply's message holds TEXT (every
# answer has a status and a message, docs/webhook-api.md)
refused() {
    local path=$1 body=$2 what=$3 want=$4 got
    got=$(req POST "$path" "$body" "${AUTH[@]}")
    check_eq "$got" 400 "$what: HTTP status ($(cat "$T/resp.json"))"
    check_eq "$(rj "r.get('status')")" error "$what: the reply's status"
    got=$(rj "r.get('message') or ''")
    case "$got" in *"$want"*) ;; *) check_eq "$got" "...$want..." "$what: the error" ;; esac
}
S='"secret":"'"$SECRET"'"'

refused /webhook/command "{$S,\"command\":\"status\",\"params\":[]}" "params an empty array" \
    '"params" must be an object, not array'
refused /webhook/command "{$S,\"command\":\"status\",\"params\":\"x\"}" "params a string" \
    '"params" must be an object, not string'
refused /webhook/status "{$S,\"params\":[1]}" "a short route's params an array" \
    '"params" must be an object, not array'
refused /webhook/command "{$S,\"command\":[\"status\"]}" "command an array" \
    '"command" must be a string, not array'
refused /webhook/command "{$S}" "no command" 'missing "command" (answer, approve, cancel,'
refused /webhook/command "{$S,\"command\":null}" "command null: a body's null is no field" 'missing "command"'
refused /api/command '{"command":7}' "REST command a number" '"command" must be a string, not number'
# a short route's field at the top level is named as given; inside params, as params.NAME
refused /webhook/answer "{$S,\"text\":[\"yes\"]}" "top-level text" 'answer: text must be a string, not array'
refused /webhook/answer "{$S,\"params\":{\"text\":5}}" "params.text" 'answer: params.text must be a string, not number'
refused /webhook/approve "{$S,\"task\":{\"a\":1}}" "top-level task" \
    'approve: task must be a string or number, not object'
refused /webhook/command "{$S,\"command\":\"answer\",\"params\":{\"text\":true}}" "command's params.text" \
    'answer: params.text must be a string, not boolean'
refused /api/orchestrate '{"task_file":"x.json","by":123}' "REST top-level by" 'start: by must be a string, not number'

expect_eq "$(orch sessions --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 0 \
    "sessions after the refused requests"
expect_eq "$(serve_stop)" 0 "serve exit code"
finish
