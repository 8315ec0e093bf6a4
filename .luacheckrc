-- luacheck: workflows and scripts run with the orch global and no io/os.execute.
std = "luajit"
globals = { "orch" }
not_globals = { "jit" }  -- the host keeps the JIT library to itself (lua.jit)
max_line_length = 120
exclude_files = { "scripts/orch/_meta.lua", "build", ".deps", "demo" }
