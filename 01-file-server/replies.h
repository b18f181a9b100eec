// replies.h: the small answers of 01-file-server (errors, redirects, cached files), kept out of
// main.cpp so that it shows only the chain of asynchronous steps.
#pragma once

#include <string>
#include <string_view>

#include "01-file-server/file_request.h"
#include "common/files/cache.h"
#include "common/files/response.h"
#include "common/http/response.h"

namespace file_server {

// "404 Not Found\n" and friends, as text/plain (the tutorial's answer for a missing file).
void reply_status(common::http::Response& res, int status);
// Maps a failed file-system call to 404 (missing), 403 (not allowed) or 500; a 500 is logged
// with its cause on stderr, while the client only learns that something went wrong.
void reply_fs_error(common::http::Response& res, int uv_status, std::string_view what);
// 405 with "Allow: GET, HEAD" for any other method.
void reply_method_not_allowed(common::http::Response& res);
// 301 to the slash form of a directory path, so that relative links inside it work.
void redirect_to_directory(common::http::Response& res, std::string_view relative);
// A GET or HEAD answered from memory (200, 206, 304 or 416).
void reply_from_memory(common::http::Response& res, const common::CachedFile& file);
// Answers with a small file just read whole, and keeps it in the site's cache under `key`.
void reply_and_cache(Site& site, const std::string& key, common::http::Response& res,
                     std::string body, const common::http::FileMeta& meta);

}  // namespace file_server
