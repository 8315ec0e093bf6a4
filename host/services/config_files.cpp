#include "services/config_files.h"
#include "services/env_overlay.h"

#include "services/file_read.h"

#include <cctype>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>

namespace orch {

namespace {
constexpr size_t k_dotenv_limit = 1u << 20;  // a .env is a few lines
}  // namespace

FileStamp stamp_of(const std::string& path) {
    FileStamp s;
    struct stat st;
    if (path.empty() || stat(path.c_str(), &st) != 0) return s;
    s.exists = true;
    s.size = static_cast<long long>(st.st_size);
    s.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
    s.ctime_ns = static_cast<long long>(st.st_ctim.tv_sec) * 1000000000LL + st.st_ctim.tv_nsec;
    s.ino = static_cast<unsigned long long>(st.st_ino);
    s.dev = static_cast<unsigned long long>(st.st_dev);
    return s;
}

std::vector<std::pair<std::string, std::string>> parse_dotenv(const std::string& path, const std::string& text) {
    std::vector<std::pair<std::string, std::string>> out;
    std::istringstream f(text);
    std::string line;
    int n = 0;
    auto bad = [&](const std::string& msg) { return std::runtime_error(path + ":" + std::to_string(n) + ": " + msg); };
    while (std::getline(f, line)) {
        ++n;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        size_t s = line.find_first_not_of(" \t");
        if (s == std::string::npos || line[s] == '#') continue;
        line = line.substr(s);
        if (line.rfind("export ", 0) == 0) line = line.substr(7);
        auto eq = line.find('=');
        if (eq == std::string::npos || eq == 0) throw bad("expected KEY=VALUE");
        std::string key = line.substr(0, eq), value = line.substr(eq + 1);
        while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
        for (char c : key)
            if (!(isalnum(static_cast<unsigned char>(c)) || c == '_')) throw bad("invalid variable name '" + key + "'");
        size_t vs = value.find_first_not_of(" \t");
        value = vs == std::string::npos ? "" : value.substr(vs);
        if (!value.empty() && (value[0] == '"' || value[0] == '\'')) {
            char q = value[0];
            auto end = value.find(q, 1);
            if (end == std::string::npos) throw bad("unterminated quote");
            value = value.substr(1, end - 1);
        } else {
            auto hash = value.find(" #");
            if (hash != std::string::npos) value = value.substr(0, hash);
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
        }
        out.emplace_back(std::move(key), std::move(value));
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> read_dotenv(const std::string& path) {
    std::string text;
    ReadError err;
    if (!read_file_limited(path, k_dotenv_limit, text, err)) {
        if (err.code == "not_found") return {};  // optional
        throw std::runtime_error(err.message);
    }
    return parse_dotenv(path, text);
}

void ConfigFiles::init(std::string dotenv_path, std::string config_path, bool config_must_exist) {
    dotenv_path_ = std::move(dotenv_path);
    config_path_ = std::move(config_path);
    must_exist_ = config_must_exist;
    mark_seen();
}

void ConfigFiles::load_dotenv() {
    for (auto& [key, value] : read_dotenv(dotenv_path_)) {
        // the first line of a name counts; the real environment wins
        if (owned_.count(key) || getenv(key.c_str())) continue;
        setenv(key.c_str(), value.c_str(), 1);
        owned_[key] = value;
    }
}

bool ConfigFiles::changed() const {
    return stamp_of(dotenv_path_) != dotenv_stamp_ || stamp_of(config_path_) != config_stamp_;
}

void ConfigFiles::mark_seen() {
    dotenv_stamp_ = stamp_of(dotenv_path_);
    config_stamp_ = stamp_of(config_path_);
}

DotenvPlan ConfigFiles::plan_dotenv() const {
    DotenvPlan p;
    for (auto& [key, value] : read_dotenv(dotenv_path_)) {
        if (owned_.count(key) == 0 && env_get(key)) continue;  // the real environment's
        p.owned.emplace(key, value);  // the first line of a name counts, as at start
    }
    for (auto& [key, value] : p.owned) {
        auto was = owned_.find(key);
        if (was == owned_.end() || was->second != value) p.changes[key] = value;
    }
    for (auto& [key, value] : owned_)
        if (p.owned.count(key) == 0) p.changes[key] = std::nullopt;
    return p;
}

void ConfigFiles::apply(const DotenvPlan& plan) {
    env_overlay_apply(plan.changes);  // not setenv: other threads read the environment (services/env_overlay.h)
    owned_ = plan.owned;
}

}  // namespace orch
