// Integration tests for 01-file-server: a root generated under $TMPDIR, the real binary on port
// 0, and a raw HTTP client. Files, directories, traversal attempts, caching, ranges, HEAD, big
// downloads (byte-exact, through sendfile and through plain reads), aborted downloads that must
// leave no descriptor behind, and SIGTERM.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "tests/support/catch.h"
#include "tests/support/eventually.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"

using namespace std::chrono_literals;
using test_support::HttpResponse;
using test_support::RawClient;
using test_support::ServerProcess;
namespace stdfs = std::filesystem;

namespace {

constexpr size_t kBigSize = size_t{16} * 1024 * 1024;
constexpr std::string_view kSecret = "TOP-SECRET-OUTSIDE-THE-ROOT";

uint64_t fnv1a(std::string_view bytes) {
  uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : bytes) hash = (hash ^ c) * 1099511628211ULL;
  return hash;
}

// Deterministic pseudo-random bytes (xorshift), so every byte position matters.
std::string pseudo_random(size_t size) {
  std::string bytes(size, '\0');
  uint64_t x = 88172645463325252ULL;
  for (char& c : bytes) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x >> 32);
  }
  return bytes;
}

void write_file(const stdfs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  REQUIRE(out.good());
}

// $TMPDIR/fs-XXXXXX/{root/…, outside/secret.txt}, removed when the test ends.
struct Site {
  test_support::ScratchDir scratch{"fs"};
  stdfs::path base = scratch.path();
  stdfs::path root = base / "root";
  std::string index = "<!doctype html><title>t</title>" + std::string(990, 'x') + "\n";
  std::string big;

  explicit Site(bool with_big = false) {
    stdfs::create_directories(root / "docs");
    stdfs::create_directories(root / "empty");
    stdfs::create_directories(base / "outside");
    write_file(base / "outside" / "secret.txt", kSecret);
    write_file(root / "index.html", index);
    write_file(root / "docs" / "index.html", "docs index\n");
    write_file(root / "style.css", "body{}\n");
    write_file(root / "app.js", "1;\n");
    write_file(root / "data.json", "{}\n");
    write_file(root / "notes.txt", "notes\n");
    write_file(root / "my file.txt", "spaced\n");
    write_file(root / "blob", "?");
    stdfs::create_symlink(base / "outside" / "secret.txt", root / "leak.txt");
    stdfs::create_symlink(base / "outside", root / "leakdir");
    stdfs::create_symlink("index.html", root / "alias.html");
    REQUIRE(mkfifo((root / "fifo").c_str(), 0600) == 0);
    if (with_big) {
      big = pseudo_random(kBigSize);
      write_file(root / "big.bin", big);
    }
  }
  ServerProcess start(std::vector<std::string> flags = {}) const {
    flags.insert(flags.begin(), {"0", root.string()});
    return ServerProcess::start("01-file-server", std::move(flags));
  }
};

std::string request(std::string_view method, std::string_view target, std::string_view extra = "") {
  return std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: t\r\n" +
         std::string(extra) + "\r\n";
}

HttpResponse exchange(int port, std::string_view target, std::string_view extra = "",
                      std::string_view method = "GET") {
  RawClient client(port);
  client.send(request(method, target, extra));
  return client.read_response(method == "HEAD");
}

using test_support::eventually;

// "STATUS body": one CHECK compares both, and a failure shows both.
std::string status_and_body(const HttpResponse& res) {
  return std::to_string(res.status) + " " + res.body;
}

// The descriptor count once closes in flight (lingering sockets, files) have happened.
int settled_fd_count(pid_t pid) {
  int last = test_support::count_open_fds(pid);
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(100ms);
    int now = test_support::count_open_fds(pid);
    if (now == last) return now;
    last = now;
  }
  return last;
}

// The default site and a server for it: what most tests start with.
struct SiteServer {
  Site site;
  ServerProcess server = site.start();
};

}  // namespace

