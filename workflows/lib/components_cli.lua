-- components_cli: the components part of `orch-host doctor` and `orch-host
-- status`, run by host/cli/components.cpp as a task (the Ollama probe goes
-- through orch.http). Returns {rows = {{mark=, what=, detail=}}, problems = n};
-- the host prints the rows. The words are lib/components'.
local components = require("lib.components")

local args = ...

local rows, problems = components.rows(orch.config, { claude = args and args.claude })
return { rows = rows, problems = problems }
