# Sourced by the tests of a session whose host is killed (kill -9) while its
# one task runs: status_dead_host.sh, report_dead_host.sh.
#   dead_host_start   a day of one long task, its host heartbeating every
#                     0.2 s, running (BG_PID); `started`: the session's start
#   now               the wall clock, seconds
#   past SINCE SECS   whether at least SECS have gone since SINCE
dead_host_start() {
    printf 'return { orchestrator = { heartbeat = 0.2 } }\n' >"$T/config.lua"
    task_md "$T/day.md" 1 "Long work" backend "Work. [fake:slow:60]"
    bg_run "$T/run.out" orch run daily.lua --config "$T/config.lua" --tasks "$T/day.md" --auto-approve --no-input
    wait_for sj_true "s['tasks'][0]['status'] == 'running' and s['host_alive']"
    started=$(sj "s['started_at']")
}
now() { date +%s.%N; }
past() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) - float(sys.argv[2]) >= float(sys.argv[3]) else 1)" \
    "$(now)" "$1" "$2"; }
