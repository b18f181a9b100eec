// file_request.h: the state 01-file-server keeps — one Site for the server, one FileRequest per
// request being answered from the disk.
#pragma once

#include <uv.h>

#include <memory>
#include <string>

#include "common/files/async_fs.h"
#include "common/files/cache.h"
#include "common/files/path.h"
#include "common/http/response.h"

namespace file_server {

struct Site {
  uv_loop_t* loop = nullptr;
  std::string root;         // realpath(ROOT): absolute, no symlinks
  common::FileCache cache;  // small files, answered from memory for a second
};

// One request's state, shared by the callbacks of its steps: the last of them to finish
// destroys it, and so closes the file — also when the client left in the middle.
struct FileRequest {
  Site& site;
  common::http::Response res;
  std::string key;       // the normalised request path: "/", "/docs/", "/a.txt"
  std::string relative;  // what is opened: key, or key + "index.html"
  bool names_directory = false;
  std::string real;  // the path on disk, symlinks resolved
  uv_file fd = -1;
  std::string body;  // a small file, read whole on its way into the cache

  FileRequest(Site& s, common::http::Response response, const common::http::RequestedPath& path)
      : site(s), res(std::move(response)), key(path.relative), relative(path.relative) {
    names_directory = path.trailing_slash;
    if (names_directory) relative += "index.html";
  }
  FileRequest(const FileRequest&) = delete;
  FileRequest& operator=(const FileRequest&) = delete;
  ~FileRequest() {
    if (fd >= 0) common::fs::close(*site.loop, fd);
  }
};

}  // namespace file_server
