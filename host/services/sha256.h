// SHA-256 (FIPS 180-4) of bytes, as lowercase hex: the content hash of an
// inbox task file (orch.sha256), the value `sha256sum` prints. Lua-free.
#pragma once
#include <string>
#include <string_view>

namespace orch {

std::string sha256_hex(std::string_view data);

}  // namespace orch
