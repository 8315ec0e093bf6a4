// Files for workflows (task files, reports, answer files): orch.read_file,
// orch.write_file (atomic), orch.append_file, orch.list_dir, orch.file_info,
// orch.make_dir, orch.rename, orch.remove_file, orch.tree_info, orch.remove_tree. Relative paths resolve under
// the project root.
#include "lua/internal.h"
#include "services/file_read.h"
#include "services/file_tree.h"
#include "services/file_write.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace orch {

namespace {

std::string resolve(lua_State* L, const char* p) {
    std::string path = p;
    if (path.empty()) luaL_error(L, "path must not be empty");
    return app_of(L).path_from_root(path);
}

// orch.read_file(path [, max_bytes]) -> text | nil, err   (regular files only; never blocks)
int l_read_file(lua_State* L) {
    std::string path = resolve(L, luaL_checkstring(L, 1));
    double max = luaL_optnumber(L, 2, static_cast<double>(k_read_limit_default));
    if (!(max >= 0)) luaL_argerror(L, 2, "max_bytes must be >= 0");
    size_t limit = max >= 9.0e15 ? static_cast<size_t>(9e15) : static_cast<size_t>(max);
    std::string data;
    ReadError err;
    if (!read_file_limited(path, limit, data, err)) return return_error(L, err.code, err.message);
    lua_pushlstring(L, data.data(), data.size());
    return 1;
}

// orch.write_file(path, text [, {off_loop=true} | {new=true}]) -> true | nil, err
//   (temp file + fsync + rename: never half-written). off_loop: the write runs
//   on the host's writer thread (services/file_write.h) and the task waits for
//   it [yields]; the loop goes on meanwhile. That wait is not cancellable
//   (orch.cancel says false): the write is short, and it lands either way.
//   Where the caller cannot wait (outside a task, inside orch.atomically) the
//   write is made here, as without the option.
//   new: a file that must not exist yet (err.code "exists" when it does),
//   written in place (O_EXCL, no temp file, no fsync: one new inode, not a
//   temp renamed over): for a file in a folder just made, which a later
//   reader checks (an empty or missing one after the machine itself crashed)
int l_write_file(lua_State* L) {
    std::string path = resolve(L, luaL_checkstring(L, 1));
    size_t len;
    const char* data = luaL_checklstring(L, 2, &len);
    if (lua_istable(L, 3) && opt_bool(L, 3, "new", false)) {
        std::string err;
        int code = write_file_new(path, data, len, err);
        if (code != 0) return return_error(L, code == EEXIST ? "exists" : "io", err);
        lua_pushboolean(L, 1);
        return 1;
    }
    VmState& vm = vm_of(L);
    auto task = vm.by_thread.find(L);
    bool off_loop = lua_istable(L, 3) && opt_bool(L, 3, "off_loop", false) && task != vm.by_thread.end() &&
                    lua_isyieldable(L);
    if (!off_loop) {
        std::string err;
        if (!write_file_atomic(path, data, len, err)) return return_error(L, "io", err);
        lua_pushboolean(L, 1);
        return 1;
    }
    Task& t = vm.tasks.at(task->second);
    App& app = vm.app;
    if (!app.files) app.files = std::make_unique<FileWriter>(app.loop);
    int id = t.id;
    app.files->submit(std::move(path), std::string(data, len), [&vm, id](bool ok, const std::string& err) {
        resume_task(vm, id, [ok, &err](lua_State* co) {
            if (!ok) return return_error(co, "io", err);
            lua_pushboolean(co, 1);
            return 1;
        });
    });
    return yield_waiting(L, t, nullptr);
}

// orch.append_file(path, text) -> true | nil, err
int l_append_file(lua_State* L) {
    std::string path = resolve(L, luaL_checkstring(L, 1));
    size_t len;
    const char* data = luaL_checklstring(L, 2, &len);
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return return_error(L, "io", path + ": " + std::strerror(errno));
    bool ok = write_all(fd, data, len);
    int e = errno;
    close(fd);
    if (!ok) return return_error(L, "io", path + ": " + std::strerror(e));
    lua_pushboolean(L, 1);
    return 1;
}

// orch.list_dir(path) -> { names... } (sorted) | nil, err
int l_list_dir(lua_State* L) {
    std::string path = resolve(L, luaL_checkstring(L, 1));
    DIR* d = opendir(path.c_str());
    if (!d) return return_error(L, errno == ENOENT ? "not_found" : "io", path + ": " + std::strerror(errno));
    std::vector<std::string> names;
    while (dirent* e = readdir(d))
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
    closedir(d);
    std::sort(names.begin(), names.end());
    lua_createtable(L, static_cast<int>(names.size()), 0);
    for (size_t i = 0; i < names.size(); ++i) {
        lua_pushstring(L, names[i].c_str());
        lua_rawseti(L, -2, static_cast<int>(i + 1));
    }
    return 1;
}

// orch.file_info(path) -> {type="file"|"dir"|"other", size=, mtime=, path=, real=, link=} | nil, err
// (a symlink is followed: real is the path it resolves to, link says it was one)
int l_file_info(lua_State* L) {
    std::string path = resolve(L, luaL_checkstring(L, 1));
    struct stat st;
    if (stat(path.c_str(), &st) != 0)
        return return_error(L, errno == ENOENT ? "not_found" : "io", path + ": " + std::strerror(errno));
    struct stat lst;
    bool link = lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode);
    std::string real;
    if (char* r = realpath(path.c_str(), nullptr)) {
        real = r;
        free(r);
    }
    lua_createtable(L, 0, 6);
    lua_pushboolean(L, link);
    lua_setfield(L, -2, "link");
    if (!real.empty()) {
        lua_pushstring(L, real.c_str());
        lua_setfield(L, -2, "real");
    }
    lua_pushstring(L, S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" : "other");
    lua_setfield(L, -2, "type");
    lua_pushnumber(L, static_cast<double>(st.st_size));
    lua_setfield(L, -2, "size");
    lua_pushnumber(L, static_cast<double>(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec / 1e9);  // (a deliverable's write
    lua_setfield(L, -2, "mtime");                                                          // vs its agent's start)
    lua_pushstring(L, path.c_str());
    lua_setfield(L, -2, "path");
    return 1;
}

// orch.being_written(path) -> boolean: some process has the file open for
// writing (file_read.h open_for_writing; false when it cannot tell)
int l_being_written(lua_State* L) {
    lua_pushboolean(L, open_for_writing(resolve(L, luaL_checkstring(L, 1))));
    return 1;
}

// orch.make_dir(path) -> true, made | nil, err   (with parents; made: path
// itself was made now, it was not there)
int l_make_dir(lua_State* L) {
    std::string path = resolve(L, luaL_checkstring(L, 1));
    bool made = mkdir(path.c_str(), 0777) == 0;  // the usual case first: the parent is there
    if (!made && errno != EEXIST) {
        std::error_code ec;
        made = std::filesystem::create_directories(path, ec);
        if (ec) return return_error(L, "io", path + ": " + ec.message());
    } else if (!made) {
        struct stat st;
        if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            return return_error(L, "io", path + ": " + std::strerror(EEXIST));
    }
    lua_pushboolean(L, 1);
    lua_pushboolean(L, made);
    return 2;
}

// rename(2) that fails with EEXIST instead of replacing `to` (a symlink is
// moved itself, never followed); link + unlink where the filesystem lacks it
int rename_no_replace(const char* from, const char* to) {
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
    if (link(from, to) != 0) return -1;
    return unlink(from);
}

// orch.rename(from, to [, {replace=false}]) -> true | nil, err
//   err.code: "not_found" (from is gone), "exists" (replace=false and to is there), "io"
int l_rename(lua_State* L) {
    std::string from = resolve(L, luaL_checkstring(L, 1));
    std::string to = resolve(L, luaL_checkstring(L, 2));
    bool replace = true;
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "replace");
        replace = lua_isnil(L, -1) || lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    int rc = replace ? rename(from.c_str(), to.c_str()) : rename_no_replace(from.c_str(), to.c_str());
    if (rc != 0) {
        const char* code = errno == ENOENT ? "not_found" : errno == EEXIST ? "exists" : "io";
        return return_error(L, code, from + " -> " + to + ": " + std::strerror(errno));
    }
    lua_pushboolean(L, 1);
    return 1;
}

// orch.remove_file(path) -> true | nil, err   (a file or symlink; a folder is refused)
int l_remove_file(lua_State* L) {
    std::string path = resolve(L, luaL_checkstring(L, 1));
    ReadError err;
    if (!remove_file(path, err)) return return_error(L, err.code, err.message);
    lua_pushboolean(L, 1);
    return 1;
}

// orch.tree_info(path) -> {type="dir"|"other", newest_mtime=, bytes=, entries=, error=} | nil (absent)
//   (symlinks not followed; error: a part that could not be read)
int l_tree_info(lua_State* L) {
    std::string path = resolve(L, luaL_checkstring(L, 1));
    std::string error;
    TreeInfo t = tree_info(path, error);
    if (!t.exists) return 0;
    lua_createtable(L, 0, 5);
    lua_pushstring(L, t.is_dir ? "dir" : "other");
    lua_setfield(L, -2, "type");
    lua_pushnumber(L, t.newest_mtime);
    lua_setfield(L, -2, "newest_mtime");
    lua_pushnumber(L, static_cast<double>(t.bytes));
    lua_setfield(L, -2, "bytes");
    lua_pushnumber(L, static_cast<double>(t.entries));
    lua_setfield(L, -2, "entries");
    if (!error.empty()) {
        lua_pushlstring(L, error.data(), error.size());
        lua_setfield(L, -2, "error");
    }
    return 1;
}

// orch.remove_tree(path) -> true | nil, err   (path and all under it; a symlink itself)
int l_remove_tree(lua_State* L) {
    std::string path = resolve(L, luaL_checkstring(L, 1));
    std::string error;
    if (!remove_tree(path, error)) return return_error(L, "io", error);
    lua_pushboolean(L, 1);
    return 1;
}

const luaL_Reg k_fs_functions[] = {
    {"read_file", l_read_file}, {"write_file", l_write_file}, {"append_file", l_append_file},
    {"list_dir", l_list_dir},   {"file_info", l_file_info},   {"make_dir", l_make_dir},
    {"rename", l_rename},       {"remove_file", l_remove_file}, {"tree_info", l_tree_info},
    {"remove_tree", l_remove_tree}, {"being_written", l_being_written}, {nullptr, nullptr},
};

}  // namespace

void register_fs_api(lua_State* L) { luaL_register(L, nullptr, k_fs_functions); }

}  // namespace orch
