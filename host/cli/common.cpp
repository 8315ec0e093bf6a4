#include "cli/cli.h"

#include "services/file_read.h"

#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace orch {

namespace {
constexpr size_t k_dotenv_limit = 1u << 20;  // a .env is a few lines
}  // namespace

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

void load_dotenv(const std::string& path) {
    std::string text;
    ReadError err;
    if (!read_file_limited(path, k_dotenv_limit, text, err)) {
        if (err.code == "not_found") return;  // optional
        throw std::runtime_error(err.message);
    }
    std::istringstream f(text);
    std::string line;
    int n = 0;
    while (std::getline(f, line)) {
        ++n;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        size_t s = line.find_first_not_of(" \t");
        if (s == std::string::npos || line[s] == '#') continue;
        line = line.substr(s);
        if (line.rfind("export ", 0) == 0) line = line.substr(7);
        auto eq = line.find('=');
        if (eq == std::string::npos || eq == 0)
            throw std::runtime_error(path + ":" + std::to_string(n) + ": expected KEY=VALUE");
        std::string key = line.substr(0, eq), value = line.substr(eq + 1);
        while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
        for (char c : key)
            if (!(isalnum(static_cast<unsigned char>(c)) || c == '_'))
                throw std::runtime_error(path + ":" + std::to_string(n) + ": invalid variable name '" + key + "'");
        size_t vs = value.find_first_not_of(" \t");
        value = vs == std::string::npos ? "" : value.substr(vs);
        if (!value.empty() && (value[0] == '"' || value[0] == '\'')) {
            char q = value[0];
            auto end = value.find(q, 1);
            if (end == std::string::npos)
                throw std::runtime_error(path + ":" + std::to_string(n) + ": unterminated quote");
            value = value.substr(1, end - 1);
        } else {
            auto hash = value.find(" #");
            if (hash != std::string::npos) value = value.substr(0, hash);
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
        }
        setenv(key.c_str(), value.c_str(), 0);  // the real environment wins
    }
}

std::string mask_secret(const std::string& v) {
    if (v.empty()) return "";
    if (v.size() <= 8) return "****";
    return v.substr(0, 2) + "****" + v.substr(v.size() - 2);
}

}  // namespace orch