TEST_CASE_METHOD(SiteServer, "announces its URL, serves / and index.html, exits 0 on SIGTERM",
                 "[file_server]") {
  CHECK(server.first_line() ==
        "file server running at http://127.0.0.1:" + std::to_string(server.port()) + "/");
  for (std::string_view target : {"/", "/index.html", "/alias.html", "/?q=1"}) {
    INFO(target);
    HttpResponse res = exchange(server.port(), target);
    CHECK(res.status == 200);
    CHECK(res.body == site.index);
    CHECK(res.header("Content-Type") == "text/html; charset=utf-8");
    CHECK(res.header("Content-Length") == std::to_string(site.index.size()));
    CHECK(res.has_header("ETag"));
    CHECK(res.has_header("Last-Modified"));
  }
  CHECK(server.stop(SIGTERM) == 0);
}

TEST_CASE_METHOD(SiteServer, "content types follow the extension", "[file_server]") {
  CHECK(exchange(server.port(), "/style.css").header("Content-Type") == "text/css; charset=utf-8");
  CHECK(exchange(server.port(), "/app.js").header("Content-Type") ==
        "text/javascript; charset=utf-8");
  CHECK(exchange(server.port(), "/data.json").header("Content-Type") ==
        "application/json; charset=utf-8");
  CHECK(exchange(server.port(), "/notes.txt").header("Content-Type") ==
        "text/plain; charset=utf-8");
  CHECK(exchange(server.port(), "/blob").header("Content-Type") == "application/octet-stream");
  CHECK(status_and_body(exchange(server.port(), "/my%20file.txt")) == "200 spaced\n");
  CHECK(server.stop() == 0);
}

TEST_CASE_METHOD(SiteServer,
                 "directories: 301 to the slash form, index.html inside, 404 without one",
                 "[file_server]") {
  HttpResponse moved = exchange(server.port(), "/docs?x=1");
  CHECK(moved.status == 301);
  CHECK(moved.header("Location") == "/docs/?x=1");
  CHECK(status_and_body(exchange(server.port(), "/docs/")) == "200 docs index\n");
  HttpResponse empty = exchange(server.port(), "/empty/");
  CHECK(empty.status == 404);
  CHECK(empty.body == "404 Not Found\n");
  CHECK(exchange(server.port(), "/empty").status == 301);
  CHECK(server.stop() == 0);
}

TEST_CASE_METHOD(SiteServer,
                 "missing files are 404 text/plain, other methods 405, FIFOs are not opened",
                 "[file_server]") {
  HttpResponse missing = exchange(server.port(), "/nope.html");
  CHECK(missing.status == 404);
  CHECK(missing.header("Content-Type") == "text/plain; charset=utf-8");
  CHECK(missing.body == "404 Not Found\n");
  CHECK(exchange(server.port(), "/docs/nope/deeper").status == 404);
  CHECK(exchange(server.port(), "/index.html/x").status == 404);  // ENOTDIR
  HttpResponse post = exchange(server.port(), "/index.html", "Content-Length: 0\r\n", "POST");
  CHECK(post.status == 405);
  CHECK(post.header("Allow") == "GET, HEAD");
  CHECK(exchange(server.port(), "/fifo").status == 404);  // answered at once, no hang
  CHECK(exchange(server.port(), "/").status == 200);
  CHECK(server.stop() == 0);
}

TEST_CASE_METHOD(SiteServer, "traversal attempts never leak a file outside the root",
                 "[file_server]") {
  for (std::string_view target :
       {"/../outside/secret.txt", "/%2e%2e/outside/secret.txt", "/%2E%2E%2Foutside%2Fsecret.txt",
        "/..%2foutside%2fsecret.txt", "/docs/../../outside/secret.txt",
        "/docs/%2e%2e/%2e%2e/outside/secret.txt", "/%252e%252e/outside/secret.txt",
        "/..%5coutside%5csecret.txt", "/..\\outside\\secret.txt", "/leak.txt%00.html", "/%00",
        "/leak.txt", "/leakdir/secret.txt", "/leakdir/", "//../outside/secret.txt",
        "http://t/../outside/secret.txt", "http://t/leak.txt", "/./../outside/secret.txt"}) {
    INFO(target);
    RawClient client(server.port());
    client.send(request("GET", target, "Connection: close\r\n"));
    std::string answer = client.read_until_close(5s);
    int status = answer.size() > 12 ? std::stoi(answer.substr(9, 3)) : 0;
    CHECK((status == 400 || status == 403 || status == 404));
    CHECK(answer.find(kSecret) == std::string::npos);
  }
  CHECK(exchange(server.port(), "/").status == 200);
  CHECK(server.stop() == 0);
}

