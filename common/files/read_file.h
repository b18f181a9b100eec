// files/read_file.h: Node's fs.readFile for libuv, plus what serving one file by name needs.
//
//   common::read_file(&loop, 8 << 20, "files/a.txt",
//                     [](std::optional<Error> error, std::string text) { ... });
//   auto read = common::nfbind(common::read_file, &loop, max_bytes);  // → Promise<std::string>
//
// open → fstat → read… → close, each step a call of files/async_fs.h. O_NOFOLLOW refuses a
// symbolic link (ELOOP) instead of following it out of the served directory; O_NONBLOCK keeps a
// FIFO from parking a thread-pool thread. Errors carry libuv's code name, ENOTREG for anything
// but a regular file or EFBIG; the message names the failed step, never the path, so it can be
// shown to a client.
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

// Reads the whole file at `path` (at most max_bytes); done(error, contents) runs once, from the
// loop, after the file is closed.
void read_file(uv_loop_t* loop, std::size_t max_bytes, const std::string& path,
               ReadFileCallback done);

// A name that stays inside the directory it is joined to: not empty, no '/', '\\' or NUL, not
// "." or "..", and no leading '.' (hidden files are not served either).
[[nodiscard]] bool is_plain_file_name(std::string_view name) noexcept;

// ENOENT → 404, EACCES/EPERM/ELOOP/ENOTREG/EISDIR → 403, EFBIG → 413, anything else → 500.
[[nodiscard]] int http_status_for_file(const Error& error) noexcept;

}  // namespace common
