#include "common/files/read_file.h"

#include <fcntl.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "common/files/async_fs.h"

namespace common {
namespace {

// One read in progress, shared by the callbacks of its steps: the last one to finish frees it.
struct FileRead {
  uv_loop_t* loop = nullptr;
  std::size_t max_bytes = 0;
  ReadFileCallback done;
  uv_file fd = -1;
  std::string data{};  // read so far: the first `filled` bytes
  std::size_t filled = 0;

  // Only reached with an open descriptor if a step threw: do not leak it.
  ~FileRead() {
    if (fd >= 0) fs::close(*loop, fd);
  }
};
using Reading = std::shared_ptr<FileRead>;

Error too_large() {
  return Error{"EFBIG", "the file is too large"};
}

// The end of every path that opened the file: close it, then hand the outcome over.
void close_and_deliver(const Reading& r, std::optional<Error> failure) {
  uv_file fd = std::exchange(r->fd, -1);
  fs::close(*r->loop, fd, [r, failure = std::move(failure)](int status) mutable {
    if (status < 0 && !failure) failure = uv_failure(status, "close");
    if (failure) return r->done(std::move(failure), std::string());
    r->data.resize(r->filled);
    return r->done(std::nullopt, std::move(r->data));
  });
}

void read_more(const Reading& r) {
  if (r->filled == r->data.size()) {  // full: the file grew since fstat, or was empty
    r->data.resize(std::min(std::max<std::size_t>(r->data.size() * 2, 4096), r->max_bytes + 1));
  }
  fs::read(*r->loop, r->fd, r->data.data() + r->filled, r->data.size() - r->filled,
           static_cast<int64_t>(r->filled), [r](ssize_t n) {
             if (n < 0) return close_and_deliver(r, uv_failure(static_cast<int>(n), "read"));
             if (n == 0) return close_and_deliver(r, std::nullopt);  // end of file
             r->filled += static_cast<std::size_t>(n);
             if (r->filled > r->max_bytes) return close_and_deliver(r, too_large());
             return read_more(r);
           });
}

void stat_file(const Reading& r) {
  fs::fstat(*r->loop, r->fd, [r](int status, const fs::FileStat& st) {
    if (status < 0) return close_and_deliver(r, uv_failure(status, "fstat"));
    if (!st.regular) return close_and_deliver(r, Error{"ENOTREG", "not a regular file"});
    if (st.size > r->max_bytes) return close_and_deliver(r, too_large());
    // One byte more than the size, so that the read which finds the end needs no new buffer.
    r->data.resize(static_cast<std::size_t>(st.size) + 1);
    return read_more(r);
  });
}

}  // namespace

void read_file(uv_loop_t* loop, std::size_t max_bytes, const std::string& path,
               ReadFileCallback done) {
  Reading r(new FileRead{.loop = loop, .max_bytes = max_bytes, .done = std::move(done)});
  fs::open(*loop, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, [r](int fd) {
    if (fd < 0) return r->done(uv_failure(fd, "open"), std::string());  // nothing to close
    r->fd = fd;
    return stat_file(r);
  });
}

bool is_plain_file_name(std::string_view name) noexcept {
  if (name.empty() || name.front() == '.') return false;  // also "." and ".."
  return name.find_first_of(std::string_view("/\\\0", 3)) == std::string_view::npos;
}

int http_status_for_file(const Error& error) noexcept {
  const std::string& code = error.code;
  if (code == "ENOENT" || code == "ENOTDIR") return 404;
  if (code == "EACCES" || code == "EPERM" || code == "ELOOP" || code == "ENOTREG" ||
      code == "EISDIR")
    return 403;
  if (code == "EFBIG") return 413;
  return 500;
}

}  // namespace common
