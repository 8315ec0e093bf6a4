// Reading a file the user named (task files, workflow files, the config,
// answer files, .env, specs) without letting it stall the event loop or fill
// memory. Lua-free.
#pragma once
#include <cstddef>
#include <string>

namespace orch {

// Why a read (or a remove_file) was refused. code: "not_found" (no such file), "too_large"
// (over max_bytes), "io" (anything else: not a regular file, permissions,
// a read error). message names the path: "<path>: not a regular file: a FIFO".
struct ReadError {
    std::string code;
    std::string message;
};

// The default limit of orch.read_file and of the host's own inputs.
constexpr size_t k_read_limit_default = 64u * 1024 * 1024;

// Reads the whole of a regular file into out. The open never blocks (a FIFO
// is refused, not waited on), anything that is not a regular file (FIFO,
// device, socket, directory) is refused before a byte is read, and a file
// over max_bytes is refused from its size, or at byte max_bytes + 1 if it
// grows (or reports no size, as /proc files do) while it is read.
// Never throws (out of memory is an "io" error).
bool read_file_limited(const std::string& path, size_t max_bytes, std::string& out, ReadError& err);

// Removes a file or symlink (the link, not its target); a folder is refused.
// On failure err has the same codes: "not_found", or "io" (permissions, a
// folder), and the message names the path. Never throws.
bool remove_file(const std::string& path, ReadError& err);

// Whether some process has the regular file at path open for writing (a
// task file still being written). Asks the kernel for a read lease, which
// is refused while the file has a writer, and gives it back at once.
// false when it cannot tell: not a regular file, not ours to lease (EACCES),
// a filesystem without leases. SIGIO (a lease break's signal) is ignored
// from the first call on.
bool open_for_writing(const std::string& path);

}  // namespace orch
