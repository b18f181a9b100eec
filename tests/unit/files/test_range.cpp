// Tests for the Range part of common/files/response: the single-range forms, trimming, 416 and
// ignored headers.
#include "common/files/response.h"
#include "tests/support/catch.h"

using common::http::ByteRange;
using common::http::content_range;
using common::http::parse_range;
using Kind = common::http::ByteRange::Kind;

namespace {

void check_partial(std::string_view header, uint64_t size, uint64_t first, uint64_t length) {
  INFO(header);
  ByteRange range = parse_range(header, size);
  REQUIRE(range.kind == Kind::partial);
  CHECK(range.first == first);
  CHECK(range.length == length);
}

}  // namespace

TEST_CASE("first-last, open-ended and suffix ranges", "[range]") {
  check_partial("bytes=0-99", 1000, 0, 100);
  check_partial("bytes=100-", 1000, 100, 900);
  check_partial("bytes=-100", 1000, 900, 100);
  check_partial("bytes=999-999", 1000, 999, 1);
  check_partial(" bytes = 5 - 9 ", 1000, 5, 5);
  check_partial("Bytes=0-0", 1, 0, 1);
}

TEST_CASE("ranges past the end are trimmed", "[range]") {
  check_partial("bytes=900-5000", 1000, 900, 100);
  check_partial("bytes=-5000", 1000, 0, 1000);
  check_partial("bytes=0-99999999999999999999999", 1000, 0, 1000);
}

TEST_CASE("a range that starts past the end is unsatisfiable", "[range]") {
  CHECK(parse_range("bytes=1000-", 1000).kind == Kind::unsatisfiable);
  CHECK(parse_range("bytes=5000-6000", 1000).kind == Kind::unsatisfiable);
  CHECK(parse_range("bytes=-0", 1000).kind == Kind::unsatisfiable);
  CHECK(parse_range("bytes=0-", 0).kind == Kind::unsatisfiable);
  CHECK(parse_range("bytes=99999999999999999999999-", 1000).kind == Kind::unsatisfiable);
}

TEST_CASE("headers we do not understand are ignored (whole file)", "[range]") {
  for (std::string_view header : {"", "items=0-9", "bytes=9-0", "bytes=a-b", "bytes=0-9,20-29",
                                  "bytes=-", "bytes", "bytes=+1-2", "bytes=0-9x"}) {
    INFO(header);
    CHECK(parse_range(header, 1000).kind == Kind::whole);
  }
}

TEST_CASE("Content-Range values", "[range]") {
  CHECK(content_range(parse_range("bytes=0-99", 1000), 1000) == "bytes 0-99/1000");
  CHECK(content_range(parse_range("bytes=-1", 1000), 1000) == "bytes 999-999/1000");
  CHECK(content_range(parse_range("bytes=2000-", 1000), 1000) == "bytes */1000");
}
