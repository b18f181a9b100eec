// 01-file-server: the tutorial's static file server, with every step asynchronous on the loop.
//
// GET or HEAD /<path> answers the file under ROOT: open → realpath → fstat → send, each step
// started from the callback of the one before, so the loop serves other clients meanwhile.
// Directories answer their index.html; small files are kept in a cache for a second.
// ANCHOR: includes
#include <fcntl.h>

#include <cstdio>
#include <memory>
#include <string>
#include <variant>

#include "01-file-server/file_request.h"
#include "01-file-server/replies.h"
#include "common/files/async_fs.h"
#include "common/files/mime.h"
#include "common/files/response.h"
#include "common/http/server.h"
#include "common/http/shutdown.h"
#include "common/options.h"
#include "common/uv/loop.h"
// ANCHOR_END: includes

namespace {

namespace http = common::http;
namespace fs = common::fs;
using namespace file_server;
using Step = std::shared_ptr<FileRequest>;

// ANCHOR: config
Site make_site(uv_loop_t& loop, const common::FileServerOptions& options) {
  Site site;
  site.loop = &loop;
  site.root = fs::realpath_now(loop, options.root);  // synchronous: the loop is not running yet
  return site;
}
// ANCHOR_END: config

// ANCHOR: concept
void open_file(const Step& r);
void check_where(const Step& r);
void stat_file(const Step& r);
void read_small_file(const Step& r, const http::FileMeta& meta);

void serve(Site& site, const http::Request& req, http::Response res) {
  if (req.method != "GET" && req.method != "HEAD") return reply_method_not_allowed(res);
  http::RequestedPath path = http::parse_request_path(req.path);
  if (path.status != 0) return reply_status(res, path.status);
  if (const auto* cached = site.cache.find(path.relative, uv_now(site.loop)))
    return reply_from_memory(res, *cached);
  open_file(std::make_shared<FileRequest>(site, std::move(res), path));
}

// 1. Open it. O_NONBLOCK: opening a FIFO someone planted must not hang a worker thread.
void open_file(const Step& r) {
  fs::open(*r->site.loop, r->site.root + r->relative, O_RDONLY | O_CLOEXEC | O_NONBLOCK,
           [r](int fd) {
             if (fd < 0) return reply_fs_error(r->res, fd, "open");
             r->fd = fd;
             check_where(r);
           });
}

// 2. Where did we land? A symlink may point anywhere, and may be swapped in between any check
// of the name and the open; so ask the open descriptor, like fstat below. /proc/self/fd/N leads
// to the path the kernel keeps for the open file: only a file inside ROOT is served.
void check_where(const Step& r) {
  std::string link = "/proc/self/fd/" + std::to_string(r->fd);
  fs::realpath(*r->site.loop, link, [r](int status, std::string real) {
    if (status < 0) return reply_fs_error(r->res, status, "realpath");
    if (!http::path_within(r->site.root, real)) return reply_status(r->res, 404);
    r->real = std::move(real);
    stat_file(r);
  });
}

// 3. What is it? fstat on the open descriptor describes exactly the file we will send.
void stat_file(const Step& r) {
  fs::fstat(*r->site.loop, r->fd, [r](int status, const fs::FileStat& st) {
    if (status < 0) return reply_fs_error(r->res, status, "fstat");
    if (st.directory && !r->names_directory) return redirect_to_directory(r->res, r->key);
    if (!st.regular) return reply_status(r->res, 404);  // no listings, no devices
    http::FileMeta meta{st.size, http::make_validators(st.size, st.mtime_sec, st.mtime_nsec),
                        http::content_type_for(r->real)};
    if (r->site.cache.fits(st.size)) return read_small_file(r, meta);
    // 4. A big file goes from the page cache to the socket, never whole into our memory.
    http::FilePlan plan = http::plan_file_response(r->res.request(), meta);
    http::stream_file_body(*r->site.loop, r->res, plan, r->fd,
                           [r](int) {});  // holds r, and so the file, until the body is out
  });
}

// 4'. A small file: read it whole (one more trip), answer, keep it in the cache.
void read_small_file(const Step& r, const http::FileMeta& meta) {
  r->body.resize(meta.size);
  fs::read(*r->site.loop, r->fd, r->body.data(), meta.size, 0, [r, meta](ssize_t n) {
    if (n < 0) return reply_fs_error(r->res, static_cast<int>(n), "read");
    if (static_cast<uint64_t>(n) != meta.size) return reply_status(r->res, 500);  // it changed
    reply_and_cache(r->site, r->key, r->res, std::move(r->body), meta);
  });
}
// ANCHOR_END: concept

// ANCHOR: routes
// No routes: every path names a file, so the server's fallback handler takes every request.
void add_routes(http::Server& server, Site& site) {
  server.fallback([&site](const http::Request& req, http::Response res) { serve(site, req, res); });
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
    Site site = make_site(loop, options);
    common::http::Config config;
    config.access_log = !options.quiet;
    common::http::Server server(loop, config);
    add_routes(server, site);
    server.listen(options.host, options.port);
    return common::http::serve_until_signal(loop, server, "file server running at");
  } catch (const std::exception& error) {
    std::fprintf(stderr, "01-file-server: %s\n", error.what());
    return 1;
  }
}
// ANCHOR_END: main
