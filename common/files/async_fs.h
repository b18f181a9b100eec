// files/async_fs.h: Node's callback-style `fs` functions over libuv's thread pool.
//
//   common::fs::open(loop, "/srv/a.txt", O_RDONLY, [](int fd) { ... });   // like fs.open
//
// A regular file cannot be watched for readiness the way a socket can, so libuv runs each of
// these calls on a worker thread and delivers the result to the loop thread. The callback
// always runs later, from the loop, also when libuv refuses the call at once.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>

namespace common::fs {

struct FileStat {
  uint64_t size = 0;
  int64_t mtime_sec = 0;
  int64_t mtime_nsec = 0;
  bool regular = false;
  bool directory = false;
};

// status < 0 is a libuv error code (UV_ENOENT, …); otherwise `real` is the resolved path.
void realpath(uv_loop_t& loop, const std::string& path,
              std::function<void(int status, std::string real)> done);
// fd_or_error ≥ 0 is the new descriptor: the caller owns it (close it with fs::close).
void open(uv_loop_t& loop, const std::string& path, int flags,
          std::function<void(int fd_or_error)> done);
void fstat(uv_loop_t& loop, uv_file fd, std::function<void(int status, const FileStat&)> done);
// Reads up to `length` bytes at `offset` into `buffer`, which must live until `done` runs.
void read(uv_loop_t& loop, uv_file fd, char* buffer, size_t length, int64_t offset,
          std::function<void(ssize_t nread_or_error)> done);
// Closes the descriptor and calls done(status) once it is closed (status < 0: libuv error).
void close(uv_loop_t& loop, uv_file fd, std::function<void(int status)> done);
// Closes in the background; a failure is only logged (there is nobody left to tell).
void close(uv_loop_t& loop, uv_file fd);

// The same realpath, synchronously: for setup code before the loop runs. Throws UvError.
std::string realpath_now(uv_loop_t& loop, const std::string& path);

}  // namespace common::fs
