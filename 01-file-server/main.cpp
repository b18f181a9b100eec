// 01-file-server: the tutorial's static file server, with every step asynchronous on the loop.
//
// GET or HEAD /<path> answers the file under ROOT: realpath → open → fstat → send, each step
// started from the callback of the one before, so the loop serves other clients meanwhile.
// Directories answer their index.html; small files are kept in a cache for a second.
// ANCHOR: includes
#include <fcntl.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <variant>

#include "01-file-server/replies.h"
#include "common/async_fs.h"
#include "common/file_cache.h"
#include "common/file_path.h"
#include "common/file_response.h"
#include "common/http_server.h"
#include "common/loop.h"
#include "common/mime.h"
#include "common/options.h"
#include "common/shutdown.h"
// ANCHOR_END: includes

namespace {

using common::http::Request;
using common::http::Response;
namespace fs = common::fs;

// ANCHOR: config
struct Site {
  uv_loop_t* loop = nullptr;
  std::string root;  // realpath(ROOT): absolute, no symlinks
  common::FileCache cache;
  bool use_sendfile = std::getenv("FILE_SERVER_NO_SENDFILE") == nullptr;  // for comparisons
};
// ANCHOR_END: config

// ANCHOR: concept
// One request's state, shared by the callbacks of its steps; the last one to finish destroys
// it, and with it closes the file (so a client that leaves mid-download leaks nothing).
struct FileRequest {
  Site& site;
  Response res;
  std::string key;       // the normalised request path: "/", "/docs/", "/a.txt"
  std::string relative;  // what is opened: key, or key + "index.html"
  bool names_directory = false;
  std::string real;  // the path on disk, symlinks resolved
  uv_file fd = -1;
  std::string body;  // a small file, read whole on its way into the cache

  FileRequest(Site& s, Response response, const common::http::RequestedPath& path)
      : site(s), res(std::move(response)), key(path.relative), relative(path.relative) {
    names_directory = path.trailing_slash;
    if (names_directory) relative += "index.html";
  }
  ~FileRequest() {
    if (fd >= 0) fs::close(*site.loop, fd);
  }
};
using Step = std::shared_ptr<FileRequest>;

void resolve(const Step& r);
void open_file(const Step& r);
void stat_file(const Step& r);
void read_small_file(const Step& r, const common::http::FileMeta& meta);

void serve(Site& site, const Request& req, Response res) {
  if (req.method != "GET" && req.method != "HEAD")
    return file_server::reply_method_not_allowed(res);
  common::http::RequestedPath path = common::http::parse_request_path(req.path);
  if (path.status != 0) return file_server::reply_status(res, path.status);
  if (const auto* cached = site.cache.find(path.relative, uv_now(site.loop)))
    return file_server::reply_from_memory(res, *cached);
  auto r = std::make_shared<FileRequest>(site, std::move(res), path);
  resolve(r);
}

// 1. Where is the file really? A symlink may point anywhere; only paths inside ROOT are served.
void resolve(const Step& r) {
  fs::realpath(*r->site.loop, r->site.root + r->relative, [r](int status, std::string real) {
    if (status < 0) return file_server::reply_fs_error(r->res, status, "realpath");
    if (!common::http::path_within(r->site.root, real))
      return file_server::reply_status(r->res, 404);
    r->real = std::move(real);
    open_file(r);
  });
}

// 2. Open it. O_NONBLOCK: opening a FIFO someone planted must not hang a worker thread.
void open_file(const Step& r) {
  fs::open(*r->site.loop, r->real, O_RDONLY | O_CLOEXEC | O_NONBLOCK, [r](int fd) {
    if (fd < 0) return file_server::reply_fs_error(r->res, fd, "open");
    r->fd = fd;
    stat_file(r);
  });
}

// 3. What is it? fstat on the open descriptor describes exactly the file we will send.
void stat_file(const Step& r) {
  fs::fstat(*r->site.loop, r->fd, [r](int status, const fs::FileStat& st) {
    if (status < 0) return file_server::reply_fs_error(r->res, status, "fstat");
    if (st.directory && !r->names_directory)
      return file_server::redirect_to_directory(r->res, r->key);
    if (!st.regular) return file_server::reply_status(r->res, 404);  // no listings, no devices
    common::http::FileMeta meta{st.size,
                                common::http::make_validators(st.size, st.mtime_sec, st.mtime_nsec),
                                common::http::content_type_for(r->real)};
    if (r->site.cache.fits(st.size)) return read_small_file(r, meta);
    // 4. A big file: its bytes go from the page cache to the socket, never all in memory.
    auto plan = common::http::plan_file_response(r->res.request(), meta);
    common::http::stream_file_body(*r->site.loop, r->res, plan, r->fd, r->site.use_sendfile,
                                   [r](int) {});  // r lives until the body is out
  });
}

// 4'. A small file: read it whole (one more trip), keep it in the cache, answer from memory.
void read_small_file(const Step& r, const common::http::FileMeta& meta) {
  r->body.resize(meta.size);
  fs::read(*r->site.loop, r->fd, r->body.data(), meta.size, 0, [r, meta](ssize_t n) {
    if (n < 0) return file_server::reply_fs_error(r->res, static_cast<int>(n), "read");
    if (static_cast<uint64_t>(n) != meta.size)
      return file_server::reply_status(r->res, 500);  // changed meanwhile
    common::CachedFile file{std::move(r->body), meta.validators, meta.content_type,
                            uv_now(r->site.loop)};
    file_server::reply_from_memory(r->res, file);
    r->site.cache.store(r->key, std::move(file));
  });
}
// ANCHOR_END: concept

// ANCHOR: routes
// No routes: every path is a file (the server's fallback handler sees every request).
void add_routes(common::http::Server& server, Site& site) {
  server.fallback([&site](const Request& req, Response res) { serve(site, req, res); });
}
// ANCHOR_END: routes

}  // namespace

// ANCHOR: main
int main(int argc, char** argv) {
  auto parsed = common::parse_file_server_options(argc, argv, "static file server on libuv");
  if (const int* code = std::get_if<int>(&parsed)) return *code;
  const auto& options = std::get<common::FileServerOptions>(parsed);
  try {
    common::Loop loop;
    Site site;
    site.loop = &loop.get();
    site.root = fs::realpath_now(loop, options.root);
    common::http::Config config;
    config.access_log = !options.quiet;
    common::http::Server server(loop, config);
    add_routes(server, site);
    server.listen(options.host, options.port);
    server.announce("file server running at");
    return common::http::serve_until_signal(loop, server);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "01-file-server: %s\n", error.what());
    return 1;
  }
}
// ANCHOR_END: main
