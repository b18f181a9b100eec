// http/connection_file.cpp: sending the file part of an answer (Response::send_file).
//
// sendfile(2) copies from the page cache to the socket inside the kernel. We call it from the
// loop thread on the non-blocking socket: it moves what the socket buffer can take and returns
// at once (reading a regular file never waits long, unlike a slow client). When the socket is
// full (EAGAIN) we need to learn when it has room again; libuv tells a stream's owner that only
// through a write's callback, so we queue the next small piece of the file as an ordinary
// uv_write, and its on_write brings us back to sendfile. The same queued write ends a burst of
// kBurst bytes, so one big download cannot hold the loop while other clients wait.
#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "common/http/connection.h"
#include "common/uv/immediate.h"

namespace common::http {
namespace {

constexpr uint64_t kBurst = uint64_t{1024} * 1024;  // bytes sent per turn of the loop, at most
constexpr uint64_t kPiece = uint64_t{16} * 1024;    // the part queued as a plain write

// sendfile(2) variants that fail this way cannot do this file; copying still works.
bool sendfile_unsupported(int error) {
  return error == EINVAL || error == ENOSYS || error == EOPNOTSUPP;
}

}  // namespace

// Returns true once the head's file part is finished (sent or failed), false while it waits.
bool Connection::pump_file(ResponseState& head) {
  if (writes_pending_ > 0) return false;  // the bytes before ours go first; on_write resumes
  FileBody& file = *head.file;
  uv_os_fd_t socket = -1;
  if (int rc = uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &socket); rc < 0)
    return fail_file(head, rc);
  uint64_t sent = 0;
  while (file.remaining > 0 && sent < kBurst && !file.use_reads) {
    auto offset = static_cast<off_t>(file.offset);
    ssize_t n = ::sendfile(socket, file.fd, &offset, std::min(file.remaining, kBurst - sent));
    if (n > 0) {
      file.offset += static_cast<uint64_t>(n);
      file.remaining -= static_cast<uint64_t>(n);
      sent += static_cast<uint64_t>(n);
    } else if (n == 0) {
      return fail_file(head, UV_EOF);  // the file shrank under us
    } else if (errno == EAGAIN) {
      break;  // the socket is full
    } else if (sendfile_unsupported(errno) && sent == 0) {
      file.use_reads = true;
    } else if (errno != EINTR) {
      return fail_file(head, uv_translate_sys_error(errno));
    }
  }
  if (file.remaining == 0) {
    finish_file(head, 0);
    return true;
  }
  return write_file_piece(head);
}

// Queues the next piece of the file as a normal write, whose callback resumes pump_file.
bool Connection::write_file_piece(ResponseState& head) {
  FileBody& file = *head.file;
  std::string piece(std::min(file.remaining, kPiece), '\0');
  ssize_t n = -1;
  do {
    n = ::pread(file.fd, piece.data(), piece.size(), static_cast<off_t>(file.offset));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return fail_file(head, n == 0 ? UV_EOF : uv_translate_sys_error(errno));
  piece.resize(static_cast<size_t>(n));
  file.offset += static_cast<uint64_t>(n);
  file.remaining -= static_cast<uint64_t>(n);
  const bool last = file.remaining == 0;
  write(std::move(piece));
  if (state_ != State::open) return false;  // the write failed: `head` may be gone
  if (!last) return false;
  finish_file(head, 0);
  return true;
}

// The body cannot be completed: the client must not wait for bytes that will never come.
bool Connection::fail_file(ResponseState& head, int status) {
  if (status != UV_EPIPE && status != UV_ECONNRESET)  // a client leaving is no news
    std::fprintf(stderr, "http: sending a file for %s failed: %s\n", head.request.target.c_str(),
                 uv_strerror(status));
  finish_file(head, status);
  close_now();
  return false;
}

// Hands `done` its status on the next turn of the loop (never from inside send_file).
void Connection::finish_file(ResponseState& state, int status) {
  std::function<void(int)> done = std::move(state.file->done);
  state.file.reset();
  if (done) set_immediate(*core_->loop, [done = std::move(done), status] { done(status); });
}

}  // namespace common::http
