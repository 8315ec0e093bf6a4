// The environment as .env last gave it, without setenv(3) after start-up.
// A reload of .env (orch.reload_config) changes the variables it owns here,
// an overlay on the process environment that the host's own lookups
// (env_get: Lua's os.getenv, the PATH search) and every child it starts
// (env_merged) see. The process environment itself stays as it was at
// start-up: other threads (the HTTP server's, the logger's localtime) read
// it at any time, and setenv/unsetenv beside a getenv are undefined. Lua-free;
// safe from any thread.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace orch {

// name -> its new value, or nullopt: unset (a line removed from .env)
void env_overlay_apply(const std::map<std::string, std::optional<std::string>>& changes);
// The overlay's value of name, else the process environment's; nullopt: unset.
std::optional<std::string> env_get(const std::string& name);
// environ with the overlay applied, then extra ("K=V", replacing): a child's environment.
std::vector<std::string> env_merged(const std::vector<std::string>& extra);

}  // namespace orch
