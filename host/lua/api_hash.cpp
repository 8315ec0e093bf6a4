// orch.sha256: the SHA-256 of a string, through services/sha256 (the content
// hash of an inbox task file; in Lua it would take a second a megabyte, as the
// JIT is off by default).
#include "lua/internal.h"
#include "services/sha256.h"

namespace orch {

namespace {

// orch.sha256(text) -> 64 lowercase hex digits
int l_sha256(lua_State* L) {
    size_t len;
    const char* data = luaL_checklstring(L, 1, &len);
    std::string hex = sha256_hex(std::string_view(data, len));
    lua_pushlstring(L, hex.data(), hex.size());
    return 1;
}

const luaL_Reg k_hash_functions[] = {
    {"sha256", l_sha256},
    {nullptr, nullptr},
};

}  // namespace

void register_hash_api(lua_State* L) { luaL_register(L, nullptr, k_hash_functions); }

}  // namespace orch
