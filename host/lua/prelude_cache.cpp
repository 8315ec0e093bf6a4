// Package searchers that keep the LuaJIT bytecode the host compiled from a
// module's source in a cache folder next to the binary, so start-up does not
// parse the same Lua again: the host's own scripts/orch/*.lua (reused while
// the source has the same size and mtime) and the modules `require` finds on
// package.path under workflows/ (reused while the source has the same bytes:
// its size and a hash of its text; an edit never meets an old cache). Only
// bytecode the host wrote from a source it read is loaded; a module file
// that is itself bytecode, or anything that does not load, is left to the
// Lua file searcher after these, as before. Any cache problem falls back to
// the source, silently.
#include "lua/internal.h"
#include "services/file_read.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
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

// the function on top of L's stack dumped after header into the file cached
// (a temp file renamed over: a reader sees the old file or the new one)
void save_cache(lua_State* L, const std::string& cached, std::string_view header) {
    std::string out(header);
    if (lua_dump(L, dump_writer, &out) != 0) return;
    mkdir(cache_dir().c_str(), 0755);
    std::string tmp = cached + ".tmp" + std::to_string(getpid());
    if (FILE* f = fopen(tmp.c_str(), "wb")) {
        bool ok = fwrite(out.data(), 1, out.size(), f) == out.size();
        ok = (fclose(f) == 0) && ok;
        if (!ok || rename(tmp.c_str(), cached.c_str()) != 0) unlink(tmp.c_str());
    }
}

// the cached bytecode loaded when the file starts with header; false (L's
// stack as it was) when it does not or it does not load
bool load_cache(lua_State* L, const std::string& cached, std::string_view header, const char* chunkname) {
    std::string blob = read_all(cached);
    if (blob.size() <= header.size() || blob.compare(0, header.size(), header) != 0) return false;
    int top = lua_gettop(L);
    if (luaL_loadbuffer(L, blob.data() + header.size(), blob.size() - header.size(), chunkname) == 0) return true;
    lua_settop(L, top);
    return false;
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
    if (!cached.empty() && load_cache(L, cached, std::string_view(header, static_cast<size_t>(hl)), chunkname.c_str()))
        return 1;
    std::string text;
    ReadError err;
    if (!read_file_limited(src, k_read_limit_default, text, err)) {
        lua_pushstring(L, err.message.c_str());
        return lua_error(L);
    }
    if (luaL_loadbuffer(L, text.data(), text.size(), chunkname.c_str()) != 0)
        return lua_error(L);  // a syntax error in the prelude: report it as is
    if (!cached.empty()) save_cache(L, cached, std::string_view(header, static_cast<size_t>(hl)));
    return 1;
}

// 64 bits of a text, eight bytes at a time (FNV-1a's constants): a key, not
// a defence; the size and the source's path are in the key too
std::uint64_t text_hash(std::string_view t) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    constexpr std::uint64_t prime = 0x100000001b3ull;
    size_t k = 0;
    for (; k + 8 <= t.size(); k += 8) {
        std::uint64_t w;
        std::memcpy(&w, t.data() + k, 8);
        h = (h ^ w) * prime;
        h ^= h >> 29;
    }
    for (; k < t.size(); ++k) h = (h ^ static_cast<unsigned char>(t[k])) * prime;
    return h;
}

// the file the Lua file searcher would load for name: the first of
// package.path's templates that names something; "" when none does or what
// it names is not a regular file (left to that searcher)
std::string find_module(lua_State* L, const std::string& name) {
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    std::string path = lua_isstring(L, -1) ? lua_tostring(L, -1) : "";
    lua_pop(L, 2);
    std::string rel = name;
    for (auto& c : rel)
        if (c == '.') c = '/';
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find(';', start);
        if (end == std::string::npos) end = path.size();
        std::string file;
        for (size_t i = start; i < end; ++i) {
            if (path[i] == '?') file += rel;
            else file += path[i];
        }
        start = end + 1;
        if (file.empty()) continue;
        struct stat st;
        if (stat(file.c_str(), &st) != 0) continue;
        return S_ISREG(st.st_mode) ? file : "";
    }
    return "";
}

// package searcher after l_prelude_searcher: a module found under
// workflows/ loaded from the bytecode cached for its text, else compiled
// from the source and cached; anything else is left to the Lua file
// searcher (an empty message: it adds its own)
int l_workflow_searcher(lua_State* L) {
    std::string name = luaL_checkstring(L, 1);
    App& app = app_of(L);
    std::string file = find_module(L, name);
    std::string under = app.root + "/workflows/";
    const std::string& dir = cache_dir();
    if (file.empty() || dir.empty() || file.compare(0, under.size(), under) != 0) {
        lua_pushstring(L, "");
        return 1;
    }
    std::string text;
    ReadError err;
    if (!read_file_limited(file, k_read_limit_default, text, err) || text.empty() || text[0] == '\x1b') {
        lua_pushstring(L, "");
        return 1;
    }
    std::string chunkname = "@" + file;
    char header[4200];
    int hl = snprintf(header, sizeof header, "%s-w %zu %016llx %s\n", k_magic, text.size(),
                      static_cast<unsigned long long>(text_hash(text)), file.c_str());
    // one file a module name, whatever the tree (a temp project per test
    // would leave one each): another tree's source in the header is a miss
    std::string cached = dir + "/w." + name + ".bc";
    bool keyed = hl > 0 && hl < static_cast<int>(sizeof header) && name.find('/') == std::string::npos;
    std::string_view head(header, keyed ? static_cast<size_t>(hl) : 0);
    if (keyed && load_cache(L, cached, head, chunkname.c_str())) return 1;
    if (luaL_loadbuffer(L, text.data(), text.size(), chunkname.c_str()) != 0) {
        lua_pop(L, 1);
        lua_pushstring(L, "");  // the Lua file searcher reports it, as it always has
        return 1;
    }
    if (keyed) save_cache(L, cached, head);
    return 1;
}

}  // namespace

void install_prelude_searcher(lua_State* L) {
    // package.loaders: 1 preload, then ours (the prelude's, the workflows'),
    // then the Lua file searcher
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaders");
    int n = static_cast<int>(lua_objlen(L, -1));
    for (int i = n; i >= 2; --i) {
        lua_rawgeti(L, -1, i);
        lua_rawseti(L, -2, i + 2);
    }
    lua_pushcfunction(L, l_prelude_searcher);
    lua_rawseti(L, -2, 2);
    lua_pushcfunction(L, l_workflow_searcher);
    lua_rawseti(L, -2, 3);
    lua_pop(L, 2);
}

}  // namespace orch
