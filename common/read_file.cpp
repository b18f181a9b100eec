#include "common/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <memory>
#include <utility>

#include "common/immediate.h"
#include "common/loop.h"

namespace common {
namespace {

// One read in progress. It owns itself from read_file() until the callback has run; its one
// uv_fs_t is reused by every step (and cleaned up after each, as libuv asks).
struct FileRead {
  uv_fs_t req{};
  uv_loop_t* loop = nullptr;
  std::size_t max_bytes = 0;
  std::string path;
  ReadFileCallback done;
  uv_file fd = -1;
  std::string data;  // read so far: the first `filled` bytes
  std::size_t filled = 0;
  std::optional<Error> failure;
};

FileRead* adopt(uv_fs_t* req) {
  auto* read = static_cast<FileRead*>(req->data);
  uv_fs_req_cleanup(req);
  return read;
}

// The end of every path: hand the outcome over and free the read.
void deliver(FileRead* raw) {
  std::unique_ptr<FileRead> read(raw);
  guard(*read->loop, [&] {
    if (read->failure) return read->done(std::move(read->failure), std::string());
    read->data.resize(read->filled);
    return read->done(std::nullopt, std::move(read->data));
  });
}

// A step could not even be submitted: libuv will not call back, so deliver on the next turn.
void deliver_later(FileRead* read, int rc, const char* step) {
  if (!read->failure) read->failure = uv_failure(rc, step);
  set_immediate(*read->loop, [read] { deliver(read); });
}

void on_close(uv_fs_t* req) {
  FileRead* read = adopt(req);
  if (req->result < 0 && !read->failure)
    read->failure = uv_failure(static_cast<int>(req->result), "close");
  deliver(read);
}

void close_and_deliver(FileRead* read) {
  int rc = uv_fs_close(read->loop, &read->req, read->fd, on_close);
  if (rc < 0) deliver_later(read, rc, "close");  // the descriptor cannot leak: it was never ours
}

void fail(FileRead* read, Error error) {
  read->failure = std::move(error);
  close_and_deliver(read);
}

void read_more(FileRead* read);

void on_read(uv_fs_t* req) {
  FileRead* read = adopt(req);
  if (req->result < 0) return fail(read, uv_failure(static_cast<int>(req->result), "read"));
  if (req->result == 0) return close_and_deliver(read);  // end of file
  read->filled += static_cast<std::size_t>(req->result);
  if (read->filled > read->max_bytes) return fail(read, Error{"EFBIG", "the file is too large"});
  return read_more(read);
}

void read_more(FileRead* read) {
  if (read->filled == read->data.size()) {  // full: the file grew since fstat, or was empty
    read->data.resize(
        std::min(std::max<std::size_t>(read->data.size() * 2, 4096), read->max_bytes + 1));
  }
  uv_buf_t buf = uv_buf_init(read->data.data() + read->filled,
                             static_cast<unsigned>(read->data.size() - read->filled));
  int rc = uv_fs_read(read->loop, &read->req, read->fd, &buf, 1, static_cast<int64_t>(read->filled),
                      on_read);
  if (rc < 0) fail(read, uv_failure(rc, "read"));
}

void on_stat(uv_fs_t* req) {
  FileRead* read = adopt(req);
  if (req->result < 0) return fail(read, uv_failure(static_cast<int>(req->result), "fstat"));
  const uv_stat_t& stat = req->statbuf;
  if (!S_ISREG(stat.st_mode)) return fail(read, Error{"ENOTREG", "not a regular file"});
  if (stat.st_size > read->max_bytes) return fail(read, Error{"EFBIG", "the file is too large"});
  // One byte more than the size, so that the read which finds the end needs no new buffer.
  read->data.resize(static_cast<std::size_t>(stat.st_size) + 1);
  return read_more(read);
}

void on_open(uv_fs_t* req) {
  FileRead* read = adopt(req);
  if (req->result < 0) {
    read->failure = uv_failure(static_cast<int>(req->result), "open");
    return deliver(read);  // nothing to close
  }
  read->fd = static_cast<uv_file>(req->result);
  int rc = uv_fs_fstat(read->loop, &read->req, read->fd, on_stat);
  if (rc < 0) fail(read, uv_failure(rc, "fstat"));
}

bool ends_with(std::string_view text, std::string_view suffix) {
  if (text.size() < suffix.size()) return false;
  return std::equal(suffix.rbegin(), suffix.rend(), text.rbegin(), [](char a, char b) {
    return a == (b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : b);
  });
}

}  // namespace

void read_file(uv_loop_t* loop, std::size_t max_bytes, std::string path, ReadFileCallback done) {
  auto* read = new FileRead;
  read->req.data = read;
  read->loop = loop;
  read->max_bytes = max_bytes;
  read->path = std::move(path);
  read->done = std::move(done);
  int rc = uv_fs_open(loop, &read->req, read->path.c_str(),
                      O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0, on_open);
  if (rc < 0) deliver_later(read, rc, "open");
}

bool is_plain_file_name(std::string_view name) noexcept {
  if (name.empty() || name.front() == '.') return false;  // also "." and ".."
  return name.find_first_of(std::string_view("/\\\0", 3)) == std::string_view::npos;
}

std::string_view content_type_for(std::string_view name) noexcept {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 13> kTypes{{
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/markdown; charset=utf-8"},
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".json", "application/json; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".pdf", "application/pdf"},
  }};
  for (const auto& [suffix, type] : kTypes) {
    if (ends_with(name, suffix)) return type;
  }
  return "application/octet-stream";
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
