-- components_cli: the components part of `orch-host doctor` and `orch-host
-- status`, run by host/cli/components.cpp as a task (the Ollama probe goes
-- through orch.http). Returns {rows = {{mark=, what=, detail=}}, problems = n};
-- the host prints the rows. The words are lib/components'. args: claude =
-- the host's find (doctor's and status's), ollama = false: no Ollama rows
-- (doctor's Claude CLI part), schedules = true: the schedules' rows
-- (doctor's Schedules part).
local components = require("lib.components")

local args = ...

args = args or {}
local rows, problems = components.rows(orch.config, { claude = args.claude, ollama = args.ollama ~= false,
                                                      schedules = args.schedules == true })
return { rows = rows, problems = problems }
