#include "services/file_write.h"

#include "loop/loop.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

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

bool write_file_atomic(const std::string& path, const char* data, size_t len, std::string& err) {
    try {
        std::error_code ec;
        std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
        // the temp file beside it; its name cut so that it fits NAME_MAX (255)
        // when path's own name is near it
        std::string suffix = ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(++g_temp_serial);
        std::filesystem::path p(path);
        std::string base = p.filename().string();
        if (base.size() + suffix.size() > 255) base.resize(255 - suffix.size());
        std::string tmp = (p.parent_path() / (base + suffix)).string();
        int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            err = path + ": " + std::strerror(errno);
            return false;
        }
        bool ok = write_all(fd, data, len) && fsync(fd) == 0;
        int e = errno;
        close(fd);
        if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
            if (ok) e = errno;
            unlink(tmp.c_str());
            err = path + ": " + std::strerror(e);
            return false;
        }
        return true;
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

void FileWriter::work() {
    for (;;) {
        Job job;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) return;  // stopping, and every queued write landed
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        std::string err;
        bool ok = write_file_atomic(job.path, job.data.data(), job.data.size(), err);
        loop_.post([alive = alive_, ok, err = std::move(err), done = std::move(job.done)] {
            if (*alive && done) done(ok, err);
        });
    }
}

}  // namespace orch
