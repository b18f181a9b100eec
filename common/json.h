// json.h: the few RapidJSON helpers every part uses — compact text out, checked parsing in.
//
// Compact output (no spaces, raw UTF-8) is what Node's JSON.stringify and Express's res.json
// produce, and it is the IPC wire format: one message per line, so it must never contain '\n'
// (inside strings every control character is escaped, so a compact writer never emits one).
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace common {

using Json = rapidjson::Document;

// RapidJSON's compact Writer, with one change: NaN and ±Infinity, which JSON cannot spell and
// the Writer refuses mid-output, print as null, as JSON.stringify prints them.
class JsonWriter : public rapidjson::Writer<rapidjson::StringBuffer> {
 public:
  using Writer::Writer;
  bool Double(double value) {  // NOLINT(readability-identifier-naming): RapidJSON's name
    return std::isfinite(value) ? Writer::Double(value) : Writer::Null();
  }
};

// The text that write(JsonWriter&) produces: JSON built event by event, without a document.
template <typename Write>
std::string write_json(Write&& write) {
  rapidjson::StringBuffer text;
  JsonWriter writer(text);
  std::forward<Write>(write)(writer);
  return {text.GetString(), text.GetSize()};
}

// Compact JSON text of a value, returned or appended to `out`.
inline std::string to_json(const rapidjson::Value& value) {
  return write_json([&](JsonWriter& writer) { value.Accept(writer); });
}
inline void append_json(std::string& out, const rapidjson::Value& value) {
  out += to_json(value);
}

// Parses text as one JSON value. On failure returns nullopt and, if `error` is given, a message
// like "invalid JSON at offset 7: Missing a name for object member.". A raw control character
// (NUL included) is an error anywhere, except tab, newline and carriage return between tokens;
// so is nesting deeper than kMaxJsonDepth arrays and objects: the parser, the writer and
// copy_json all recurse, and a line of a million '[' must cost an error, not the stack.
constexpr int kMaxJsonDepth = 512;
std::optional<Json> parse_json(std::string_view text, std::string* error = nullptr);

// A deep copy of a value into a new document (RapidJSON values are move-only).
Json copy_json(const rapidjson::Value& value);

// {"error":"<message>"}: the body of every JSON error answer.
std::string error_body(std::string_view message);

// A member of an object; nullptr if there is none or `object` is not an object.
const rapidjson::Value* find_member(const rapidjson::Value& object, const char* name);
// Reads an integer member, if present and integral.
std::optional<int64_t> get_int(const rapidjson::Value& object, const char* name);
// The text of a string value (which may hold NUL bytes).
inline std::string_view string_of(const rapidjson::Value& text) {
  return {text.GetString(), text.GetStringLength()};
}

}  // namespace common
