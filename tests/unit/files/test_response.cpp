// Tests for common/files/response (which answer a file request gets) and common/files/async_fs
// (the callbacks always come later, from the loop), plus Response::send_file on a connection
// that cannot send files.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "common/files/async_fs.h"
#include "common/files/response.h"
#include "common/uv/error.h"
#include "common/uv/loop.h"
#include "tests/support/catch.h"
#include "tests/support/scratch.h"

using namespace common::http;

namespace {

FileMeta meta(uint64_t size) {
  return FileMeta{size, make_validators(size, 784111777, 0), "text/plain; charset=utf-8"};
}

Request get(Headers headers = {}) {
  Request request;
  request.method = "GET";
  request.headers = std::move(headers);
  return request;
}

std::string header(const FilePlan& plan, std::string_view name) {
  for (const auto& [key, value] : plan.headers)
    if (iequals(key, name)) return value;
  return "";
}

// A file of `text` under $TMPDIR, removed at the end of the test.
struct TempFile {
  std::string path;
  explicit TempFile(std::string_view text) : path(test_support::make_temp_file("file_response")) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    REQUIRE(out.good());
  }
  ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("plan: 200 with validators, type and Accept-Ranges", "[file_response]") {
  FilePlan plan = plan_file_response(get(), meta(1000));
  CHECK(plan.status == 200);
  CHECK(plan.offset == 0);
  CHECK(plan.length == 1000);
  CHECK(header(plan, "ETag") == meta(1000).validators.etag);
  CHECK(header(plan, "Last-Modified") == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(header(plan, "Content-Type") == "text/plain; charset=utf-8");
  CHECK(header(plan, "Accept-Ranges") == "bytes");
}

TEST_CASE("plan: 304 for a current copy, 206 and 416 for ranges, If-Range", "[file_response]") {
  FileMeta file = meta(1000);
  FilePlan cached = plan_file_response(get({{"If-None-Match", file.validators.etag}}), file);
  CHECK(cached.status == 304);
  CHECK(cached.length == 0);
  CHECK(header(cached, "Content-Type").empty());
  FilePlan partial = plan_file_response(get({{"Range", "bytes=10-19"}}), file);
  CHECK(partial.status == 206);
  CHECK(partial.offset == 10);
  CHECK(partial.length == 10);
  CHECK(header(partial, "Content-Range") == "bytes 10-19/1000");
  FilePlan beyond = plan_file_response(get({{"Range", "bytes=1000-"}}), file);
  CHECK(beyond.status == 416);
  CHECK(header(beyond, "Content-Range") == "bytes */1000");
  FilePlan stale = plan_file_response(get({{"Range", "bytes=0-0"}, {"If-Range", "\"old\""}}), file);
  CHECK(stale.status == 200);
  CHECK(stale.length == 1000);
}

TEST_CASE("async fs: realpath, open, fstat, read, close, all completed later", "[async_fs]") {
  TempFile temp("hello, file");
  common::Loop loop;
  bool returned = false;
  std::string real, content(64, '\0');
  common::fs::FileStat stat;
  int fd = -1;
  common::fs::realpath(loop, temp.path, [&](int status, std::string path) {
    CHECK(returned);  // never called before realpath() returned
    REQUIRE(status == 0);
    real = std::move(path);
    common::fs::open(loop, real, O_RDONLY, [&](int opened) {
      REQUIRE(opened >= 0);
      fd = opened;
      common::fs::fstat(loop, fd, [&](int status2, const common::fs::FileStat& st) {
        REQUIRE(status2 == 0);
        stat = st;
        common::fs::read(loop, fd, content.data(), content.size(), 7, [&](ssize_t n) {
          REQUIRE(n == 4);
          content.resize(4);
          common::fs::close(loop, fd);
        });
      });
    });
  });
  returned = true;
  common::run_loop(loop);
  CHECK(real == temp.path);
  CHECK(stat.regular);
  CHECK_FALSE(stat.directory);
  CHECK(stat.size == 11);
  CHECK(content == "file");
  REQUIRE(loop.close() == 0);
}

TEST_CASE("async fs: errors arrive as libuv codes", "[async_fs]") {
  common::Loop loop;
  int open_status = 0, realpath_status = 0;
  common::fs::open(loop, "/nonexistent/definitely", O_RDONLY, [&](int rc) { open_status = rc; });
  common::fs::realpath(loop, "/nonexistent/x",
                       [&](int rc, const std::string&) { realpath_status = rc; });
  common::run_loop(loop);
  CHECK(open_status == UV_ENOENT);
  CHECK(realpath_status == UV_ENOENT);
  CHECK_THROWS_AS(common::fs::realpath_now(loop, "/nonexistent/x"), common::UvError);
  REQUIRE(loop.close() == 0);
}

namespace {
struct NoFilesSink final : ResponseSink {
  std::string bytes;
  void on_output(ResponseState& state) override { bytes += std::exchange(state.out, {}); }
  bool congested(const ResponseState&) const override { return false; }
};
}  // namespace

TEST_CASE("send_file refuses where the connection cannot send files", "[file_response]") {
  NoFilesSink sink;
  auto state = std::make_shared<ResponseState>();
  state->request.method = "GET";
  state->sink = &sink;
  Response res(state);
  bool called = false;
  CHECK_FALSE(res.send_file(0, 0, 10, [&](int) { called = true; }));  // not started yet
  res.start(200, {}, 10);
  CHECK_FALSE(res.send_file(0, 0, 10, [&](int) { called = true; }));  // the fake cannot
  CHECK_FALSE(called);
  res.write("0123456789");
  res.end();
  CHECK(sink.bytes.ends_with("\r\n\r\n0123456789"));
}
