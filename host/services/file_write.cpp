#include "services/file_write.h"

#include "loop/loop.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace orch {

bool write_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

namespace {

std::atomic<unsigned long> g_temp_serial{0};  // temp names unique across threads of this process

}  // namespace

namespace {

// A write under way: its data in a temp file beside path, not yet synced.
struct Staged {
    std::string tmp;
    int fd = -1;
};

// Makes the parent folders, writes data to a new temp file beside path
// (its name cut so that it fits NAME_MAX when path's own name is near it).
bool stage(const std::string& path, const char* data, size_t len, Staged& s, std::string& err) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    std::string suffix = ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(++g_temp_serial);
    std::filesystem::path p(path);
    std::string base = p.filename().string();
    if (base.size() + suffix.size() > 255) base.resize(255 - suffix.size());
    s.tmp = (p.parent_path() / (base + suffix)).string();
    s.fd = open(s.tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s.fd < 0) {
        err = path + ": " + std::strerror(errno);
        return false;
    }
    if (!write_all(s.fd, data, len)) {
        err = path + ": " + std::strerror(errno);
        close(s.fd);
        unlink(s.tmp.c_str());
        return false;
    }
    return true;
}

// The staged file, synced (unless `synced`: a syncfs covered it), renamed
// over path; on failure the temp file is removed.
bool land(const std::string& path, Staged& s, bool synced, std::string& err) {
    bool ok = synced || fsync(s.fd) == 0;
    int e = errno;
    close(s.fd);
    if (!ok || rename(s.tmp.c_str(), path.c_str()) != 0) {
        if (ok) e = errno;
        unlink(s.tmp.c_str());
        err = path + ": " + std::strerror(e);
        return false;
    }
    return true;
}

}  // namespace

bool write_file_atomic(const std::string& path, const char* data, size_t len, std::string& err) {
    try {
        Staged s;
        return stage(path, data, len, s, err) && land(path, s, false, err);
    } catch (const std::exception& e) {  // out of memory for the names
        err = path + ": " + e.what();
        return false;
    }
}

int write_file_new(const std::string& path, const char* data, size_t len, std::string& err) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int e = fd < 0 ? errno : 0;
    if (fd >= 0) {
        bool ok = write_all(fd, data, len);
        e = ok ? 0 : errno;
        if (close(fd) != 0 && ok) e = errno;
        if (e != 0) unlink(path.c_str());
    }
    if (e != 0) err = path + ": " + std::strerror(e);
    return e;
}

FileWriter::~FileWriter() {
    *alive_ = false;
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void FileWriter::submit(std::string path, std::string data, std::function<void(bool, const std::string&)> done) {
    if (!thread_.joinable()) thread_ = std::thread([this] { work(); });  // commands that never write pay nothing
    {
        std::lock_guard<std::mutex> lock(mu_);
        jobs_.push_back(Job{std::move(path), std::move(data), std::move(done)});
    }
    cv_.notify_one();
}

// Each wake-up takes every job queued (up to k_batch): their temp files are
// written, then made durable together, by one syncfs(2) of the filesystem
// when there are several (one flush of the disk's cache for all, instead of
// one fsync each: an inbox burst finishes 8 tasks at once, and their
// artifacts queued behind each other's fsyncs), then renamed in order. A
// failed syncfs falls back to each file's own fsync, so an error names its
// file.
void FileWriter::work() {
    constexpr size_t k_batch = 64;  // open temp files at once
    for (;;) {
        std::vector<Job> batch;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) return;  // stopping, and every queued write landed
            while (!jobs_.empty() && batch.size() < k_batch) {
                batch.push_back(std::move(jobs_.front()));
                jobs_.pop_front();
            }
        }
        std::vector<Staged> staged(batch.size());
        std::vector<std::string> errs(batch.size());
        std::vector<char> ok(batch.size(), 0);  // not vector<bool>: its proxies must not reach the lambda
        int any_fd = -1;
        size_t n_staged = 0;
        for (size_t i = 0; i < batch.size(); ++i) {
            try {
                ok[i] = stage(batch[i].path, batch[i].data.data(), batch[i].data.size(), staged[i], errs[i]);
            } catch (const std::exception& e) {
                errs[i] = batch[i].path + ": " + e.what();
            }
            if (ok[i]) any_fd = staged[i].fd, ++n_staged;
        }
        bool synced = n_staged > 1 && syncfs(any_fd) == 0;
        for (size_t i = 0; i < batch.size(); ++i) {
            if (ok[i]) ok[i] = land(batch[i].path, staged[i], synced, errs[i]);
            loop_.post([alive = alive_, good = ok[i] != 0, err = std::move(errs[i]), done = std::move(batch[i].done)] {
                if (*alive && done) done(good, err);
            });
        }
    }
}

}  // namespace orch
