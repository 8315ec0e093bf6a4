-- sha256: the content hash of an inbox task file (lib/inbox_task's
-- inbox.sha), for the modules that compare a file's text with it
-- (lib/inbox_queue's quick check). The hashing is the host's orch.sha256
-- (host/services/sha256: a Lua one took a second a megabyte with the JIT off).
-- M.hex(text) -> 64 lowercase hex digits, what `sha256sum` prints
local M = {}

function M.hex(text) return orch.sha256(text) end

return M
