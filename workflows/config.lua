-- orch-host configuration. Every key is optional (defaults in
-- scripts/orch/config.lua); environment variables and .env override these
-- (see `orch-host doctor` for the effective values and where they came from).
return {
  orchestrator = {
    approval_mode = "required",            -- required | auto | manual
    checkpoint_after = { "database", "deployment" },
    auto_approve = { "documentation", "testing" },
    pause_stops_agent = false,             -- true: `pause` stops the running agent at once
    approval_timeout = 0,                  -- seconds an approval waits; 0 waits forever
    on_approval_timeout = "pause",         -- then: pause (the default) | skip | approve
  },
  claude = {
    path = "claude",                       -- or CLAUDE_CLI_PATH
    timeout = 1800,                        -- per task, seconds (CLAUDE_TIMEOUT_SEC)
    permission_mode = "acceptEdits",
    disallowed_tools = { "Bash(git commit:*)", "Bash(git push:*)", "Bash(git add:*)",
                         "Bash(git reset:*)", "Bash(rm -rf:*)" },
  },
  paths = {
    tasks_dir = "tasks",
    logs_dir = "logs",
    state_db = "state/orch.db",
    results_dir = "results",
  },
  notify = {
    n8n_url = "",                          -- or N8N_NOTIFY_URL
    -- More sinks, and which sinks get what (README, "Notifications"); without
    -- routes every message goes to n8n and the TELEGRAM_CHAT_ID chats.
    -- sinks = { oncall = { kind = "telegram", chat_id = -100200300 } },
    -- routes = {
    --   { types = { "progress" }, sinks = { "n8n" } },              -- progress only to n8n
    --   { types = { "error" }, sinks = { "default", "oncall" } },   -- failures also to on-call
    -- },
  },
  budget = { max_cost_usd = 0, warn_at = 0.75 },
  -- USD per million tokens, for the estimated cost of an agent stopped before claude
  -- reported its own (README, "Budget"); this list replaces the defaults whole:
  -- budget = { max_cost_usd = 0, warn_at = 0.75, prices = {
  --   { match = "sonnet", input = 3, output = 15, cache_write = 3.75, cache_read = 0.30 },
  --   { input = 15, output = 75, cache_write = 18.75, cache_read = 1.50 },  -- any other model
  -- } },
  -- Sessions that `orch-host serve` starts by itself (workflows/lib/schedule.lua).
  -- tz is required: "UTC" or a fixed offset such as "+01:00" (no DST rules).
  -- schedules = {
  --   { name = "weekdays", cron = "0 9 * * 1-5", tz = "UTC",
  --     args = { task_file = "tasks/standing.md", auto_approve = false } },  -- no task_file: today's file
  -- },
}
