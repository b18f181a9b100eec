// serve_file.h: GET /file/:name of stage 05, the tutorial's promise-based file read:
//
//   readFile(name).then(send, error).then(res.write, console.log).fin(res.end)
//
// and GET /file-cb/:name, the callback version it replaces:
//
//   fs.readFile(name, _.partial(onResult, res))   // onResult → sendData | reportError → finish
//
// The name must be a plain file name in --files DIR (common::is_plain_file_name: no '/', '\\',
// NUL, no leading '.'); symbolic links are refused (O_NOFOLLOW), so nothing outside DIR is served.
// 200 with the contents (Content-Type from the extension), else JSON: 404 (missing or not a plain
// name), 403 (a link, a directory, no permission), 413 (over 8 MiB), 500.
#pragma once

#include <uv.h>

#include <string>

#include "common/http/request.h"
#include "common/http/response.h"

void serve_file_with_callbacks(uv_loop_t& loop, const std::string& dir,
                               const common::http::Request& req, common::http::Response res);
void serve_file(uv_loop_t& loop, const std::string& dir, const common::http::Request& req,
                common::http::Response res);
