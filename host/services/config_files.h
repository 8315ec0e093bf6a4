// The files the configuration comes from (.env and the config file), for
// loading them at start and picking up a change without a restart
// (orch.reload_config). Lua-free: the Lua half (scripts/orch/config.lua)
// builds the config; this parses .env, owns which variables came from it,
// and tells cheaply (a stat of each file) whether either changed.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace orch {

// What a stat says about a file: a change of any field is a change of the
// file (an editor's rename gives a new inode, an in-place write a new size
// or mtime). A missing file is a stamp too (exists = false).
struct FileStamp {
    bool exists = false;
    long long size = 0, mtime_ns = 0, ctime_ns = 0;
    unsigned long long ino = 0, dev = 0;
    bool operator==(const FileStamp& o) const {
        return exists == o.exists && size == o.size && mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns &&
               ino == o.ino && dev == o.dev;
    }
    bool operator!=(const FileStamp& o) const { return !(*this == o); }
};
FileStamp stamp_of(const std::string& path);

// KEY=VALUE lines of a .env text, in order; throws std::runtime_error
// "<path>:<line>: ..." on a bad line. `export `, quotes and " #" comments
// are understood.
std::vector<std::pair<std::string, std::string>> parse_dotenv(const std::string& path, const std::string& text);
// The file read and parsed; a missing file is empty. Throws like parse_dotenv.
std::vector<std::pair<std::string, std::string>> read_dotenv(const std::string& path);

// A reload's changes to the process environment, not yet made: the value of
// each variable .env sets now or set before (nullopt: to be unset).
struct DotenvPlan {
    std::map<std::string, std::optional<std::string>> changes;
    std::map<std::string, std::string> owned;  // what .env owns after it
};

class ConfigFiles {
public:
    // Remembers the two paths and their stamps (taken before either is read,
    // so a change while they load is seen by the next changed()).
    void init(std::string dotenv_path, std::string config_path, bool config_must_exist);
    // Start-up: sets each .env variable the environment lacks (the real
    // environment wins) and remembers those as .env's own. Throws.
    void load_dotenv();
    // Either file's stamp differs from the last one seen (two stats).
    bool changed() const;
    // Takes the stamps now: the files as they are count as seen.
    void mark_seen();
    // .env read again: a variable it set before changes with it (or goes
    // when it is gone), a new one is set unless the real environment has
    // it; a variable of the real environment is never touched. Throws.
    DotenvPlan plan_dotenv() const;
    void apply(const DotenvPlan& plan);

    const std::string& dotenv_path() const { return dotenv_path_; }
    const std::string& config_path() const { return config_path_; }
    bool config_must_exist() const { return must_exist_; }
    bool ready() const { return !config_path_.empty(); }
    const FileStamp& dotenv_stamp() const { return dotenv_stamp_; }
    const FileStamp& config_stamp() const { return config_stamp_; }
    const std::map<std::string, std::string>& owned() const { return owned_; }
    // the last reload's error, kept until either file changes again
    std::string last_error;

private:
    std::string dotenv_path_, config_path_;
    bool must_exist_ = false;
    FileStamp dotenv_stamp_, config_stamp_;
    std::map<std::string, std::string> owned_;  // variables .env set -> the value it set
};

}  // namespace orch
