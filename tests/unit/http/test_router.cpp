// Tests for common/http/router and the percent-decoding of common/http/request: Express's
// matching table (docs/http.md §8), 405 + Allow instead of Express's 404, and
// decodeURIComponent's strictness.
#include "common/http/request.h"
#include "common/http/router.h"
#include "tests/support/catch.h"

using common::http::RouteMatch;
using common::http::Router;

namespace {

Router sync_router() {
  Router router;
  router.add("GET", "/sync/:userId", [](const common::http::Request&, common::http::Response) {});
  return router;
}

std::string user_id(std::string_view path) {
  RouteMatch match = sync_router().match("GET", path);
  if (match.route != nullptr) return match.params.at("userId");
  return std::string("<").append(std::to_string(match.status)).append(">");
}

}  // namespace

TEST_CASE("a param is one non-empty segment, one trailing slash, case-insensitive",
          "[http][router]") {
  CHECK(user_id("/sync/42") == "42");
  CHECK(user_id("/sync/42/") == "42");
  CHECK(user_id("/SYNC/42") == "42");
  CHECK(user_id("/Sync/42") == "42");
  CHECK(user_id("/sync/a.b-c_d~e+f") == "a.b-c_d~e+f");
  CHECK(user_id("/sync/") == "<404>");
  CHECK(user_id("/sync") == "<404>");
  CHECK(user_id("/sync/a/b") == "<404>");
  CHECK(user_id("/sync//42") == "<404>");
  CHECK(user_id("/sync/42//") == "<404>");
  CHECK(user_id("//sync/42") == "<404>");
  CHECK(user_id("/syncx/42") == "<404>");
  CHECK(user_id("sync/42") == "<404>");
  CHECK(user_id("") == "<404>");
}

TEST_CASE("params are percent-decoded after matching, bad escapes are 400", "[http][router]") {
  CHECK(user_id("/sync/%41") == "A");
  CHECK(user_id("/sync/%E2%98%83") == "\xE2\x98\x83");
  CHECK(user_id("/sync/a%2Fb") == "a/b");
  CHECK(user_id("/sync/a%2fb") == "a/b");
  CHECK(user_id("/sync/%20") == " ");
  CHECK(user_id("/sync/+") == "+");
  CHECK(user_id("/sync/%ZZ") == "<400>");
  CHECK(user_id("/sync/%4") == "<400>");
  CHECK(user_id("/sync/%") == "<400>");
  CHECK(user_id("/sync/%FF") == "<400>");        // not UTF-8: decodeURIComponent throws
  CHECK(user_id("/sync/%C0%AF") == "<400>");     // overlong
  CHECK(user_id("/sync/%ED%A0%80") == "<400>");  // surrogate
  RouteMatch bad = sync_router().match("GET", "/sync/%ZZ");
  CHECK(bad.message == "Failed to decode param '%ZZ'");
}

TEST_CASE("unknown paths are 404 with Express's message", "[http][router]") {
  RouteMatch match = sync_router().match("GET", "/nope");
  CHECK(match.route == nullptr);
  CHECK(match.status == 404);
  CHECK(match.message == "Cannot GET /nope");
  CHECK(match.allow.empty());
}

TEST_CASE("a known path with another method is 405 with Allow, HEAD uses GET", "[http][router]") {
  Router router = sync_router();
  RouteMatch post = router.match("POST", "/sync/42");
  CHECK(post.status == 405);
  CHECK(post.allow == "GET, HEAD");
  CHECK(post.message == "Cannot POST /sync/42");
  RouteMatch head = router.match("HEAD", "/sync/42");
  REQUIRE(head.route != nullptr);
  CHECK(head.route->method == "GET");
  CHECK(head.params.at("userId") == "42");
  router.add("post", "/sync/:id", [](const common::http::Request&, common::http::Response) {});
  RouteMatch delete_ = router.match("DELETE", "/sync/1");
  CHECK(delete_.allow == "GET, HEAD, POST");
  RouteMatch posted = router.match("POST", "/sync/7");
  REQUIRE(posted.route != nullptr);
  CHECK(posted.params.at("id") == "7");
}

TEST_CASE("several params, literal routes and the root", "[http][router]") {
  Router router;
  auto noop = [](const common::http::Request&, common::http::Response) {};
  router.add("GET", "/", noop);
  router.add("GET", "/a/:x/b/:y", noop);
  router.add("GET", "/file/:name", noop);
  CHECK(router.match("GET", "/").route != nullptr);
  CHECK(router.match("GET", "//").status == 404);
  RouteMatch two = router.match("GET", "/A/1/B/two/");
  REQUIRE(two.route != nullptr);
  CHECK(two.params.at("x") == "1");
  CHECK(two.params.at("y") == "two");
  CHECK(router.match("GET", "/a/1/c/2").status == 404);
  CHECK(router.match("GET", "/file/..").params.at("name") == "..");
  CHECK_THROWS_AS(router.add("GET", "no-slash", noop), std::invalid_argument);
  CHECK_THROWS_AS(router.add("GET", "/x/:", noop), std::invalid_argument);
}

TEST_CASE("the query string takes no part in matching", "[http][router]") {
  std::string path, query;
  common::http::split_target("/sync/42?x=1#frag", path, query);
  CHECK(path == "/sync/42");
  CHECK(query == "x=1");
  CHECK(user_id(path) == "42");
  common::http::split_target("/plain", path, query);
  CHECK(path == "/plain");
  CHECK(query.empty());
}

TEST_CASE("decode_uri_component and decode_query_component", "[http][url]") {
  using common::http::decode_query_component;
  using common::http::decode_uri_component;
  CHECK(decode_uri_component("a%20b+c") == "a b+c");
  CHECK(decode_uri_component("%F0%9F%98%80") == "\xF0\x9F\x98\x80");
  CHECK_FALSE(decode_uri_component("%F4%90%80%80"));  // above U+10FFFF
  CHECK_FALSE(decode_uri_component("%E2%98"));        // cut short
  CHECK(decode_query_component("a+b%2B%zz%") == "a b+%zz%");
}