// The race of issue #17: a directory inside ROOT and a symlink to an outside directory swap
// places (renameat2 RENAME_EXCHANGE, atomic) as fast as they can while clients ask for the files
// beneath the name. Checking a path and then opening it would serve outside files in the gap.
TEST_CASE("a directory swapped with a symlink to outside never serves an outside byte",
          "[file_server][race]") {
  Site site;
  constexpr int kFiles = 1000;  // more names than requests per cache lifetime: few cache hits
  stdfs::create_directories(site.root / "d");
  stdfs::create_directories(site.base / "outside-d");
  for (int i = 0; i < kFiles; ++i) {
    write_file(site.root / "d" / ("f" + std::to_string(i)), "inside\n");
    write_file(site.base / "outside-d" / ("f" + std::to_string(i)), kSecret);
  }
  stdfs::create_symlink(site.base / "outside-d", site.root / "swap");
  ServerProcess server = site.start({"--quiet"});

  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    std::string d = (site.root / "d").string(), swap = (site.root / "swap").string();
    while (!stop) renameat2(AT_FDCWD, d.c_str(), AT_FDCWD, swap.c_str(), RENAME_EXCHANGE);
  });
  std::atomic<int> inside{0}, outside{0}, failed{0};
  auto client = [&](int first) {
    const auto deadline = std::chrono::steady_clock::now() + 4s;
    for (int i = first; std::chrono::steady_clock::now() < deadline; i += 2) {
      try {
        HttpResponse res = exchange(server.port(), "/d/f" + std::to_string(i % kFiles));
        if (res.body.find(kSecret) != std::string::npos) ++outside;
        if (res.status == 200 && res.body == "inside\n") ++inside;
      } catch (const std::exception&) {
        ++failed;
      }
    }
  };
  std::thread even(client, 0), odd(client, 1);
  even.join();
  odd.join();
  stop = true;
  swapper.join();
  INFO("inside " << inside << ", outside " << outside << ", failed " << failed);
  CHECK(outside == 0);
  CHECK(inside > 50);  // the race was run, not only refused
  CHECK(failed == 0);
  CHECK(server.stop() == 0);
}

TEST_CASE("a ROOT that is missing or not a directory stops the server at start, named",
          "[file_server][startup]") {
  Site site;
  for (const stdfs::path& root : {site.base / "missing", site.root / "notes.txt"}) {
    INFO(root);
    auto failure =
        ServerProcess::start_expecting_failure("01-file-server", {"0", root.string()}, 5s);
    CHECK(failure.exit_code == 2);
    INFO("stderr: " << failure.err);
    CHECK(failure.err.find("ROOT '" + root.string() + "'") != std::string::npos);
  }
}

TEST_CASE("a port in use stops the server at start, naming the address and port",
          "[file_server][startup]") {
  Site site;
  ServerProcess first = site.start();
  const std::string port = std::to_string(first.port());
  auto failure =
      ServerProcess::start_expecting_failure("01-file-server", {port, site.root.string()}, 5s);
  CHECK(failure.exit_code == 1);
  INFO("stderr: " << failure.err);
  CHECK(failure.err.find("127.0.0.1:" + port) != std::string::npos);
  CHECK(failure.err.find("address already in use") != std::string::npos);
  CHECK(first.stop() == 0);
}

