#include "services/env_overlay.h"

#include <cstdlib>
#include <mutex>
#include <string_view>

extern char** environ;

namespace orch {

namespace {

using Overlay = std::map<std::string, std::optional<std::string>, std::less<>>;
std::mutex g_mutex;
Overlay g_overlay;

}  // namespace

void env_overlay_apply(const std::map<std::string, std::optional<std::string>>& changes) {
    std::lock_guard<std::mutex> lock(g_mutex);
    for (const auto& [name, value] : changes) g_overlay[name] = value;
}

std::optional<std::string> env_get(const std::string& name) {
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        auto it = g_overlay.find(name);
        if (it != g_overlay.end()) return it->second;
    }
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
}

std::vector<std::string> env_merged(const std::vector<std::string>& extra) {
    Overlay overlay;
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        overlay = g_overlay;  // usually empty: .env was never reloaded with a change
    }
    auto in_extra = [&extra](std::string_view name) {
        for (const auto& kv : extra)
            if (kv.size() > name.size() && kv[name.size()] == '=' && kv.compare(0, name.size(), name) == 0)
                return true;
        return false;
    };
    std::vector<std::string> out;
    for (char** e = environ; *e; ++e) {
        std::string_view kv = *e;
        std::string_view name = kv.substr(0, kv.find('='));
        if (!in_extra(name) && overlay.find(name) == overlay.end()) out.emplace_back(kv);
    }
    for (const auto& [name, value] : overlay)
        if (value && !in_extra(name)) out.push_back(name + "=" + *value);
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
}

}  // namespace orch
