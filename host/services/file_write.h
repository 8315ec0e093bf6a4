// Writing a file atomically (a temp file beside it, written, fsync'd, renamed
// into place: a reader sees the old content or the new, never half of it),
// on the calling thread or on a writer thread that posts the outcome back to
// the loop (orch.write_file's off_loop: the fsync, ~1 ms a file on this
// disk, out of the loop thread). Lua-free.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace orch {

class Loop;

// write(2) of all n bytes (EINTR retried); false with errno on failure.
bool write_all(int fd, const char* p, size_t n);

// Makes the parent folders (a failure there shows as the open's), writes
// `data` to a temp file `<path>.tmp-<pid>-<n>`, fsyncs it and renames it over
// path. On failure nothing is left behind (the temp file is removed) and err
// is "<path>: <strerror>". Thread-safe; never throws.
bool write_file_atomic(const std::string& path, const char* data, size_t len, std::string& err);

// Makes path as a new file holding `data` (O_CREAT | O_EXCL, no fsync, no
// temp file): 0, or the errno (EEXIST when path is there: it is left as it
// was) with err "<path>: <strerror>". A failed write removes the file.
int write_file_new(const std::string& path, const char* data, size_t len, std::string& err);

// One writer thread, started on first use, taking jobs in order (two writes
// of one path land in the order given); the jobs queued together are made
// durable by one syncfs (file_write.cpp). `done` runs on the loop thread (ok,
// err as write_file_atomic's). The destructor finishes the jobs queued (a
// write the caller was told about still lands) and drops their completions.
class FileWriter {
public:
    explicit FileWriter(Loop& loop) : loop_(loop) {}
    ~FileWriter();
    FileWriter(const FileWriter&) = delete;
    FileWriter& operator=(const FileWriter&) = delete;

    void submit(std::string path, std::string data, std::function<void(bool ok, const std::string& err)> done);

private:
    struct Job {
        std::string path, data;
        std::function<void(bool, const std::string&)> done;
    };
    void work();

    Loop& loop_;
    std::thread thread_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Job> jobs_;
    bool stopping_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // loop thread only: completions after the end are dropped
};

}  // namespace orch
