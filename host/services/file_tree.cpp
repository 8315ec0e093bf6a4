#include "services/file_tree.h"

#include <filesystem>
#include <sys/stat.h>
#include <system_error>

namespace orch {

namespace fs = std::filesystem;

namespace {

double mtime_of(const struct stat& st) {
    return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) / 1e9;
}

}  // namespace

TreeInfo tree_info(const std::string& path, std::string& error) {
    TreeInfo info;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return info;
    info.exists = true;
    info.newest_mtime = mtime_of(st);
    info.is_dir = S_ISDIR(st.st_mode);
    if (!info.is_dir) {
        info.bytes = S_ISREG(st.st_mode) ? st.st_size : 0;
        return info;
    }
    std::error_code ec;
    fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec), end;
    if (ec) {
        error = path + ": " + ec.message();
        return info;
    }
    for (; it != end; it.increment(ec)) {
        if (ec) {
            error = path + ": " + ec.message();
            break;
        }
        const std::string p = it->path().string();
        if (lstat(p.c_str(), &st) != 0) continue;  // gone meanwhile
        ++info.entries;
        if (S_ISREG(st.st_mode)) info.bytes += st.st_size;
        double m = mtime_of(st);
        if (m > info.newest_mtime) info.newest_mtime = m;
    }
    return info;
}

bool remove_tree(const std::string& path, std::string& error) {
    if (path.empty() || fs::path(path).lexically_normal() == "/") {
        error = "refusing to remove '" + path + "'";
        return false;
    }
    std::error_code ec;
    fs::remove_all(path, ec);  // a symlink is removed itself, never followed
    if (ec) {
        error = path + ": " + ec.message();
        return false;
    }
    return true;
}

}  // namespace orch
