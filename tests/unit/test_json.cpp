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

TEST_CASE("JsonParser reads every string length, reuses its buffer, refuses NUL bytes", "[json]") {
  common::JsonParser parser;
  common::Json document;
  // Strings of every length around the 16-byte blocks the SSE2 scanner reads, escapes included,
  // against RapidJSON's plain byte-at-a-time Parse(data, size).
  for (size_t length = 0; length < 70; ++length) {
    std::string text = R"({"k":")" + std::string(length, 'x') + R"(\n\"y","n":[1,2.5,-3]})";
    CAPTURE(length);
    REQUIRE(parser.parse(document, text));
    common::Json reference;
    reference.Parse(text.data(), text.size());
    REQUIRE_FALSE(reference.HasParseError());
    CHECK(document == reference);
  }
  // A long text, then a short one: nothing of the first is left behind.
  REQUIRE(parser.parse(document, R"(["a"])"));
  CHECK(common::to_json(document) == R"(["a"])");

  std::string error;
  CHECK_FALSE(parser.parse(document, R"({"a":})", &error));
  CHECK(error == "invalid JSON at offset 5: Invalid value.");
  CHECK_FALSE(parser.parse(document, R"("open)", &error));
  CHECK(error.starts_with("invalid JSON at offset 5: "));
  // JSON has no raw NUL; RapidJSON alone would take one for the end of the text.
  CHECK_FALSE(parser.parse(document, std::string_view("{}\0{}", 5), &error));
  CHECK(error == "invalid JSON at offset 2: a NUL byte.");
  CHECK_FALSE(common::parse_json(std::string_view("{}\0{}", 5)));
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
