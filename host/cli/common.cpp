#include "cli/cli.h"

#include <cstdlib>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace orch {

bool Args::has(const std::string& name) const {
    for (auto& [k, v] : options)
        if (k == name) return true;
    return false;
}

std::string Args::get(const std::string& name, const std::string& dflt) const {
    for (auto& [k, v] : options)
        if (k == name) return v;
    return dflt;
}

namespace {
bool is_dir(const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
std::string absolute(const std::string& p) {
    char buf[4096];
    if (realpath(p.c_str(), buf)) return buf;
    return p;
}
}  // namespace

// The project folder: --root, else $ORCH_ROOT, else the nearest folder upward
// from the cwd holding workflows/, else the source tree the binary came from.
std::string find_root(const Args& a) {
    std::string r = a.get("root");
    if (r.empty() && getenv("ORCH_ROOT")) r = getenv("ORCH_ROOT");
    if (!r.empty()) {
        if (!is_dir(r + "/workflows")) throw std::runtime_error(r + ": not an orch-host project (no workflows/ folder)");
        return absolute(r);
    }
    std::string dir = absolute(".");
    for (;;) {
        if (is_dir(dir + "/workflows")) return dir;
        auto slash = dir.rfind('/');
        if (slash == std::string::npos || dir == "/") break;
        dir = slash == 0 ? "/" : dir.substr(0, slash);
        if (dir == "/") break;
    }
    if (is_dir(std::string(ORCH_SOURCE_DIR) + "/workflows")) return ORCH_SOURCE_DIR;
    throw std::runtime_error("no orch-host project here: run from a folder with workflows/, or pass --root DIR");
}

std::string mask_secret(const std::string& v) {
    if (v.empty()) return "";
    if (v.size() <= 8) return "****";
    return v.substr(0, 2) + "****" + v.substr(v.size() - 2);
}

}  // namespace orch
