// Tests for common/http/conditional: ETags, HTTP dates in their three formats, 304 decisions
// and If-Range.
#include "common/http/conditional.h"
#include "tests/support/catch.h"

using namespace common::http;

namespace {

constexpr std::time_t kNov1994 = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

Request with_headers(Headers headers) {
  Request request;
  request.method = "GET";
  request.headers = std::move(headers);
  return request;
}

}  // namespace

TEST_CASE("validators: a strong ETag from size and mtime, an IMF-fixdate", "[conditional]") {
  Validators v = make_validators(0x1f4, kNov1994, 5);
  CHECK(v.etag == "\"1f4-" + [] {
    char hex[32];
    std::snprintf(hex, sizeof hex, "%llx", 784111777ULL * 1000000000ULL + 5);
    return std::string(hex);
  }() + "\"");
  CHECK(v.last_modified == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(v.modified == kNov1994);
  CHECK(make_validators(0x1f4, kNov1994, 6).etag != v.etag);  // same second, new content
  CHECK(make_validators(0x1f5, kNov1994, 5).etag != v.etag);
}

TEST_CASE("HTTP dates: the three formats, and rubbish refused", "[conditional]") {
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == kNov1994);
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == kNov1994);
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994") == kNov1994);
  CHECK(parse_http_date("Sun, 6 Nov 1994 08:49:37 GMT") == kNov1994);  // a lenient day
  CHECK(parse_http_date("Wed Nov 16 08:49:37 1994") == kNov1994 + std::time_t{10} * 86400);
  CHECK(format_http_date(kNov1994) == "Sun, 06 Nov 1994 08:49:37 GMT");
  for (std::string_view bad :
       {"", "yesterday", "Sun, 06 Nov 1994 08:49:37 CET", "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT x", "1994-11-06T08:49:37Z", "Sun, 06 Nov 19940 08:49:37 GMT",
        "Sun, 006 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:99999999999 GMT",
        "Sun, +6 Nov 1994 08:49:37 GMT"}) {
    INFO(bad);
    CHECK_FALSE(parse_http_date(bad).has_value());
  }
}

TEST_CASE("If-None-Match: weak comparison against a list, or *", "[conditional]") {
  Validators v = make_validators(10, kNov1994, 0);
  CHECK(not_modified(with_headers({{"If-None-Match", v.etag}}), v));
  CHECK(not_modified(with_headers({{"If-None-Match", "W/" + v.etag}}), v));
  CHECK(not_modified(with_headers({{"If-None-Match", "\"x\", " + v.etag + " , \"y\""}}), v));
  CHECK(not_modified(with_headers({{"If-None-Match", "*"}}), v));
  CHECK_FALSE(not_modified(with_headers({{"If-None-Match", "\"other\""}}), v));
  // If-None-Match wins over If-Modified-Since (RFC 9110 §13.1.3).
  CHECK_FALSE(not_modified(
      with_headers({{"If-None-Match", "\"other\""}, {"If-Modified-Since", v.last_modified}}), v));
}

TEST_CASE("If-Modified-Since: 304 when the file is not newer, bad dates ignored", "[conditional]") {
  Validators v = make_validators(10, kNov1994, 999);
  CHECK(not_modified(with_headers({{"If-Modified-Since", v.last_modified}}), v));
  CHECK(not_modified(with_headers({{"If-Modified-Since", format_http_date(kNov1994 + 60)}}), v));
  CHECK_FALSE(
      not_modified(with_headers({{"If-Modified-Since", format_http_date(kNov1994 - 1)}}), v));
  CHECK_FALSE(not_modified(with_headers({{"If-Modified-Since", "garbage"}}), v));
  CHECK_FALSE(not_modified(with_headers({}), v));
}

TEST_CASE("If-Range: our strong ETag or exact date allows the range", "[conditional]") {
  Validators v = make_validators(10, kNov1994, 0);
  CHECK(if_range_allows("", v));
  CHECK(if_range_allows(v.etag, v));
  CHECK(if_range_allows(v.last_modified, v));
  CHECK_FALSE(if_range_allows("W/" + v.etag, v));
  CHECK_FALSE(if_range_allows("\"stale\"", v));
  CHECK_FALSE(if_range_allows(format_http_date(kNov1994 + 1), v));
}
