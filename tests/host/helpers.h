// Shared by the doctest files: temp dirs and small file helpers.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace testutil {

inline std::string temp_dir(const char* tag) {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/orch-test-" + tag + "-XXXXXX";
    char* made = mkdtemp(tmpl.data());
    return made ? made : "";
}

inline void write(const std::string& path, const std::string& data) {
    std::ofstream f(path, std::ios::binary);
    f << data;
}

inline std::string read(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

}  // namespace testutil
