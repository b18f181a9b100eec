#include "common/files/async_fs.h"

#include <unistd.h>

#include <cstdio>
#include <memory>

#include "common/uv/error.h"
#include "common/uv/immediate.h"
#include "common/uv/loop.h"

namespace common::fs {
namespace {

// One call in flight: the request libuv fills in and what to do with it on the loop thread.
struct FsCall {
  uv_fs_t req{};
  std::function<void(const uv_fs_t&)> finish;
};

void on_done(uv_fs_t* req) {
  std::unique_ptr<FsCall> call(static_cast<FsCall*>(req->data));
  guard(*req->loop, [&] { call->finish(*req); });
  uv_fs_req_cleanup(req);
}

// Starts the call; if libuv refuses it at once, the error still arrives from the loop, later.
template <typename Start>
void submit(uv_loop_t& loop, std::function<void(const uv_fs_t&)> finish, Start start) {
  auto call = std::make_unique<FsCall>();
  call->finish = std::move(finish);
  call->req.data = call.get();
  int rc = start(&call->req);
  if (rc >= 0) return static_cast<void>(call.release());  // on_done owns it now
  uv_fs_req_cleanup(&call->req);
  set_immediate(loop, [finish = std::move(call->finish), rc] {
    uv_fs_t failed{};
    failed.result = rc;
    finish(failed);
  });
}

// For calls whose result is a number: a descriptor, a status, a byte count.
template <typename Result>
std::function<void(const uv_fs_t&)> with_result(std::function<void(Result)> done) {
  return [done = std::move(done)](const uv_fs_t& req) { done(static_cast<Result>(req.result)); };
}

}  // namespace

void realpath(uv_loop_t& loop, const std::string& path,
              std::function<void(int, std::string)> done) {
  auto finish = [done = std::move(done)](const uv_fs_t& req) {
    if (req.result < 0) return done(static_cast<int>(req.result), std::string());
    done(0, std::string(static_cast<const char*>(req.ptr)));
  };
  submit(loop, std::move(finish),
         [&](uv_fs_t* req) { return uv_fs_realpath(&loop, req, path.c_str(), on_done); });
}

void open(uv_loop_t& loop, const std::string& path, int flags, std::function<void(int)> done) {
  submit(loop, with_result(std::move(done)),
         [&](uv_fs_t* req) { return uv_fs_open(&loop, req, path.c_str(), flags, 0, on_done); });
}

void fstat(uv_loop_t& loop, uv_file fd, std::function<void(int, const FileStat&)> done) {
  auto finish = [done = std::move(done)](const uv_fs_t& req) {
    if (req.result < 0) return done(static_cast<int>(req.result), FileStat{});
    const uv_stat_t& st = req.statbuf;
    const uint64_t type = st.st_mode & S_IFMT;
    done(0, {st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, type == S_IFREG, type == S_IFDIR});
  };
  submit(loop, std::move(finish),
         [&](uv_fs_t* req) { return uv_fs_fstat(&loop, req, fd, on_done); });
}

void read(uv_loop_t& loop, uv_file fd, char* buffer, size_t length, int64_t offset,
          std::function<void(ssize_t)> done) {
  uv_buf_t buf = uv_buf_init(buffer, static_cast<unsigned>(length));
  submit(loop, with_result(std::move(done)),
         [&](uv_fs_t* req) { return uv_fs_read(&loop, req, fd, &buf, 1, offset, on_done); });
}

void close(uv_loop_t& loop, uv_file fd, std::function<void(int)> done) {
  submit(loop, with_result(std::move(done)),
         [&](uv_fs_t* req) { return uv_fs_close(&loop, req, fd, on_done); });
}

void close(uv_loop_t& loop, uv_file fd) {
  auto log_failure = [](int status) {
    if (status < 0) std::fprintf(stderr, "fs: close: %s\n", uv_strerror(status));
  };
  try {
    close(loop, fd, log_failure);
  } catch (const UvError&) {
    ::close(fd);  // the loop cannot take it: closing here beats leaking the descriptor
  }
}

std::string realpath_now(uv_loop_t& loop, const std::string& path) {
  uv_fs_t req{};
  int rc = uv_fs_realpath(&loop, &req, path.c_str(), nullptr);  // no callback: synchronous
  std::string real = rc < 0 ? std::string() : static_cast<const char*>(req.ptr);
  uv_fs_req_cleanup(&req);
  check(rc, "realpath " + path);
  return real;
}

}  // namespace common::fs
