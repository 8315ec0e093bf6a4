// A package searcher for the host's own Lua (scripts/orch/*.lua, loaded at
// every start): it keeps LuaJIT bytecode of each file in a cache folder next
// to the binary and reuses it while the source is unchanged (same size and
// mtime), so start-up does not parse the prelude again. Workflows and user
// modules are never loaded from bytecode. Any cache problem falls back to the
// source, silently.
#include "lua/internal.h"
#include "services/file_read.h"

#include <cerrno>
#include <cstdio>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace orch {

namespace {

const char k_magic[] = "orch-bc1";

struct Key {
    long long size = 0, mtime_ns = 0;
};

bool source_key(const std::string& path, Key& k) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    k.size = st.st_size;
    k.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
    return true;
}

std::string read_all(const std::string& path) {  // "" when it cannot be read
    std::string text;
    ReadError err;
    read_file_limited(path, k_read_limit_default, text, err);
    return text;
}

int dump_writer(lua_State*, const void* p, size_t n, void* ud) {
    static_cast<std::string*>(ud)->append(static_cast<const char*>(p), n);
    return 0;
}

std::string find_cache_dir() {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return "";
    std::string exe(buf, static_cast<size_t>(n));
    return exe.substr(0, exe.rfind('/')) + "/luacache";
}

const std::string& cache_dir() {  // the binary does not move while it runs
    static const std::string dir = find_cache_dir();
    return dir;
}

// package searcher: name -> loader function | message
int l_prelude_searcher(lua_State* L) {
    std::string name = luaL_checkstring(L, 1);
    if (name.rfind("orch.", 0) != 0) {
        lua_pushstring(L, "");
        return 1;
    }
    App& app = app_of(L);
    std::string rel = name;
    for (auto& c : rel)
        if (c == '.') c = '/';
    std::string src = app.scripts_dir + "/" + rel + ".lua";
    Key key;
    if (!source_key(src, key)) {
        lua_pushfstring(L, "\n\tno file '%s'", src.c_str());
        return 1;
    }
    std::string chunkname = "@scripts/" + rel + ".lua";
    const std::string& dir = cache_dir();
    std::string cached = dir.empty() ? "" : dir + "/" + name + ".bc";
    char header[4200];
    int hl = snprintf(header, sizeof header, "%s %lld %lld %s\n", k_magic, key.size, key.mtime_ns, src.c_str());
    if (hl <= 0 || hl >= static_cast<int>(sizeof header)) cached.clear();
    if (!cached.empty()) {
        std::string blob = read_all(cached);
        if (blob.size() > static_cast<size_t>(hl) && blob.compare(0, static_cast<size_t>(hl), header) == 0 &&
            luaL_loadbuffer(L, blob.data() + hl, blob.size() - static_cast<size_t>(hl), chunkname.c_str()) == 0)
            return 1;
        lua_settop(L, 1);
    }
    std::string text;
    ReadError err;
    if (!read_file_limited(src, k_read_limit_default, text, err)) {
        lua_pushstring(L, err.message.c_str());
        return lua_error(L);
    }
    if (luaL_loadbuffer(L, text.data(), text.size(), chunkname.c_str()) != 0)
        return lua_error(L);  // a syntax error in the prelude: report it as is
    if (!cached.empty()) {
        std::string out(header, static_cast<size_t>(hl));
        if (lua_dump(L, dump_writer, &out) == 0) {
            mkdir(dir.c_str(), 0755);
            std::string tmp = cached + ".tmp" + std::to_string(getpid());
            if (FILE* f = fopen(tmp.c_str(), "wb")) {
                bool ok = fwrite(out.data(), 1, out.size(), f) == out.size();
                ok = (fclose(f) == 0) && ok;
                if (!ok || rename(tmp.c_str(), cached.c_str()) != 0) unlink(tmp.c_str());
            }
        }
    }
    return 1;
}

}  // namespace

void install_prelude_searcher(lua_State* L) {
    // package.loaders: 1 preload, then ours, then the Lua file searcher
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaders");
    int n = static_cast<int>(lua_objlen(L, -1));
    for (int i = n; i >= 2; --i) {
        lua_rawgeti(L, -1, i);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushcfunction(L, l_prelude_searcher);
    lua_rawseti(L, -2, 2);
    lua_pop(L, 2);
}

}  // namespace orch
