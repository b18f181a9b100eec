// Tests for common/json: compact output that is safe as one IPC line, and parse errors that say
// where.
#include "common/json.h"

#include <rapidjson/writer.h>

#include <cmath>
#include <limits>
#include <random>

#include "tests/support/catch.h"
#include "tests/support/utf8.h"

namespace {

// RapidJSON's plain compact Writer: JsonWriter differs from it only for NaN and infinities, and
// for strings that are not UTF-8.
std::string written_by_rapidjson(const rapidjson::Value& value) {
  rapidjson::StringBuffer text;
  rapidjson::Writer<rapidjson::StringBuffer> writer(text);
  REQUIRE(value.Accept(writer));
  return {text.GetString(), text.GetSize()};
}

// A random string of bytes from all 256, short runs of plain text between them.
std::string random_text(std::mt19937& random) {
  std::string text;
  auto length = std::uniform_int_distribution<size_t>(0, 100)(random);
  for (size_t i = 0; i < length; ++i) {
    auto pick = random() % 4;
    text.push_back(pick == 0 ? static_cast<char>(random() % 256) : static_cast<char>('a' + pick));
  }
  return text;
}

double random_double(std::mt19937& random) {
  static const double kSpecial[] = {0.0,
                                    -0.0,
                                    0.1,
                                    1e21,
                                    1e-7,
                                    5e-324,
                                    1.7976931348623157e308,
                                    123.45,
                                    -2.5e-8,
                                    1.0 / 3,
                                    1e15,
                                    9007199254740993.0};
  if (random() % 2 == 0) return kSpecial[random() % std::size(kSpecial)];
  std::uniform_real_distribution<double> mantissa(-10, 10);
  return std::ldexp(mantissa(random), std::uniform_int_distribution<int>(-1070, 1020)(random));
}

// A random document of every JSON type, `depth` levels deep at most.
rapidjson::Value random_value(std::mt19937& random, common::Json::AllocatorType& allocator,
                              int depth) {
  switch (random() % (depth > 0 ? 10 : 8)) {
    case 0:
      return rapidjson::Value(rapidjson::kNullType);
    case 1:
      return rapidjson::Value(random() % 2 == 0);
    case 2:
      return rapidjson::Value(static_cast<int64_t>(random()) - (int64_t{1} << 31));
    case 3: {  // wide negative numbers, down to INT64_MIN
      auto low = std::numeric_limits<int64_t>::min() + static_cast<int64_t>(random() % 3);
      return rapidjson::Value(random() % 2 == 0 ? low : low / static_cast<int64_t>(random() | 1));
    }
    case 4:
      return rapidjson::Value(std::numeric_limits<uint64_t>::max() - (random() % 3));
    case 5:
      return rapidjson::Value(random_double(random));
    case 6:
    case 7: {
      std::string text = random_text(random);
      return rapidjson::Value(text.data(), static_cast<rapidjson::SizeType>(text.size()),
                              allocator);
    }
    case 8: {
      rapidjson::Value array(rapidjson::kArrayType);
      for (auto n = random() % 5; n > 0; --n)
        array.PushBack(random_value(random, allocator, depth - 1), allocator);
      return array;
    }
    default: {
      rapidjson::Value object(rapidjson::kObjectType);
      for (auto n = random() % 5; n > 0; --n) {
        std::string name = random_text(random);
        object.AddMember(
            rapidjson::Value(name.data(), static_cast<rapidjson::SizeType>(name.size()), allocator),
            random_value(random, allocator, depth - 1), allocator);
      }
      return object;
    }
  }
}

}  // namespace

TEST_CASE("to_json is compact and keeps newlines escaped", "[json]") {
  auto doc = common::parse_json(R"({ "a" : [1, 2], "s" : "line1\nline2", "u": "é☃" })");
  REQUIRE(doc);
  std::string text = common::to_json(*doc);
  CHECK(text == "{\"a\":[1,2],\"s\":\"line1\\nline2\",\"u\":\"é☃\"}");
  CHECK(text.find('\n') == std::string::npos);
}

