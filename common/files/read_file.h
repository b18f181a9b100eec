// files/read_file.h: Node's fs.readFile for libuv, plus what serving one file by name needs.
//
//   common::read_file(&loop, 8 << 20, "files/a.txt",
//                     [](std::optional<Error> error, std::string text) { ... });
//   auto read = common::nfbind(common::read_file, &loop, max_bytes);  // → Promise<std::string>
//
// open → fstat → read… → close, each step a call of files/async_fs.h; the callback runs later
// from the loop, once the file is closed. The file is opened with O_NOFOLLOW, so a symbolic link is
// refused (ELOOP) instead of followed out of the served directory, and O_NONBLOCK, so a FIFO cannot
// park a thread-pool thread waiting for a writer; only regular files are read. Errors carry libuv's
// code name (ENOENT, EACCES, ELOOP, …), ENOTREG for anything that is not a regular file and EFBIG
// for a file larger than max_bytes; the message names the failed step ("open: ENOENT (no such file
// or directory)"), never the path, so it can be shown to a client.
#pragma once

#include <uv.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/uv/error.h"

namespace common {

using ReadFileCallback = std::function<void(std::optional<Error> error, std::string contents)>;

// Reads the whole file at `path` (at most max_bytes) and calls done(error, contents) once.
void read_file(uv_loop_t* loop, std::size_t max_bytes, const std::string& path,
               ReadFileCallback done);

// A name that stays inside the directory it is joined to: not empty, no '/', '\\' or NUL, not
// "." or "..", and no leading '.' (hidden files are not served either).
[[nodiscard]] bool is_plain_file_name(std::string_view name) noexcept;

// ENOENT → 404, EACCES/EPERM/ELOOP/ENOTREG/EISDIR → 403, EFBIG → 413, anything else → 500.
[[nodiscard]] int http_status_for_file(const Error& error) noexcept;

}  // namespace common
