#include "01-file-server/replies.h"

#include <cstdio>
#include <string>
#include <utility>

#include "common/files/path.h"
#include "common/files/response.h"

namespace file_server {

using common::http::Response;

void reply_status(Response& res, int status) {
  std::string body = std::to_string(status) + " ";
  body.append(common::http::reason_phrase(status)).append("\n");
  res.send(status, body);
}

void reply_fs_error(Response& res, int uv_status, std::string_view what) {
  switch (uv_status) {
    case UV_ENOENT:
    case UV_ENOTDIR:
    case UV_ENAMETOOLONG:
    case UV_ELOOP:
      return reply_status(res, 404);
    case UV_EACCES:
    case UV_EPERM:
      return reply_status(res, 403);
    default:
      std::fprintf(stderr, "01-file-server: %s %s: %s: %s\n", res.request().method.c_str(),
                   res.request().target.c_str(), std::string(what).c_str(), uv_strerror(uv_status));
      return reply_status(res, 500);
  }
}

void reply_method_not_allowed(Response& res) {
  res.set_header("Allow", "GET, HEAD");
  reply_status(res, 405);
}

void redirect_to_directory(Response& res, std::string_view relative) {
  std::string location = common::http::encode_path(relative) + "/";
  if (!res.request().query.empty()) location += "?" + res.request().query;
  res.set_header("Location", location);
  res.send(301, "301 Moved Permanently: " + location + "\n");
}

void reply_from_memory(Response& res, const common::CachedFile& file) {
  common::http::FileMeta meta{file.body.size(), file.validators, file.content_type};
  common::http::send_planned_body(res, common::http::plan_file_response(res.request(), meta),
                                  file.body);
}

void reply_and_cache(Site& site, const std::string& key, Response& res, std::string body,
                     const common::http::FileMeta& meta) {
  common::CachedFile file{std::move(body), meta.validators, meta.content_type, uv_now(site.loop)};
  reply_from_memory(res, file);
  site.cache.store(key, std::move(file));
}

}  // namespace file_server