TEST_CASE_METHOD(SiteServer, "absolute-URI request targets are served by their path",
                 "[file_server]") {
  CHECK(status_and_body(exchange(server.port(), "http://example.com/docs/")) == "200 docs index\n");
  CHECK(server.stop() == 0);
}

TEST_CASE_METHOD(SiteServer,
                 "304 for If-None-Match and If-Modified-Since, changes are seen within a second",
                 "[file_server]") {
  HttpResponse first = exchange(server.port(), "/notes.txt");
  REQUIRE(first.status == 200);
  std::string etag = first.header("ETag"), modified = first.header("Last-Modified");
  HttpResponse by_etag = exchange(server.port(), "/notes.txt", "If-None-Match: " + etag + "\r\n");
  CHECK(by_etag.status == 304);
  CHECK(by_etag.body.empty());
  CHECK(by_etag.header("ETag") == etag);
  CHECK(exchange(server.port(), "/notes.txt", "If-None-Match: \"nope\"\r\n").status == 200);
  CHECK(exchange(server.port(), "/notes.txt", "If-Modified-Since: " + modified + "\r\n").status ==
        304);
  CHECK(
      exchange(server.port(), "/notes.txt", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n")
          .status == 200);
  // Rewrite the file: the cache trusts an entry for one second, then looks at the disk again.
  write_file(site.root / "notes.txt", "new notes, longer\n");
  CHECK(eventually(
      [&] { return exchange(server.port(), "/notes.txt").body == "new notes, longer\n"; }, 3s));
  HttpResponse changed = exchange(server.port(), "/notes.txt", "If-None-Match: " + etag + "\r\n");
  CHECK(changed.status == 200);
  CHECK(changed.header("ETag") != etag);
  stdfs::remove(site.root / "notes.txt");
  CHECK(eventually([&] { return exchange(server.port(), "/notes.txt").status == 404; }, 3s));
  CHECK(server.stop() == 0);
}

TEST_CASE("ranges: 206 with Content-Range, open and suffix forms, 416, If-Range", "[file_server]") {
  Site site(true);
  ServerProcess server = site.start();
  auto range = [&](std::string_view target, std::string_view spec, std::string_view extra = "") {
    return exchange(server.port(), target,
                    "Range: " + std::string(spec) + "\r\n" + std::string(extra));
  };
  HttpResponse head = range("/big.bin", "bytes=0-99");
  CHECK(head.status == 206);
  CHECK(head.header("Content-Range") == "bytes 0-99/" + std::to_string(kBigSize));
  CHECK(head.body == site.big.substr(0, 100));
  HttpResponse middle = range("/big.bin", "bytes=5000000-5999999");
  CHECK(middle.status == 206);
  CHECK(fnv1a(middle.body) == fnv1a(std::string_view(site.big).substr(5000000, 1000000)));
  HttpResponse tail = range("/big.bin", "bytes=-10");
  CHECK(tail.body == site.big.substr(kBigSize - 10));
  HttpResponse open = range("/big.bin", "bytes=16777200-");
  CHECK(open.body == site.big.substr(16777200));
  HttpResponse small = range("/index.html", "bytes=2-5");
  CHECK(small.status == 206);
  CHECK(small.body == site.index.substr(2, 4));
  CHECK(small.header("Content-Range") == "bytes 2-5/" + std::to_string(site.index.size()));
  HttpResponse beyond = range("/index.html", "bytes=999999-");
  CHECK(beyond.status == 416);
  CHECK(beyond.header("Content-Range") == "bytes */" + std::to_string(site.index.size()));
  CHECK(range("/big.bin", "bytes=99999999-").status == 416);
  CHECK(range("/index.html", "bytes=0-1,5-6").status == 200);  // several ranges: whole file
  std::string etag = exchange(server.port(), "/index.html").header("ETag");
  CHECK(range("/index.html", "bytes=0-0", "If-Range: " + etag + "\r\n").status == 206);
  CHECK(range("/index.html", "bytes=0-0", "If-Range: \"stale\"\r\n").status == 200);
  CHECK(server.stop() == 0);
}

TEST_CASE("HEAD answers the headers only, on small and big files", "[file_server]") {
  Site site(true);
  ServerProcess server = site.start();
  RawClient client(server.port());
  // If a HEAD answer carried a body, the GET's answer after it would not parse.
  client.send(request("HEAD", "/big.bin") + request("HEAD", "/index.html") +
              request("GET", "/notes.txt"));
  HttpResponse big = client.read_response(true);
  CHECK(big.status == 200);
  CHECK(big.header("Content-Length") == std::to_string(kBigSize));
  HttpResponse small = client.read_response(true);
  CHECK(small.header("Content-Length") == std::to_string(site.index.size()));
  CHECK(status_and_body(client.read_response()) == "200 notes\n");
  CHECK(client.pending().empty());
  CHECK(server.stop() == 0);
}

// Each burst of sendfile(2) is followed by a piece copied with pread + write
// (common/http/connection_write.cpp): the body goes through both paths.
TEST_CASE("a 16 MiB download is byte-exact", "[file_server]") {
  Site site(true);
  ServerProcess server = site.start({"--quiet"});
  RawClient client(server.port());
  // Pipelined: the small answer must follow the big one intact.
  client.send(request("GET", "/big.bin") + request("GET", "/index.html"));
  HttpResponse big = client.read_response(false, 60s);
  CHECK(big.status == 200);
  CHECK(big.body.size() == kBigSize);
  CHECK(fnv1a(big.body) == fnv1a(site.big));
  CHECK(client.read_response().body == site.index);
  CHECK(server.stop() == 0);
}

TEST_CASE("50 aborted big downloads leave no descriptor open and the server serving",
          "[file_server]") {
  Site site(true);
  ServerProcess server = site.start({"--quiet"});
  CHECK(exchange(server.port(), "/").status == 200);  // warm up: thread pool, cache
  CHECK(exchange(server.port(), "/big.bin", "Range: bytes=0-9\r\n").status == 206);
  int before = settled_fd_count(server.pid());
  REQUIRE(before > 0);
  {  // a download stalled by its client holds the file (and socket) open…
    RawClient stalled(server.port());
    stalled.send(request("GET", "/big.bin"));
    CHECK(eventually([&] { return test_support::count_open_fds(server.pid()) >= before + 2; }));
  }  // …until the client goes away
  CHECK(eventually([&] { return test_support::count_open_fds(server.pid()) == before; }));
  for (int i = 0; i < 50; ++i) {
    RawClient client(server.port());
    client.send(request("GET", "/big.bin"));
    std::string some = client.read_until_close(i % 2 == 0 ? 20ms : 1ms);
    client.close();  // unread bytes in our buffer: the kernel resets the connection
  }
  // Served after the 50 in the accept queue: once it is answered, no aborted connection can
  // still be waiting to be accepted (and add a descriptor after the count has settled).
  HttpResponse still = exchange(server.port(), "/index.html");
  CHECK(still.status == 200);
  CHECK(eventually([&] { return test_support::count_open_fds(server.pid()) == before; }));
  CHECK(test_support::count_open_fds(server.pid()) == before);
  CHECK(server.stop() == 0);
}

TEST_CASE("access log on stderr, off with --quiet", "[file_server]") {
  Site site;
  {
    ServerProcess server = site.start();
    CHECK(exchange(server.port(), "/notes.txt").status == 200);
    CHECK(exchange(server.port(), "/nope").status == 404);
    CHECK(eventually(
        [&] { return server.stderr_text().find("GET /nope 404") != std::string::npos; }));
    CHECK(server.stderr_text().find("GET /notes.txt 200 6 ") != std::string::npos);
    CHECK(server.stop() == 0);
  }
  ServerProcess quiet = site.start({"--quiet"});
  CHECK(exchange(quiet.port(), "/notes.txt").status == 200);
  std::this_thread::sleep_for(100ms);
  CHECK(quiet.stderr_text().find("GET /notes.txt") == std::string::npos);
  CHECK(quiet.stop() == 0);
}
