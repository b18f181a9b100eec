// Tests for common/json: compact output that is safe as one IPC line, and parse errors that say
// where.
#include "common/json.h"
#include "tests/support/catch.h"

TEST_CASE("to_json is compact and keeps newlines escaped", "[json]") {
  auto doc = common::parse_json(R"({ "a" : [1, 2], "s" : "line1\nline2", "u": "é☃" })");
  REQUIRE(doc);
  std::string text = common::to_json(*doc);
  CHECK(text == "{\"a\":[1,2],\"s\":\"line1\\nline2\",\"u\":\"é☃\"}");
  CHECK(text.find('\n') == std::string::npos);
}

TEST_CASE("parse_json rejects bad text with the offset", "[json]") {
  std::string error;
  CHECK_FALSE(common::parse_json("{\"a\":}", &error));
  CHECK(error.find("offset 5") != std::string::npos);
  CHECK_FALSE(common::parse_json("", &error));
  CHECK_FALSE(common::parse_json("1 2", &error));
  CHECK(common::parse_json("42"));
  CHECK(common::parse_json("\"str\""));
  CHECK(common::parse_json("null"));
}

TEST_CASE("error_body escapes the message", "[json]") {
  CHECK(common::error_body("user \"7\" not found") == R"({"error":"user \"7\" not found"})");
}

// NOLINTBEGIN(clang-analyzer-cplusplus.NewDelete): false positive, llvm-project#119415
TEST_CASE("get_int reads integral members only", "[json]") {
  auto doc = common::parse_json(R"({"id":7,"x":1.5,"s":"7"})");
  REQUIRE(doc);
  CHECK(common::get_int(*doc, "id") == 7);
  CHECK_FALSE(common::get_int(*doc, "x"));
  CHECK_FALSE(common::get_int(*doc, "s"));
  CHECK_FALSE(common::get_int(*doc, "missing"));
}
// NOLINTEND(clang-analyzer-cplusplus.NewDelete)