TEST_CASE("to_json writes what RapidJSON's Writer writes of UTF-8, and parse_json reads it",
          "[json]") {
  std::mt19937 random(20261129);  // fixed: a failure can be replayed
  int utf8_rounds = 0;
  for (int round = 0; round < 3000; ++round) {
    common::Json document;
    document.CopyFrom(random_value(random, document.GetAllocator(), 4), document.GetAllocator());
    std::string ours = "prefix:";
    ours += common::to_json(document);
    CAPTURE(round, ours);
    std::string theirs = written_by_rapidjson(document);
    if (test_support::is_well_formed_utf8(theirs)) {  // all its strings were UTF-8
      ++utf8_rounds;
      REQUIRE(ours == "prefix:" + theirs);
    }
    REQUIRE(test_support::is_well_formed_utf8(ours));
    REQUIRE(ours.find('\n') == std::string::npos);
    REQUIRE(common::parse_json(ours.substr(7)));  // valid JSON, whatever the bytes of its strings
  }
  CHECK(utf8_rounds > 300);  // both kinds were tried
}

TEST_CASE("to_json escapes every control character and nothing else", "[json]") {
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
  rapidjson::Value text(all_bytes.data(), static_cast<rapidjson::SizeType>(all_bytes.size()));
  std::string ours = common::to_json(text);
  CHECK(ours.substr(0, 13) == R"("\u0000\u0001)");
  CHECK(ours.find(R"(\b\t\n\u000B\f\r)") != std::string::npos);
  CHECK(ours.find(R"( !\"#)") != std::string::npos);
  CHECK(ours.find(R"([\\])") != std::string::npos);
  CHECK(ours.find('\n') == std::string::npos);
  for (char c = 0; c < 0x20; ++c) CHECK(ours.find(c) == std::string::npos);
  CHECK(ours.find(",-./0") != std::string::npos);  // '/' is left as it is
  // A byte >= 0x80 on its own is not UTF-8: each is written as U+FFFD.
  std::string replaced;
  for (int c = 0x80; c < 0x100; ++c) replaced += "\xEF\xBF\xBD";
  CHECK(ours.ends_with("}~\x7F" + replaced + "\""));
}

TEST_CASE("to_json writes each byte that is not part of valid UTF-8 as U+FFFD", "[json]") {
  auto replaced = [](int bytes) {  // U+FFFD for each of so many bytes
    std::string text;
    for (int i = 0; i < bytes; ++i) text += "\xEF\xBF\xBD";
    return text;
  };
  struct Case {
    std::string in, expected;
  };
  const Case cases[] = {
      {"\xFF\xFE", replaced(2)},                                       // never in UTF-8
      {"a\xE2\x82", "a" + replaced(2)},                                // cut short
      {"\xC0\xAF", replaced(2)},                                       // overlong '/'
      {"\xED\xA0\x80", replaced(3)},                                   // a surrogate
      {"\xF4\x90\x80\x80", replaced(4)},                               // above U+10FFFF
      {"\x80é☃\xF0\x9F\x98\x80", replaced(1) + "é☃\xF0\x9F\x98\x80"},  // the rest is kept
  };
  for (const auto& [in, expected] : cases) {
    CAPTURE(in);
    CHECK(common::to_utf8(in) == expected);
    CHECK_FALSE(common::is_utf8(in));
    CHECK(common::is_utf8(expected));
    // In a value, in a key and in an error message alike.
    common::Json object(rapidjson::kObjectType);
    object.AddMember(rapidjson::Value(in.c_str(), object.GetAllocator()),
                     rapidjson::Value(in.c_str(), object.GetAllocator()), object.GetAllocator());
    std::string written = common::to_json(object);
    std::string quoted = '"' + expected + '"';
    CHECK(written == '{' + quoted + ':' + quoted + '}');
    CHECK(test_support::is_well_formed_utf8(written));
    CHECK(common::parse_json(written));
    std::string body = common::error_body("Cannot GET /" + in);
    CHECK(body == R"({"error":"Cannot GET /)" + expected + R"("})");
  }
  CHECK(common::is_utf8(std::string_view("a\0b", 3)));  // NUL is a character
  CHECK(common::to_utf8("").empty());
}

TEST_CASE("parse_json refuses a string that is not UTF-8", "[json]") {
  std::string error;
  CHECK_FALSE(common::parse_json("{\"name\":\"ab\xFF\"}", &error));
  CHECK(error.starts_with("invalid JSON at offset "));
  CHECK(error.find("encoding") != std::string::npos);
  CHECK_FALSE(common::parse_json("[\"\xED\xA0\x80\"]"));  // a surrogate, encoded
  CHECK_FALSE(common::parse_json("[\"\xC0\xAF\"]"));      // an overlong form
  CHECK(common::parse_json("[\"é☃\xF0\x9F\x98\x80\"]"));
}

