// A folder's whole tree: what it holds, and its removal (the per-agent config
// folders that `orch-host clean agents` prunes). Symlinks are never followed:
// a link is counted and removed as itself. Lua-free; never throws.
#pragma once
#include <string>

namespace orch {

struct TreeInfo {
    bool exists = false;
    bool is_dir = false;
    double newest_mtime = 0;   // the newest mtime of the folder and everything in it (seconds)
    long long bytes = 0;       // the size of its files
    long long entries = 0;     // files, folders and links in it (not the folder itself)
};

// The tree at path (lstat: a symlink at path is one entry, not followed).
// error: why a part could not be read (the rest is still counted).
TreeInfo tree_info(const std::string& path, std::string& error);

// Removes path and everything under it. "/" and "" are refused. error names
// the path that could not be removed. false on any failure.
bool remove_tree(const std::string& path, std::string& error);

}  // namespace orch
