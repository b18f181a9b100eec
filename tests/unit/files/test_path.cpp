// Tests for common/files/path: request paths are decoded once, normalised, and can never name
// anything above the root; path_within is the symlink check's prefix test.
#include "common/files/path.h"
#include "tests/support/catch.h"

using common::http::parse_request_path;
using common::http::path_within;

namespace {

std::string relative(std::string_view raw) {
  auto path = parse_request_path(raw);
  REQUIRE(path.status == 0);
  return path.relative;
}

int status(std::string_view raw) {
  return parse_request_path(raw).status;
}

}  // namespace

TEST_CASE("plain paths are kept and directories keep their slash", "[file_path]") {
  CHECK(relative("/") == "/");
  CHECK(relative("/a.txt") == "/a.txt");
  CHECK(relative("/docs/") == "/docs/");
  CHECK(parse_request_path("/docs/").trailing_slash);
  CHECK_FALSE(parse_request_path("/docs").trailing_slash);
  CHECK(relative("//a///b") == "/a/b");
  CHECK(relative("/a/./b/.") == "/a/b/");
  CHECK(parse_request_path("/a/.").trailing_slash);
}

TEST_CASE("dot-dot is resolved inside the root and refused above it", "[file_path]") {
  CHECK(relative("/a/../b") == "/b");
  CHECK(relative("/a/b/..") == "/a/");
  CHECK(status("/..") == 403);
  CHECK(status("/../etc/passwd") == 403);
  CHECK(status("/a/../../etc/passwd") == 403);
  CHECK(status("/%2e%2e/etc/passwd") == 403);
  CHECK(status("/%2E%2E/etc/passwd") == 403);
  CHECK(status("/a/%2e%2e/%2e%2e/x") == 403);
}

TEST_CASE("escapes are decoded once, separators and NUL hidden in them are refused",
          "[file_path]") {
  CHECK(relative("/hello%20world.txt") == "/hello world.txt");
  CHECK(relative("/caf%C3%A9") == "/caf\xC3\xA9");
  CHECK(relative("/%252e%252e/x") == "/%2e%2e/x");  // double-encoded: a literal name
  CHECK(status("/a%2fb") == 403);
  CHECK(status("/..%2fetc") == 403);
  CHECK(status("/a%5cb") == 403);
  CHECK(status("/a\\..\\b") == 403);  // a raw backslash too
  CHECK(status("/a%00.txt") == 403);
  CHECK(status("/bad%zz") == 400);
  CHECK(status("/bad%") == 400);
  CHECK(status("/%ff") == 400);  // not UTF-8
}

TEST_CASE("absolute-URI targets use their path, other forms are malformed", "[file_path]") {
  CHECK(relative("http://example.com/a/b") == "/a/b");
  CHECK(relative("HTTP://example.com:8080/") == "/");
  CHECK(relative("http://example.com") == "/");
  CHECK(status("http://example.com/../x") == 403);
  CHECK(status("*") == 400);
  CHECK(status("") == 400);
  CHECK(status("a/b") == 400);
}

TEST_CASE("path_within accepts the root and what lies under it, nothing else", "[file_path]") {
  CHECK(path_within("/srv/www", "/srv/www"));
  CHECK(path_within("/srv/www", "/srv/www/a/b"));
  CHECK_FALSE(path_within("/srv/www", "/srv/www2/a"));
  CHECK_FALSE(path_within("/srv/www", "/srv"));
  CHECK_FALSE(path_within("/srv/www", "/etc/passwd"));
  CHECK(path_within("/", "/etc/passwd"));
}

TEST_CASE("encode_path escapes what a Location header must not carry raw", "[file_path]") {
  CHECK(common::http::encode_path("/docs") == "/docs");
  CHECK(common::http::encode_path("/my docs/a?b#c") == "/my%20docs/a%3Fb%23c");
  CHECK(common::http::encode_path("/caf\xC3\xA9") == "/caf%C3%A9");
}
