-- bench/webhook_status.lua: wrk script for bench/serve.sh. Every request is
-- POST {"secret": ...} with Content-Type: application/json -- the webhook
-- API's status call, which `orch-host serve` runs through the Lua route
-- (workflows/serve.lua) and the bare server answers with a fixed body.
-- BENCH_SECRET (default "x") must match the server's WEBHOOK_SECRET.
-- No response() hook: it would make wrk parse every reply, client CPU taken
-- from the server on this 2-core machine; wrk counts non-2xx answers itself.
local secret = os.getenv("BENCH_SECRET") or "x"
wrk.method = "POST"
wrk.body = '{"secret":"' .. secret .. '"}'
wrk.headers["Content-Type"] = "application/json"