TEST_CASE("to_json prints NaN and infinities as null, as JSON.stringify does", "[json]") {
  rapidjson::Value array(rapidjson::kArrayType);
  common::Json owner;
  array.PushBack(std::nan(""), owner.GetAllocator());
  array.PushBack(std::numeric_limits<double>::infinity(), owner.GetAllocator());
  array.PushBack(-std::numeric_limits<double>::infinity(), owner.GetAllocator());
  array.PushBack(1.5, owner.GetAllocator());
  CHECK(common::to_json(array) == "[null,null,null,1.5]");
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

TEST_CASE("parse_json reads strings of every length, refuses NUL bytes", "[json]") {
  // Strings of many lengths, escapes included, against RapidJSON's own Parse(data, size).
  for (size_t length = 0; length < 70; ++length) {
    std::string text = R"({"k":")" + std::string(length, 'x') + R"(\n\"y","n":[1,2.5,-3]})";
    CAPTURE(length);
    auto document = common::parse_json(text);
    REQUIRE(document);
    common::Json reference;
    reference.Parse(text.data(), text.size());
    REQUIRE_FALSE(reference.HasParseError());
    CHECK(*document == reference);
  }
  // Not NUL-terminated: the view ends where it says.
  std::string_view prefix = R"(["a"]]])";
  CHECK(common::to_json(*common::parse_json(prefix.substr(0, 5))) == R"(["a"])");

  std::string error;
  CHECK_FALSE(common::parse_json(R"({"a":})", &error));
  CHECK(error == "invalid JSON at offset 5: Invalid value.");
  CHECK_FALSE(common::parse_json(R"("open)", &error));
  CHECK(error.starts_with("invalid JSON at offset 5: "));
  // JSON has no raw NUL; RapidJSON alone would take one for the end of the text.
  CHECK_FALSE(common::parse_json(std::string_view("{}\0{}", 5), &error));
  CHECK(error == "invalid JSON at offset 2: a NUL byte.");
}

TEST_CASE("parse_json refuses raw control characters wherever they fall", "[json]") {
  std::string error;
  // Every such byte at every offset is refused the same way, inside a string or not.
  for (char control = 0x01; control < 0x20; ++control) {
    if (control == '\t' || control == '\n' || control == '\r') continue;
    for (size_t before = 0; before < 40; ++before) {
      std::string text = "[\"" + std::string(before, 'a') + std::string(20, control) + "\"]";
      CAPTURE(static_cast<int>(control), before);
      REQUIRE_FALSE(common::parse_json(text, &error));
      CHECK(error.starts_with("invalid JSON at offset " + std::to_string(before + 2) +
                              ": an unescaped control character 0x"));
    }
  }
  CHECK_FALSE(
      common::parse_json("[1,\x1f"
                         "2]",
                         &error));
  CHECK(error == "invalid JSON at offset 3: an unescaped control character 0x1F.");
  // Tab, newline and carriage return are whitespace between tokens (and still an error inside a
  // string, where RapidJSON refuses them itself).
  CHECK(common::parse_json("\t[1,\r\n2]\t"));
  CHECK_FALSE(common::parse_json("[\"a\tb\"]", &error));
}

TEST_CASE("parse_json refuses nesting deeper than kMaxJsonDepth, without recursing into it",
          "[json]") {
  std::string error;
  auto nested = [](int depth, std::string_view open, std::string_view close) {
    std::string text;
    for (int i = 0; i < depth; ++i) text += open;
    text += "1";
    for (int i = 0; i < depth; ++i) text += close;
    return text;
  };
  const int limit = common::kMaxJsonDepth;
  // At the limit: parsed, and written back whole (the writer recurses as deep).
  std::string arrays = nested(limit, "[", "]");
  auto document = common::parse_json(arrays);
  REQUIRE(document);
  CHECK(common::to_json(*document) == arrays);
  REQUIRE(common::parse_json(nested(limit, R"({"a":)", "}")));
  // One more level, of either kind, is an error that says where and why.
  CHECK_FALSE(common::parse_json(nested(limit + 1, "[", "]"), &error));
  CHECK(error == "invalid JSON at offset " + std::to_string(limit + 1) + ": more than " +
                     std::to_string(limit) + " arrays and objects nested.");
  CHECK_FALSE(common::parse_json(nested(limit, "[", "]").insert(limit, "{}"), &error));
  CHECK(error.find("nested") != std::string::npos);
  // A million '[' (a hostile IPC line, well under its 16 MiB limit) stops at the limit.
  CHECK_FALSE(common::parse_json(std::string(1'000'000, '['), &error));
  CHECK(error.find("nested") != std::string::npos);
  CHECK_FALSE(common::parse_json(std::string(1'000'000, '{')));
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
