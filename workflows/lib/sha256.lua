-- sha256: SHA-256 (FIPS 180-4) of a string, in Lua with LuaJIT's bit
-- library: the content hash of an inbox task file (lib/inbox_task), the same
-- value `sha256sum` prints. About 20 MB/s; a task file is at most 1 MB.
-- M.hex(text) -> 64 lowercase hex digits
-- Pure: no io/os/debug, no globals.
local bit = require("bit")

local M = {}

local band, bor, bxor, bnot, rshift, lshift, ror, tobit, tohex =
  bit.band, bit.bor, bit.bxor, bit.bnot, bit.rshift, bit.lshift, bit.ror, bit.tobit, bit.tohex
local byte, rep, char, floor = string.byte, string.rep, string.char, math.floor

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}
for i = 1, 64 do K[i] = tobit(K[i]) end

-- One 64-byte block of s at offset i (1-based) into the state H.
local function block(H, w, s, i)
  for j = 0, 15 do
    local a, b, c, d = byte(s, i + 4 * j, i + 4 * j + 3)
    w[j] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
  end
  for j = 16, 63 do
    local x, y = w[j - 15], w[j - 2]
    local s0 = bxor(ror(x, 7), ror(x, 18), rshift(x, 3))
    local s1 = bxor(ror(y, 17), ror(y, 19), rshift(y, 10))
    w[j] = tobit(w[j - 16] + s0 + w[j - 7] + s1)
  end
  local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
  for j = 0, 63 do
    local t1 = tobit(h + bxor(ror(e, 6), ror(e, 11), ror(e, 25)) + bxor(band(e, f), band(bnot(e), g)) + K[j + 1] + w[j])
    local t2 = tobit(bxor(ror(a, 2), ror(a, 13), ror(a, 22)) + bxor(band(a, b), band(a, c), band(b, c)))
    h, g, f, e, d, c, b, a = g, f, e, tobit(d + t1), c, b, a, tobit(t1 + t2)
  end
  H[1], H[2], H[3], H[4] = tobit(H[1] + a), tobit(H[2] + b), tobit(H[3] + c), tobit(H[4] + d)
  H[5], H[6], H[7], H[8] = tobit(H[5] + e), tobit(H[6] + f), tobit(H[7] + g), tobit(H[8] + h)
end

local function be32(x)
  return char(band(rshift(x, 24), 255), band(rshift(x, 16), 255), band(rshift(x, 8), 255), band(x, 255))
end

function M.hex(text)
  assert(type(text) == "string", "sha256.hex: text must be a string")
  local n = #text
  local H = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
  for i = 1, 8 do H[i] = tobit(H[i]) end
  local w = {}
  local whole = n - n % 64
  for i = 1, whole, 64 do block(H, w, text, i) end
  -- the last bytes, 0x80, zeros, the length in bits as 64 bits big-endian
  local bits = n * 8
  local tail = text:sub(whole + 1) .. "\128"
  tail = tail .. rep("\0", (56 - #tail) % 64) .. be32(floor(bits / 4294967296)) .. be32(bits % 4294967296)
  for i = 1, #tail, 64 do block(H, w, tail, i) end
  local out = {}
  for i = 1, 8 do out[i] = tohex(H[i], 8) end
  return table.concat(out)
end

return M
